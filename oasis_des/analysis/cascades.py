"""Repost/quote cascades: who passed a post on to whom, as user-level propagation trees.

A cascade starts at a common post (the root). A repost or quote belongs to the cascade of
the post its `original_post_id` chain ends at, so a repost of a quote joins the quoted
post's cascade. The tree's parent of a sharer is the author of the post they actually
shared: `trace.info` keeps it (`reposted_id` / `quoted_id`, the post as given, which may be
someone's repost), where `post.original_post_id` only keeps the root. This is how the
Twitter15/16 propagation trees OASIS compares with are built: nodes are users, a user
joins once (at their first share; later shares by the same user add no node), and depth
counts hops from the root author.

Measures (OASIS paper; Goel et al. 2016 for structural virality):
- scale: users in the tree (root author included);
- depth: the largest hop count from the root;
- max breadth: the most users at one depth >= 1 (0 while nobody has shared);
- structural virality: the mean distance between two users of the tree (0 below 2 users).
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass

import numpy as np

from oasis_des.analysis.source import RunDB, connect
from oasis_des.analysis.tables import Table

SHARE_ACTIONS = ("repost", "quote_post")


@dataclass(frozen=True, eq=False)
class Cascade:
    """One propagation tree; users are in joining order, so parents come before children."""

    root_post_id: int
    start: float  # simulated minute the root post was written
    users: np.ndarray  # user ids; users[0] is the root author
    parents: np.ndarray  # index into `users` of each user's parent; -1 for the root
    times: np.ndarray  # simulated minute each user joined (users[0]: `start`)
    shares: int  # reposts and quotes in the cascade, repeated shares included

    @property
    def root_user(self) -> int:
        return int(self.users[0])

    @property
    def depths(self) -> np.ndarray:
        return tree_depths(self.parents)

    @property
    def scale(self) -> int:
        return len(self.users)

    @property
    def depth(self) -> int:
        return int(self.depths.max())

    @property
    def max_breadth(self) -> int:
        return max_breadth(self.depths)

    @property
    def structural_virality(self) -> float:
        return structural_virality(self.parents)

    def joined_by(self, minute: float) -> int:
        """How many users had joined `minute` minutes after the root post (root included)."""
        k = int(np.searchsorted(self.times - self.start, minute + 1e-9, side="right"))
        return max(k, 1)


def tree_depths(parents: np.ndarray) -> np.ndarray:
    """Hop count of every node from the root; parents (indices, -1 = root) precede children."""
    parent_list = np.asarray(parents, dtype=np.int64).tolist()
    depths = [0] * len(parent_list)
    for i, p in enumerate(parent_list):
        if p >= 0:
            if p >= i:
                raise ValueError(f"Tree node {i} has parent {p}: parents must come first.")
            depths[i] = depths[p] + 1
    return np.asarray(depths, dtype=np.int64)


def max_breadth(depths: np.ndarray) -> int:
    """The most nodes at one depth below the root."""
    depths = np.asarray(depths)
    below = depths[depths > 0]
    return int(np.bincount(below).max()) if len(below) else 0


def subtree_sizes(parents: np.ndarray) -> np.ndarray:
    """Nodes in each node's subtree (itself included); parents precede children."""
    parents = np.asarray(parents, dtype=np.int64)
    depths = tree_depths(parents)
    sizes = np.ones(len(parents), dtype=np.int64)
    for level in range(int(depths.max(initial=0)), 0, -1):
        nodes = np.flatnonzero(depths == level)
        np.add.at(sizes, parents[nodes], sizes[nodes])
    return sizes


def structural_virality(parents: np.ndarray) -> float:
    """Mean shortest-path distance over all pairs of tree nodes (Goel et al. 2016).

    In a tree the edge above a subtree of s nodes lies on the path of s·(n − s) pairs, so
    the sum of all pairwise distances (the Wiener index) is Σ s·(n − s) over non-root nodes.
    """
    n = len(parents)
    if n < 2:
        return 0.0
    sizes = subtree_sizes(parents)[np.asarray(parents) >= 0]
    wiener = float(np.sum(sizes * (n - sizes)))
    return 2.0 * wiener / (n * (n - 1))


