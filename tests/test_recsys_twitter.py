"""The `twitter` recommender: interest, recency, popularity, follows, mutes, own posts."""

from __future__ import annotations

import numpy as np
import pytest
from platform_helpers import recommend, write

from oasis_des import Platform
from oasis_des.agents.signup import sign_up_population
from oasis_des.agents.synthetic import generate_population
from oasis_des.platform.recsys import ranking
from oasis_des.platform.recsys.ranking import SIM_FLOOR
from oasis_des.policies.writing import write_post

CAT_POSTS = ["My cat is sleeping on the sofa", "Kittens playing with yarn", "Cute cat video"]
DOG_POSTS = ["Walked the dog in the park", "New puppy at home!", "Dog training tips"]
OTHER_POSTS = ["Stock markets fell today", "The election is coming"]


def platform(**settings) -> Platform:
    """A writer (0), a cat lover (1), a dog lover (2) and a neutral reader (3)."""
    p = Platform(kind="twitter", **settings)
    p.sign_up(0, "writer", "Writer", "I write about everything")
    p.sign_up(1, "catfan", "Cat Fan", "I love cats and kittens")
    p.sign_up(2, "dogfan", "Dog Fan", "Dogs and puppies are my life")
    p.sign_up(3, "reader", "Reader", "")
    return p


def feed(p: Platform, uid: int) -> list[int]:
    result = p.execute(uid, "refresh")
    assert result["success"], result
    return [post["post_id"] for post in result["posts"]]


def test_twitter_is_the_default_for_twitter():
    p = Platform(kind="twitter")
    assert type(p.recommender).__name__ == "TwitterRecommender"


def test_cat_lover_gets_cat_posts_and_dog_lover_dog_posts():
    p = platform(max_rec_post_len=3, refresh_rec_post_count=3)
    mixed = [CAT_POSTS[0], DOG_POSTS[0], OTHER_POSTS[0], CAT_POSTS[1], DOG_POSTS[1],
             OTHER_POSTS[1], CAT_POSTS[2], DOG_POSTS[2]]
    ids = dict(zip(mixed, write(p, 0, mixed)))
    cats = {ids[t] for t in CAT_POSTS}
    dogs = {ids[t] for t in DOG_POSTS}
    assert set(feed(p, 1)) == cats
    assert set(feed(p, 2)) == dogs
    assert set(recommend(p, 1)[:3]) == cats
    assert set(recommend(p, 2)[:3]) == dogs


def test_newer_of_two_equally_relevant_posts_ranks_first():
    p = platform(max_rec_post_len=1, refresh_rec_post_count=1)
    old = write(p, 0, ["A cat photo"])[0]
    for minutes in (1.0, 30.0, 200.0, 5000.0):  # within the OASIS curve and in its tail
        p.now += minutes
        new = write(p, 0, ["A cat photo"])[0]
        assert recommend(p, 1, 2) == [new, old]
        assert recommend(p, 3, 2) == [new, old]  # no interests at all: newest first
        assert feed(p, 1) == [new]
        old = new


def test_recency_outweighs_a_little_relevance_only_with_age():
    """A fresh, less relevant post loses to a relevant one of the same tick, but an old
    relevant post (past the recency horizon) loses to a fresh weaker match."""
    p = platform()
    weak = write(p, 0, ["Kittens and stock markets and elections and weather"])[0]
    strong = write(p, 0, ["cats and kittens"])[0]
    assert recommend(p, 1, 2) == [strong, weak]
    p.now += 400.0  # 400 one-minute ticks: 'strong' is far past OASIS's 171.8-tick horizon
    fresh_weak = write(p, 0, ["Kittens and stock markets and elections and weather"])[0]
    assert recommend(p, 1, 3)[0] == fresh_weak


def test_followees_posts_are_in_the_feed_and_not_out_of_network():
    p = platform(max_rec_post_len=2, refresh_rec_post_count=2, following_post_count=3)
    followed = write(p, 2, DOG_POSTS)  # the dog lover writes; the cat lover follows
    others = write(p, 0, CAT_POSTS)
    p.execute(1, "follow", followee_id=2)
    p.execute(3, "like_post", post_id=followed[1])
    shown = feed(p, 1)
    assert set(followed) <= set(shown)  # in-network: the followee's posts
    assert set(recommend(p, 1)) == set(others)  # out-of-network: never the followee's
    assert p.feed_index.followee_posts(1, 1) == [followed[1]]  # most liked first


