"""Polarisation: do recommenders drive two opposed communities apart?

Two communities (stances around -0.5 and +0.5, 90 % of follows inside one's own community)
browse a Twitter-like platform whose out-of-network feed comes from the `random`, `twitter`
or `embedding` recommender, under two opinion models of the offline agents: bounded
confidence alone, and with backfire (posts far from one's view push it away). Polarisation
is measured over time on the agents' opinions and on what they write, next to the share of
their feed that comes from the other community.

    python run.py --out out            # the full study (1,000 agents, 24 simulated hours, 3 seeds)
    python run.py --out out --quick    # 200 agents, 3 simulated hours, 1 seed: seconds
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from oasis_des.analysis import (
    Table,
    bimodality_coefficient,
    connect,
    extremity,
    polarization_over_time,
    stance_variance,
)
from oasis_des.analysis.svg import Line, line_chart
from oasis_des.engine.config import Config, ConfigError, load_config
from oasis_des.engine.simulation import Simulation
from oasis_des.policies.profiles import find_profile
from oasis_des.sweep import Axis, RunSpec, build_grid
from oasis_des.sweep.experiment import experiment_args, result_folders, synthetic_personas
from oasis_des.sweep.runner import SweepProgress

HERE = Path(__file__).resolve().parent
RECOMMENDERS = ("random", "twitter", "embedding")
MODELS = ("bounded_confidence", "backfire")
SHORT = {"bounded_confidence": "BC", "backfire": "BF"}
MEASURES = ("variance", "bimodality", "extremity")
# The two communities (oasis_des.agents.synthetic.SyntheticSettings and GraphSettings):
# stances N(-0.5, 0.2) and N(+0.5, 0.2), half each; a follow goes to one's own community
# with probability 0.9 (plus the generator's interest homophily within it); one activation
# per hour on average (log-normal across users); 5 % of users start with a post.
COMMUNITIES: dict[str, Any] = {
    "camp_centres": (-0.5, 0.5),
    "camp_shares": (0.5, 0.5),
    "stance_homophily": 0.9,
    "activations_per_day": 24.0,
    "seed_post_share": 0.05,
}
BIN_MINUTES = 60.0


def main(argv: list[str] | None = None) -> int:
    args = experiment_args(__doc__, argv, quick="200 agents, 3 hours, 1 seed", seeds=3,
                           quick_seeds=1)
    out = args.out
    config = load_config(HERE / "config.toml")
    agents = 200 if args.quick else config.population.agents
    duration = 180.0 if args.quick else config.time.duration
    config = synthetic_personas(config, out / "two_communities.jsonl", agents, **COMMUNITIES)
    config = config.override(time={"duration": duration})
    seeds = list(range(config.seed, config.seed + args.seed_count))
    recommenders = [r for r in RECOMMENDERS if _available(config, r)]
    profiles = {"bounded_confidence": find_profile(config.policy.model),
                "backfire": _backfire_profile(config.policy.model, out / "backfire.toml")}
    cells = [
        (model, spec)
        for model in MODELS
        for spec in build_grid(
            config.override(policy={"model": str(profiles[model].resolve())}),
            [Axis("platform.settings.recommender", tuple(recommenders))], seeds, out / model,
            overwrite=True,
        )
    ]
    results = _run_all(cells, jobs=min(os.cpu_count() or 1, len(cells)))

    latent = _stacked(results, "latent", ("hour", *MEASURES))
    written = _stacked(results, "written", ("start", "n", "mean", *MEASURES))
    exposure = _stacked(results, "exposure", ("start", "shown", "cross_share"))
    runs = Table.from_records(results, ("model", "recommender", "seed", "activations",
                                        "actions", "wall_seconds", "digest", "db"))
    summary = _summary(results, recommenders)

    tables, figures = result_folders(out)
    latent.to_csv(tables / "latent_over_time.csv")
    written.to_csv(tables / "written_over_time.csv")
    exposure.to_csv(tables / "exposure_over_time.csv")
    summary.to_csv(tables / "summary.csv")
    runs.to_csv(tables / "runs.csv")
    change = _change_since_start(latent)
    for measure in MEASURES:
        (figures / f"latent_{measure}.svg").write_text(_figure(
            change, "hour", measure, 1.0,
            f"Agents' stances: {measure} (band: seeds)", f"change of {measure} since hour 0"))
        (figures / f"written_{measure}.svg").write_text(_figure(
            written, "start", measure, 1 / 60,
            "Stances of what was written, per hour (band: seeds)", measure))
    (figures / "cross_exposure.svg").write_text(_figure(
        exposure, "start", "cross_share", 1 / 60,
        "Feed posts from the other community (band: seeds)", "share of the posts shown"))
    shown = ("model", "recommender", "cross_share", "opinion_variance_start",
             "opinion_variance_end", "opinion_extremity_end", "written_variance_last")
    print(Table(shown, [tuple(r[c] for c in shown) for r in summary.records()]))
    print(f"tables and figures in {out}")
    return 0


def _available(config: Config, recommender: str) -> bool:
    """Whether this installation has the recommender (skipped with a note if not)."""
    try:
        build_grid(config, [Axis("platform.settings.recommender", (recommender,))], [0],
                   "unused", overwrite=True)
    except ConfigError as exc:
        print(f"note: recommender {recommender!r} is not available, skipped ({exc})")
        return False
    return True


def _backfire_profile(model: str, path: Path) -> Path:
    """A copy of the offline profile with `backfire = true` (everything else unchanged)."""
    text = find_profile(model).read_text(encoding="utf-8")
    changed, count = re.subn(r"(?m)^backfire\s*=\s*false\b", "backfire = true", text)
    if count != 1:
        raise ValueError(f"{find_profile(model)}: expected one line 'backfire = false' in "
                         "[opinion] to switch on; is it an offline profile?")
    path.write_text(changed, encoding="utf-8")
    return path


def _run_all(cells: list[tuple[str, RunSpec]], jobs: int) -> list[dict[str, Any]]:
    """Every run in its own process (spawned, as oasis_des.sweep does), in cell order."""
    progress = SweepProgress()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(run_cell, model, spec) for model, spec in cells]
        for done, _ in enumerate(as_completed(futures), 1):
            progress(done, 0, len(futures))
        return [f.result() for f in futures]


def run_cell(model: str, spec: RunSpec) -> dict[str, Any]:
    """One run, paused every simulated hour to measure the agents' stances.

    The offline agents' opinions live in the policy (`Simulation.policy.stance`), not in the
    database; what they wrote and what their feeds showed are read from the database after.
    """
    sim = Simulation(spec.config)
    try:
        side = sim.population.stance > 0  # community: the side of the initial stance
        latent = [(0.0, *_measures(sim.policy.stance))]
        hours = math.ceil(sim.duration / 60)
        for hour in range(1, hours + 1):
            result = sim.run(until=hour * 60.0, digest=hour == hours)  # the digest at the end
            latent.append((float(hour), *_measures(sim.policy.stance)))
    finally:
        sim.close()
    written = polarization_over_time(result.db_path, bin_minutes=BIN_MINUTES)
    return {
        "model": model, "recommender": spec.params["platform.settings.recommender"],
        "seed": spec.seed, "activations": result.activations, "actions": result.run_actions,
        "wall_seconds": round(result.wall_seconds, 3), "digest": result.digest,
        "db": result.db_path, "latent": latent, "written": written.rows,
        "exposure": cross_exposure(result.db_path, side, BIN_MINUTES),
    }


def _stacked(results: list[dict[str, Any]], key: str, columns: tuple[str, ...]) -> Table:
    """Every run's `key` rows in one table, each row led by its model, recommender and seed."""
    return Table(("model", "recommender", "seed", *columns),
                 [(r["model"], r["recommender"], r["seed"], *row) for r in results
                  for row in r[key]])


