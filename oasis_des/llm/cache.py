"""The record/replay cache: LLM answers stored in their own SQLite file.

A call is keyed by a SHA-256 of the exact request (model, messages, tools, sampling
parameters) and of who asked when: agent, purpose and the agent's activation (or interview)
number. So an agent asking the identical question twice (an empty feed, a saturated
memory) gets its two recorded answers, in order, and a key needs no counter that a
checkpoint would have to save. Calls that failed in transport (timeouts after all
retries, ...) are stored too, so a replay repeats them exactly.

Modes: "off" (no cache), "record" (always call, store), "replay" (never call; a missing
answer stops the run), "auto" (use a stored answer, else call and store; stored transport
failures are called again).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from oasis_des.engine.gateway import PolicyAbort
from oasis_des.llm.faults import LLMFault
from oasis_des.platform.store import StorageError, storage_error

CacheMode = Literal["off", "record", "replay", "auto"]
MODES: tuple[str, ...] = ("off", "record", "replay", "auto")
_COMMIT_EVERY = 500  # stored answers per transaction (a crash loses at most these)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_response (
    key TEXT PRIMARY KEY,
    model TEXT,
    body TEXT,            -- the chat completion JSON, or NULL for a failed call
    error_category TEXT,
    error_detail TEXT
) WITHOUT ROWID;
"""


class ReplayMiss(PolicyAbort):
    """Replay mode found no stored answer: the run differs from the recorded one."""


@dataclass(frozen=True, kw_only=True)
class Stored:
    """A recorded outcome: a response body, or a transport failure."""

    body: dict[str, Any] | None
    error_category: str | None = None
    error_detail: str | None = None

    @classmethod
    def of(cls, body: dict[str, Any] | None, fault: LLMFault | None) -> Stored:
        return cls(body=body, error_category=fault.category if fault else None,
                   error_detail=fault.detail if fault else None)

    def fault(self) -> LLMFault | None:
        """The stored transport failure, if the call failed."""
        return LLMFault(self.error_category, self.error_detail or "") if self.error_category \
            else None


def canonical(value: Any) -> str:
    """The JSON text hashed for keys (sorted keys, no spaces, Unicode kept)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=16)
def _hashed(static: str) -> Any:
    """The hash state after `static`: the same for every call of a policy (the tools are most
    of it), so a key hashes only what changes."""
    return hashlib.sha256(static.encode("utf-8", "surrogatepass"))


def request_key(static: str, agent: int, call: int, messages: list[dict[str, str]]) -> str:
    """Key of a request: `static` is `canonical()` of everything but the messages (it holds
    the purpose); `call` is the agent's activation or interview number. Messages are hashed
    as length-prefixed role and content (unambiguous, and cheaper than JSON)."""
    h = _hashed(static).copy()
    h.update(f"|{agent}|{call}|".encode())
    for m in messages:
        content = m["content"].encode("utf-8", "surrogatepass")
        h.update(f"{m['role']}:{len(content)}:".encode())
        h.update(content)
    return h.hexdigest()


class ResponseCache:
    """One cache file in one mode."""

    def __init__(self, path: str | Path, mode: CacheMode) -> None:
        if mode not in MODES or mode == "off":
            raise ValueError(f"LLM cache mode must be one of record, replay, auto; got {mode!r}.")
        self.path = Path(path)
        self.mode = mode
        if mode == "replay" and not self.path.is_file():
            raise FileNotFoundError(
                f"LLM cache {self.path} does not exist; replay needs a cache recorded with "
                "--llm-cache-mode record or auto."
            )
        # An existing file is opened (and checked) now; a new one is created by the first
        # answer stored (or at close), so that a run refused before it starts, which never
        # closes its cache, leaves no cache file behind.
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise IsADirectoryError(f"LLM cache {self.path} is a directory; give a file path.")
        if self.path.exists():
            self._open()
        else:
            _check_creatable(self.path)
        self._unsaved = 0
        self.hits = 0
        self.stores = 0

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._storage():
                conn = sqlite3.connect(str(self.path), isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    @contextmanager
    def _storage(self) -> Iterator[None]:
        """Errors of this file name this file (not the run database)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise storage_error(str(self.path), exc) from exc

    @property
    def reads(self) -> bool:
        return self.mode in ("replay", "auto")

    @property
    def writes(self) -> bool:
        return self.mode in ("record", "auto")

    def get(self, key: str) -> Stored | None:
        """The stored outcome, if reading and present (auto mode skips stored failures)."""
        if not self.reads or self._conn is None:  # nothing stored yet
            return None
        with self._storage():
            row = self._conn.execute(
                "SELECT body, error_category, error_detail FROM llm_response WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None or (row[0] is None and self.mode == "auto"):
            return None
        self.hits += 1
        return Stored(body=json.loads(row[0]) if row[0] is not None else None,
                      error_category=row[1], error_detail=row[2])

    def miss(self, key: str, where: str) -> ReplayMiss:
        """The error for a replay that asks something never recorded."""
        return ReplayMiss(
            f"LLM replay cache {self.path} has no answer for {where} (request {key[:12]}): "
            "this run differs from the recorded one (config, seed, prompts, profile or code "
            "changed). Record again with --llm-cache-mode record or auto."
        )

    def put(self, key: str, model: str, stored: Stored) -> None:
        """Store an outcome (record and auto modes)."""
        if not self.writes:
            return
        conn = self._open()
        with self._storage():
            if not conn.in_transaction:
                conn.execute("BEGIN")
            conn.execute(
                "INSERT OR REPLACE INTO llm_response VALUES (?, ?, ?, ?, ?)",
                (key, model,
                 None if stored.body is None else json.dumps(stored.body, ensure_ascii=False),
                 stored.error_category, stored.error_detail),
            )
        self.stores += 1
        self._unsaved += 1
        if self._unsaved >= _COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            with self._storage():
                self._conn.execute("COMMIT")
        self._unsaved = 0

    def close(self) -> None:
        """Save and close; a run that stored nothing still leaves its (empty) cache, so that
        it can be replayed."""
        if self.writes:
            self._open()
        self.commit()
        if self._conn is not None:
            self._conn.close()


def _check_creatable(path: Path) -> None:
    """Refuse now a cache file that could not be created later (mid-run)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"Cannot create LLM cache {path}: {folder} is not a writable "
                           "directory.")
