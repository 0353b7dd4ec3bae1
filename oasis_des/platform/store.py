"""The SQLite store: one connection, the schema, and explicit transactions.

One action is atomic (a savepoint inside a batch, or its own transaction); many actions
can share one transaction, which is how the engine commits per batch. A database that
cannot be opened or written (locked, read-only, not SQLite, disk full) is reported as a
`StorageError` naming the file, before anything is written to it.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from oasis_des.platform.wal import WalCopier
from oasis_des.resources import data_dir

# How long a write waits for another connection's lock before giving up.
BUSY_TIMEOUT_SECONDS = 5.0
# SQLite's default: a commit that leaves this many pages in the log copies it to the file
# (64 MiB of this project's pages; runs leave it to the copier instead, see wal.py).
_AUTOCHECKPOINT_PAGES = 1000
# With the copier (wal.py), the writer copies the rest of the log after a commit, so that
# it starts over, once it is longer than this many bytes or has this many commits (the
# copier's count of frames lags behind when commits come fast).
_WAL_MAX_BYTES = 64 << 20
_WAL_MAX_STRETCHES = 8
# Indexes a run drops while it writes and builds at its end (`defer_indexes`). Rows come
# to `trace` in key order, but this index takes each at a random user's place, so every
# commit rewrites its touched pages into the log: 88,000 rows of a day, committed every
# 30 minutes, took 1.28-1.39 s to write with it, 0.91-1.04 s without; built at the end,
# 0.1 s. Nothing reads it during a run (an agent's memory is held in memory).
RUN_DEFERRED_INDEXES = ("trace_user_idx",)
# Pages of new databases. A run writes its trace a commit at a time, mostly rendered feeds
# of 4-10 KB a row: with SQLite's 4 KiB pages each row spilled into overflow pages, and
# each page is a frame of the log (two writes at commit, one copy to the file). With 64
# KiB pages a day's commits at 10,000 agents took 1.14-1.22 s instead of 1.65; the 10^5
# agent day ran no slower (16.9 s against 17.7).
PAGE_SIZE = 65536


class StorageError(sqlite3.OperationalError):
    """A database file cannot be opened, read or written; the message names the file."""


def storage_error(path: str, exc: sqlite3.Error) -> StorageError:
    """`exc` (an error of the database at `path`) as one sentence a user can act on."""
    name = getattr(exc, "sqlite_errorname", "")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        text = (f"Database {path} is locked by another connection or process (waited "
                f"{BUSY_TIMEOUT_SECONDS:g} s); close the program holding it and try again.")
    elif name.startswith("SQLITE_FULL"):
        text = f"Database {path}: the disk is full (or the database reached its size limit)."
    elif name.startswith("SQLITE_READONLY"):
        text = f"Database {path} is read-only (file or directory permissions, or the disk)."
    elif name.startswith("SQLITE_CANTOPEN"):
        text = f"Cannot open database {path} (does its directory exist and is it writable?)."
    elif name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        text = f"{path} is not an SQLite database, or it is damaged."
    else:
        text = f"Database {path}: {exc}."
    error = StorageError(text)
    error.sqlite_errorcode = getattr(exc, "sqlite_errorcode", None)  # type: ignore[attr-defined]
    error.sqlite_errorname = name  # type: ignore[attr-defined]
    return error


def schema_sql() -> str:
    """All DDL, every file in name order (each file creates its own tables and indexes)."""
    files = sorted(data_dir("schemas").glob("*.sql"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def contains_ci(text: object, query: str) -> bool:
    """Unicode case-insensitive substring test (SQLite's LIKE folds ASCII letters only)."""
    return text is not None and query.casefold() in str(text).casefold()


# Columns added to a table after databases were written without them: (table, column, type).
# CREATE TABLE IF NOT EXISTS leaves an older table as it is, so opening adds them.
_NEW_COLUMNS = (("llm_call", "cached_prompt_tokens", "INTEGER DEFAULT 0"),)


def _add_new_columns(conn: sqlite3.Connection) -> None:
    """Bring the tables of a database written by an earlier version up to the schema."""
    for table, column, kind in _NEW_COLUMNS:
        have = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        if column not in have:
            conn.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')


class Store:
    """A SQLite database holding one run: WAL, synchronous=NORMAL, foreign keys on."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._savepoints = 0
        self._wal: WalCopier | None = None
        self._deferred: dict[str, str] = {}  # dropped index -> the SQL that builds it
        try:
            self.connection = self._connect()
        except sqlite3.Error as exc:
            raise storage_error(self.path, exc) from None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so batching is explicit.
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS
        )
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            # Before the first table (a database keeps the page size it was made with).
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # SQLite's default page cache is 2 MB; with millions of rows every index insert
            # would miss it and action cost would grow with history. 256 MB cache +
            # memory-mapped reads.
            conn.execute("PRAGMA cache_size = -262144")
            conn.execute("PRAGMA mmap_size = 1073741824")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.create_function("contains_ci", 2, contains_ci, deterministic=True)
            conn.executescript(schema_sql())
            _add_new_columns(conn)
            if self.path != ":memory:":  # can we write? (locks, permissions): say so now
                conn.execute("BEGIN IMMEDIATE")  # waits for another writer's lock
                conn.execute("DELETE FROM run_meta WHERE 0")  # fails if the file is read-only
                conn.execute("ROLLBACK")
        except BaseException:
            conn.close()
            raise
        return conn

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

    def defer_indexes(self, names: tuple[str, ...] = RUN_DEFERRED_INDEXES) -> None:
        """Drop the indexes `names` (in the open transaction, if any) until
        `build_deferred_indexes()` or `close()` builds them again; a database closed
        without either gets them back when it is next opened (the schema creates them)."""
        for name in names:
            sql = self._index_sql(name)
            if sql is not None:
                self.connection.execute(f'DROP INDEX "{name}"')
                self._deferred[name] = sql

    def build_deferred_indexes(self) -> None:
        """Build the indexes `defer_indexes` dropped (those a rollback has not restored)."""
        for name, sql in list(self._deferred.items()):
            if self._index_sql(name) is None:
                self.connection.execute(sql)
            del self._deferred[name]

    def _index_sql(self, name: str) -> str | None:
        """The SQL that created index `name`, or None if there is no such index."""
        found = self.connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).fetchone()
        return None if found is None else found[0]

    def copy_wal_in_background(self) -> None:
        """Leave copying the write-ahead log into the file to a thread (see wal.py); the
        writer calls `committed()` after each commit. For runs that commit large batches."""
        if self.path == ":memory:" or self._wal is not None:
            return
        self._wal = WalCopier(self.path, BUSY_TIMEOUT_SECONDS)
        self._stretches = 0  # commits since the writer last copied the log itself
        self._page_size = self.connection.execute("PRAGMA page_size").fetchone()[0]
        self.connection.execute("PRAGMA wal_autocheckpoint = 0")

    def committed(self) -> None:
        """A transaction was committed: have the copier copy it."""
        wal = self._wal
        if wal is None:
            return
        if wal.failed:  # back to SQLite's own checkpoints, inside commits
            self._stop_copier()
            return
        self._stretches += 1
        long_log = wal.frames * self._page_size > _WAL_MAX_BYTES
        if long_log or self._stretches >= _WAL_MAX_STRETCHES:
            wal.wait()  # then copy the rest now: the next write starts the log over
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            wal.frames, self._stretches = 0, 0
            return
        wal.wake()

    def _stop_copier(self) -> None:
        if self._wal is not None:
            self._wal.close()
            self._wal = None
            self.connection.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")

    def close(self) -> None:
        self._stop_copier()  # the last connection to close copies the rest of the log
        if self.connection.in_transaction:
            self.connection.execute("COMMIT")
        try:
            self.build_deferred_indexes()
        except sqlite3.Error:  # e.g. the disk is full: the schema builds them at next open
            pass
        self.connection.close()