def _measures(stance: np.ndarray) -> tuple[float, float, float]:
    return stance_variance(stance), bimodality_coefficient(stance), extremity(stance)


def cross_exposure(db: str, side: np.ndarray, bin_minutes: float) -> list[tuple[float, int, float]]:
    """Per time bin: posts shown to readers (others' posts) and the share by the other side.

    Every refresh's trace row holds the feed as shown (`info.posts`, with each post's author).
    """
    with connect(db) as conn:
        shown = np.asarray(conn.execute(
            "SELECT t.sim_time, t.user_id, json_extract(p.value, '$.user_id') "
            "FROM trace t, json_each(t.info, '$.posts') p WHERE t.action = 'refresh'"
        ).fetchall(), dtype=np.float64).reshape(-1, 3)
    reader, author = shown[:, 1].astype(np.int64), shown[:, 2].astype(np.int64)
    others = reader != author
    bins = np.floor(shown[others, 0] / bin_minutes).astype(np.int64)
    cross = side[reader[others]] != side[author[others]]
    return [(float(b * bin_minutes), int(np.sum(bins == b)), float(cross[bins == b].mean()))
            for b in np.unique(bins).tolist()]


def _summary(results: list[dict[str, Any]], recommenders: list[str]) -> Table:
    """Per model and recommender, means over seeds: exposure, and each measure at the
    start and the end (opinions: hour 0 and the last hour; writing: first and last bin)."""
    rows = []
    for model in MODELS:
        for rec in recommenders:
            runs = [r for r in results if r["model"] == model and r["recommender"] == rec]
            shown = np.asarray([x[1] for r in runs for x in r["exposure"]], dtype=np.float64)
            share = np.asarray([x[2] for r in runs for x in r["exposure"]])
            row: list[Any] = [model, rec, len(runs), float(np.sum(shown * share) / shown.sum())]
            for measure in MEASURES:
                col = 1 + MEASURES.index(measure)
                row += [_mean(r["latent"][0][col] for r in runs),
                        _mean(r["latent"][-1][col] for r in runs)]
            for measure in MEASURES:
                col = 3 + MEASURES.index(measure)
                row += [_mean(r["written"][0][col] for r in runs),
                        _mean(r["written"][-1][col] for r in runs)]
            rows.append(tuple(row))
    columns = ["model", "recommender", "seeds", "cross_share"]
    columns += [f"opinion_{m}_{at}" for m in MEASURES for at in ("start", "end")]
    columns += [f"written_{m}_{at}" for m in MEASURES for at in ("first", "last")]
    return Table(tuple(columns), rows)


