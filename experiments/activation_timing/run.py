"""Activation timing: does *when* agents act change what spreads and how opinions split?

One population, the same behaviour model and the same mean activity, activated seven ways:
OASIS-style synchronous ticks of 1, 3, 15 and 60 minutes (each agent acts at most once per
tick, with the probability its hourly profile gives), and event-driven activation in
continuous time: Poisson modulated by the same hourly profile, flat Poisson at each agent's
mean rate, and bursty renewal (Pareto gaps) at that rate. Cascades (scale, depth, breadth,
structural virality) and polarisation of what agents write are compared side by side.
OASIS can only run the tick conditions.

    python run.py --out out            # the full study (1,000 agents, 24 simulated hours, 5 seeds)
    python run.py --out out --quick    # 300 agents, 4 simulated hours, 2 seeds: under a minute
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from oasis_des.analysis import (
    Table,
    actions_per_bin,
    bimodality_coefficient,
    cascades,
    extremity,
    polarization_over_time,
    stance_variance,
    written_stances,
)
from oasis_des.analysis.polarization import mean_by_writer
from oasis_des.analysis.svg import Line, line_chart
from oasis_des.engine.config import load_config
from oasis_des.sweep import build_grid
from oasis_des.sweep.experiment import experiment_args, result_folders, run_all, synthetic_personas

HERE = Path(__file__).resolve().parent
# Condition -> config overrides (the rest is config.toml). Continuous rates are each
# agent's mean profile rate (activation.rate = 0), so all conditions share the mean activity
# (ticks lose a little: at most one activation per agent per tick).
CONDITIONS: dict[str, dict[str, dict[str, Any]]] = {
    "tick 1 min": {"time": {"mode": "stepped", "tick": 1.0}, "activation": {"model": "profile"}},
    "tick 3 min": {"time": {"mode": "stepped", "tick": 3.0}, "activation": {"model": "profile"}},
    "tick 15 min": {"time": {"mode": "stepped", "tick": 15.0}, "activation": {"model": "profile"}},
    "tick 60 min": {"time": {"mode": "stepped", "tick": 60.0}, "activation": {"model": "profile"}},
    "profile Poisson": {"time": {"mode": "continuous"}, "activation": {"model": "profile"}},
    "flat Poisson": {"time": {"mode": "continuous"}, "activation": {"model": "poisson"}},
    "bursty": {"time": {"mode": "continuous"}, "activation": {"model": "bursty"}},
}
# The population (oasis_des.agents.synthetic): the generator's defaults (three stance camps,
# homophilous follow graph) with 12 activations per user and day on average, and 2 % of
# users starting with a post, so that cascades can grow within a day.
POPULATION: dict[str, Any] = {"activations_per_day": 12.0, "seed_post_share": 0.02}
MEASURES = ("activations", "actions", "posts", "cascades", "mean_scale", "max_scale",
            "mean_depth", "max_depth", "mean_breadth", "mean_virality", "stance_variance",
            "stance_bimodality", "stance_extremity")


def main(argv: list[str] | None = None) -> int:
    args = experiment_args(__doc__, argv, quick="300 agents, 4 hours, 2 seeds", seeds=5,
                           quick_seeds=2)
    out = args.out
    config = load_config(HERE / "config.toml")
    agents = 300 if args.quick else config.population.agents
    duration = 240.0 if args.quick else config.time.duration
    config = synthetic_personas(config, out / "population.jsonl", agents, **POPULATION)
    config = config.override(time={"duration": duration})
    seeds = list(range(config.seed, config.seed + args.seed_count))
    specs = []
    for name, overrides in CONDITIONS.items():
        for spec in build_grid(config.override(**overrides), [], seeds,
                               out / re.sub(r"[^a-z0-9]+", "_", name.lower()), overwrite=True):
            specs.append(dataclasses.replace(spec, index=len(specs), params={"condition": name}))
    runs = run_all(specs)
    if runs is None:
        return 1

    per_run, sizes, over_time = [], [], []
    for run in runs.records():
        found = cascades(run["db"])
        sizes.extend((run["condition"], run["seed"], c.root_post_id, c.scale, c.depth,
                      c.max_breadth, c.structural_virality) for c in found)
        per_run.append({"condition": run["condition"], "seed": run["seed"],
                        "activations": run["activations"], "actions": run["actions"],
                        "posts": run["posts"], **_cascade_measures(found),
                        **_stance_measures(run["db"])})
        activity = actions_per_bin(run["db"], bin_minutes=60.0)
        stances = {r["start"]: r for r in polarization_over_time(run["db"]).records()}
        over_time.extend(
            (run["condition"], run["seed"], start / 60, refreshes,
             *(stances.get(start, {}).get(m, math.nan) for m in ("n", "variance", "extremity")))
            for start, refreshes in zip(activity.column("start"), activity.column("refresh")))
    run_table = Table.from_records(per_run, ("condition", "seed", *MEASURES))
    cascade_table = Table(("condition", "seed", "root_post_id", "scale", "depth", "max_breadth",
                           "structural_virality"), sizes)
    hourly = Table(("condition", "seed", "hour", "activations", "writers", "stance_variance",
                    "stance_extremity"), over_time)
    summary = _summary(run_table)

    tables, figures = result_folders(out)
    summary.to_csv(tables / "summary.csv")
    run_table.to_csv(tables / "per_run.csv")
    cascade_table.to_csv(tables / "cascades.csv")
    hourly.to_csv(tables / "hourly.csv")
    runs.to_csv(tables / "runs.csv")
    (figures / "cascade_sizes.svg").write_text(_ccdf(
        cascade_table, "scale", "Cascade sizes (all seeds)", "users in the cascade"))
    (figures / "cascade_depths.svg").write_text(_ccdf(
        cascade_table, "depth", "Cascade depths (all seeds)", "depth (hops from the root)"))
    (figures / "activations.svg").write_text(_hourly(
        hourly, "activations", "Activations per hour (mean over seeds)", "activations"))
    (figures / "stance_variance.svg").write_text(_hourly(
        hourly, "stance_variance", "Stance variance of each hour's writers (mean over seeds)",
        "variance"))
    shown = ("condition", "activations", "cascades", "mean_scale", "max_scale", "max_depth",
             "mean_virality", "stance_variance", "stance_extremity")
    print(Table(shown, [tuple(r[c] for c in shown) for r in summary.records()]))
    print(f"tables and figures in {out}")
    return 0


def _cascade_measures(found: list[Any]) -> dict[str, float]:
    """Cascade count and the mean and largest scale, depth, breadth and virality of a run."""
    if not found:
        return {"cascades": 0, "mean_scale": math.nan, "max_scale": 0, "mean_depth": math.nan,
                "max_depth": 0, "mean_breadth": math.nan, "mean_virality": math.nan}
    scale = np.asarray([c.scale for c in found])
    depth = np.asarray([c.depth for c in found])
    return {"cascades": len(found), "mean_scale": float(scale.mean()), "max_scale": int(scale.max()),
            "mean_depth": float(depth.mean()), "max_depth": int(depth.max()),
            "mean_breadth": float(np.mean([c.max_breadth for c in found])),
            "mean_virality": float(np.mean([c.structural_virality for c in found]))}


def _stance_measures(db: str) -> dict[str, float]:
    """Polarisation of what was written over the whole run, over each writer's mean stance."""
    texts = written_stances(db)
    per_writer = mean_by_writer(np.asarray(texts.column("user_id")),
                                np.asarray(texts.column("stance"), dtype=np.float64))
    return {"stance_variance": stance_variance(per_writer),
            "stance_bimodality": bimodality_coefficient(per_writer),
            "stance_extremity": extremity(per_writer)}