def test_own_and_muted_posts_are_never_recommended():
    p = platform(max_rec_post_len=10, refresh_rec_post_count=10)
    mine = write(p, 1, CAT_POSTS)  # the cat lover's own cat posts: the best matches
    muted = write(p, 2, ["cats cats cats", "kittens everywhere"])
    rest = write(p, 0, DOG_POSTS + OTHER_POSTS)
    p.execute(1, "mute", mutee_id=2)
    assert set(recommend(p, 1)) == set(rest)
    assert set(feed(p, 1)) == set(rest)
    p.execute(1, "unmute", mutee_id=2)
    assert set(recommend(p, 1)) == set(rest) | set(muted)
    assert not set(mine) & set(recommend(p, 1))


def test_popular_authors_rank_first_among_equal_posts():
    """Author popularity: log(1 + followers) / log(1000), at least 1 (OASIS)."""
    p = Platform(kind="twitter")
    n = 1100
    with p.batch():
        for u in range(n):
            p.sign_up(u, f"u{u}", f"U{u}", "")
        for u in range(2, n - 1):
            p.execute(u, "follow", followee_id=0)  # user 0: 1,097 followers
    famous, unknown = write(p, 0, ["A dog photo"])[0], write(p, 1, ["A dog photo"])[0]
    viewer = n - 1  # follows nobody
    assert recommend(p, viewer, 2) == [famous, unknown]  # older, but popular
    with p.batch():
        for u in range(2, n - 1):
            p.execute(u, "unfollow", followee_id=0)
    assert recommend(p, viewer, 2) == [unknown, famous]  # a tie again: the newer first


def test_candidate_window_bounds_what_is_ranked():
    p = platform(candidate_window=3)
    ids = write(p, 0, CAT_POSTS + DOG_POSTS)
    assert set(recommend(p, 1)) == set(ids[-3:])


@pytest.mark.parametrize("seed", [0, 5])
def test_same_seed_same_feeds(seed):
    def run() -> list[list[int]]:
        p = platform(seed=seed)
        write(p, 0, CAT_POSTS + DOG_POSTS + OTHER_POSTS)
        p.execute(1, "follow", followee_id=0)
        out = []
        for step in range(6):
            p.now = float(step)
            write(p, step % 3, [f"post {step} about cats and dogs"])
            out += [feed(p, uid) for uid in (1, 2, 3)]
        return out

    assert run() == run()


def test_large_windows_rank_nearly_exactly(monkeypatch):
    """Beyond EXACT_ROWS posts, candidates come from the coarse vectors: the posts chosen
    must score (by the exact formula, brute force) close to the exact top k."""
    monkeypatch.setattr(ranking, "EXACT_ROWS", 4096)  # the coarse path with fewer posts
    population = generate_population(200, seed=2)
    p = Platform(kind="twitter")
    sign_up_population(p, population)
    rng = np.random.default_rng(0)
    n = ranking.EXACT_ROWS + 1000
    authors = rng.integers(0, 200, n)
    texts = [write_post(population.interests[a], 0.0, rng.random(5)) for a in authors]
    with p.batch():
        for a, t in zip(authors.tolist(), texts):
            p.execute(a, "create_post", content=t)
    index = p.feed_index
    vectors = index.embedder.embed(texts)
    fans = index.fan_scores()[authors]
    k, ratios, hits = 5, [], []
    for uid in range(0, 200, 4):
        followees, muted = index.relations(uid)
        hidden = np.isin(authors, [uid, *followees, *muted])
        score = (np.maximum(vectors @ index.profiles.vector(uid), 0) + SIM_FLOOR) * fans
        score[hidden] = -np.inf
        best = np.sort(score)[-k:]
        got = score[np.array(recommend(p, uid, k)) - 1]
        ratios.append(got.mean() / best.mean())
        hits.append(np.mean(got >= best[0] - 1e-6))
    assert np.mean(ratios) > 0.98 and np.mean(hits) > 0.85
