"""The post table's rows, kept in memory as the platform writes them.

Every action on a post reads it (does it exist, which root does a repost point at) and
every refresh renders posts: reading them back cost several statements per activation.
All writes to posts go through `PostRows` (SQLite first, then the copy), so a row held
here always equals the table's; a post not held (evicted, or inserted by SQL in bulk) is
read from the table. After a rollback the platform calls `clear()`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from oasis_des.platform.bounded import trim_oldest

# A row: these columns, in this order (what rendering and the handlers read).
COLUMNS = ("post_id", "user_id", "original_post_id", "content", "quote_content", "created_at",
           "num_likes", "num_dislikes", "num_shares", "num_reports")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM post"
_COUNTERS = {name: COLUMNS.index(name)
             for name in ("num_likes", "num_dislikes", "num_shares", "num_reports")}
_CHUNK = 10_000  # ids per query (SQLite limits the number of parameters)
_ADD = {name: f"UPDATE post SET {name} = {name} + ? WHERE post_id = ?" for name in _COUNTERS}


class PostRows:
    """Rows of `post` by id (the most recent `max_entries` read or written)."""

    def __init__(self, conn: sqlite3.Connection, max_entries: int = 200_000) -> None:
        self._conn = conn
        self._max_entries = max_entries
        self._rows: dict[int, list[Any]] = {}

    def get(self, post_id: int) -> list[Any] | None:
        """The row of `post_id`, or None if there is no such post."""
        row = self._rows.get(post_id)
        if row is None:
            found = self._conn.execute(f"{_SELECT} WHERE post_id = ?", (post_id,)).fetchone()
            if found is not None:
                row = self._keep(list(found))
        return row

    def many(self, post_ids: Sequence[int]) -> dict[int, list[Any]]:
        """The rows of those of `post_ids` that exist (one query for all that are not held)."""
        rows = self._rows
        found = {pid: rows[pid] for pid in post_ids if pid in rows}
        missing = [pid for pid in post_ids if pid not in found]
        for at in range(0, len(missing), _CHUNK):
            part = missing[at : at + _CHUNK]
            marks = ",".join("?" * len(part))
            for r in self._conn.execute(f"{_SELECT} WHERE post_id IN ({marks})", part):
                found[r[0]] = self._keep(list(r))
        return found

    def insert(
        self, user_id: int, content: str, created_at: Any,
        original_post_id: int | None = None, quote_content: str | None = None,
    ) -> int:
        """Write a new post (counters 0, as the table's defaults) and return its id."""
        cur = self._conn.execute(
            "INSERT INTO post (user_id, original_post_id, content, quote_content, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, original_post_id, content, quote_content, created_at),
        )
        pid = cur.lastrowid
        assert pid is not None
        self._keep([pid, user_id, original_post_id, content, quote_content, created_at, 0, 0, 0, 0])
        return pid

    def add(self, post_id: int, counter: str, delta: int) -> None:
        """Add `delta` to a counter of a post (e.g. "num_likes")."""
        self._conn.execute(_ADD[counter], (delta, post_id))
        row = self._rows.get(post_id)
        if row is not None:
            row[_COUNTERS[counter]] += delta

    def clear(self) -> None:
        self._rows.clear()

    def _keep(self, row: list[Any]) -> list[Any]:
        self._rows[row[0]] = row
        trim_oldest(self._rows, self._max_entries)
        return row
