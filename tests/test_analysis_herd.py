"""Herd-effect scores: initial-vote groups read back from the trace, final scores by group."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from analysis_helpers import act, platform_db

from oasis_des.analysis import herd_scores, herd_summary, initial_vote_groups


@pytest.fixture
def reddit(tmp_path: Path):
    p = platform_db(tmp_path / "run.db", kind="reddit", users=6)
    for i in range(4):
        act(p, 0, 0, "create_post", content=f"post {i}")                   # posts 1..4
        act(p, 0, 0, "create_comment", post_id=i + 1, content=f"claim {i}")  # comments 1..4
    act(p, 0, 1, "like_comment", comment_id=1)       # up
    act(p, 0, 1, "dislike_comment", comment_id=2)    # down
    act(p, 0, 1, "like_comment", comment_id=4)       # up
    for user in (2, 3):
        act(p, 10, user, "like_comment", comment_id=1)
        act(p, 10, user, "dislike_comment", comment_id=2)
    act(p, 12, 4, "dislike_comment", comment_id=1)
    act(p, 15, 1, "unlike_comment", comment_id=4)    # the initial up-vote is taken back later
    act(p, 15, 5, "like_comment", comment_id=3)
    act(p, 20, 5, "create_comment", post_id=1, content="late")               # comment 5
    yield p
    p.close()


def test_groups_from_initial_votes(reddit) -> None:
    groups = initial_vote_groups(reddit.connection, until=0)
    assert groups == {1: "up", 2: "down", 3: "control", 4: "up"}  # comment 5 came later
    assert initial_vote_groups(reddit.connection, until=15)[4] == "control"
    posts = initial_vote_groups(reddit.connection, target="post", until=0)
    assert posts == {1: "control", 2: "control", 3: "control", 4: "control"}


def test_final_scores_and_summary(reddit) -> None:
    groups = initial_vote_groups(reddit.connection, until=0)
    scores = {r["comment_id"]: r for r in herd_scores(reddit.connection, groups).records()}
    assert scores[1]["initial_score"] == 1 and scores[1]["final_score"] == 3 - 1
    assert scores[2]["final_score"] == -3 and scores[2]["dislikes"] == 3
    assert scores[3]["final_score"] == 1 and scores[4]["final_score"] == 0
    summary = {r["group"]: r for r in herd_summary(herd_scores(reddit.connection, groups)).records()}
    assert list(summary) == ["up", "control", "down"]
    assert summary["up"]["n"] == 2 and summary["up"]["mean"] == 1.0
    assert summary["up"]["std"] == pytest.approx(math.sqrt(2))  # scores 2 and 0
    assert summary["up"]["share_positive"] == 0.5
    assert summary["up"]["mean_change"] == pytest.approx(((2 - 1) + (0 - 1)) / 2)
    assert summary["down"]["mean"] == -3 and math.isnan(summary["down"]["std"])
    assert summary["control"]["share_negative"] == 0.0


def test_groups_naming_unknown_targets_are_refused(reddit) -> None:
    with pytest.raises(ValueError, match="comment 99, which is not in the comment table"):
        herd_scores(reddit.connection, {99: "up"})
    with pytest.raises(ValueError, match="target = 'user' is not allowed"):
        initial_vote_groups(reddit.connection, target="user")  # type: ignore[arg-type]
