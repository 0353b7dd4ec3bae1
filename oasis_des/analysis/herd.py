"""Herd effect: do initial votes steer later ones? Final scores by initial-vote group.

OASIS's Reddit counterfactual experiment gives each comment one initial up-vote, one
down-vote or none ("up", "down", "control") and compares the score (likes − dislikes) the
comments end with. Groups come from the experiment (a mapping id → group), or are read
back from the votes cast up to minute `until` (`initial_vote_groups`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

import numpy as np

from oasis_des.analysis.source import RunDB, connect
from oasis_des.analysis.tables import Table

Target = Literal["comment", "post"]

# Per target: (table, id column, creating action and its info key, vote actions with signs).
_TARGETS: dict[str, tuple[str, str, str, dict[str, int]]] = {
    "comment": (
        "comment", "comment_id", "create_comment",
        {"like_comment": 1, "unlike_comment": -1, "dislike_comment": -1,
         "undo_dislike_comment": 1},
    ),
    "post": (
        "post", "post_id", "create_post",
        {"like_post": 1, "unlike_post": -1, "dislike_post": -1, "undo_dislike_post": 1},
    ),
}


def _target(target: str) -> tuple[str, str, str, dict[str, int]]:
    try:
        return _TARGETS[target]
    except KeyError:
        raise ValueError(f"target = {target!r} is not allowed; use 'comment' or 'post'.") from None


def scores_at(db: RunDB, *, target: Target = "comment", until: float) -> dict[int, int]:
    """Net votes (likes − dislikes) of every target created by minute `until`, at `until`."""
    _, key, create, votes = _target(target)
    marks = ",".join("?" * len(votes))
    with connect(db) as conn:
        created = conn.execute(
            f"SELECT json_extract(info, '$.{key}') FROM trace WHERE action = ? AND sim_time <= ?",
            (create, until),
        ).fetchall()
        cast = conn.execute(
            f"SELECT json_extract(info, '$.{key}'), action FROM trace "
            f"WHERE action IN ({marks}) AND sim_time <= ?",
            (*votes, until),
        ).fetchall()
    scores = {int(i): 0 for (i,) in created}
    for i, action in cast:
        if int(i) in scores:
            scores[int(i)] += votes[action]
    return scores


def initial_vote_groups(
    db: RunDB, *, target: Target = "comment", until: float = 0.0
) -> dict[int, str]:
    """'up', 'down' or 'control' for every target created by `until`, from its net votes then."""
    return {
        i: "up" if s > 0 else "down" if s < 0 else "control"
        for i, s in scores_at(db, target=target, until=until).items()
    }


def herd_scores(
    db: RunDB, groups: Mapping[int, str], *, target: Target = "comment", until: float = 0.0
) -> Table:
    """Per target in `groups`: its group, score at `until`, final likes, dislikes and score."""
    table, key, _, _ = _target(target)
    initial = scores_at(db, target=target, until=until)
    with connect(db) as conn:
        final = {
            int(i): (int(likes), int(dislikes))
            for i, likes, dislikes in conn.execute(
                f"SELECT {key}, num_likes, num_dislikes FROM {table}"
            )
        }
    rows = []
    for i, group in sorted(groups.items()):
        if int(i) not in final:
            raise ValueError(f"herd groups name {target} {i}, which is not in the {table} table.")
        likes, dislikes = final[int(i)]
        rows.append((int(i), group, initial.get(int(i), 0), likes, dislikes, likes - dislikes))
    return Table((key, "group", "initial_score", "likes", "dislikes", "final_score"), rows)


def herd_summary(scores: Table) -> Table:
    """Per group: size, mean/std/quartiles of final scores, shares above/below 0, mean change."""
    groups = scores.column("group")
    final = np.asarray(scores.column("final_score"), dtype=np.float64)
    change = final - np.asarray(scores.column("initial_score"), dtype=np.float64)
    rows = []
    for group in sorted(set(groups), key=lambda g: ({"up": 0, "control": 1, "down": 2}.get(g, 3), g)):
        mask = np.asarray([g == group for g in groups])
        x = final[mask]
        q25, median, q75 = np.percentile(x, [25, 50, 75])
        rows.append((
            group, len(x), float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else math.nan,
            float(q25), float(median), float(q75), float(np.mean(x > 0)), float(np.mean(x < 0)),
            float(change[mask].mean()),
        ))
    return Table(
        ("group", "n", "mean", "std", "q25", "median", "q75", "share_positive",
         "share_negative", "mean_change"),
        rows,
    )
