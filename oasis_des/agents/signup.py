"""Bulk sign-up: a whole population enters the database in one transaction.

Signing up a million users one action at a time costs minutes; OASIS's own million-user
loader batches its inserts and skips the trace. Here users (with follower counters that
equal their follow rows), follows and seed posts go in with batched statements inside one
transaction, after the population has been fully validated: on any error nothing is
written. Sign-up trace rows are optional, as OASIS writes them only for one-by-one sign-ups.

For speed, a large load into a fresh transaction switches foreign-key checks off (every
id has been checked already), passes follow ids to SQLite as JSON arrays (one statement
per chunk instead of one Python tuple per row), rebuilds the followee index at the end,
and builds the igraph graph from the arrays on a second thread meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from oasis_des.agents.population import Population

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform

# Rows per batched statement.
CHUNK = 500_000
# From this many follows on, the followee index is dropped and rebuilt after the inserts.
REBUILD_INDEX_FROM = 200_000
# Connection settings during a bulk load (restored afterwards): see `_bulk`.
_LOAD_PRAGMAS = {"foreign_keys": 0, "cache_size": -8192, "temp_store": 1, "mmap_size": 0}


@dataclass(frozen=True, kw_only=True)
class SignUpReport:
    """What a bulk sign-up wrote, and which follows of the population it dropped."""

    users: int
    follows: int
    seed_posts: int
    trace_rows: int
    dropped_self_follows: int
    dropped_duplicate_follows: int

    def __str__(self) -> str:
        text = (
            f"{self.users:,} users, {self.follows:,} follows, {self.seed_posts:,} seed posts, "
            f"{self.trace_rows:,} trace rows"
        )
        dropped = []
        if self.dropped_self_follows:
            dropped.append(f"{self.dropped_self_follows:,} self-follows")
        if self.dropped_duplicate_follows:
            dropped.append(f"{self.dropped_duplicate_follows:,} duplicate follows")
        return text + (f" (dropped {' and '.join(dropped)})" if dropped else "")


def clean_follows(follows: np.ndarray, n: int) -> tuple[np.ndarray, int, int]:
    """(follows without self-follows and repeats, in first-seen order; #self; #duplicates)."""
    follows = np.asarray(follows, dtype=np.int64).reshape(-1, 2)
    own = follows[:, 0] == follows[:, 1]
    kept = follows[~own] if own.any() else follows
    if not len(kept):
        return kept, int(own.sum()), 0
    key = kept[:, 0] * max(n, 1) + kept[:, 1]
    if (key[1:] > key[:-1]).all():  # sorted and distinct, as generated graphs are
        return kept, int(own.sum()), 0
    order = np.argsort(key, kind="stable")
    first = np.ones(len(key), dtype=bool)
    first[order[1:]] = key[order[1:]] != key[order[:-1]]
    return kept[first], int(own.sum()), int((~first).sum())


def check_population(population: Population) -> None:
    """Raise ValueError if the population refers to agents it does not have."""
    n = len(population)
    f = population.follows
    if len(f) and (f.min() < 0 or f.max() >= n):
        bad = f[(f < 0).any(axis=1) | (f >= n).any(axis=1)][0]
        raise ValueError(
            f"Population follows must be between agents 0..{n - 1}, got {tuple(bad.tolist())}."
        )
    for agent, content in population.seed_posts:
        if not (isinstance(agent, (int, np.integer)) and 0 <= agent < n) or not isinstance(
            content, str
        ):
            raise ValueError(
                f"Population seed posts must be (agent 0..{n - 1}, text), got {(agent, content)!r}."
            )
    for label, column in (
        ("user_name", population.user_name),
        ("name", population.name),
        ("bio", population.bio),
    ):
        for i, value in enumerate(column):
            if not isinstance(value, str):
                raise ValueError(f"Population {label}[{i}] must be a text, got {value!r}.")


def sign_up_population(
    platform: "Platform",
    population: Population,
    *,
    trace_sign_ups: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SignUpReport:
    """Insert users 0..n-1, their follows, counters and seed posts (created at time 0).

    The platform's follow graph equals the follow table afterwards. Raises ValueError,
    with nothing written, if the population is inconsistent or its ids are taken.
    """
    say = progress or (lambda _msg: None)
    n = len(population)
    check_population(population)
    conn = platform.connection
    taken = conn.execute(
        "SELECT user_id FROM user WHERE user_id BETWEEN 0 AND ? LIMIT 1", (n - 1,)
    ).fetchone()
    if n and taken is not None:
        raise ValueError(f"Cannot sign up agents 0..{n - 1}: user {taken[0]} already exists.")
    follows, n_self, n_dup = clean_follows(population.follows, n)
    out_degree = np.bincount(follows[:, 0], minlength=n) if n else np.zeros(0, np.int64)
    in_degree = np.bincount(follows[:, 1], minlength=n) if n else np.zeros(0, np.int64)
    had_graph = conn.execute("SELECT EXISTS (SELECT 1 FROM follow)").fetchone()[0] or bool(
        conn.execute("SELECT EXISTS (SELECT 1 FROM user)").fetchone()[0]
    )
    stamp = platform.clock.stamp(0.0)
    traces = 0
    # Into an empty platform the igraph graph is built from the arrays, on another thread:
    # SQLite releases the GIL while it inserts and indexes, so the two overlap.
    fast_graph = not had_graph
    builder: list[_GraphBuilder] = []

    def start_graph() -> None:  # called once the inserts are done, before the index build
        if fast_graph:
            builder.append(_GraphBuilder(n, follows))

    with _bulk(platform, rebuild=len(follows) >= REBUILD_INDEX_FROM, before_indexes=start_graph):
        say(f"inserting {n:,} users")
        conn.executemany(
            "INSERT INTO user (user_id, agent_id, user_name, name, bio, created_at, "
            "num_followings, num_followers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            zip(
                range(n),
                range(n),
                population.user_name,
                population.name,
                population.bio,
                repeat(stamp),
                out_degree.tolist(),
                in_degree.tolist(),
            ),
        )
        if trace_sign_ups:
            say("writing sign-up trace rows")
            conn.executemany(
                "INSERT INTO trace (user_id, created_at, action, info, sim_time) "
                "VALUES (?, ?, 'sign_up', ?, 0.0)",
                (
                    (
                        i,
                        stamp,
                        json.dumps({"name": nm, "user_name": un, "bio": b}, ensure_ascii=False),
                    )
                    for i, (un, nm, b) in enumerate(
                        zip(population.user_name, population.name, population.bio)
                    )
                ),
            )
            traces += n
        say(f"inserting {len(follows):,} follows")
        _insert_follows(conn, follows, n, stamp, say)
        posts = population.seed_posts
        if posts:
            say(f"inserting {len(posts):,} seed posts")
            first = _next_id(conn, "post", "post_id")
            conn.executemany(
                "INSERT INTO post (post_id, user_id, content, created_at) VALUES (?, ?, ?, ?)",
                (
                    (first + k, int(agent), content, stamp)
                    for k, (agent, content) in enumerate(posts)
                ),
            )
            if trace_sign_ups:
                conn.executemany(
                    "INSERT INTO trace (user_id, created_at, action, info, sim_time) "
                    "VALUES (?, ?, 'create_post', ?, 0.0)",
                    (
                        (
                            int(agent),
                            stamp,
                            json.dumps(
                                {"content": content, "post_id": first + k}, ensure_ascii=False
                            ),
                        )
                        for k, (agent, content) in enumerate(posts)
                    ),
                )
                traces += len(posts)
    say("building the follow graph")
    graph = None
    if fast_graph:
        try:
            graph = (builder or [_GraphBuilder(n, follows)])[0].result()
        except Exception:  # the rows are committed: rebuild from them below
            graph = None
    if graph is None:
        platform.social_graph.reload(platform.connection)
    else:
        platform.social_graph.install(graph)
    platform.reload_users()  # the platform keeps the set of signed-up ids in memory
    platform.content_version += 1  # recommenders cache on it: the content changed
    return SignUpReport(
        users=n,
        follows=len(follows),
        seed_posts=len(population.seed_posts),
        trace_rows=traces,
        dropped_self_follows=n_self,
        dropped_duplicate_follows=n_dup,
    )


def _insert_follows(
    conn: sqlite3.Connection, follows: np.ndarray, n: int, stamp: object, say: Callable[[str], None]
) -> None:
    """Follow rows in population order, a chunk per statement (ids travel as one JSON array)."""
    if not len(follows):
        return
    key = follows[:, 0] * n + follows[:, 1]
    first = _next_id(conn, "follow", "follow_id")
    sql = (
        "INSERT INTO follow (follow_id, follower_id, followee_id, created_at) "
        "SELECT ?1 + key, value / ?2, value % ?2, ?3 FROM json_each(?4)"
    )
    starts = range(0, len(key), CHUNK)

    def encode(start: int) -> str:
        return json.dumps(key[start : start + CHUNK].tolist())

    # Encode the next chunk while SQLite (which releases the GIL) inserts this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(encode, 0)
        for k, start in enumerate(starts):
            text = pending.result()
            if k + 1 < len(starts):
                pending = pool.submit(encode, starts[k + 1])
            conn.execute(sql, (first + start, n, stamp, text))
            if len(key) > CHUNK:
                say(f"  {min(start + CHUNK, len(key)):,}/{len(key):,} follows")


def _next_id(conn: sqlite3.Connection, table: str, column: str) -> int:
    """The next AUTOINCREMENT id of a table (never reuses ids of deleted rows)."""
    top = conn.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}").fetchone()[0]
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    return max(int(top), int(seq[0]) if seq else 0) + 1


