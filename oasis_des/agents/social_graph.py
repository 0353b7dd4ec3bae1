"""The follow graph for analysis: degree statistics, homophily, and a networkx export.

The platform keeps the follow graph as an igraph graph equal to the `follow` table; this
module reads it (or a population's follow array, before anything is written) without
touching the platform. Statistics are computed with numpy over edge arrays, so they cost
seconds for ten million follows; networkx is built only when asked for, as it needs about
a kilobyte per edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from oasis_des.agents.follow_graph import unique_sorted

if TYPE_CHECKING:
    import networkx as nx

    from oasis_des.platform.platform import Platform


@dataclass(frozen=True, kw_only=True)
class DegreeStats:
    """Shape of a follow graph (out-degree = following, in-degree = followers)."""

    users: int
    follows: int
    mean_degree: float  # mean followings = mean followers
    max_out: int
    max_in: int
    median_out: float
    median_in: float
    # Share of follows whose reverse follow exists (igraph's default reciprocity).
    reciprocity: float
    # Users who neither follow nor are followed.
    isolated: int
    # Share of all follows received by the 1% most-followed users (concentration).
    top1_share_of_followers: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"users {self.users:,}, follows {self.follows:,}; degree mean {self.mean_degree:.2f}, "
            f"median out {self.median_out:g} / in {self.median_in:g}, max out {self.max_out:,} / "
            f"in {self.max_in:,}; reciprocity {self.reciprocity:.3f}; isolated {self.isolated:,}; "
            f"top 1% hold {self.top1_share_of_followers:.1%} of followers"
        )


def degree_stats(follows: np.ndarray, n: int) -> DegreeStats:
    """Statistics of the distinct (follower, followee) pairs of users 0..n-1, no self-follows."""
    f = np.asarray(follows, dtype=np.int64).reshape(-1, 2)
    f = f[f[:, 0] != f[:, 1]]
    key = unique_sorted(f[:, 0] * max(n, 1) + f[:, 1])
    src, dst = key // max(n, 1), key % max(n, 1)
    m = len(key)
    out_deg = np.bincount(src, minlength=n)
    in_deg = np.bincount(dst, minlength=n)
    reverse = dst * max(n, 1) + src
    where = np.searchsorted(key, reverse)
    mutual = (
        (where < m) & (key[np.minimum(where, max(m - 1, 0))] == reverse) if m else np.zeros(0, bool)
    )
    top = max(1, n // 100)
    return DegreeStats(
        users=n,
        follows=m,
        mean_degree=m / n if n else 0.0,
        max_out=int(out_deg.max()) if n else 0,
        max_in=int(in_deg.max()) if n else 0,
        median_out=float(np.median(out_deg)) if n else 0.0,
        median_in=float(np.median(in_deg)) if n else 0.0,
        reciprocity=float(mutual.mean()) if m else 0.0,
        isolated=int(((out_deg == 0) & (in_deg == 0)).sum()),
        top1_share_of_followers=float(np.sort(in_deg)[-top:].sum() / m) if m else 0.0,
    )


def follow_edges(platform: "Platform") -> np.ndarray:
    """(m, 2) int64 (follower, followee) pairs of the platform's follow graph."""
    edges = platform.graph.get_edgelist()
    return np.array(edges, dtype=np.int64).reshape(-1, 2)


def platform_degree_stats(platform: "Platform") -> DegreeStats:
    """Degree statistics of the platform's current follow graph."""
    users = platform.connection.execute(
        "SELECT COALESCE(MAX(user_id) + 1, 0) FROM user"
    ).fetchone()[0]
    return degree_stats(follow_edges(platform), max(int(users), platform.graph.vcount()))


def assortativity(follows: np.ndarray, values: np.ndarray) -> float:
    """Pearson correlation of a user attribute across follows (homophily: > 0).

    For stance this is the stance assortativity of the graph; for a 0/1 indicator of a
    group it measures how much the group follows itself.
    """
    f = np.asarray(follows, dtype=np.int64).reshape(-1, 2)
    if len(f) < 2:
        return 0.0
    a = np.asarray(values, dtype=np.float64)[f[:, 0]]
    b = np.asarray(values, dtype=np.float64)[f[:, 1]]
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def to_networkx(platform: "Platform", *, attributes: bool = True) -> "nx.DiGraph":
    """The follow graph as a networkx DiGraph: a node per user, an edge u -> v if u follows v.

    With `attributes`, nodes carry `user_name`, `name`, `num_followers`, `num_followings`.
    """
    import networkx as nx

    g = nx.DiGraph()
    if attributes:
        rows = platform.connection.execute(
            "SELECT user_id, user_name, name, num_followers, num_followings FROM user "
            "ORDER BY user_id"
        )
        g.add_nodes_from(
            (uid, {"user_name": un, "name": nm, "num_followers": fr, "num_followings": fg})
            for uid, un, nm, fr, fg in rows
        )
    else:
        g.add_nodes_from(
            r[0] for r in platform.connection.execute("SELECT user_id FROM user ORDER BY user_id")
        )
    g.add_edges_from(platform.graph.get_edgelist())
    return g
