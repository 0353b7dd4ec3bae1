"""Users' profile vectors: what interest-based recommenders rank a user's feed for.

A profile is the embedding of the user's bio (of "name user_name" when the bio is empty),
computed on the user's first refresh, never for the whole population up front, and kept
(the oldest are dropped past PROFILE_CACHE users, and recomputed if needed again). A
stepped tick's new users are embedded in one batch when the embedder's vectors do not
depend on their batch (`batch_invariant`, e.g. hashing); otherwise each alone, so that a
user's vector never depends on who else was embedded with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from oasis_des.platform.bounded import trim_oldest
from oasis_des.platform.recsys.embedders import Embedder, fold

# Profile vectors kept (the oldest are dropped, and recomputed if needed again).
PROFILE_CACHE = 100_000
# Users read per query when profiles are embedded together (SQLite's parameter limit).
PROFILE_QUERY = 500


class Profiles:
    """Profile vectors and their folds, by user id, computed once."""

    def __init__(self, conn: sqlite3.Connection, embedder: Callable[[], Embedder]) -> None:
        self._conn = conn
        self._embedder = embedder  # asked when first needed: a model loads on first use
        self._full: dict[int, np.ndarray] = {}
        self._coarse: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._full)

    def __iter__(self) -> Iterator[int]:
        """The users whose profile is held, oldest first."""
        return iter(self._full)

    def vector(self, uid: int) -> np.ndarray:
        """The unit vector of the user's bio (or name when the bio is empty)."""
        vector = self._full.get(uid)
        if vector is None:
            vector = self._embedder().embed(self.texts([uid]))[0]
            self._full[uid] = vector
            trim_oldest(self._full, PROFILE_CACHE)
        return vector

    def coarse(self, uid: int) -> np.ndarray:
        """fold(vector(uid)), computed once."""
        vector = self._coarse.get(uid)
        if vector is None:
            vector = fold(self.vector(uid)[None, :])[0]
            self._coarse[uid] = vector
            trim_oldest(self._coarse, PROFILE_CACHE)
        return vector

    def embed_many(self, uids: Sequence[int]) -> None:
        """Compute the profiles of `uids` not held yet in one batch (a tick's new users),
        when the embedder is batch-invariant; else `vector` embeds each alone."""
        missing = self.missing(uids)
        embedder = self._embedder()
        if len(missing) < 2 or not getattr(embedder, "batch_invariant", False):
            return
        self.add(missing, embedder.embed(self.texts(missing)))

    def missing(self, uids: Sequence[int]) -> list[int]:
        """Those of `uids` whose profile is not held (once each)."""
        return [u for u in dict.fromkeys(uids) if u not in self._full]

    def add(self, uids: Sequence[int], vectors: np.ndarray) -> None:
        """Hold the profile vectors of `uids`, computed elsewhere from their `texts` by
        this embedder (ranking ahead has them embedded on its peer process)."""
        self._full.update(zip(uids, vectors))
        trim_oldest(self._full, PROFILE_CACHE)

    def texts(self, uids: list[int]) -> list[str]:
        """Each user's bio, or "name user_name" when the bio is empty ("" if unknown)."""
        rows: dict[int, tuple[str | None, str | None, str | None]] = {}
        for start in range(0, len(uids), PROFILE_QUERY):
            part = uids[start : start + PROFILE_QUERY]
            marks = ",".join("?" * len(part))
            for uid, name, user_name, bio in self._conn.execute(
                f"SELECT user_id, name, user_name, bio FROM user WHERE user_id IN ({marks})", part
            ):
                rows[uid] = (name, user_name, bio)
        texts = []
        for uid in uids:
            name, user_name, bio = rows.get(uid, ("", "", ""))
            texts.append(bio if bio and bio.strip() else f"{name or ''} {user_name or ''}")
        return texts
