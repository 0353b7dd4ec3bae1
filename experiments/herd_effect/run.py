"""Herd effect: do initial votes steer later ones? OASIS's Reddit counterfactual study.

Each of 220 comments (counterfactual_36.json) is posted under its submission at minute 0
and gets one up-vote ("up"), one down-vote ("down") or none ("control"); the agents then
browse and vote. The final scores by group show whether the first vote was followed.

    python run.py --out out            # the full study (5 seeds, 12 simulated hours)
    python run.py --out out --quick    # 2 seeds, 2 simulated hours: under a minute
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from oasis_des.analysis import Table, herd_scores, herd_summary, initial_vote_groups
from oasis_des.analysis.herd import scores_at
from oasis_des.analysis.svg import Line, line_chart
from oasis_des.engine.config import load_config
from oasis_des.sweep import build_grid
from oasis_des.sweep.experiment import experiment_args, result_folders, run_all

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "counterfactual_36.json"
GROUPS = ("up", "control", "down")
VOTE = {"up": "like_comment", "down": "dislike_comment"}


def main(argv: list[str] | None = None) -> int:
    args = experiment_args(__doc__, argv, quick="2 seeds, 2 hours (< 1 minute)", seeds=5,
                           quick_seeds=2)
    out = args.out
    config = load_config(HERE / "config.toml")
    duration = 120.0 if args.quick else config.time.duration
    personas = (HERE / config.population.personas).resolve()
    pairs = _read_pairs(PAIRS)
    script = out / "script.jsonl"
    expected = _write_script(pairs, len(json.loads(personas.read_text(encoding="utf-8"))), script)
    config = config.override(population={"personas": str(personas)}, time={"duration": duration},
                             script={"file": str(script)})
    specs = build_grid(config, [], list(range(config.seed, config.seed + args.seed_count)),
                       out, overwrite=True)
    runs = run_all(specs)
    if runs is None:
        return 1

    scores, trajectories = [], []
    hours = np.arange(0.0, duration / 60 + 1e-9, 1.0 if duration > 180 else 0.25)
    for run in runs.records():
        groups = initial_vote_groups(run["db"], until=0.0)
        if groups != expected:
            raise RuntimeError(f"{run['db']}: the seeded comments are not the expected ones "
                               "(did the persona file add seed posts?).")
        table = herd_scores(run["db"], groups, until=0.0)
        scores.extend((run["seed"], *row) for row in table.rows)
        initial = scores_at(run["db"], until=0.0)
        for h in hours:
            at = scores_at(run["db"], until=float(h * 60))
            for group in GROUPS:
                change = [at[i] - initial[i] for i, g in groups.items() if g == group]
                trajectories.append((run["seed"], float(h), group, float(np.mean(change))))
    score_table = Table(("seed", "comment_id", "group", "initial_score", "likes", "dislikes",
                         "final_score"), scores)
    pooled = herd_summary(Table(score_table.columns[1:], [r[1:] for r in score_table.rows]))
    over_time = Table(("seed", "hour", "group", "mean_change"), trajectories)

    tables, figures = result_folders(out)
    score_table.to_csv(tables / "final_scores.csv")
    pooled.to_csv(tables / "summary.csv")
    over_time.to_csv(tables / "mean_change_over_time.csv")
    runs.to_csv(tables / "runs.csv")
    (figures / "score_distribution.svg").write_text(_distribution(score_table))
    (figures / "change_over_time.svg").write_text(_over_time(over_time))
    print(pooled)
    print(f"tables and figures in {out}")
    return 0


def _read_pairs(path: Path) -> list[tuple[str, str, str]]:
    """(submission text, comment text, group) per pair, checked row by row."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    pairs = []
    for i, item in enumerate(raw):
        try:
            post, comment = item["RS"], item["RC_1"]
            title, body, group = post["title"], post["selftext"], comment["group"]
            text = comment["body"]
        except (KeyError, TypeError):
            raise ValueError(f"{path}, item {i}: expected RS.title, RS.selftext, RC_1.body, "
                             "RC_1.group.") from None
        if group not in GROUPS:
            raise ValueError(f"{path}, item {i}, field RC_1.group: {group!r} is not one of {GROUPS}.")
        pairs.append((body if title in ("", "None") else f"{title}\n\n{body}", text, group))
    return pairs


def _write_script(pairs: list[tuple[str, str, str]], n_agents: int, path: Path) -> dict[int, str]:
    """Posts, then comments, then the initial votes, all at minute 0, in that order.

    Post and comment ids are then 1..N (the Reddit persona file seeds no posts); the
    returned mapping comment id -> group is checked against each run's trace.
    """
    rows = []
    for i, (post, _, _) in enumerate(pairs):
        rows.append({"time": 0, "agent_id": i % n_agents, "action": "create_post",
                     "args": {"content": post}})
    for i, (_, comment, _) in enumerate(pairs):
        rows.append({"time": 0, "agent_id": (i + 1) % n_agents, "action": "create_comment",
                     "args": {"post_id": i + 1, "content": comment}})
    for i, (_, _, group) in enumerate(pairs):
        if group in VOTE:
            rows.append({"time": 0, "agent_id": (i + 2) % n_agents, "action": VOTE[group],
                         "args": {"comment_id": i + 1}})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return {i + 1: group for i, (_, _, group) in enumerate(pairs)}


def _distribution(scores: Table) -> str:
    finals = np.asarray(scores.column("final_score"))
    groups = np.asarray(scores.column("group"))
    values = np.arange(finals.min(), finals.max() + 1)
    lines = [
        Line(group, values.tolist(),
             [float(np.mean(finals[groups == group] == v)) for v in values], points=False)
        for group in GROUPS
    ]
    return line_chart(lines, title="Final comment scores by initial vote (all seeds)",
                      xlabel="final score (likes - dislikes)", ylabel="share of the group's comments")


def _over_time(table: Table) -> str:
    lines = []
    for group in GROUPS:
        rows = [r for r in table.rows if r[2] == group]
        hours = sorted({r[1] for r in rows})
        per_hour = [[r[3] for r in rows if r[1] == h] for h in hours]
        lines.append(Line(group, hours, [float(np.mean(v)) for v in per_hour],
                          low=[min(v) for v in per_hour], high=[max(v) for v in per_hour]))
    return line_chart(lines, title="Votes added after the initial one (band: seeds' range)",
                      xlabel="simulated hours", ylabel="mean score change")


if __name__ == "__main__":
    sys.exit(main())
