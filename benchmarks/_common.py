"""Helpers shared by the benchmark scripts: machine description, tables, JSON results."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import oasis_des

        version = oasis_des.__version__
    except Exception:  # pragma: no cover - benchmarks run inside the project
        version = "?"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "platform": platform.platform(),
        "oasis_des": version,
        "git_commit": commit,
    }


def print_machine(info: dict[str, Any]) -> None:
    print(
        f"# {info['date']}  Python {info['python']}  SQLite {info['sqlite']}  "
        f"{info['cpu_count']} CPUs ({info['cpu_model']})  oasis_des {info['oasis_des']}"
        f" @ {info['git_commit']}"
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A plain-text table; `align` is one char per column, 'l' or 'r' (default: l then r)."""
    rows = [[_fmt(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)
        )

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class Contention:
    """How much of a run this machine's CPUs were contended (Linux PSI, /proc/pressure/cpu).

    `stalled` is the share of wall time in which at least one runnable task waited for a
    CPU (other processes competing with the benchmark); None where PSI is unavailable.
    """

    def __init__(self) -> None:
        self._t0 = time.perf_counter()
        self._s0 = _psi_cpu_some()

    def stalled(self) -> float | None:
        s1 = _psi_cpu_some()
        if s1 is None or self._s0 is None:
            return None
        wall = time.perf_counter() - self._t0
        return (s1 - self._s0) / 1e6 / wall if wall > 0 else None


def _psi_cpu_some() -> int | None:
    try:
        with open("/proc/pressure/cpu", encoding="ascii") as f:
            for line in f:
                if line.startswith("some"):
                    return int(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
