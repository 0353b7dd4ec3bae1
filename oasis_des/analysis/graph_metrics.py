"""The follow graph at the end of a run: degrees, reciprocity, clustering (igraph).

Vertices are all users (so users nobody follows count with degree 0); an edge u → v means u
follows v.
"""

from __future__ import annotations

import igraph as ig
import numpy as np

from oasis_des.analysis.source import RunDB, connect
from oasis_des.analysis.tables import Table


def follow_graph(db: RunDB) -> ig.Graph:
    """The directed follow graph, one vertex per user id (vertex index = user id)."""
    with connect(db) as conn:
        n = conn.execute("SELECT COALESCE(MAX(user_id) + 1, 0) FROM user").fetchone()[0]
        edges = np.asarray(
            conn.execute("SELECT follower_id, followee_id FROM follow").fetchall(), dtype=np.int64
        ).reshape(-1, 2)
    n = max(int(n), int(edges.max()) + 1 if len(edges) else 0)
    return ig.Graph(n=n, edges=edges.tolist(), directed=True)


def degree_distribution(graph: ig.Graph) -> Table:
    """Rows (degree, users with that in-degree, users with that out-degree)."""
    indeg = np.asarray(graph.indegree(), dtype=np.int64)
    outdeg = np.asarray(graph.outdegree(), dtype=np.int64)
    top = int(max(indeg.max(initial=0), outdeg.max(initial=0)))
    cin = np.bincount(indeg, minlength=top + 1)
    cout = np.bincount(outdeg, minlength=top + 1)
    return Table(
        ("degree", "in_count", "out_count"),
        [(d, int(cin[d]), int(cout[d])) for d in range(top + 1) if cin[d] or cout[d]],
    )


def graph_summary(graph: ig.Graph) -> Table:
    """Key numbers: size, mean and max degrees, reciprocity, clustering, components.

    Reciprocity: the share of edges whose reverse edge exists. Clustering: global
    transitivity and mean local clustering of the undirected graph (mutual follows once).
    """
    n, m = graph.vcount(), graph.ecount()
    undirected = graph.as_undirected(mode="collapse")
    indeg = graph.indegree() or [0]
    outdeg = graph.outdegree() or [0]
    rows = [
        ("users", n),
        ("follows", m),
        ("mean_degree", m / n if n else 0.0),
        ("max_in_degree", max(indeg)),
        ("max_out_degree", max(outdeg)),
        ("reciprocity", graph.reciprocity(ignore_loops=True, mode="default") if m else 0.0),
        ("transitivity", undirected.transitivity_undirected(mode="zero") if m else 0.0),
        ("mean_local_clustering", undirected.transitivity_avglocal_undirected(mode="zero") if m else 0.0),
        ("largest_weak_component", max(graph.connected_components(mode="weak").sizes(), default=0)),
    ]
    return Table(("measure", "value"), rows)
