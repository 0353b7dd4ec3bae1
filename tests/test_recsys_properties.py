"""Properties over random small platforms: own and muted posts are never recommended, and
the `twitter` ranking is the top k of its formula, computed by brute force."""

from __future__ import annotations

from itertools import pairwise

import hypothesis.strategies as st
import numpy as np
from hypothesis import HealthCheck, given, settings

from oasis_des import Platform
from oasis_des.platform.recsys.index import fan_score
from oasis_des.platform.recsys.ranking import SIM_FLOOR, recency
from oasis_des.rng import KeyedStream

WORDS = ["cat", "dog", "kitten", "puppy", "market", "vote", "music", "rain"]
USERS = 5

text = st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map(" ".join)
user = st.integers(0, USERS - 1)
op = st.one_of(
    st.tuples(st.just("create_post"), user, text),
    st.tuples(st.just("mute"), user, user),
    st.tuples(st.just("follow"), user, user),
    st.tuples(st.just("repost"), user, st.integers(1, 12)),
    st.tuples(st.just("like_post"), user, st.integers(1, 12)),
    st.tuples(st.just("follow"), user, user),
    st.tuples(st.just("unfollow"), user, user),
    st.tuples(st.just("mute"), user, user),
    st.tuples(st.just("unmute"), user, user),
    st.tuples(st.just("wait"), st.sampled_from([1.0, 7.0, 90.0, 400.0])),
)
scenario = st.fixed_dictionaries(
    {
        "bios": st.lists(text, min_size=USERS, max_size=USERS),
        "ops": st.lists(op, min_size=1, max_size=40),
        "window": st.sampled_from([3, 1000]),
        "tick": st.sampled_from([1.0, 3.0]),
        "kind": st.sampled_from(["twitter", "reddit"]),
    }
)


def build(s: dict, recommender: str) -> Platform:
    p = Platform(kind=s["kind"], tick=s["tick"], recommender=recommender,
                 candidate_window=s["window"], max_rec_post_len=4, refresh_rec_post_count=4)
    for u, bio in enumerate(s["bios"]):
        p.sign_up(u, f"user{u}", f"User {u}", bio)
    for u, bio in enumerate(s["bios"]):
        p.execute(u, "create_post", content=bio)  # everyone's own best match
    for o in s["ops"]:
        if o[0] == "wait":
            p.now += o[1]
        elif o[0] == "create_post":
            p.execute(o[1], "create_post", content=o[2])
        elif o[0] in ("repost", "like_post"):
            p.execute(o[1], o[0], post_id=o[2])
        elif o[0] in ("follow", "unfollow"):
            p.execute(o[1], o[0], followee_id=o[2])
        else:
            p.execute(o[1], o[0], mutee_id=o[2])
        if o[0] != "wait" and o[1] == 0:
            p.execute(0, "refresh")  # interleave refreshes: the index is updated, not rebuilt
    return p


def relations(p: Platform, uid: int) -> tuple[set[int], set[int]]:
    conn = p.connection
    followees = {r[0] for r in conn.execute("SELECT followee_id FROM follow WHERE follower_id = ?", (uid,))}
    muted = {r[0] for r in conn.execute("SELECT mutee_id FROM mute WHERE muter_id = ?", (uid,))}
    return followees, muted


def window_posts(p: Platform, window: int) -> dict[int, int]:
    rows = p.connection.execute("SELECT post_id, user_id FROM post ORDER BY post_id").fetchall()
    return dict(rows[-window:])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_own_and_muted_posts_never_recommended(s):
    for name in ("twitter", "embedding", "random", "reddit"):
        p = build(s, name)
        for uid in range(USERS):
            followees, muted = relations(p, uid)
            authors = dict(p.connection.execute("SELECT post_id, user_id FROM post"))
            result = p.execute(uid, "refresh")
            shown = [post["post_id"] for post in result.get("posts", [])]
            assert not {authors[i] for i in shown} & muted
            if name in ("twitter", "embedding"):
                got = p.recommender.recommend(uid, p.now, 10, KeyedStream(0, "t", uid))
                assert len(got) == len(set(got))
                assert not {authors[i] for i in got} & (muted | {uid})
                assert not {authors[i] for i in shown} & {uid}
                if name == "twitter":
                    assert not {authors[i] for i in got} & followees
        p.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario)
def test_twitter_ranking_is_the_top_k_of_its_formula(s):
    p = build(s, "twitter")
    index = p.feed_index
    posts = window_posts(p, s["window"])
    texts = dict(p.connection.execute(
        "SELECT p.post_id, COALESCE(o.content, p.content) FROM post p "
        "LEFT JOIN post o ON o.post_id = p.original_post_id"))
    created = dict(p.connection.execute("SELECT post_id, created_at FROM post"))
    followers = dict(p.connection.execute("SELECT user_id, num_followers FROM user"))
    now_tick = index.now_tick(p.now)
    for uid in range(USERS):
        followees, muted = relations(p, uid)
        eligible = [i for i, a in posts.items() if a not in followees | muted | {uid}]
        got = p.recommender.recommend(uid, p.now, 3, KeyedStream(0, "t", uid))
        assert len(got) == min(3, len(eligible)) and set(got) <= set(eligible)
        if not eligible:
            continue
        bio = s["bios"][uid]
        profile = index.embedder.embed([bio if bio.strip() else f"User {uid} user{uid}"])[0]
        vectors = index.embedder.embed([texts[i] for i in eligible])
        ticks = np.array([float(created[i]) if s["kind"] == "twitter" else index.created[i]
                          for i in eligible])
        fans = fan_score(np.array([followers[posts[i]] for i in eligible]))
        score = (np.maximum(vectors @ profile, 0) + SIM_FLOOR) * recency(now_tick - ticks) * fans
        ref = dict(zip(eligible, score))
        tol = 1e-5 * max(score.max(), 1e-12)
        got_scores = [ref[i] for i in got]
        assert all(a >= b - tol for a, b in pairwise(got_scores))  # best first
        left = [ref[i] for i in eligible if i not in got]
        assert not left or min(got_scores) >= max(left) - tol  # nothing better left out
    p.close()
