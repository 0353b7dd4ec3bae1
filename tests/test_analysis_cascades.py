"""Cascades and per-minute propagation on a hand-built trace, against values worked out by hand."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import igraph as ig
import numpy as np
import pytest
from analysis_helpers import act, platform_db

from oasis_des import Platform
from oasis_des.analysis import cascade_of, cascade_table, cascades, propagation, structural_virality
from oasis_des.analysis.cascades import max_breadth, subtree_sizes, tree_depths
from oasis_des.analysis.summary import key_metrics


def build_shared(path: Path) -> Platform:
    """Post 1 by user 0 spreads along a chain 0→1→2→3→4 (through a repost of a repost, a
    quote of a repost and a repost of a quote) and directly to 5; user 1 shares twice.
    Post 3 by user 6 is reposted once by user 0; post 10 is never shared."""
    p = platform_db(path)
    act(p, 0, 0, "create_post", content="root")                      # post 1
    act(p, 2, 1, "repost", post_id=1)                                 # post 2
    act(p, 3, 6, "create_post", content="other")                     # post 3
    act(p, 4, 0, "repost", post_id=3)                                 # post 4
    act(p, 5, 2, "repost", post_id=2)                                 # post 5: repost of a repost
    act(p, 7, 3, "quote_post", post_id=5, quote_content="look")       # post 6: quote of a repost
    act(p, 9.5, 4, "repost", post_id=6)                               # post 7: repost of a quote
    act(p, 10, 5, "repost", post_id=1)                                # post 8
    act(p, 12, 1, "quote_post", post_id=1, quote_content="again")     # post 9: user 1 again
    act(p, 13, 7, "create_post", content="nobody shares this")       # post 10
    return p


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Platform]:
    p = build_shared(tmp_path / "run.db")
    yield p
    p.close()


def test_trees_follow_the_post_actually_shared(shared: Platform) -> None:
    first, second = cascades(shared.connection)
    assert first.root_post_id == 1 and second.root_post_id == 3
    assert first.users.tolist() == [0, 1, 2, 3, 4, 5]
    assert first.parents.tolist() == [-1, 0, 1, 2, 3, 0]
    assert first.depths.tolist() == [0, 1, 2, 3, 4, 1]
    assert (first.scale, first.depth, first.max_breadth, first.shares) == (6, 4, 2, 6)
    assert first.times.tolist() == [0, 2, 5, 7, 9.5, 10]
    assert (second.scale, second.depth, second.max_breadth, second.shares) == (2, 1, 1, 1)
    assert second.start == 3 and second.root_user == 6


def test_structural_virality_is_mean_pairwise_distance(shared: Platform) -> None:
    first = cascades(shared.connection)[0]
    # Path 0-1-2-3-4 (distances sum to 20) plus leaf 5 on 0 (1+2+3+4+5 = 15): 35 over 15 pairs.
    assert first.structural_virality == pytest.approx(35 / 15)
    tree = ig.Graph(edges=[(i, int(p)) for i, p in enumerate(first.parents) if p >= 0])
    assert first.structural_virality == pytest.approx(tree.average_path_length(directed=False))


def test_tree_helpers_on_a_star_and_a_single_node() -> None:
    star = np.array([-1, 0, 0, 0])
    assert tree_depths(star).tolist() == [0, 1, 1, 1]
    assert subtree_sizes(star).tolist() == [4, 1, 1, 1]
    assert max_breadth(tree_depths(star)) == 3
    assert structural_virality(star) == pytest.approx(1.5)  # 3 pairs at 1, 3 pairs at 2
    assert structural_virality(np.array([-1])) == 0.0
    assert max_breadth(np.array([0])) == 0
    with pytest.raises(ValueError, match="parents must come first"):
        tree_depths(np.array([-1, 2, 0]))


def test_min_shares_and_the_table(shared: Platform) -> None:
    assert [c.root_post_id for c in cascades(shared.connection, min_shares=2)] == [1]
    table = cascade_table(cascades(shared.connection))
    row = table.records()[0]
    assert row["root_post_id"] == 1 and row["scale"] == 6 and row["shares"] == 6
    assert row["last_join_minute"] == 10
    assert table.column("root_post_id") == [1, 3]


def test_per_minute_series_counts_shares_at_or_before_each_minute(shared: Platform) -> None:
    first = cascades(shared.connection)[0]
    table = propagation(first, minutes=12)
    by_minute = {r[0]: r[1:4] for r in table.rows}
    assert table.column("minute") == list(range(13))
    assert by_minute[0] == (1, 0, 0) and by_minute[1] == (1, 0, 0)
    assert by_minute[2] == (2, 1, 1) and by_minute[4] == (2, 1, 1)
    assert by_minute[5] == (3, 2, 1)
    assert by_minute[7] == (4, 3, 1)
    assert by_minute[9] == (4, 3, 1)  # the share at 9.5 counts from minute 10
    assert by_minute[10] == (6, 4, 2) and by_minute[12] == (6, 4, 2)
    assert table.column("structural_virality")[12] == pytest.approx(35 / 15)
    assert table.column("structural_virality")[2] == pytest.approx(1.0)
    # Default horizon: the last join.
    assert propagation(first).column("minute")[-1] == 10


def test_series_of_a_later_root_counts_from_the_root(shared: Platform) -> None:
    second = cascades(shared.connection)[1]  # root at minute 3, repost at minute 4
    assert propagation(second).rows == [(0, 1, 0, 0, 0.0), (1, 2, 1, 1, 1.0)]


def test_cascade_of_one_post(shared: Platform) -> None:
    assert cascade_of(shared.connection, 1).scale == 6
    alone = cascade_of(shared.connection, 10)  # never shared: its author alone
    assert (alone.scale, alone.depth, alone.start, alone.root_user) == (1, 0, 13, 7)
    assert propagation(alone, minutes=2).rows == [(m, 1, 0, 0, 0.0) for m in range(3)]
    with pytest.raises(ValueError, match="Post 2 is not a common post"):
        cascade_of(shared.connection, 2)


def test_no_shares_no_cascades(tmp_path: Path) -> None:
    p = platform_db(tmp_path / "run.db", users=2)
    act(p, 1, 0, "create_post", content="alone")
    assert cascades(p.connection) == []
    p.close()


def test_reads_a_closed_database_file(tmp_path: Path) -> None:
    build_shared(tmp_path / "run.db").close()
    assert [c.scale for c in cascades(tmp_path / "run.db")] == [6, 2]
    assert not (tmp_path / "run.db-wal").exists()  # reading leaves no WAL files behind


def test_missing_or_foreign_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cascades(tmp_path / "nope.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ValueError, match="not an oasis_des run database: it has no trace table"):
        cascades(other)


def test_key_metrics_summarise_the_cascades(shared: Platform) -> None:
    metrics = key_metrics(shared.connection)
    assert metrics["posts"] == 3  # posts 1, 3 and 10; the rest are reposts and quotes
    assert (metrics["cascades"], metrics["largest_cascade"], metrics["max_depth"]) == (2, 6, 4)
    assert metrics["mean_virality"] == pytest.approx((35 / 15 + 1.0) / 2)
    assert metrics["stance_variance"] == 0.0  # nobody wrote a stance phrase
    assert metrics["reciprocity"] == 0.0
