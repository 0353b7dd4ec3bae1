"""`oasis-des run`: run a scenario and print where its database is."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from oasis_des.engine.config import Config, load_config, parse_duration
from oasis_des.engine.simulation import Progress, RunResult, Simulation


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "run",
        help="Run a simulation (default: 1,000 synthetic users, Twitter, one simulated day).",
        description="Run a simulation. Flags override the config file; with no config the "
        "built-in default scenario runs offline.",
    )
    p.add_argument("config", nargs="?", help="TOML config file (default: built-in scenario)")
    p.add_argument("--seed", type=int, help="master random seed")
    p.add_argument("--agents", type=int, help="size of the synthetic population")
    p.add_argument("--duration", help="simulated duration: minutes, or e.g. 90m, 24h, 2d")
    p.add_argument("--out", help="output SQLite database path")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--platform", choices=("twitter", "reddit"), help="platform kind")
    p.add_argument("--personas", help="persona file (OASIS Twitter CSV, Reddit JSON, or JSONL)")
    p.add_argument("--model", help="model profile name in models/ or path to a profile file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run)


def config_from_args(args: argparse.Namespace) -> Config:
    """The config file (or the default scenario) with command-line flags applied."""
    config = load_config(args.config)
    sections: dict[str, Any] = {}
    if args.seed is not None:
        sections["seed"] = args.seed
    if args.agents is not None:
        sections.setdefault("population", {})["agents"] = args.agents
    if args.personas is not None:
        sections.setdefault("population", {})["personas"] = args.personas
    if args.duration is not None:
        sections.setdefault("time", {})["duration"] = parse_duration(args.duration, "--duration")
    if args.out is not None:
        sections.setdefault("output", {})["path"] = args.out
    if args.overwrite:
        sections.setdefault("output", {})["overwrite"] = True
    if args.platform is not None:
        sections.setdefault("platform", {})["kind"] = args.platform
    if args.model is not None:
        sections.setdefault("policy", {})["model"] = args.model
    return config.override(**sections) if sections else config


class ProgressBar:
    """Simulated time, activations and actions/s on stderr.

    On a terminal one line is redrawn at most five times a second; otherwise (logs, CI) a
    line is printed at every tenth of the run.
    """

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.live = stream.isatty()
        self._last_wall = -1.0
        self._last_tenth = -1

    def __call__(self, p: Progress) -> None:
        done = min(1.0, p.sim_time / p.duration) if p.duration else 1.0
        if self.live:
            if p.wall_seconds - self._last_wall < 0.2:
                return
            self._last_wall = p.wall_seconds
        elif int(done * 10) == self._last_tenth:
            return
        self._last_tenth = int(done * 10)
        bar = "#" * int(done * self.width)
        rate = p.actions / p.wall_seconds if p.wall_seconds > 0 else 0.0
        line = (
            f"[{bar:<{self.width}}] {p.sim_time / 60:6.1f}h/{p.duration / 60:.1f}h  "
            f"activations {p.activations:,}  actions/s {rate:,.0f}"
        )
        self.stream.write(f"\r{line}   " if self.live else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def summary(result: RunResult) -> str:
    """The end-of-run table."""
    lines = [f"{'action':<22}{'done':>10}{'failed':>10}"]
    for name in sorted(set(result.actions) | set(result.failures)):
        lines.append(
            f"{name:<22}{result.actions.get(name, 0):>10,}{result.failures.get(name, 0):>10,}"
        )
    g = result.gateway
    lines += [
        "",
        f"simulated time   {result.sim_time / 60:.2f} h",
        f"activations      {result.activations:,} ({result.skipped_activations:,} skipped: agent busy)",
        f"actions          {result.run_actions:,} in {result.wall_seconds:.2f} s wall "
        f"({result.run_actions / max(result.wall_seconds, 1e-9):,.0f}/s; "
        f"{result.setup_actions:,} sign-up and seed rows before)",
        f"decision batches {g.batches:,} (mean {g.mean_batch:.1f}, max {g.max_batch})",
        f"digest           {result.digest}",
        f"database         {result.db_path}",
    ]
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    sim = Simulation(config)
    bar = None if args.quiet else ProgressBar()
    try:
        result = sim.run(progress=bar)
    finally:
        if bar is not None:
            bar.close()
        sim.close()
    print(summary(result))
    return 0