def _summary(runs: Table) -> Table:
    """Per condition: mean and standard deviation over seeds of every measure."""
    rows = []
    for name in CONDITIONS:
        records = [r for r in runs.records() if r["condition"] == name]
        row: list[Any] = [name, len(records)]
        for measure in MEASURES:
            x = np.asarray([r[measure] for r in records], dtype=np.float64)
            x = x[np.isfinite(x)]
            row += [float(x.mean()) if len(x) else math.nan, float(x.std()) if len(x) else math.nan]
        rows.append(tuple(row))
    columns = ["condition", "seeds"] + [f"{m}{s}" for m in MEASURES for s in ("", "_sd")]
    return Table(tuple(columns), rows)


def _ccdf(table: Table, measure: str, title: str, xlabel: str) -> str:
    """Share of cascades at least as large as x, per condition (log-log)."""
    lines = []
    for name in CONDITIONS:
        x = np.sort(np.asarray([r[measure] for r in table.records() if r["condition"] == name]))
        if not len(x):
            continue
        values = np.unique(x)
        share = 1.0 - np.searchsorted(x, values, side="left") / len(x)
        lines.append(Line(name, values.tolist(), share.tolist(), dashed=name.startswith("tick")))
    return line_chart(lines, title=title, xlabel=xlabel, ylabel="share of cascades >= x",
                      log_x=True, log_y=True)


def _hourly(table: Table, column: str, title: str, ylabel: str) -> str:
    """One line per condition: the mean over seeds per simulated hour."""
    lines = []
    for name in CONDITIONS:
        rows = [r for r in table.records() if r["condition"] == name]
        hours = sorted({r["hour"] for r in rows})
        values = [[r[column] for r in rows if r["hour"] == h and math.isfinite(r[column])]
                  for h in hours]
        means = [float(np.mean(v)) if v else math.nan for v in values]
        keep = [i for i, m in enumerate(means) if math.isfinite(m)]
        lines.append(Line(name, [hours[i] for i in keep], [float(means[i]) for i in keep],
                          dashed=name.startswith("tick")))
    return line_chart(lines, title=title, xlabel="simulated hours", ylabel=ylabel)


if __name__ == "__main__":
    sys.exit(main())
