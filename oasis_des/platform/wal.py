"""Copying the write-ahead log into the database file off the simulation's thread.

In WAL mode a COMMIT appends pages to the log; SQLite's automatic checkpoint then copies
the log into the database file inside the COMMIT that crossed its size limit. A run
commits megabytes of trace at a time, so every commit paid for that copy too (half of its
cost). A PASSIVE checkpoint from a second connection never blocks the writer and never
changes what any connection reads, and sqlite3 releases the GIL while it runs: on its
own thread the copy overlaps the simulation. The tables are the same either way.

SQLite starts the log over only if, when a transaction writes its first page, every
frame has been copied: with the copier always a stretch behind, the log would grow as
large as the database. So once it holds more than `max_frames`, the writer copies the
rest itself right after a commit (the copier has done the older stretches by then).
"""

from __future__ import annotations

import sqlite3
import threading


class WalCopier:
    """A thread that checkpoints the database at `path` each time it is woken."""

    def __init__(self, path: str, timeout: float) -> None:
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=timeout)
        self._cond = threading.Condition()
        self._asked = 0  # copies asked for, and done (a copy covers every earlier request)
        self._done = 0
        self._stopping = False
        self.failed = False  # a checkpoint raised: the writer must checkpoint again itself
        self.frames = 0  # frames in the log at the last copy
        self._thread = threading.Thread(target=self._run, name="oasis-des-wal", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Copy what has been committed so far (soon, on the copier's thread)."""
        with self._cond:
            self._asked += 1
            self._cond.notify_all()

    def wait(self) -> None:
        """Until every copy asked for is done (or the copier has stopped)."""
        with self._cond:
            self._cond.wait_for(lambda: self._done >= self._asked or self.failed)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._asked > self._done or self._stopping)
                if self._stopping:
                    return
                asked = self._asked
            try:
                # fetchall: a statement left unfinished would hold a read lock on the log
                (_, frames, _), = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # e.g. a full disk: the log keeps the data meanwhile
                with self._cond:
                    self.failed = True
                    self._cond.notify_all()
                return
            with self._cond:
                self.frames, self._done = frames, asked
                self._cond.notify_all()

    def close(self) -> None:
        """Stop after the copy in progress, if any."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join()
        self._conn.close()
