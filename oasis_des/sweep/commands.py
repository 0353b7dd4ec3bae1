"""`oasis-des sweep`: a grid of config overrides × seeds, in parallel, with a summary CSV."""

from __future__ import annotations

import argparse
import os
import sys

from oasis_des.sweep.grid import build_grid, parse_set
from oasis_des.sweep.runner import SweepProgress, run_sweep, write_summary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sweep",
        help="Run a config over a grid of settings and seeds, in parallel.",
        description="Run every combination of the --set values for every seed, one database "
        "per run under OUT/runs/, and write OUT/summary.csv (parameters, seed, activations, "
        "actions, digest, wall time and key measures per run).",
    )
    p.add_argument("config", nargs="?", help="TOML config file (default: built-in scenario)")
    p.add_argument("--seeds", default="1",
                   help="number of seeds from the config's seed (5), or a list (1,7,9); default 1")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=V1,V2",
                   help="swept config key and its values, e.g. platform.settings.recommender="
                   "random,reddit or time.tick=1,3 (repeatable)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="runs at once (default: CPU count)")
    p.add_argument("--out", default="runs/sweep", help="output folder (default: runs/sweep)")
    p.add_argument("--overwrite", action="store_true", help="replace existing run databases")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local processes, or Ray (pip install 'oasis_des[ray]')")
    p.add_argument("--ray-address", help="Ray cluster address (default: start Ray locally)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    if args.jobs < 1:  # before anything is printed or built
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}.")
    axes = [parse_set(text) for text in args.sets]
    specs = build_grid(args.config, axes, args.seeds, args.out, overwrite=args.overwrite)
    seeds = len({s.seed for s in specs})
    print(f"sweep            {len(specs)} runs ({len(specs) // seeds} settings x "
          f"{seeds} seeds), {args.jobs} at once, backend {args.backend}", file=sys.stderr)
    try:
        table = run_sweep(
            specs, jobs=args.jobs, backend=args.backend, ray_address=args.ray_address,
            progress=None if args.quiet else SweepProgress(),
        )
    except ImportError as exc:
        print(f"oasis-des: error: {exc}", file=sys.stderr)
        return 2
    path = write_summary(table, args.out)
    errors = [(r["run"], r["error"]) for r in table.records() if r["error"]]
    for name, error in errors:
        print(f"failed           {name}: {error}", file=sys.stderr)
    print(f"summary          {path}")
    return 1 if errors else 0
