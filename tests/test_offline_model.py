"""The offline behaviour model reproduces the qualitative effects it claims (fixed seeds)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from engine_helpers import small_population
from oasis_des.policies.base import Observation
from oasis_des.policies.features import TOPIC_NAMES, TOPICS, features
from oasis_des.policies.offline import OfflineParams, OfflinePolicy
from oasis_des.policies.profiles import find_profile, load_policy
from oasis_des.policies.writing import write_post

PARAMS = OfflineParams.from_toml(find_profile("offline"))


def post(pid: int, author: int, content: str, score: int = 0, **extra: Any) -> dict[str, Any]:
    return {"post_id": pid, "user_id": author, "content": content, "score": score, "comments": [], **extra}


def policy(n: int = 1, *, kind: str = "reddit", stance: float = 0.5, **traits: Any) -> OfflinePolicy:
    pop = small_population(n)
    pop.stance[:] = stance
    p = OfflinePolicy(pop, PARAMS, kind=kind, seed=11)
    for name, value in traits.items():
        getattr(p, name)[:] = value
    return p


def choices(p: OfflinePolicy, posts: list[dict[str, Any]], runs: int = 3000) -> Counter[tuple[str, Any]]:
    out: Counter[tuple[str, Any]] = Counter()
    for i in range(runs):
        stance = p.stance.copy()
        d = p.decide_batch([Observation(agent_id=0, time=0.0, activation=i, posts=tuple(posts))])[0]
        p.stance[:] = stance  # keep the agent's opinion fixed across samples
        out[(d.action, d.args.get("post_id"))] += 1
    return out


def test_relevant_posts_get_more_likes() -> None:
    p = policy()
    p.interests[0] = 0
    p.interests[0, TOPIC_NAMES.index("pets")] = 1.0
    c = choices(p, [post(1, 5, "my cat and dog and kitten"), post(2, 6, "stocks and inflation and market")])
    assert c[("like_post", 1)] > 1.5 * c[("like_post", 2)]


def test_agreeable_posts_get_more_likes_and_disagreeable_more_dislikes() -> None:
    p = policy(stance=0.8)
    c = choices(p, [post(1, 5, "i support this, great idea"), post(2, 6, "i oppose this, terrible idea")])
    assert c[("like_post", 1)] > 2 * c[("like_post", 2)]
    assert c[("dislike_post", 2)] > 2 * c[("dislike_post", 1)]


def test_social_proof_herd_effect() -> None:
    """With conformity > 0, an up-voted post is liked more and disliked less (Muchnik et al.)."""
    p = policy(conformity=2.0)
    up = choices(p, [post(1, 5, "news about the election", score=1)])
    down = choices(p, [post(1, 5, "news about the election", score=-1)])
    assert up[("like_post", 1)] > 1.3 * down[("like_post", 1)]
    assert down[("dislike_post", 1)] > 1.3 * up[("dislike_post", 1)]
    neutral = policy(conformity=0.0)
    a = choices(neutral, [post(1, 5, "news about the election", score=1)])
    b = choices(neutral, [post(1, 5, "news about the election", score=-1)])
    assert a == b  # no conformity, no herd


def test_own_posts_are_not_rated() -> None:
    c = choices(policy(), [post(1, 0, "my own words about sports")], runs=500)
    assert not any(action in ("like_post", "dislike_post", "follow") and pid == 1 for action, pid in c)


def test_every_allowed_action_occurs() -> None:
    for kind in ("twitter", "reddit"):
        p = policy(kind=kind, stance=0.9)
        feed = [
            post(1, 5, "i support the election law", comments=[{"comment_id": 1, "user_id": 7, "content": "i agree"}]),
            post(2, 6, "i oppose the vaccine policy, terrible idea",
                 comments=[{"comment_id": 2, "user_id": 8, "content": "i disagree"}]),
        ]
        seen: set[str] = set()
        for i in range(6000):
            following = frozenset({6}) if i % 2 else frozenset()
            p.stance[0] = 0.9  # a committed partisan: strong (dis)agreement both ways
            d = p.decide_batch([Observation(agent_id=0, time=0, activation=i, posts=tuple(feed),
                                            following=following)])[0]
            seen.add(d.action)
        assert seen == set(PARAMS.actions[kind]), kind


def _stance_spread(epsilon: float, homophilous: bool) -> tuple[float, float]:
    n = 200
    pop = small_population(n, seed=1)
    pop.stance[:] = np.where(np.arange(n) % 2, 0.3, -0.3) + np.random.default_rng(0).normal(0, 0.05, n)
    p = OfflinePolicy(pop, PARAMS, kind="reddit", seed=3)
    p.openness[:] = epsilon
    p.assimilation[:] = 0.1
    before = float(np.std(p.stance))
    pro, con = "i support this, great idea", "i oppose this, terrible idea"
    for step in range(60):
        batch = []
        for a in range(n):
            if homophilous:
                feed = (post(1, -1, pro if p.stance[a] > 0 else con),)
            else:
                feed = (post(1, -1, pro if (a + step) % 2 else con),)
            batch.append(Observation(agent_id=a, time=0, activation=step, posts=feed))
        p.decide_batch(batch)
    return before, float(np.std(p.stance))


def test_bounded_confidence_polarises_with_small_epsilon_and_homophily() -> None:
    before, after = _stance_spread(epsilon=0.5, homophilous=True)
    assert after > 1.5 * before


def test_bounded_confidence_converges_with_large_epsilon_and_mixed_feeds() -> None:
    before, after = _stance_spread(epsilon=2.0, homophilous=False)
    assert after < 0.5 * before


@pytest.mark.parametrize("stance", [-0.9, -0.4, 0.0, 0.4, 0.9])
def test_written_text_reads_back_its_stance_and_topic(stance: float) -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        interests = np.zeros(len(TOPIC_NAMES))
        topic = int(rng.integers(len(TOPIC_NAMES)))
        interests[topic] = 1.0
        text = write_post(interests, stance, rng.uniform(size=5))
        tau, sigma = features(text)
        assert np.sign(sigma) == np.sign(stance) if abs(stance) >= 0.2 else sigma == 0.0
        assert TOPIC_NAMES[int(np.argmax(tau))] in TOPICS and tau[topic] == tau.max() > 0


def test_decisions_do_not_depend_on_batch_composition() -> None:
    feed = (post(1, 5, "football match tonight"), post(2, 6, "i support the new law"))
    obs = [Observation(agent_id=a, time=0, activation=0, posts=feed) for a in range(10)]
    together = policy(10).decide_batch(obs)
    alone_policy = policy(10)
    alone = [alone_policy.decide_batch([o])[0] for o in reversed(obs)][::-1]
    assert together == alone


def test_unknown_profile_is_reported() -> None:
    with pytest.raises(FileNotFoundError, match="neither a file nor one of: offline"):
        load_policy("gpt-9", small_population(2), kind="twitter", seed=0)


def test_agents_do_not_repeat_likes_dislikes_or_reposts() -> None:
    p = policy(kind="twitter")
    feed = (post(1, 5, "i support this great idea about football"), post(2, 6, "football match"))
    seen = Counter()
    for i in range(3000):
        obs = Observation(agent_id=0, time=0, activation=i, posts=feed,
                          liked=frozenset({1}), reposted=frozenset({1, 2}))
        d = p.decide_batch([obs])[0]
        seen[(d.action, d.args.get("post_id"))] += 1
    assert seen[("like_post", 1)] == 0 and seen[("repost", 1)] == 0 and seen[("repost", 2)] == 0
    assert seen[("like_post", 2)] > 0


def test_agents_do_not_rate_a_comment_twice() -> None:
    p = policy(kind="reddit")
    comments = [{"comment_id": c, "post_id": 1, "user_id": 5, "content": "football is great",
                 "num_likes": 0, "num_dislikes": 0} for c in (7, 8)]
    feed = (post(1, 5, "i support this great idea about football", comments=comments),)
    seen = Counter()
    for i in range(3000):
        obs = Observation(agent_id=0, time=0, activation=i, posts=feed,
                          liked_comments=frozenset({7}), disliked_comments=frozenset({8}))
        d = p.decide_batch([obs])[0]
        seen[(d.action, d.args.get("comment_id"))] += 1
    assert seen[("like_comment", 7)] == 0 and seen[("dislike_comment", 8)] == 0
    assert seen[("like_comment", 8)] > 0 and seen[("dislike_comment", 7)] > 0


def test_a_run_has_no_duplicate_like_failures() -> None:
    from engine_helpers import config
    from oasis_des.engine.simulation import Simulation

    sim = Simulation(config(seed=2, time={"duration": "6h"}), population=small_population(40, rate=3.0))
    result = sim.run()
    sim.close()
    assert result.actions.get("like_post", 0) > 20
    assert result.failures.get("like_post", 0) == 0 and result.failures.get("repost", 0) == 0
    sim = Simulation(config(seed=2, time={"duration": "12h"}, platform={"kind": "reddit"}),
                     population=small_population(60, rate=4.0))
    result = sim.run()
    sim.close()
    assert result.actions.get("like_comment", 0) > 20
    assert result.failures.get("like_comment", 0) == result.failures.get("dislike_comment", 0) == 0


def test_batch_feed_lines_up_posts_and_their_first_comments() -> None:
    from oasis_des.policies.offline import _Feed

    def comments(first: int, n: int) -> list[dict[str, Any]]:
        return [{"comment_id": first + k, "user_id": 20 + first + k,
                 "content": "i agree" if k % 2 else "i disagree"} for k in range(n)]

    batch = [
        Observation(agent_id=3, time=0, activation=0, posts=(
            post(1, 5, "sports match", comments=comments(1, 5)),
            post(2, 6, "no comments here"),
        )),
        Observation(agent_id=4, time=0, activation=0, posts=()),
        Observation(agent_id=7, time=0, activation=0, posts=(
            post(3, 8, "election law", comments=comments(10, 2)),
        ), liked_comments=frozenset({11, 2}), disliked_comments=frozenset({10})),
    ]
    feed = _Feed(batch)
    assert feed.obs.tolist() == [0, 0, 2] and feed.position.tolist() == [0, 1, 0]
    assert feed.agent.tolist() == [3, 3, 7] and feed.topic.shape == (3, len(TOPIC_NAMES))
    assert [c["comment_id"] for c in feed.comments] == [1, 2, 3, 10, 11]  # the first three
    assert feed.c_pair.tolist() == [0, 0, 0, 2, 2]
    assert feed.c_obs.tolist() == [0, 0, 0, 2, 2]
    assert feed.c_author.tolist() == [21, 22, 23, 30, 31]
    assert feed.c_sigma.tolist() == [features(c["content"])[1] for c in feed.comments]
    # each agent's own ratings: comment 2 is agent 7's like, but shown to agent 3
    assert feed.c_done["like_comment"].tolist() == [False, False, False, False, True]
    assert feed.c_done["dislike_comment"].tolist() == [False, False, False, True, False]
    empty = _Feed([Observation(agent_id=1, time=0, activation=0)])
    assert empty.topic.shape == (0, len(TOPIC_NAMES)) and len(empty.c_obs) == 0
