"""The follow graph as an igraph directed graph, always equal to the `follow` table.

igraph re-indexes its whole edge list on every edge insertion or deletion, so applying
each follow as it happens would make a follow cost O(edges). Changes are buffered and
applied in one batch whenever the graph is read; readers always see the table's state.
"""

from __future__ import annotations

import sqlite3

import igraph as ig


class SocialGraph:
    """Vertex v is user v; an edge u -> v means u follows v."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.reload(connection)

    def reload(self, connection: sqlite3.Connection) -> None:
        """Rebuild from the tables (at start, and after a rolled-back batch)."""
        self._graph = ig.Graph(directed=True)
        self._added: set[tuple[int, int]] = set()
        self._removed: set[tuple[int, int]] = set()
        self._vertices = 0
        row = connection.execute("SELECT MAX(user_id) FROM user").fetchone()
        self.ensure_vertex(-1 if row[0] is None else row[0])
        edges = connection.execute("SELECT follower_id, followee_id FROM follow").fetchall()
        self._added.update(edges)

    def install(self, graph: ig.Graph) -> None:
        """Take a graph built elsewhere from the same follow rows (bulk sign-up builds it
        from arrays, far faster than reading ten million rows back)."""
        self._graph = graph
        self._added = set()
        self._removed = set()
        self._vertices = max(self._vertices, graph.vcount())

    def ensure_vertex(self, user_id: int) -> None:
        """Make room for user ids up to `user_id` (vertices with no user stay isolated)."""
        self._vertices = max(self._vertices, user_id + 1)

    def add(self, follower: int, followee: int) -> None:
        edge = (follower, followee)
        if edge in self._removed:
            self._removed.discard(edge)
        else:
            self._added.add(edge)

    def remove(self, follower: int, followee: int) -> None:
        edge = (follower, followee)
        if edge in self._added:
            self._added.discard(edge)
        else:
            self._removed.add(edge)

    @property
    def graph(self) -> ig.Graph:
        """The up-to-date igraph graph (apply buffered changes first)."""
        g = self._graph
        if g.vcount() < self._vertices:
            g.add_vertices(self._vertices - g.vcount())
        if self._removed:
            g.delete_edges(g.get_eids(sorted(self._removed)))
            self._removed.clear()
        if self._added:
            g.add_edges(sorted(self._added))
            self._added.clear()
        return g
