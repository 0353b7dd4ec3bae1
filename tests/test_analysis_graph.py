"""Follow-graph metrics against hand counts on a five-follow graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_helpers import act, platform_db

from oasis_des.analysis import degree_distribution, follow_graph, graph_summary


def test_degrees_reciprocity_and_clustering(tmp_path: Path) -> None:
    p = platform_db(tmp_path / "run.db", users=5)  # user 4 follows and is followed by nobody
    for follower, followee in ((0, 1), (1, 0), (1, 2), (2, 0), (3, 0)):
        act(p, 1, follower, "follow", followee_id=followee)
    graph = follow_graph(p.connection)
    assert graph.vcount() == 5 and graph.ecount() == 5
    # in-degrees: 0←{1,2,3}=3, 1←{0}=1, 2←{1}=1, 3=0, 4=0; out: 0:1, 1:2, 2:1, 3:1, 4:0.
    assert degree_distribution(graph).rows == [(0, 2, 1), (1, 2, 3), (2, 0, 1), (3, 1, 0)]
    summary = dict(graph_summary(graph).rows)
    assert summary["users"] == 5 and summary["follows"] == 5
    assert summary["reciprocity"] == pytest.approx(2 / 5)  # 0→1 and 1→0
    # Undirected: triangle 0-1-2 plus edge 0-3. Triples: 3 at 0, 1 at 1, 1 at 2 → 3 closed of 5.
    assert summary["transitivity"] == pytest.approx(3 / 5)
    # Local: node 0 1/3, nodes 1 and 2 1, nodes 3 and 4 0 (mode zero).
    assert summary["mean_local_clustering"] == pytest.approx((1 / 3 + 1 + 1) / 5)
    assert summary["largest_weak_component"] == 4
    assert summary["max_in_degree"] == 3 and summary["max_out_degree"] == 2
    p.close()


def test_empty_graph(tmp_path: Path) -> None:
    p = platform_db(tmp_path / "run.db", users=3)
    summary = dict(graph_summary(follow_graph(p.connection)).rows)
    assert summary["follows"] == 0 and summary["reciprocity"] == 0.0
    assert degree_distribution(follow_graph(p.connection)).rows == [(0, 3, 3)]
    p.close()
