"""Opening a run database for analysis: a path (opened for reading only) or an open connection.

Every analysis function takes either, so the same code serves a finished run on disk and a
live `Simulation.platform.connection`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oasis_des.engine.checkpoint import existing_run_file

RunDB = str | Path | sqlite3.Connection


@contextmanager
def connect(db: RunDB) -> Iterator[sqlite3.Connection]:
    """The connection itself, or the file opened for reading only (closed afterwards)."""
    if isinstance(db, sqlite3.Connection):
        yield db
        return
    path = existing_run_file(db)
    # query_only rather than a read-only open: a read-only connection to a WAL database
    # leaves -wal/-shm files behind, a normal one removes them when it closes.
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA query_only = ON")
        _check_schema(conn, path)
        yield conn
    finally:
        conn.close()


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(trace)")}
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path}: cannot read it as a run database ({exc}).") from None
    if "sim_time" not in columns:
        what = "has no trace table" if not columns else "has no trace.sim_time column"
        raise ValueError(f"{path} is not an oasis_des run database: it {what}.")


def run_meta(db: RunDB) -> dict[str, Any]:
    """The run_meta table as a dict of decoded JSON values (config, seed, agents, ...)."""
    with connect(db) as conn:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_meta'"
        ).fetchone():
            return {}
        return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM run_meta")}