def _change_since_start(latent: Table) -> Table:
    """Each run's measures minus their values at hour 0 (rows are in hour order per run)."""
    start: dict[tuple[Any, ...], tuple[float, ...]] = {}
    rows = []
    for row in latent.rows:
        first = start.setdefault(row[:3], row[4:])
        rows.append((*row[:4], *(v - v0 for v, v0 in zip(row[4:], first))))
    return Table(latent.columns, rows)


def _mean(values: Any) -> float:
    x = np.asarray(list(values), dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else math.nan


def _figure(table: Table, x_col: str, y_col: str, x_scale: float, title: str, ylabel: str) -> str:
    """One line per model and recommender: mean over seeds, band = min..max."""
    lines = []
    for model in MODELS:
        for rec in dict.fromkeys(table.column("recommender")):
            rows = [r for r in table.records() if r["model"] == model and r["recommender"] == rec]
            xs = sorted({r[x_col] for r in rows})
            ys = [np.asarray([r[y_col] for r in rows if r[x_col] == x], dtype=np.float64)
                  for x in xs]
            ys = [y[np.isfinite(y)] for y in ys]
            keep = [i for i, y in enumerate(ys) if len(y)]
            lines.append(Line(
                f"{SHORT[model]} {rec}", [xs[i] * x_scale for i in keep],
                [float(ys[i].mean()) for i in keep], dashed=model == "bounded_confidence",
                low=[float(ys[i].min()) for i in keep], high=[float(ys[i].max()) for i in keep],
            ))
    return line_chart(lines, title=title, xlabel="simulated hours", ylabel=ylabel)


if __name__ == "__main__":
    sys.exit(main())
