"""A canonical fingerprint of a run's tables, to prove that runs replay exactly."""

from __future__ import annotations

import hashlib
import json
import sqlite3

# Metadata, not results: paths, the package version, and the engine's resume state.
EXCLUDED_TABLES = frozenset({"run_meta", "sqlite_sequence", "checkpoint"})
# Wall-clock and transport columns: which server answered, how fast, how many attempts, and
# whether the answer came from the record/replay cache differ between a run and its replay.
EXCLUDED_COLUMNS = {"llm_call": frozenset({"endpoint", "latency_s", "cache_hit", "attempts"})}
# Hashed only when they hold rows, so runs without LLM agents keep their earlier digests.
OPTIONAL_TABLES = frozenset({"llm_call"})


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
        if table in OPTIONAL_TABLES and connection.execute(
            f'SELECT 1 FROM "{table}" LIMIT 1'
        ).fetchone() is None:
            continue
        skip = EXCLUDED_COLUMNS.get(table, frozenset())
        columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')
                   if r[1] not in skip]
        order = ", ".join(str(i + 1) for i in range(len(columns)))
        h.update(json.dumps([table, columns]).encode())
        select = ", ".join(f'"{c}"' for c in columns)
        cursor = connection.execute(f'SELECT {select} FROM "{table}" ORDER BY {order}')
        while rows := cursor.fetchmany(10000):
            # repr of tuples of int/float/str/None/bytes is exact and stable across runs.
            h.update(repr(rows).encode("utf-8", "surrogatepass"))
    return h.hexdigest()
