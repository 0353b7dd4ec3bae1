"""A canonical fingerprint of a run's tables, to prove that runs replay exactly."""

from __future__ import annotations

import hashlib
import json
import sqlite3

# Metadata, not results: it holds paths and the package version.
EXCLUDED_TABLES = frozenset({"run_meta", "sqlite_sequence"})


def table_digest(connection: sqlite3.Connection) -> str:
    """SHA-256 over every result table, rows ordered by all columns."""
    h = hashlib.sha256()
    tables = [
        r[0]
        for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if r[0] not in EXCLUDED_TABLES and not r[0].startswith("sqlite_")
    ]
    for table in tables:
        columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
        order = ", ".join(str(i + 1) for i in range(len(columns)))
        h.update(json.dumps([table, columns]).encode())
        cursor = connection.execute(f'SELECT * FROM "{table}" ORDER BY {order}')
        while rows := cursor.fetchmany(10000):
            # repr of tuples of int/float/str/None/bytes is exact and stable across runs.
            h.update(repr(rows).encode("utf-8", "surrogatepass"))
    return h.hexdigest()
