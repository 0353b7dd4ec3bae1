"""Bulk sign-up: users, counters, follows, seed posts and graph agree; the graph tools read it."""

from __future__ import annotations

import json
from pathlib import Path

import igraph as ig
import numpy as np
import pytest

from oasis_des import Platform
from oasis_des.agents import signup
from oasis_des.agents.population import Population
from oasis_des.agents.signup import clean_follows, sign_up_population
from oasis_des.agents.social_graph import (
    degree_stats,
    follow_edges,
    platform_degree_stats,
    to_networkx,
)
from oasis_des.agents.synthetic import generate_population


@pytest.fixture(scope="module")
def pop() -> Population:
    return generate_population(3000, seed=4, seed_post_share=0.02)


def follow_table(p: Platform) -> list[tuple[int, int]]:
    return sorted(p.connection.execute("SELECT follower_id, followee_id FROM follow"))


def assert_consistent(p: Platform) -> None:
    c = p.connection
    wrong = c.execute(
        "SELECT COUNT(*) FROM user u WHERE "
        "num_followers != (SELECT COUNT(*) FROM follow WHERE followee_id = u.user_id) OR "
        "num_followings != (SELECT COUNT(*) FROM follow WHERE follower_id = u.user_id)"
    ).fetchone()[0]
    assert wrong == 0
    assert sorted(p.graph.get_edgelist()) == follow_table(p)


def test_bulk_sign_up_writes_a_consistent_population(tmp_path: Path, pop: Population) -> None:
    with Platform(tmp_path / "run.db", "twitter") as p:
        settings = [
            p.connection.execute(f"PRAGMA {x}").fetchone()
            for x in ("foreign_keys", "cache_size", "temp_store")
        ]
        report = sign_up_population(p, pop)
        c = p.connection
        assert [
            c.execute(f"PRAGMA {x}").fetchone()
            for x in ("foreign_keys", "cache_size", "temp_store")
        ] == settings
        assert (report.users, report.follows, report.seed_posts) == (
            3000,
            len(pop.follows),
            len(pop.seed_posts),
        )
        assert (
            report.trace_rows == 0
            and report.dropped_self_follows == report.dropped_duplicate_follows == 0
        )
        rows = c.execute(
            "SELECT user_id, agent_id, user_name, name, bio, created_at FROM user ORDER BY user_id"
        ).fetchall()
        assert rows == [(i, i, pop.user_name[i], pop.name[i], pop.bio[i], 0) for i in range(3000)]
        assert follow_table(p) == sorted(map(tuple, pop.follows.tolist()))
        assert_consistent(p)
        posts = c.execute(
            "SELECT post_id, user_id, content, created_at, num_likes FROM post ORDER BY post_id"
        ).fetchall()
        assert posts == [(k + 1, a, text, 0, 0) for k, (a, text) in enumerate(pop.seed_posts)]
        assert c.execute("SELECT COUNT(*) FROM trace").fetchone()[0] == 0
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        # The platform knows the users and keeps the graph equal to the table afterwards.
        a, b = int(pop.follows[0, 0]), int(pop.follows[0, 1])
        assert p.execute(a, "unfollow", followee_id=b)["success"]
        assert p.execute(b, "create_post", content="after the load")["success"]
        stranger = next(j for j in range(3000) if (a, j) not in set(follow_table(p)) and j != a)
        assert p.execute(a, "follow", followee_id=stranger)["success"]
        assert_consistent(p)


def test_trace_rows_are_written_like_platform_sign_ups(pop: Population) -> None:
    with Platform(":memory:", "twitter") as p:
        report = sign_up_population(p, pop, trace_sign_ups=True)
        assert report.trace_rows == 3000 + len(pop.seed_posts)
        rows = p.connection.execute(
            "SELECT user_id, created_at, action, info, sim_time FROM trace ORDER BY trace_id"
        ).fetchall()
        uid, created, action, info, sim_time = rows[5]
        assert (uid, created, action, sim_time) == (5, 0, "sign_up", 0.0)
        assert json.loads(info) == {
            "name": pop.name[5],
            "user_name": pop.user_name[5],
            "bio": pop.bio[5],
        }
        with Platform(":memory:", "twitter") as q:  # the same keys as Platform.sign_up writes
            q.sign_up(0, "x", "X", "b")
            one = json.loads(q.connection.execute("SELECT info FROM trace").fetchone()[0])
        assert list(json.loads(info)) == list(one)
        posts = [r for r in rows if r[2] == "create_post"]
        first_id = p.connection.execute("SELECT MIN(post_id) FROM post").fetchone()[0]
        assert json.loads(posts[0][3]) == {"content": pop.seed_posts[0][1], "post_id": first_id}
        assert posts[0][0] == pop.seed_posts[0][0]


