"""Each experiment's quick mode runs from inside its folder and writes its tables and figures."""

from __future__ import annotations

import csv
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def quick(name: str, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, "run.py", "--quick", "--out", str(out)],
        check=False, cwd=EXPERIMENTS / name, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_information_spread_quick(tmp_path: Path) -> None:
    stdout = quick("information_spread", tmp_path)
    assert "nrmse_mean" in stdout
    summary = {r["metric"]: r for r in rows(tmp_path / "tables" / "nrmse.csv")}
    assert set(summary) == {"scale", "depth", "max_breadth"}
    for r in summary.values():
        assert r["seeds"] == "2" and float(r["nrmse_mean"]) >= 0
    per_minute = rows(tmp_path / "tables" / "per_minute.csv")
    assert {r["seed"] for r in per_minute} == {"0", "1"}
    assert max(int(r["minute"]) for r in per_minute) == 120
    for metric in ("scale", "depth", "max_breadth"):
        ET.parse(tmp_path / "figures" / f"{metric}.svg")


def test_herd_effect_quick(tmp_path: Path) -> None:
    stdout = quick("herd_effect", tmp_path)
    assert "mean_change" in stdout
    summary = {r["group"]: r for r in rows(tmp_path / "tables" / "summary.csv")}
    assert list(summary) == ["up", "control", "down"]
    sizes = {g: int(r["n"]) for g, r in summary.items()}
    assert sum(sizes.values()) == 2 * 220  # every pair, for both seeds
    finals = rows(tmp_path / "tables" / "final_scores.csv")
    assert all(r["initial_score"] == {"up": "1", "down": "-1", "control": "0"}[r["group"]]
               for r in finals)
    for name in ("score_distribution", "change_over_time"):
        ET.parse(tmp_path / "figures" / f"{name}.svg")

