"""Synthetic populations: deterministic, heavy-tailed, reciprocal and homophilous as specified."""

from __future__ import annotations

import numpy as np
import pytest

from oasis_des.agents.columns import LazyColumn
from oasis_des.agents.follow_graph import GraphSettings
from oasis_des.agents.population import Population
from oasis_des.agents.social_graph import assortativity, degree_stats
from oasis_des.agents.synthetic import SyntheticSettings, draw_people, generate_population
from oasis_des.policies.features import features

N = 8000


@pytest.fixture(scope="module")
def pop() -> Population:
    return generate_population(N, seed=11, seed_post_share=0.01)


def same(a: Population, b: Population) -> bool:
    return (
        a.user_name == b.user_name
        and a.name == b.name
        and a.bio == b.bio
        and list(a.persona) == list(b.persona)
        and list(a.traits) == list(b.traits)
        and np.array_equal(a.activity, b.activity)
        and np.array_equal(a.stance, b.stance)
        and np.array_equal(a.interests, b.interests)
        and np.array_equal(a.follows, b.follows)
        and a.seed_posts == b.seed_posts
    )


def test_same_seed_same_population_other_seed_other_population(pop: Population) -> None:
    assert same(pop, generate_population(N, seed=11, seed_post_share=0.01))
    other = generate_population(N, seed=12, seed_post_share=0.01)
    assert other.user_name != pop.user_name and not np.array_equal(other.follows, pop.follows)


def test_graph_parameters_change_only_the_graph(pop: Population) -> None:
    sparse = generate_population(N, seed=11, seed_post_share=0.01, mean_following=3)
    assert sparse.user_name == pop.user_name and sparse.bio == pop.bio
    assert list(sparse.persona) == list(pop.persona) and np.array_equal(sparse.stance, pop.stance)
    assert len(sparse.follows) < len(pop.follows) / 2


def test_follows_are_clean_and_about_ten_per_user(pop: Population) -> None:
    f = pop.follows
    assert f.dtype == np.int64 and f.shape[1] == 2
    assert not (f[:, 0] == f[:, 1]).any()
    key = f[:, 0] * N + f[:, 1]
    assert (np.diff(key) > 0).all()  # sorted, no duplicates
    assert 9.5 < len(f) / N < 10.5


def test_degrees_are_heavy_tailed(pop: Population) -> None:
    stats = degree_stats(pop.follows, N)
    assert stats.max_in > 30 * stats.mean_degree  # hubs (preferential attachment)
    assert stats.top1_share_of_followers > 0.3
    assert stats.median_in < stats.mean_degree  # most users have few followers
    assert stats.max_out > 10 * stats.median_out  # a few users follow very many


def test_reciprocity_matches_the_setting(pop: Population) -> None:
    assert degree_stats(pop.follows, N).reciprocity == pytest.approx(0.22, abs=0.03)
    more = generate_population(3000, seed=1, reciprocity=0.5)
    assert degree_stats(more.follows, 3000).reciprocity == pytest.approx(0.5, abs=0.04)


def test_homophily_by_stance_and_interest_is_measurable(pop: Population) -> None:
    people = draw_people(N, 11, SyntheticSettings())
    f = pop.follows
    assert assortativity(f, pop.stance) > 0.3
    same_camp = (people.camp[f[:, 0]] == people.camp[f[:, 1]]).mean()
    chance = float((np.bincount(people.camp) / N) @ (np.bincount(people.camp) / N))
    assert same_camp > chance + 0.25
    main = people.top[:, 0]
    same_topic = (main[f[:, 0]] == main[f[:, 1]]).mean()
    topic_chance = float(((np.bincount(main) / N) ** 2).sum())
    assert same_topic > 2 * topic_chance
    flat = generate_population(N, seed=11, stance_homophily=0.0, reciprocity_stance_scale=1e9)
    assert abs(assortativity(flat.follows, flat.stance)) < 0.05


def test_activity_is_heavy_tailed_and_diurnal(pop: Population) -> None:
    a = pop.activity
    assert a.shape == (N, 24) and (a >= 0).all()
    daily = np.sort(a.sum(axis=1))
    assert daily.mean() == pytest.approx(4.0, rel=0.15)  # activations per day
    assert daily[-N // 10 :].sum() / daily.sum() > 0.35  # top 10% of users: >35% of activity
    assert daily[-1] / np.median(daily) > 20
    by_hour = a.sum(axis=0)
    assert by_hour[20] > 3 * by_hour[4]  # evenings busier than 4 am


def test_stance_and_interests(pop: Population) -> None:
    assert pop.stance.shape == (N,) and (np.abs(pop.stance) <= 1).all()
    assert 0.25 < (pop.stance > 0.3).mean() < 0.45  # the "for" camp
    i = pop.interests
    assert i.dtype == np.float32 and (i >= 0).all() and np.allclose(i.sum(axis=1), 1, atol=1e-5)
    assert np.median(i.max(axis=1)) > 0.3  # users have main interests, not uniform ones


def test_texts_say_what_was_drawn(pop: Population) -> None:
    people = draw_people(N, 11, SyntheticSettings())
    # The shared content-feature function reads the main topic back from persona + bio.
    read = [np.argmax(features(f"{pop.persona[k]} {pop.bio[k]}")[0]) for k in range(0, N, 7)]
    assert np.mean(np.array(read) == people.top[::7, 0]) > 0.9
    for k in range(50):
        text, s = pop.persona[k], pop.stance[k]
        assert pop.name[k] in text and "the focal issue" in text
        if s < -0.6:
            assert "opposes" in text
        if s > 0.6:
            assert "strongly supports" in text
    assert len(set(pop.user_name)) == N
    assert all(u == u.lower() and " " not in u for u in pop.user_name)
    t = pop.traits[0]
    assert set(t) == {"age", "gender", "mbti", "country", "profession", "interested_topics"}
    assert 18 <= t["age"] <= 85 and len(t["mbti"]) == 4
    assert 40 < len(pop.seed_posts) < 120


def test_issue_wording_and_handle_style() -> None:
    reddit = generate_population(200, seed=5, kind="reddit", issue="the carbon tax")
    assert "On the carbon tax," in reddit.persona[0]
    twitter = generate_population(200, seed=5)
    assert twitter.name == reddit.name and twitter.user_name != reddit.user_name
    assert not any("_" in u for u in reddit.user_name) and not any(
        "-" in u for u in twitter.user_name
    )
    assert any("-" in u for u in reddit.user_name) and any("_" in u for u in twitter.user_name)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_populations(n: int) -> None:
    p = generate_population(n, seed=1)
    assert len(p) == n and p.activity.shape == (n, 24)
    assert not (p.follows[:, 0] == p.follows[:, 1]).any()
    assert (p.follows < max(n, 1)).all()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="reciprocity"):
        GraphSettings(reciprocity=1.5)
    with pytest.raises(ValueError, match="kind"):
        generate_population(10, kind="mastodon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="camp"):
        SyntheticSettings(camp_centres=(0.0,), camp_shares=(0.5, 0.5))
    with pytest.raises(TypeError):
        generate_population(10, no_such_setting=1)


def test_lazy_column_acts_like_a_read_only_list() -> None:
    col = LazyColumn(5, lambda i: i * i)
    assert len(col) == 5 and col[2] == 4 and col[-1] == 16 and col[1:4] == [1, 4, 9]
    assert list(col) == [0, 1, 4, 9, 16] and col == [0, 1, 4, 9, 16] and col != [0]
    with pytest.raises(IndexError):
        col[5]