def cascades(db: RunDB, *, min_shares: int = 1) -> list[Cascade]:
    """Every cascade with at least `min_shares` reposts/quotes, by root post id."""
    with connect(db) as conn:
        author: dict[int, int] = {}
        original: dict[int, int] = {}
        for pid, uid, orig in conn.execute("SELECT post_id, user_id, original_post_id FROM post"):
            author[pid] = uid
            if orig is not None:
                original[pid] = orig
        shares = conn.execute(
            "SELECT user_id, action, info, sim_time FROM trace "
            "WHERE action IN ('repost', 'quote_post') ORDER BY sim_time, trace_id"
        ).fetchall()
        builders: dict[int, _Builder] = {}
        for uid, action, info, time in shares:
            data = json.loads(info)
            new_post = data.get("new_post_id")
            if new_post not in author:
                continue  # a share whose post is gone cannot be placed
            given = data.get("reposted_id" if action == "repost" else "quoted_id")
            shared = int(given) if given is not None else original[new_post]
            root = _root(new_post, original)
            builder = builders.get(root)
            if builder is None:
                builder = builders[root] = _Builder(root, author[root])
            builder.add(uid, author.get(shared, author[root]), float(time))
        starts = _creation_times(conn, set(builders)) if builders else {}
    return [
        b.build(starts.get(root, 0.0))
        for root, b in sorted(builders.items())
        if b.shares >= min_shares
    ]


def cascade_of(db: RunDB, root_post_id: int) -> Cascade:
    """The cascade of one post; a post nobody shared is a tree of its author alone."""
    found = [c for c in cascades(db) if c.root_post_id == root_post_id]
    if found:
        return found[0]
    with connect(db) as conn:
        row = conn.execute(
            "SELECT user_id, original_post_id FROM post WHERE post_id = ?", (root_post_id,)
        ).fetchone()
        if row is None or row[1] is not None:
            raise ValueError(f"Post {root_post_id} is not a common post of this run.")
        start = _creation_times(conn, {root_post_id}).get(root_post_id, 0.0)
    return Cascade(
        root_post_id=root_post_id, start=start, users=np.asarray([row[0]], dtype=np.int64),
        parents=np.asarray([-1], dtype=np.int64), times=np.asarray([start]), shares=0,
    )


def cascade_table(found: list[Cascade]) -> Table:
    """One row per cascade: its root, size measures and when it last grew."""
    rows = [
        (
            c.root_post_id, c.root_user, c.start, c.shares, c.scale, c.depth, c.max_breadth,
            c.structural_virality, float(c.times[-1] - c.start),
        )
        for c in found
    ]
    return Table(
        ("root_post_id", "root_user", "start", "shares", "scale", "depth", "max_breadth",
         "structural_virality", "last_join_minute"),
        rows,
    )


def _root(post_id: int, original: dict[int, int]) -> int:
    hops = 0
    while post_id in original:
        post_id = original[post_id]
        hops += 1
        if hops > len(original):
            raise ValueError(f"post.original_post_id forms a cycle through post {post_id}.")
    return post_id


def _creation_times(conn: sqlite3.Connection, roots: set[int]) -> dict[int, float]:
    """Simulated minute of each root's create_post trace row (seed posts without one: 0)."""
    times: dict[int, float] = {}
    for pid, time in conn.execute(
        "SELECT json_extract(info, '$.post_id'), sim_time FROM trace WHERE action = 'create_post'"
    ):
        if pid in roots:
            times[int(pid)] = float(time)
    return times


class _Builder:
    """Grows one tree in share order."""

    def __init__(self, root: int, root_author: int) -> None:
        self.root = root
        self.index = {root_author: 0}
        self.users = [root_author]
        self.parents = [-1]
        self.times = [math.nan]  # the root's time is filled in by build()
        self.shares = 0

    def add(self, user: int, parent_user: int, time: float) -> None:
        self.shares += 1
        if user in self.index:
            return
        self.index[user] = len(self.users)
        self.users.append(user)
        self.parents.append(self.index.get(parent_user, 0))
        self.times.append(time)

    def build(self, start: float) -> Cascade:
        times = np.asarray(self.times, dtype=np.float64)
        times[0] = start
        return Cascade(
            root_post_id=self.root, start=start, users=np.asarray(self.users, dtype=np.int64),
            parents=np.asarray(self.parents, dtype=np.int64), times=times, shares=self.shares,
        )
