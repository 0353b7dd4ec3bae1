"""Information spread: does the simulated cascade of OASIS's False_Business_0 news tweet
grow like the real one? Scale, depth and max breadth per minute over several seeds, with
their normalised RMSE against the real series.

    python run.py --out out            # the full study (8 seeds, 500 simulated minutes)
    python run.py --out out --quick    # 2 seeds, 2 simulated hours: under a minute
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from oasis_des.analysis import (
    Table,
    cascade_of,
    compare_to_real,
    connect,
    load_real_propagation,
    propagation,
)
from oasis_des.analysis.propagation import METRICS
from oasis_des.analysis.svg import Line, line_chart
from oasis_des.engine.config import load_config
from oasis_des.sweep import build_grid
from oasis_des.sweep.experiment import experiment_args, result_folders, run_all

HERE = Path(__file__).resolve().parent
REAL = HERE / "False_Business_0.real_propagation.json"
SEED_AUTHOR = 32  # the agent holding the seed news tweet (67 users follow it)
LABELS = {"scale": "users reached", "depth": "depth (hops)", "max_breadth": "max breadth (users)"}


def main(argv: list[str] | None = None) -> int:
    args = experiment_args(__doc__, argv, quick="2 seeds, 2 hours (< 1 minute)", seeds=8,
                           quick_seeds=2)
    out = args.out
    config = load_config(HERE / "config.toml")
    duration = 120.0 if args.quick else config.time.duration
    personas = (HERE / config.population.personas).resolve()
    config = config.override(population={"personas": str(personas)}, time={"duration": duration})
    seeds = list(range(config.seed, config.seed + args.seed_count))

    runs = run_all(build_grid(config, [], seeds, out, overwrite=True))
    if runs is None:
        return 1

    real = load_real_propagation(REAL)
    per_minute, errors = [], []
    for run in runs.records():
        cascade = cascade_of(run["db"], _seed_post(run["db"]))
        series = propagation(cascade, minutes=int(duration - cascade.start))
        per_minute.extend((run["seed"], *row) for row in series.rows)
        errors.extend((run["seed"], *row) for row in compare_to_real(series, real).rows)
    minute_table = Table(("seed", "minute", "scale", "depth", "max_breadth", "structural_virality"),
                         per_minute)
    error_table = Table(("seed", "metric", "nrmse", "minutes_compared", "simulated_final",
                         "real_final"), errors)
    summary = _summary(error_table)

    tables, figures = result_folders(out)
    minute_table.to_csv(tables / "per_minute.csv")
    error_table.to_csv(tables / "nrmse_per_seed.csv")
    summary.to_csv(tables / "nrmse.csv")
    runs.to_csv(tables / "runs.csv")
    for metric in METRICS:
        (figures / f"{metric}.svg").write_text(_figure(minute_table, real, metric, duration))
    print(summary)
    print(f"tables and figures in {out}")
    return 0


def _seed_post(db: str) -> int:
    with connect(db) as conn:
        row = conn.execute(
            "SELECT MIN(post_id) FROM post WHERE user_id = ? AND original_post_id IS NULL",
            (SEED_AUTHOR,),
        ).fetchone()
    if row[0] is None:
        raise ValueError(f"{db}: agent {SEED_AUTHOR} has no post; is the persona file right?")
    return int(row[0])


def _summary(errors: Table) -> Table:
    rows = []
    for metric in METRICS:
        values = np.asarray([r[2] for r in errors.rows if r[1] == metric])
        finals = np.asarray([r[4] for r in errors.rows if r[1] == metric])
        real_final = next(r[5] for r in errors.rows if r[1] == metric)
        rows.append((metric, len(values), float(values.mean()), float(values.std()),
                     float(finals.mean()), real_final))
    return Table(("metric", "seeds", "nrmse_mean", "nrmse_std", "simulated_final_mean",
                  "real_final"), rows)


def _figure(minutes: Table, real: dict, metric: str, duration: float) -> str:
    seeds = sorted(set(minutes.column("seed")))
    grid = np.asarray([[r[2 + METRICS.index(metric)] for r in minutes.rows if r[0] == s]
                       for s in seeds], dtype=float)
    n = min(len(row) for row in grid)
    grid = np.asarray([row[:n] for row in grid])
    x = list(range(n))
    truth = real[metric]
    keep = truth.minutes <= duration
    return line_chart(
        [Line("simulated (mean)", x, grid.mean(axis=0).tolist(),
              low=grid.min(axis=0).tolist(), high=grid.max(axis=0).tolist()),
         Line("real (Twitter15/16)", truth.minutes[keep].tolist(), truth.values[keep].tolist(),
              dashed=True)],
        title=f"False_Business_0: {LABELS[metric]} (band: range over {len(seeds)} seeds)",
        xlabel="minutes after the seed tweet", ylabel=LABELS[metric],
    )


if __name__ == "__main__":
    sys.exit(main())
