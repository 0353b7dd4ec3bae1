"""The window's distinct post vectors, in one contiguous array.

Most posts of a busy day are reposts, which share their source's vector (index.py), and
templated texts repeat. A user ranked alone scores the whole window (ranking.py), and what that costs is reading
the vectors; scoring each distinct vector once reads a fraction of them. The array holds
the distinct rows in row order, is extended as posts arrive and rebuilt when the window
starts later, so its layout is a function of the window alone: a resumed run scores the
same arrays in the same blocks, and ranks the same posts.
"""

from __future__ import annotations

import numpy as np

# Odd multipliers for `vector_keys` (Fibonacci hashing), one per 32-bit word of a vector.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def vector_keys(vectors: np.ndarray) -> np.ndarray:
    """A 64-bit key per row of float32 `vectors`: equal rows have equal keys (rows with
    equal keys are compared before they are taken for equal)."""
    words = np.ascontiguousarray(vectors, dtype=np.float32).view(np.uint32)
    mix = (np.arange(1, words.shape[1] + 1, dtype=np.uint64) * _GOLDEN) | np.uint64(1)
    return (words.astype(np.uint64) * mix).sum(axis=1, dtype=np.uint64)


def twins_of(labels: np.ndarray) -> np.ndarray | None:
    """For each row of a window, the first row with the same label (rows of one label
    hold one vector: a repost and its source, posts of the same text; see
    `FeedIndex`), or the row itself; None when every row is its own. Scoring each vector
    once (ranking.py) then gives equal vectors equal scores, whichever rows the scan
    gathers with them, so their ties go to the newer post, in any scan."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return None if len(first) == len(labels) else first[inverse.reshape(-1)]


class DistinctVectors:
    """The distinct rows of a window's vectors, kept current as rows are appended."""

    def __init__(self) -> None:
        self._start: tuple[int, int] | None = None  # (first post id, index epoch)
        self._rows = 0  # window rows taken in
        self._count = 0  # distinct vectors among them
        self._array = np.zeros((0, 0), dtype=np.float32)
        self._place = np.zeros(0, dtype=np.int64)  # each row's vector among the distinct

    def of(
        self, vectors: np.ndarray, twins: np.ndarray, start: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the distinct vectors, the place of each row's vector among them) of the window
        `vectors`, whose row r holds the same vector as row twins[r] (a row of its own
        vector, never after r); `start` tells the window's first post and the index's
        epoch: while they stay, rows past those taken in are the new posts."""
        n, dim = vectors.shape
        if start != self._start or n < self._rows or self._array.shape[1] != dim:
            self._start, self._rows, self._count = start, 0, 0
            self._array = np.zeros((max(n, 1024), dim), dtype=np.float32)
            self._place = np.zeros(max(n, 1024), dtype=np.int64)
        if n > self._rows:
            first, twins = self._rows, twins[self._rows : n]
            own = np.flatnonzero(twins == np.arange(first, n)) + first
            count = self._count + len(own)
            self._array = _room(self._array, count)
            self._place = _room(self._place, n)
            self._array[self._count : count] = vectors[own]
            self._place[own] = np.arange(self._count, count)
            self._place[first:n] = self._place[twins]  # a twin's row was placed before it
            self._rows, self._count = n, count
        return self._array[: self._count], self._place[:n]


def _room(array: np.ndarray, rows: int) -> np.ndarray:
    """`array`, or a copy twice as long when it has fewer than `rows` rows."""
    if rows <= len(array):
        return array
    grown = np.zeros((max(rows, 2 * len(array)), *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown
