"""A peer process that ranks windows on the second core.

Python runs one thread at a time, so a second core helps the run's own work only as a
second process. The peer keeps a copy of the candidate window's vectors, sent as posts
arrive (a few KB a tick), and ranks the jobs it is sent with the same function as this
process (`ranking.rank_window`), which gives the same bits in either process (the
matrix products do not depend on how many threads OpenBLAS uses). A job's inputs are
kept until its answer is read: if the peer is lost, this process ranks them itself,
with the same result.

The peer is a plain `python -m` child on a socket pair (no multiprocessing start method
that re-imports the caller's script); it ends when its socket closes, so it never
outlives the run's process. `OASIS_DES_RANKING_PEER=0` turns it off.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from oasis_des.platform.recsys.distinct import twins_of
from oasis_des.platform.recsys.embedders import HashingEmbedder
from oasis_des.platform.recsys.ranking import (
    RowsByAuthor,
    ScanScratch,
    Window,
    rank_window,
    scan_order,
)

# Set to "0" to rank in this process only (the results are the same).
ENV_SWITCH = "OASIS_DES_RANKING_PEER"
# Seconds to wait for a job's answer (a tick's ranking takes milliseconds to a second) before
# the peer is taken for stuck (e.g. stopped): it is then ended, and the job ranked here.
ANSWER_TIMEOUT = 120.0


def peer_allowed() -> bool:
    """A peer helps only with a second core, and needs POSIX file-descriptor passing."""
    if os.environ.get(ENV_SWITCH, "1") == "0" or os.name != "posix":
        return False
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) >= 2
    return (os.cpu_count() or 1) >= 2


@dataclass
class JobData:
    """What a ranking job asks beside the window (one scanned with its full vectors): the
    users' `queries`, the authors each blocks and those in their network (sorted keys user << 32 | author),
    the k best posts wanted, and the texts of the profiles of users `missing` (rows of
    `queries` to fill), embedded with the job by a hashing embedder of `dim` columns."""

    queries: np.ndarray
    blocked: np.ndarray
    network: np.ndarray
    k: int
    texts: list[str]
    missing: np.ndarray
    dim: int | None


@dataclass
class Answer:
    """A job's answer: each user's k best rows as packed keys (see `rank_window`), the
    vectors of its texts, and each user's network rows (`network_rows`, concatenated
    user after user, `network_counts` of each)."""

    keys: np.ndarray
    vectors: np.ndarray
    network_rows: np.ndarray
    network_counts: np.ndarray

    def network(self, first: int) -> list[np.ndarray]:
        """Each user's network posts, where row 0 is post `first`."""
        return np.split(self.network_rows + first, np.cumsum(self.network_counts)[:-1])


class RankJob:
    """A window (its rows' `authors` and vector labels) to rank for `data`; `answer()` gives
    the answer, from the peer or, if it has none, computed here."""

    def __init__(
        self, window: Window, authors: np.ndarray, labels: np.ndarray, data: JobData,
        scratch: ScanScratch, embedder: HashingEmbedder | None,
    ) -> None:
        self.window, self.authors, self.labels, self.data = window, authors, labels, data
        self._scratch, self._embedder = scratch, embedder
        self._answer: Answer | None = None
        self._peer: RankingPeer | None = None

    def answer(self) -> Answer:
        if self._answer is None:
            peer, self._peer = self._peer, None
            answer = None if peer is None else peer.answer()
            if answer is None:
                answer = _answer(self.window, self.authors, self.data, self._scratch,
                                 self._embedder)
            self._answer = answer
            self.window = None  # type: ignore[assignment]  # free the inputs
        return self._answer


class RankingPeer:
    """This process's side: starts the peer on first use and sends it jobs, one at a
    time. A job the peer cannot take (not allowed, still starting, lost) is ranked here."""

    def __init__(self) -> None:
        self._allowed = peer_allowed()
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._ready = False
        self._job: RankJob | None = None  # sent, its answer not read yet
        self._held: tuple[int, int, int] | None = None  # the peer's (epoch, first, last) post

    def submit(self, job: RankJob) -> None:
        """Send `job` to the peer if it can take it; else rank it now."""
        if self._job is not None:  # one at a time: the previous answer first
            self._job.answer()
        if self._allowed and self._conn is None:
            self._start()
        if self._conn is None or not self._is_ready():
            job.answer()
            return
        try:
            self._conn.send((self._update(job), job.window.weights, job.data))
        except OSError as exc:
            self._lose(exc)
            job.answer()
            return
        job._peer, self._job = self, job

    def _is_ready(self) -> bool:
        """Whether the peer has started (it imports numpy first); never waits for it."""
        assert self._conn is not None
        if not self._ready:
            try:
                if not self._conn.poll():
                    return False
                _expect(self._conn.recv(), "ready")
            except (OSError, EOFError, PeerError) as exc:
                self._lose(exc)
                return False
            self._ready = True
        return True

    def answer(self) -> Answer | None:
        """The peer's answer to the job sent last; None if it was lost meanwhile."""
        self._job = None
        if self._conn is None:
            return None
        try:
            if not self._conn.poll(ANSWER_TIMEOUT):
                raise PeerError(f"no answer in {ANSWER_TIMEOUT:.0f} s")
            reply = self._conn.recv()
            _expect(reply, "ranked")
        except (OSError, EOFError, PeerError) as exc:
            self._lose(exc)
            return None
        return reply[1]  # type: ignore[no-any-return]

    def _update(self, job: RankJob) -> tuple[Any, ...]:
        """The rows the peer lacks (vectors, authors, vector labels): all of
        the window after a reset of the
        index (a new epoch), else the posts after the last it has; and where the window
        starts."""
        window = job.window
        first, epoch = window.lo, window.epoch
        last = first + len(window.full) - 1
        held = self._held
        since = first if held is None or held[0] != epoch or held[2] < first - 1 else held[2] + 1
        rows = slice(since - first, None)
        self._held = (epoch, first, last)
        return epoch, first, since, [window.full[rows], job.authors[rows], job.labels[rows]]

    def _start(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                # One core of its own: the run has the other.
                env=dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                         MKL_NUM_THREADS="1"),
            )
        except OSError as exc:
            ours.close()
            self._lose(exc)
            return
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())

    def _lose(self, reason: BaseException) -> None:
        """Stop using the peer for the rest of the run: the results stay the same."""
        if self._allowed:
            warnings.warn(f"The ranking peer process stopped ({reason}); ranking goes on "
                          "in this process, with the same results.", RuntimeWarning,
                          stacklevel=3)
        self._allowed = False
        if self._process is not None:
            self._process.kill()  # it failed us: no graceful end (it may be stopped)
        self.close()

    def close(self) -> None:
        """End the peer (it also ends by itself when this process does); a job in its
        hands is ranked here when asked."""
        conn, process = self._conn, self._process
        self._conn, self._process, self._ready, self._held = None, None, False, None
        if self._job is not None:
            self._job._peer, self._job = None, None
        if conn is not None:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class PeerError(RuntimeError):
    """The peer answered something other than what was asked (e.g. it raised)."""


def _expect(reply: Any, kind: str) -> None:
    if not isinstance(reply, tuple) or not reply or reply[0] != kind:
        detail = reply[1] if isinstance(reply, tuple) and len(reply) > 1 else repr(reply)
        raise PeerError(f"expected {kind!r}, got: {detail}")


class _Mirror:
    """The peer's copy of the window's rows: vectors, authors and vector labels (see
    `RankingPeer._update`), of posts `first`.., with room to append, dropping the rows
    that left the window once they are half of it."""

    def __init__(self) -> None:
        self.epoch, self.first, self.count = -1, 0, 0
        self.columns: list[np.ndarray] = []

    def apply(self, update: tuple[Any, ...]) -> list[np.ndarray]:
        """Take in an update; the window's columns."""
        epoch, first, since, parts = update
        if epoch != self.epoch or since == first:
            self.epoch, self.first, self.count = epoch, first, 0
            self.columns = [p[:0] for p in parts]
        if first - self.first > self.count // 2:  # drop what left the window
            drop = first - self.first
            self.columns = [c[drop : self.count].copy() for c in self.columns]
            self.first, self.count = first, self.count - drop
        self.columns = [_append(c, self.count, p) for c, p in zip(self.columns, parts)]
        self.count += len(parts[0])
        rows = slice(first - self.first, self.count)
        return [c[rows] for c in self.columns]


def _answer(
    window: Window, authors: np.ndarray, data: JobData, scratch: ScanScratch,
    embedder: HashingEmbedder | None,
) -> Answer:
    """What either process answers for a job."""
    queries = data.queries
    vectors = np.zeros((0, queries.shape[1]), dtype=np.float32)
    if data.texts:
        assert embedder is not None
        vectors = embedder.embed(data.texts)
        queries[data.missing] = vectors
    users = len(queries)
    by_author = RowsByAuthor(authors)
    keys = rank_window(window, queries, None, by_author.hidden(data.blocked, users), data.k,
                       scratch)
    network = by_author.of(data.network, users)
    return Answer(keys, vectors, np.concatenate(network),
                  np.fromiter(map(len, network), dtype=np.int64, count=users))


def _append(array: np.ndarray, count: int, rows: np.ndarray) -> np.ndarray:
    """`array` (its first `count` rows used) with `rows` after them, grown twofold when
    full so that appending a tick's posts costs O(1) amortised."""
    need = count + len(rows)
    if need > len(array):
        grown = np.zeros((max(need, 2 * len(array), 1024), *rows.shape[1:]), dtype=array.dtype)
        grown[:count] = array[:count]
        array = grown
    array[count:need] = rows
    return array


def serve(conn: Connection) -> None:
    """The peer's loop: rank each job with `rank_window` until told to stop, or until
    the run's process goes away (then quietly)."""
    mirror, scratch = _Mirror(), ScanScratch()
    embedders: dict[int, HashingEmbedder] = {}  # by dimension: each keeps its caches
    try:
        conn.send(("ready",))
        while (job := conn.recv()) is not None:
            update, weights, data = job
            try:
                full, authors, labels = mirror.apply(update)
                window = Window(full, full, weights, *scan_order(weights), twins_of(labels),
                                update[1], update[0])
                dim = data.dim
                if dim is not None and dim not in embedders:
                    embedders[dim] = HashingEmbedder(dim)
                embedder = None if dim is None else embedders[dim]
                reply: tuple[Any, ...] = ("ranked", _answer(window, authors, data, scratch,
                                                            embedder))
            except Exception:  # reported to the main process, which ranks the job itself
                reply = ("error", traceback.format_exc())
            conn.send(reply)
    except (EOFError, OSError):
        return


if __name__ == "__main__":
    # Ctrl-C in a terminal reaches the whole process group: the run's process handles it
    # (and may still need its job ranked); the peer ends when its socket closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Run the module's own copy (not __main__'s), so that answers pickle under its name.
    from oasis_des.platform.recsys.peer import serve as serve_here

    serve_here(Connection(int(sys.argv[1])))
