"""Copying the write-ahead log into the database file off the simulation's thread.

In WAL mode a COMMIT appends pages to the log; SQLite's automatic checkpoint then copies
the log into the database file inside the COMMIT that crossed its size limit. A run
commits megabytes of trace at a time, so every commit paid for that copy too (half of its
cost). A PASSIVE checkpoint from a second connection never blocks the writer and never
changes what any connection reads, and sqlite3 releases the GIL while it runs: on its
own thread the copy overlaps the simulation. The tables are the same either way.
"""

from __future__ import annotations

import sqlite3
import threading


class WalCopier:
    """A thread that checkpoints the database at `path` each time it is woken."""

    def __init__(self, path: str, timeout: float) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
        self._wake = threading.Event()
        self._stopping = False
        self.failed = False  # a checkpoint raised: the writer must checkpoint again itself
        self._thread = threading.Thread(target=self._run, name="oasis-des-wal", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Copy what has been committed so far (soon, on the copier's thread)."""
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:  # e.g. a full disk: the log keeps the data meanwhile
                self.failed = True
                return

    def close(self) -> None:
        """Stop after the copy in progress, if any."""
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._conn.close()
