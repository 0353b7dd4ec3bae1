"""The Reddit hot-score recommender ranks exactly, while scanning only recent posts."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from oasis_des import Platform
from oasis_des.platform.recsys.hot import HotRecommender, hot_scores
from oasis_des.rng import KeyedStream


def reddit_hot(likes: int, dislikes: int, date: datetime) -> float:
    """Reddit's published formula, written out independently."""
    s = likes - dislikes
    order = math.log10(max(abs(s), 1))
    sign = 1 if s > 0 else -1 if s < 0 else 0
    seconds = (date - datetime(1970, 1, 1)).total_seconds() - 1134028003
    return round(sign * order + seconds / 45000, 7)


def test_vectorised_formula_matches_reddit() -> None:
    dates = [datetime(2024, 1, 1), datetime(2024, 3, 5, 12, 30), datetime(2010, 7, 1)]
    for likes, dislikes in [(0, 0), (5, 1), (1, 40), (1000, 3)]:
        for d in dates:
            epoch = (d - datetime(1970, 1, 1)).total_seconds()
            assert hot_scores(np.array([likes - dislikes], float), np.array([epoch]))[0] == reddit_hot(
                likes, dislikes, d
            )


@pytest.mark.parametrize("kind", ["reddit", "twitter"])
def test_ranking_equals_brute_force_over_all_posts(kind: str) -> None:
    rng = np.random.default_rng(3)
    users = 40
    p = Platform(kind=kind, recommender="reddit", tick=3.0)
    for u in range(users):
        p.sign_up(u, f"u{u}", f"U{u}", "")
    with p.batch():
        for step in range(300):
            p.now = step * 20.0  # 100 simulated hours: far more than the scan needs
            author = int(rng.integers(users))
            p.execute(author, "create_post", content=f"post {step}")
            for _ in range(int(rng.integers(0, 6))):
                voter, target = int(rng.integers(users)), int(rng.integers(1, step + 2))
                p.execute(voter, "like_post" if rng.random() < 0.7 else "dislike_post", post_id=target)
    start = datetime(2024, 1, 1)

    def created(value: object) -> datetime:
        if kind == "reddit":
            return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S.%f")
        return start + timedelta(minutes=int(value) * 3.0)  # Twitter: tick number, 3 min/tick

    rows = p.connection.execute("SELECT post_id, num_likes, num_dislikes, created_at FROM post").fetchall()
    expected = sorted(rows, key=lambda r: (-reddit_hot(r[1], r[2], created(r[3])), r[0]))
    for k in (1, 5, 100):
        got = HotRecommender(p).recommend(0, p.now, k, KeyedStream(0, "t"))
        assert got == [r[0] for r in expected[:k]]
    p.close()


def test_feed_shows_only_top_ranked_posts() -> None:
    p = Platform(kind="reddit", max_rec_post_len=2, refresh_rec_post_count=2)
    for u in range(5):
        p.sign_up(u, f"u{u}", f"U{u}", "")
    for i in range(4):
        p.now = float(i)
        p.execute(0, "create_post", content=f"p{i}")
    for voter in (1, 2, 3, 4):
        p.execute(voter, "like_post", post_id=1)  # old but popular: 4 likes beat 3 minutes
    feed = p.execute(1, "refresh")["posts"]
    assert sorted(x["post_id"] for x in feed) == [1, 4]
    assert [r[0] for r in p.connection.execute("SELECT post_id FROM rec WHERE user_id = 1 ORDER BY post_id")] == [1, 4]
