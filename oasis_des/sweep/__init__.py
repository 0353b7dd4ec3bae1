"""Parameter sweeps: a grid of config overrides × seeds, one database per run, run in
parallel processes (or on a Ray cluster), with a summary table. See docs/analysis.md."""

from oasis_des.sweep.grid import Axis, RunSpec, build_grid, parse_seeds, parse_set
from oasis_des.sweep.runner import run_one, run_sweep

__all__ = ["Axis", "RunSpec", "build_grid", "parse_seeds", "parse_set", "run_one", "run_sweep"]
