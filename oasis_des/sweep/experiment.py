"""What the experiments' `run.py` scripts share: their command line (`--out`, `--quick`,
`--seeds`), a synthetic population written next to their results, and a grid of runs
with progress whose failures end the script."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oasis_des.agents.persona_jsonl import write_jsonl
from oasis_des.agents.synthetic import generate_population
from oasis_des.analysis import Table
from oasis_des.engine.config import Config
from oasis_des.sweep.grid import RunSpec
from oasis_des.sweep.runner import SweepProgress, run_sweep


def experiment_args(
    doc: str, argv: list[str] | None, *, quick: str, seeds: int, quick_seeds: int
) -> argparse.Namespace:
    """The parsed command line; `out` is a created folder, `seed_count` the seeds to run."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--out", default="out", help="folder for runs, tables and figures")
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--seeds", type=int,
                        help=f"number of seeds (default {seeds}; quick {quick_seeds})")
    args = parser.parse_args(argv)
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    args.seed_count = args.seeds or (quick_seeds if args.quick else seeds)
    return args


def synthetic_personas(config: Config, path: Path, agents: int, **params: Any) -> Config:
    """Generate `agents` synthetic personas (seeded by the config) into `path`, recording
    how in its header, and return the config pointing at that file."""
    population = generate_population(agents, seed=config.seed, kind=config.platform.kind,
                                     **params)
    write_jsonl(population, path, header={"generator": {"n": agents, "seed": config.seed,
                                                        **params}})
    return config.override(population={"personas": str(path.resolve())})


def result_folders(out: Path) -> tuple[Path, Path]:
    """`out/tables` and `out/figures`, created."""
    tables, figures = out / "tables", out / "figures"
    tables.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    return tables, figures


def run_all(specs: Sequence[RunSpec]) -> Table | None:
    """Run the grid on every core with a progress bar; None (and the first error on
    stderr) if any run failed."""
    runs = run_sweep(list(specs), jobs=min(os.cpu_count() or 1, len(specs)),
                     progress=SweepProgress())
    failed = [r for r in runs.records() if r["error"]]
    if failed:
        print(f"{len(failed)} run(s) failed: {failed[0]['error']}", file=sys.stderr)
        return None
    return runs