@contextmanager
def _bulk(
    platform: "Platform", *, rebuild: bool, before_indexes: Callable[[], None]
) -> Iterator[None]:
    """One transaction for the whole load (a savepoint if the caller already has one).

    In its own transaction a load also turns foreign-key checks off (every id is checked
    already) and, when large, rebuilds the followee index at the end: one sort instead of
    millions of random index inserts. SQLite sorts fastest with a small page cache and
    file-backed temporary storage (measured: 10 M follows, 23 s vs 29 s with the store's
    256 MB cache and in-memory temp store), so those are set for the load and restored.
    """
    conn = platform.connection
    if conn.in_transaction:
        with platform.store.atomic():
            yield
            before_indexes()
        return
    temp_objects = conn.execute("SELECT COUNT(*) FROM sqlite_temp_master").fetchone()[0]
    saved: dict[str, int] = {}
    for name, value in _LOAD_PRAGMAS.items():
        row = conn.execute(f"PRAGMA {name}").fetchone()
        # No row: not applicable (mmap of :memory:). Changing temp_store drops temporary
        # tables: leave it if the caller has any.
        if row is None or (name == "temp_store" and temp_objects):
            continue
        saved[name] = int(row[0])
        conn.execute(f"PRAGMA {name} = {value}")
    try:
        with platform.store.atomic():
            indexes = _drop_followee_indexes(conn) if rebuild else []
            yield
            before_indexes()
            for sql in indexes:
                conn.execute(sql)
    finally:
        for name, value in saved.items():
            conn.execute(f"PRAGMA {name} = {value}")


def _drop_followee_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the follow table's non-unique indexes; return their DDL to recreate them."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'follow' "
        "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'"
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


class _GraphBuilder:
    """Builds the igraph follow graph on a background thread."""

    def __init__(self, n: int, follows: np.ndarray) -> None:
        self._graph: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(n, follows), daemon=True)
        self._thread.start()

    def _run(self, n: int, follows: np.ndarray) -> None:
        try:
            import igraph as ig

            # A generator of chunks: igraph reads pairs one by one, so at most one chunk
            # of Python ints exists at a time (a full list of tuples would cost ~1 GB).
            pairs = chain.from_iterable(
                zip(follows[s : s + CHUNK, 0].tolist(), follows[s : s + CHUNK, 1].tolist())
                for s in range(0, len(follows), CHUNK)
            )
            self._graph = ig.Graph(n=n, edges=pairs, directed=True)
        except BaseException as exc:  # handed to the caller in result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._graph
