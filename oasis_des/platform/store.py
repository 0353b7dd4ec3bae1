"""The SQLite store: one connection, the schema, and explicit transactions.

One action is atomic (a savepoint inside a batch, or its own transaction); many actions
can share one transaction, which is how the engine commits per batch.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from oasis_des.resources import data_dir


def schema_sql() -> str:
    """All DDL, every file in name order (each file creates its own tables and indexes)."""
    files = sorted(data_dir("schemas").glob("*.sql"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def contains_ci(text: object, query: str) -> bool:
    """Unicode case-insensitive substring test (SQLite's LIKE folds ASCII letters only)."""
    return text is not None and query.casefold() in str(text).casefold()


class Store:
    """A SQLite database holding one run: WAL, synchronous=NORMAL, foreign keys on."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so batching is explicit.
        self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        # SQLite's default page cache is 2 MB; with millions of rows every index insert would
        # miss it and action cost would grow with history. 256 MB cache + memory-mapped reads.
        self.connection.execute("PRAGMA cache_size = -262144")
        self.connection.execute("PRAGMA mmap_size = 1073741824")
        self.connection.execute("PRAGMA temp_store = MEMORY")
        self.connection.create_function("contains_ci", 2, contains_ci, deterministic=True)
        self.connection.executescript(schema_sql())
        self._savepoints = 0

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: a transaction, or a savepoint when one is already open.

        One action is atomic this way, and so is a batch of actions; a nested block that
        raises rolls back alone and leaves the enclosing transaction going.
        """
        conn = self.connection
        if not conn.in_transaction:
            conn.execute("BEGIN")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # a failed action may have rolled it back already
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return
        self._savepoints += 1
        name = f"a{self._savepoints}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._savepoints -= 1
        conn.execute(f"RELEASE {name}")

    def close(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")
        self.connection.close()
