"""One process at a time per run database: an advisory lock held while a run writes it.

Two processes resuming (or running into) the same database would both continue from the
same checkpoint and interleave their commits, and `--overwrite` would delete a database
that a run is writing. SQLite's own locks only serialise single transactions, so the
process that opens a run database for writing holds `flock` on a companion file,
`PATH-lock`, until it closes the run. (Not on PATH itself: SQLite locks it with POSIX
record locks, which `flock` on the same file disturbs on some systems.)

The kernel drops the lock when its process dies, so a killed run leaves at most an
unlocked file behind, which the next run takes over. The file is removed on release; an
acquirer that locked a file removed meanwhile notices (another inode at the path) and
tries again. Windows has no `flock`: there runs are not protected.
"""

from __future__ import annotations

import os
from pathlib import Path

from oasis_des.platform.store import StorageError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class RunLock:
    """The lock on the run database at `db_path`, taken at once or refused with a
    StorageError naming the database."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = f"{db_path}-lock"
        self._fd: int | None = None
        while fcntl is not None and self._fd is None:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StorageError(
                    f"Cannot lock database {db_path}: cannot create {self.path} ({exc.strerror})."
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StorageError(
                    f"Database {db_path} is in use by another process running or resuming it "
                    f"(it holds {self.path}); wait until that run ends, or stop it."
                ) from None
            if _is_at(fd, self.path):
                self._fd = fd
            else:  # its holder removed it between our open and our lock
                os.close(fd)

    def release(self) -> None:
        """Remove the lock file and unlock (once; later calls do nothing)."""
        if self._fd is None:
            return
        Path(self.path).unlink(missing_ok=True)  # while still locked: see `_is_at`
        os.close(self._fd)
        self._fd = None


def _is_at(fd: int, path: str) -> bool:
    """Whether the file open as `fd` is the one at `path`."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False