def test_reddit_timestamps_are_the_run_start() -> None:
    pop = generate_population(20, seed=1, seed_post_share=0.5)
    with Platform(":memory:", "reddit", start_time="2024-03-01 12:00:00") as p:
        sign_up_population(p, pop)
        stamps = {
            r[0]
            for r in p.connection.execute(
                "SELECT created_at FROM user UNION SELECT created_at FROM post"
            )
        }
        assert stamps == {"2024-03-01 12:00:00.000000"}


def test_self_follows_and_duplicates_are_dropped_and_reported() -> None:
    n = 4
    pop = Population(
        user_name=list("abcd"),
        name=list("ABCD"),
        bio=[""] * n,
        persona=[""] * n,
        activity=np.ones((n, 24)),
        stance=np.zeros(n),
        follows=np.array([(0, 1), (1, 1), (0, 1), (2, 0), (3, 3), (2, 0), (1, 0)]),
    )
    kept, n_self, n_dup = clean_follows(pop.follows, n)
    assert kept.tolist() == [[0, 1], [2, 0], [1, 0]] and (n_self, n_dup) == (2, 2)
    with Platform(":memory:") as p:
        report = sign_up_population(p, pop)
        assert (report.follows, report.dropped_self_follows, report.dropped_duplicate_follows) == (
            3,
            2,
            2,
        )
        assert "dropped 2 self-follows and 2 duplicate follows" in str(report)
        # follow_id order is the file's order
        assert p.connection.execute(
            "SELECT follower_id, followee_id FROM follow ORDER BY follow_id"
        ).fetchall() == [(0, 1), (2, 0), (1, 0)]
        assert_consistent(p)


def test_large_loads_rebuild_the_followee_index(
    monkeypatch: pytest.MonkeyPatch, pop: Population
) -> None:
    monkeypatch.setattr(signup, "REBUILD_INDEX_FROM", 10)
    monkeypatch.setattr(signup, "CHUNK", 1000)  # several JSON chunks
    with Platform(":memory:") as p:
        sign_up_population(p, pop)
        indexes = {
            r[0]
            for r in p.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'follow'"
            )
        }
        assert {"follow_pair_idx", "follow_followee_idx"} <= indexes
        plan = " ".join(
            str(r)
            for r in p.connection.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM follow WHERE followee_id = 3"
            )
        )
        assert "follow_followee_idx" in plan
        assert_consistent(p)


def test_inside_a_batch_and_next_to_existing_users(pop: Population) -> None:
    with Platform(":memory:") as p:
        p.sign_up(5000, "early", "Early", "signed up first")
        p.execute(5000, "create_post", content="first post")
        with p.batch():
            report = sign_up_population(p, pop, trace_sign_ups=True)
        assert report.users == 3000
        assert p.connection.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 3001
        assert (
            p.connection.execute("SELECT MIN(post_id) FROM post WHERE user_id < 3000").fetchone()[0]
            == 2
        )
        assert p.execute(0, "follow", followee_id=5000)["success"]
        assert_consistent(p)


def test_empty_population() -> None:
    empty = generate_population(0)
    with Platform(":memory:") as p:
        assert sign_up_population(p, empty).users == 0
        assert p.graph.ecount() == 0


def test_degree_statistics_agree_with_igraph(pop: Population) -> None:
    g = ig.Graph(n=3000, edges=pop.follows.tolist(), directed=True)
    stats = degree_stats(pop.follows, 3000)
    assert (
        stats.follows == g.ecount()
        and stats.max_in == max(g.indegree())
        and stats.max_out == max(g.outdegree())
    )
    assert stats.reciprocity == pytest.approx(g.reciprocity())
    assert stats.mean_degree == pytest.approx(g.ecount() / 3000)
    assert stats.isolated == sum(1 for d in g.degree() if d == 0)
    # duplicates and self-follows in the input do not count
    noisy = np.concatenate([pop.follows, pop.follows[:10], [[7, 7]]])
    assert degree_stats(noisy, 3000) == stats
    assert "reciprocity" in str(stats)


def test_networkx_export_and_platform_stats(pop: Population) -> None:
    with Platform(":memory:") as p:
        sign_up_population(p, pop)
        g = to_networkx(p)
        assert g.number_of_nodes() == 3000 and g.number_of_edges() == len(pop.follows)
        assert set(g.edges()) == set(map(tuple, pop.follows.tolist()))
        k = int(pop.follows[0, 1])
        assert g.nodes[k]["user_name"] == pop.user_name[k] and g.nodes[k][
            "num_followers"
        ] == g.in_degree(k)
        assert set(to_networkx(p, attributes=False).nodes[k]) == set()
        assert sorted(map(tuple, follow_edges(p).tolist())) == follow_table(p)
        assert platform_degree_stats(p) == degree_stats(pop.follows, 3000)
