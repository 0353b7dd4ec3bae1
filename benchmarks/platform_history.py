"""Per-action cost of `Platform.execute` with a small vs a large history in the tables.

For each history size (default 10^3 and 10^6 rows) a file database (WAL) is bulk-loaded
with `executemany` straight into the schema: users, posts (common, reposts, quotes),
likes, dislikes, comments, comment likes/dislikes, follows, mutes, reports, chat groups,
members, messages and trace rows, one history size for every table, with valid foreign
keys and consistent counters. Then every write action and the indexed lookups are timed
in the engine's mode (one transaction per 100 actions, commit included), each on targets
drawn uniformly from the whole history (the worst case for caching), as µs per action,
median over the repeats. Undo actions (unlike, unfollow, ...) remove rows of the history.

Reads that inherently scan (search_posts / search_user substring search, listing all
groups, trend over a window that holds the whole history) or rank every post (refresh
with the Reddit hot recommender, measured on a Reddit database of the same size) are
timed separately and labelled as such; they are expected to grow with the history.

Where platform_throughput.py has a raw-SQL version of an action, the same calls also run
as raw SQL on a copy of each database, to tell the platform's cost from SQLite's.

    python benchmarks/platform_history.py           # 10^3 vs 10^6 rows (about 2.5 minutes)
    python benchmarks/platform_history.py --quick   # 10^3 vs 10^5 rows
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from _common import Contention, machine_info, median, print_machine, table, write_results
from oasis_des import ActionType, Platform
from oasis_des.platform.store import Store, schema_sql
from platform_throughput import RAW, Action, Raw

A = ActionType
TARGET_SLOWDOWN = 2.0
HISTORY_MINUTES = 7 * 1440  # the history spans the 7 days before now = HISTORY_MINUTES
NOW = 30 * 1440.0  # timed actions happen at day 30: a 7-day trend window holds only them
MARKER = "oasisbench"  # a word in a handful of posts and bios, for searches with few hits
START = datetime(2024, 1, 1)
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


# --------------------------------------------------------------------------------------
# Bulk load
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def vocabulary(n: int = 4000) -> np.ndarray:
    syll = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "zu", "ri", "on",
            "el", "ar", "is"]
    rng = np.random.default_rng(7)
    words = {"".join(rng.choice(syll, size=int(rng.integers(2, 5)))) for _ in range(3 * n)}
    return np.array(sorted(words)[:n])


def texts(rng: np.random.Generator, vocab: np.ndarray, n: int, words: int) -> list[str]:
    idx = rng.integers(len(vocab), size=(n, words))
    pick = vocab.tolist().__getitem__
    return [" ".join(map(pick, row)) for row in idx.tolist()]


def unique_pairs(
    rng: np.random.Generator, n: int, a_pool: np.ndarray, b_hi: int, distinct: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """n distinct pairs (a from a_pool, b in 0..b_hi-1), in random order."""
    a_out = np.empty(0, dtype=np.int64)
    b_out = np.empty(0, dtype=np.int64)
    while len(a_out) < n:
        m = int((n - len(a_out)) * 1.3) + 16
        a = rng.choice(a_pool, size=m)
        b = rng.integers(b_hi, size=m)
        if distinct:
            keep = a != b
            a, b = a[keep], b[keep]
        a = np.concatenate([a_out, a])
        b = np.concatenate([b_out, b])
        _, first = np.unique(a * (b_hi + 1) + b, return_index=True)
        first.sort()
        a_out, b_out = a[first], b[first]
    order = rng.permutation(n)
    return a_out[:n][order], b_out[:n][order]


@dataclass
class History:
    """What was loaded (kept to draw targets for the timed actions)."""

    n: int
    n_users: int
    n_posts: int
    rateable: np.ndarray  # post ids that can be rated (common posts and quotes)
    likes: tuple[np.ndarray, np.ndarray]  # (user, post)
    dislikes: tuple[np.ndarray, np.ndarray]
    comment_likes: tuple[np.ndarray, np.ndarray]  # (user, comment)
    comment_dislikes: tuple[np.ndarray, np.ndarray]
    follows: tuple[np.ndarray, np.ndarray]
    mutes: tuple[np.ndarray, np.ndarray]
    n_comments: int
    n_groups: int
    members: tuple[np.ndarray, np.ndarray]  # (group, user)
    load_seconds: float = 0.0
    db_bytes: int = 0


def reddit_stamps(minutes: np.ndarray) -> list[str]:
    """Reddit `created_at` strings ('YYYY-MM-DD HH:MM:SS.ffffff') of simulated minutes."""
    t = np.datetime64(START, "us") + (minutes * 60e6).astype("timedelta64[us]")
    return [x.replace("T", " ") for x in np.datetime_as_string(t, unit="us").tolist()]


def _open_for_load(path: str) -> tuple[sqlite3.Connection, list[str]]:
    """A connection for bulk loading: no journal, no fsync, indexes dropped."""
    Store(path).close()  # the schema, as the platform creates it
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode = OFF")
    c.execute("PRAGMA synchronous = OFF")
    c.execute("PRAGMA cache_size = -1000000")
    # Indexes are dropped for the load and rebuilt from the schema afterwards (sorting once
    # is much faster than inserting 10^6 random keys one by one).
    indexes = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
    for name in indexes:
        c.execute(f'DROP INDEX "{name}"')
    c.execute("BEGIN")
    return c, indexes


def _finish_load(c: sqlite3.Connection, check_fks: bool) -> None:
    c.execute("COMMIT")
    c.executescript(schema_sql())  # recreates the dropped indexes
    if check_fks:
        bad = c.execute("PRAGMA foreign_key_check").fetchall()
        if bad:
            sys.exit(f"bulk load broke {len(bad)} foreign keys, e.g. {bad[:3]}")
    c.execute("PRAGMA journal_mode = WAL")
    c.close()


def load_history(path: str, n: int, seed: int, check_fks: bool = False) -> History:
    """Create the schema and bulk-load `n` rows into each history table (Twitter times)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    c, _ = _open_for_load(path)

    def stamps(minutes: np.ndarray) -> list[int]:
        return minutes.astype(np.int64).tolist()  # Twitter: the integer tick (1 minute)

    n_users = n
    st0 = stamps(np.zeros(1))[0]
    # posts: ~80 % common, 12 % reposts, 8 % quotes of an earlier common post
    kinds = rng.choice(3, size=n, p=[0.80, 0.12, 0.08])
    kinds[0] = 0
    post_ids = np.arange(1, n + 1)
    common_ids = post_ids[kinds == 0]
    n_common_before = np.searchsorted(common_ids, post_ids)  # common ids < post id
    pick = (rng.random(n) * n_common_before).astype(np.int64)
    original = np.where(kinds == 0, 0, common_ids[np.minimum(pick, len(common_ids) - 1)])
    authors = rng.integers(n_users, size=n)
    post_minutes = np.sort(rng.random(n) * HISTORY_MINUTES)
    rateable = post_ids[kinds != 1]

    like_u, like_p = _pairs_on(rng, n, n_users, rateable)
    dis_u, dis_p = _pairs_on(rng, n, n_users, rateable)
    rep_u, rep_p = _pairs_on(rng, n, n_users, post_ids)

    def counts(ids: np.ndarray, size: int) -> np.ndarray:
        return np.bincount(ids, minlength=size + 1)

    num_likes = counts(like_p, n)
    num_dislikes = counts(dis_p, n)
    num_shares = counts(original[kinds != 0], n)
    num_reports = counts(rep_p, n)
    content = texts(rng, vocab, n, 12)
    for i in rng.choice(n, size=min(10, n), replace=False):
        content[i] += " " + MARKER
    for i in np.flatnonzero(kinds == 1):
        content[i] = ""
    quotes = texts(rng, vocab, int((kinds == 2).sum()), 6)
    quote_of = dict(zip(np.flatnonzero(kinds == 2).tolist(), quotes))
    post_stamps = stamps(post_minutes)
    rows = []
    for i in range(n):
        k = kinds[i]
        orig = None if k == 0 else int(original[i])
        text = content[i] if k != 2 else content[orig - 1]
        rows.append(
            (i + 1, int(authors[i]), orig, text, quote_of.get(i), post_stamps[i],
             int(num_likes[i + 1]), int(num_dislikes[i + 1]), int(num_shares[i + 1]),
             int(num_reports[i + 1]))
        )

    # follows and mutes (distinct pairs, no self)
    fol_a, fol_b = unique_pairs(rng, n, np.arange(n_users), n_users, distinct=True)
    mut_a, mut_b = unique_pairs(rng, n, np.arange(n_users), n_users, distinct=True)
    followings = np.bincount(fol_a, minlength=n_users)
    followers = np.bincount(fol_b, minlength=n_users)
    bios = texts(rng, vocab, n_users, 8)
    for i in rng.choice(n_users, size=min(10, n_users), replace=False):
        bios[i] += " " + MARKER
    c.executemany(
        "INSERT INTO user (user_id, agent_id, user_name, name, bio, created_at, "
        "num_followings, num_followers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (u, u, f"user{u}", f"User {u}", bios[u], st0,
             int(followings[u]), int(followers[u]))
            for u in range(n_users)
        ),
    )
    c.executemany(
        "INSERT INTO post (post_id, user_id, original_post_id, content, quote_content, "
        "created_at, num_likes, num_dislikes, num_shares, num_reports) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    del rows

    def minutes_after(base: np.ndarray) -> list[Any]:
        m = base + rng.random(len(base)) * (HISTORY_MINUTES - base)
        return stamps(m)

    def rating_rows(users: np.ndarray, targets: np.ndarray, target_minutes: np.ndarray):
        st = minutes_after(target_minutes)
        return zip(users.tolist(), targets.tolist(), st)

    pm = np.concatenate([[0.0], post_minutes])
    c.executemany(
        'INSERT INTO "like" (user_id, post_id, created_at) VALUES (?, ?, ?)',
        rating_rows(like_u, like_p, pm[like_p]),
    )
    c.executemany(
        'INSERT INTO "dislike" (user_id, post_id, created_at) VALUES (?, ?, ?)',
        rating_rows(dis_u, dis_p, pm[dis_p]),
    )
    c.executemany(
        "INSERT INTO report (user_id, post_id, report_reason, created_at) VALUES (?, ?, ?, ?)",
        ((u, p, "spam", s) for u, p, s in rating_rows(rep_u, rep_p, pm[rep_p])),
    )

    # comments on rateable posts, then comment likes/dislikes
    com_post = np.sort(rng.choice(rateable, size=n))
    com_ids = np.arange(1, n + 1)
    cl_u, cl_c = _pairs_on(rng, n, n_users, com_ids)
    cd_u, cd_c = _pairs_on(rng, n, n_users, com_ids)
    cl_n = np.bincount(cl_c, minlength=n + 1)
    cd_n = np.bincount(cd_c, minlength=n + 1)
    com_text = texts(rng, vocab, n, 8)
    com_st = minutes_after(pm[com_post])
    c.executemany(
        "INSERT INTO comment (comment_id, post_id, user_id, content, created_at, num_likes, "
        "num_dislikes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (i + 1, int(com_post[i]), int(rng_u), com_text[i], com_st[i], int(cl_n[i + 1]),
             int(cd_n[i + 1]))
            for i, rng_u in enumerate(rng.integers(n_users, size=n))
        ),
    )
    cm = np.concatenate([[0.0], pm[com_post]])
    c.executemany(
        "INSERT INTO comment_like (user_id, comment_id, created_at) VALUES (?, ?, ?)",
        rating_rows(cl_u, cl_c, cm[cl_c]),
    )
    c.executemany(
        "INSERT INTO comment_dislike (user_id, comment_id, created_at) VALUES (?, ?, ?)",
        rating_rows(cd_u, cd_c, cm[cd_c]),
    )
    zero = np.zeros(n)
    c.executemany(
        "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?, ?, ?)",
        zip(fol_a.tolist(), fol_b.tolist(), minutes_after(zero)),
    )
    c.executemany(
        "INSERT INTO mute (muter_id, mutee_id, created_at) VALUES (?, ?, ?)",
        zip(mut_a.tolist(), mut_b.tolist(), minutes_after(zero)),
    )

    # chat groups: n/100 groups, n memberships, n messages
    n_groups = max(1, n // 100)
    c.executemany(
        "INSERT INTO chat_group (group_id, name, created_at) VALUES (?, ?, ?)",
        ((g, f"group {g}", st0) for g in range(1, n_groups + 1)),
    )
    mem_u, mem_g = _pairs_on(rng, n, n_users, np.arange(1, n_groups + 1))
    c.executemany(
        "INSERT INTO group_members (group_id, agent_id, joined_at) VALUES (?, ?, ?)",
        zip(mem_g.tolist(), mem_u.tolist(), minutes_after(zero)),
    )
    pick = rng.integers(n, size=n)
    msg_text = texts(rng, vocab, n, 6)
    c.executemany(
        "INSERT INTO group_messages (group_id, sender_id, content, sent_at) VALUES (?, ?, ?, ?)",
        zip(mem_g[pick].tolist(), mem_u[pick].tolist(), msg_text,
            stamps(np.sort(rng.random(n) * HISTORY_MINUTES))),
    )
    c.execute("INSERT INTO product (product_id, product_name, sales) VALUES (1, 'widget', 0)")

    # trace: one row per history row of the main tables would be 10 n; n rows, mixed labels
    labels = np.array(["create_post", "like_post", "follow", "create_comment", "repost",
                       "dislike_post", "like_comment", "report_post", "mute", "do_nothing"])
    lab = rng.choice(labels, size=n)
    tr_min = np.sort(rng.random(n) * HISTORY_MINUTES)
    ids = rng.integers(1, n + 1, size=n)
    c.executemany(
        "INSERT INTO trace (user_id, created_at, action, info, sim_time) VALUES (?, ?, ?, ?, ?)",
        zip(rng.integers(n_users, size=n).tolist(), stamps(tr_min), lab.tolist(),
            (f'{{"post_id": {i}}}' for i in ids.tolist()), tr_min.tolist()),
    )
    _finish_load(c, check_fks)
    return History(
        n=n, n_users=n_users, n_posts=n, rateable=rateable,
        likes=(like_u, like_p), dislikes=(dis_u, dis_p), comment_likes=(cl_u, cl_c),
        comment_dislikes=(cd_u, cd_c), follows=(fol_a, fol_b), mutes=(mut_a, mut_b),
        n_comments=n, n_groups=n_groups, members=(mem_g, mem_u),
        load_seconds=time.perf_counter() - t0, db_bytes=Path(path).stat().st_size,
    )


def _pairs_on(
    rng: np.random.Generator, n: int, n_users: int, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """n distinct (user, target) pairs."""
    t, u = unique_pairs(rng, n, targets, n_users)
    return u, t


def load_reddit_posts(path: str, n: int, seed: int, check_fks: bool = False) -> None:
    """A Reddit database with n users and n posts (for the hot recommender)."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary()
    c, _ = _open_for_load(path)
    c.executemany(
        "INSERT INTO user (user_id, agent_id, user_name, name, bio, created_at, "
        "num_followings, num_followers) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
        ((u, u, f"user{u}", f"User {u}", "bio", START.strftime(TIMESTAMP_FORMAT))
         for u in range(n)),
    )
    minutes = np.sort(rng.random(n) * HISTORY_MINUTES)
    # Counters only feed the hot score here (no rating rows are loaded or removed).
    score = rng.geometric(0.2, size=n) - 1
    c.executemany(
        "INSERT INTO post (post_id, user_id, content, created_at, num_likes, num_dislikes) "
        "VALUES (?, ?, ?, ?, ?, 0)",
        zip(range(1, n + 1), rng.integers(n, size=n).tolist(), texts(rng, vocab, n, 12),
            reddit_stamps(minutes), score.tolist()),
    )
    _finish_load(c, check_fks)


# --------------------------------------------------------------------------------------
# Timed actions
# --------------------------------------------------------------------------------------
Call = tuple[int, dict[str, Any]]  # (agent id, arguments)


class Targets:
    """Draws the arguments of each timed action from the loaded history."""

    def __init__(self, h: History, rng: np.random.Generator, budget: int) -> None:
        self.h, self.rng = h, rng
        self.next_user = h.n_users  # fresh ids for sign_up
        self.vocab = vocabulary()
        # Rows that undo actions remove: history rows first (shuffled, without replacement),
        # then rows that the matching actions of this run created (see `feed`). A tenth of
        # the history rows is kept out of the pools: duplicates are drawn from it.
        self._pools: dict[str, deque[tuple[int, int]]] = {}
        self._kept: dict[str, list[tuple[int, int]]] = {}
        for name, (a, b) in {
            "likes": h.likes, "dislikes": h.dislikes, "comment_likes": h.comment_likes,
            "comment_dislikes": h.comment_dislikes, "follows": h.follows, "mutes": h.mutes,
            "members": h.members,
        }.items():
            perm = rng.permutation(len(a))
            keep, take = perm[: len(a) // 10], perm[len(a) // 10 :][: 2 * budget]
            self._kept[name] = list(zip(a[keep].tolist(), b[keep].tolist()))
            self._pools[name] = deque(zip(a[take].tolist(), b[take].tolist()))

    def kept(self, pool: str) -> tuple[int, int]:
        """A history row that no timed action removes."""
        rows = self._kept[pool]
        return rows[int(self.rng.integers(len(rows)))]

    def pop(self, pool: str) -> tuple[int, int]:
        return self._pools[pool].pop()

    def feed(self, label: str, calls: list[Call], results: list[dict[str, Any]]) -> None:
        """Keep the rows that successful calls created, for later undo actions."""
        pool, key = {
            "like_post": ("likes", "post_id"), "dislike_post": ("dislikes", "post_id"),
            "like_comment": ("comment_likes", "comment_id"),
            "dislike_comment": ("comment_dislikes", "comment_id"),
            "follow": ("follows", "followee_id"), "mute": ("mutes", "mutee_id"),
            "join_group": ("members", "group_id"), "create_group": ("members", "group_id"),
        }.get(label, (None, None))
        if pool is None:
            return
        for (uid, args), res in zip(calls, results):
            if res["success"]:
                b = args.get(key, res.get(key))
                self._pools[pool].appendleft((b, uid) if pool == "members" else (uid, b))

    def user(self) -> int:
        return int(self.rng.integers(self.h.n_users))

    def post(self) -> int:
        return int(self.rng.integers(1, self.h.n_posts + 1))

    def rateable(self) -> int:
        return int(self.rng.choice(self.h.rateable))

    def comment(self) -> int:
        return int(self.rng.integers(1, self.h.n_comments + 1))

    def text(self, words: int) -> str:
        return " ".join(self.rng.choice(self.vocab, size=words).tolist())

    def calls(self, name: str, k: int) -> list[Call]:
        return [self.one(name) for _ in range(k)]

    def one(self, name: str) -> Call:
        u = self.user
        if name == "sign_up":
            self.next_user += 1
            i = self.next_user
            return i, {"user_name": f"new{i}", "name": f"New {i}", "bio": self.text(8)}
        if name == "create_post":
            return u(), {"content": self.text(12)}
        if name in ("repost", "like_post", "dislike_post"):
            return u(), {"post_id": self.post()}
        if name == "quote_post":
            return u(), {"post_id": self.post(), "quote_content": self.text(6)}
        if name == "create_comment":
            return u(), {"post_id": self.post(), "content": self.text(8)}
        if name in ("like_comment", "dislike_comment"):
            return u(), {"comment_id": self.comment()}
        if name == "unlike_post":
            a, b = self.pop("likes")
            return a, {"post_id": b}
        if name == "undo_dislike_post":
            a, b = self.pop("dislikes")
            return a, {"post_id": b}
        if name == "unlike_comment":
            a, b = self.pop("comment_likes")
            return a, {"comment_id": b}
        if name == "undo_dislike_comment":
            a, b = self.pop("comment_dislikes")
            return a, {"comment_id": b}
        if name == "follow":
            a, b = u(), u()
            return a, {"followee_id": b if b != a else (b + 1) % self.h.n_users}
        if name == "unfollow":
            a, b = self.pop("follows")
            return a, {"followee_id": b}
        if name == "mute":
            a, b = u(), u()
            return a, {"mutee_id": b if b != a else (b + 1) % self.h.n_users}
        if name == "unmute":
            a, b = self.pop("mutes")
            return a, {"mutee_id": b}
        if name == "report_post":
            return u(), {"post_id": self.post(), "report_reason": "misleading"}
        if name == "purchase_product":
            return u(), {"product_name": "widget", "purchase_num": 1}
        if name == "create_group":
            return u(), {"group_name": self.text(2)}
        if name == "join_group":
            return u(), {"group_id": int(self.rng.integers(1, self.h.n_groups + 1))}
        if name == "send_to_group":
            g, a = self.kept("members")  # sending keeps the membership
            return a, {"group_id": g, "message": self.text(6)}
        if name == "leave_group":
            g, a = self.pop("members")
            return a, {"group_id": g}
        if name == "interview":
            return u(), {"prompt": "What do you think?", "response": self.text(10)}
        if name == "like_post (duplicate, fails)":
            a, b = self.kept("likes")
            return a, {"post_id": b}
        if name == "follow (duplicate, fails)":
            a, b = self.kept("follows")
            return a, {"followee_id": b}
        if name in ("do_nothing", "refresh", "trend", "listen_from_group"):
            return u(), {}
        if name == "search_posts":
            return u(), {"query": MARKER}
        if name == "search_user":
            return u(), {"query": MARKER}
        raise ValueError(name)


# (row label, action, group). Groups: write, lookup (indexed reads), scan (inherent scans).
WRITES = [
    "sign_up", "create_post", "repost", "quote_post", "like_post", "unlike_post",
    "dislike_post", "undo_dislike_post", "create_comment", "like_comment", "unlike_comment",
    "dislike_comment", "undo_dislike_comment", "follow", "unfollow", "mute", "unmute",
    "report_post", "purchase_product", "create_group", "join_group", "send_to_group",
    "leave_group", "interview", "do_nothing", "like_post (duplicate, fails)",
    "follow (duplicate, fails)",
]
LOOKUPS = ["refresh", "trend"]
SCANS = ["search_posts", "search_user", "listen_from_group", "trend (window = whole history)",
         "refresh (reddit hot, re-rank)", "refresh (reddit hot, cached rank)"]


def action_of(label: str) -> ActionType:
    return ActionType(label.split(" ")[0])


def timed_batches(
    p: Platform, kind: ActionType, calls: list[Call], batch: int
) -> tuple[float, float, list[dict[str, Any]]]:
    """Wall and CPU seconds for all calls (one transaction per `batch` calls), and results."""
    out: list[dict[str, Any]] = []
    append = out.append
    execute = p.execute
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(calls), batch):
        p.now = p.now + 1.0
        with p.batch():
            for uid, args in calls[i : i + batch]:
                append(execute(uid, kind, **args))
    return time.perf_counter() - start, time.process_time() - cpu, out


def raw_batches(raw: Raw, kind: ActionType, calls: list[Call], batch: int, now: float):
    """Wall and CPU seconds for the same calls as raw SQL (platform_throughput's baseline)."""
    acts = [Action(uid, kind, args, kind.value, True) for uid, args in calls]
    batches = [acts[i : i + batch] for i in range(0, len(acts), batch)]
    start, cpu = time.perf_counter(), time.process_time()
    raw.run(batches, int(now), "batch")
    return time.perf_counter() - start, time.process_time() - cpu


def successes(results: list[dict[str, Any]]) -> int:
    return sum(1 for r in results if r["success"])


@dataclass
class Size:
    n: int
    path: str
    history: History
    platform: Platform
    targets: Targets
    reddit: Platform | None
    raw: Raw | None
    open_seconds: float


class Results:
    """{label: {n: {"wall": [µs/op per repeat], "cpu": [...], "raw_wall", "raw_cpu", ok, calls}}}"""

    def __init__(self) -> None:
        self.data: dict[str, dict[int, dict[str, Any]]] = {}

    def cell(self, label: str, n: int) -> dict[str, Any]:
        return self.data.setdefault(label, {}).setdefault(
            n, {"wall": [], "cpu": [], "raw_wall": [], "raw_cpu": [], "ok": 0, "calls": 0}
        )

    def add(self, label: str, n: int, wall: float, cpu: float, ok: int, calls: int) -> None:
        c = self.cell(label, n)
        c["wall"].append(1e6 * wall / calls)
        c["cpu"].append(1e6 * cpu / calls)
        c["ok"] += ok
        c["calls"] += calls

    def add_raw(self, label: str, n: int, wall: float, cpu: float, calls: int) -> None:
        c = self.cell(label, n)
        c["raw_wall"].append(1e6 * wall / calls)
        c["raw_cpu"].append(1e6 * cpu / calls)

    def med(self, label: str, n: int, key: str) -> float:
        return median(self.data[label][n][key])


def measure(sizes: list[Size], opts: argparse.Namespace) -> Results:
    res = Results()
    for rep in range(opts.repeats):
        for s in sizes:
            p, t = s.platform, s.targets
            p.now = NOW + rep * 1000.0
            for label in WRITES + LOOKUPS:
                kind = action_of(label)
                calls = t.calls(label, opts.ops)
                now = p.now
                wall, cpu, out = timed_batches(p, kind, calls, opts.batch_size)
                t.feed(label, calls, out)
                res.add(label, s.n, wall, cpu, successes(out), len(calls))
                if s.raw is not None and kind in RAW:
                    wall, cpu = raw_batches(s.raw, kind, calls, opts.batch_size, now)
                    res.add_raw(label, s.n, wall, cpu, len(calls))
        if rep < opts.scan_repeats:
            for s in sizes:
                scans(s, rep, res, opts)
        print(f"  repeat {rep + 1}/{opts.repeats} done", flush=True)
    return res


def scans(s: Size, rep: int, res: Results, opts: argparse.Namespace) -> None:
    p, t, k = s.platform, s.targets, opts.scan_ops
    for label in ("search_posts", "search_user", "listen_from_group"):
        calls = t.calls(label, k)
        wall, cpu, out = timed_batches(p, action_of(label), calls, opts.batch_size)
        res.add(label, s.n, wall, cpu, successes(out), k)
    # trend whose 7-day window holds the whole history (now = end of the history)
    saved = p.now
    p.now = float(HISTORY_MINUTES)
    calls = t.calls("trend", k)
    wall, cpu, out = timed_batches(p, A.TREND, calls, opts.batch_size)
    res.add("trend (window = whole history)", s.n, wall, cpu, successes(out), k)
    p.now = saved
    if s.reddit is None or rep >= opts.hot_repeats:
        return
    r = s.reddit
    r.now = float(HISTORY_MINUTES) + rep
    for i in range(opts.hot_ops):
        with r.batch():
            # a like changes the content, so the next refresh must re-rank every post
            r.execute(t.user(), A.LIKE_POST, post_id=1 + (rep * opts.hot_ops + i) % s.n)
        for label in ("refresh (reddit hot, re-rank)", "refresh (reddit hot, cached rank)"):
            w0, c0 = time.perf_counter(), time.process_time()
            with r.batch():
                ok = r.execute(t.user(), A.REFRESH)["success"]
            res.add(label, s.n, time.perf_counter() - w0, time.process_time() - c0, ok, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 1_000_000],
                    help="history rows per table (first = baseline, last = compared)")
    ap.add_argument("--ops", type=int, default=1000,
                    help="timed calls per action and repeat (several WAL checkpoints at 10^6)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scan-ops", type=int, default=3, help="timed calls per scanning read")
    ap.add_argument("--scan-repeats", type=int, default=3, help="repeats with scanning reads")
    ap.add_argument("--hot-ops", type=int, default=1,
                    help="Reddit hot refreshes per repeat (a re-rank of 10^6 posts takes ~10 s)")
    ap.add_argument("--hot-repeats", type=int, default=2,
                    help="repeats that include the Reddit hot refreshes")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--no-reddit", action="store_true", help="skip the Reddit hot-refresh rows")
    ap.add_argument("--no-raw", action="store_true", help="skip the raw-SQL baseline columns")
    ap.add_argument("--check-fks", action="store_true",
                    help="run PRAGMA foreign_key_check on the loaded history")
    ap.add_argument("--pragma", action="append", default=[], metavar="NAME=VALUE",
                    help="extra PRAGMA on every connection timed, for experiments "
                    "(e.g. --pragma synchronous=OFF --pragma wal_autocheckpoint=10000)")
    ap.add_argument("--db-dir", default=None, help="where the databases go (default: system tmp)")
    ap.add_argument("--quick", action="store_true", help="10^3 vs 10^5 rows, fewer calls")
    ap.add_argument("--output", default="platform_history", help="name of the results JSON")
    opts = ap.parse_args()
    if opts.quick:
        opts.sizes, opts.repeats, opts.ops = [1_000, 100_000], 3, 300

    info = machine_info()
    print_machine(info)
    budget = opts.repeats * opts.ops + opts.ops
    sizes: list[Size] = []
    with tempfile.TemporaryDirectory(prefix="oasis_hist_", dir=opts.db_dir) as tmp:
        for n in opts.sizes:
            path = str(Path(tmp) / f"history_{n}.db")
            h = load_history(path, n, opts.seed, opts.check_fks)
            raw = None
            if not opts.no_raw:
                raw_path = str(Path(tmp) / f"raw_{n}.db")
                shutil.copyfile(path, raw_path)
                raw = Raw(raw_path, "twitter")
            t0 = time.perf_counter()
            p = Platform(db_path=path, kind="twitter", seed=0)
            opened = time.perf_counter() - t0
            reddit = None
            if not opts.no_reddit:
                rpath = str(Path(tmp) / f"reddit_{n}.db")
                load_reddit_posts(rpath, n, opts.seed + 1, opts.check_fks)
                reddit = Platform(db_path=rpath, kind="reddit", seed=0)
            for q in opts.pragma:
                for conn in (p.connection, reddit and reddit.connection, raw and raw.c):
                    if conn is not None:
                        conn.execute(f"PRAGMA {q}")
            print(
                f"history {n:>9,} rows/table: loaded in {h.load_seconds:.1f} s "
                f"({h.db_bytes / 2**20:,.0f} MiB), Platform() opened in {opened:.2f} s",
                flush=True,
            )
            targets = Targets(h, np.random.default_rng(opts.seed + n), budget)
            sizes.append(Size(n, path, h, p, targets, reddit, raw, opened))
        contention = Contention()
        res = measure(sizes, opts)
        stalled = contention.stalled()
        for s in sizes:
            s.platform.close()
            if s.reddit is not None:
                s.reddit.close()
            if s.raw is not None:
                s.raw.c.close()

    base, big = opts.sizes[0], opts.sizes[-1]

    def summary(label: str) -> dict[str, Any]:
        d = res.data[label]
        out: dict[str, Any] = {}
        for key in ("wall", "cpu", "raw_wall", "raw_cpu"):
            for n in (base, big):
                out[f"{key}_us_{n}"] = res.med(label, n, key)
            out[f"{key}_slowdown"] = out[f"{key}_us_{big}"] / out[f"{key}_us_{base}"]
        out["success_share"] = sum(c["ok"] for c in d.values()) / sum(
            c["calls"] for c in d.values()
        )
        out["repeats"] = {str(n): {k: d[n][k] for k in ("wall", "cpu", "raw_wall", "raw_cpu")}
                          for n in (base, big)}
        return out

    summaries = {label: summary(label) for label in res.data}

    def rows_for(labels: list[str], with_raw: bool) -> list[list[Any]]:
        rows = []
        for label in labels:
            if label not in summaries:
                continue
            m = summaries[label]
            row = [label, m[f"wall_us_{base}"], m[f"wall_us_{big}"], m["wall_slowdown"],
                   m["cpu_slowdown"]]
            if with_raw:
                row += [m[f"raw_wall_us_{base}"], m[f"raw_wall_us_{big}"], m["raw_wall_slowdown"]]
            rows.append(row + [f"{m['success_share']:.0%}"])
        return rows

    def hdr(with_raw: bool) -> list[str]:
        h = ["action", f"µs/op @{base:,}", f"µs/op @{big:,}", "slowdown", "(CPU)"]
        if with_raw:
            h += [f"raw @{base:,}", f"raw @{big:,}", "raw slowdown"]
        return h + ["ok"]

    with_raw = not opts.no_raw
    write_rows = rows_for(WRITES, with_raw)
    look_rows = rows_for(LOOKUPS, False)
    scan_rows = rows_for(SCANS, False)
    print(f"\nWrites: µs per action, batches of {opts.batch_size} with commit (WAL checkpoints "
          f"included), median of {opts.repeats} repeats x {opts.ops} calls, targets uniform "
          "over the history. slowdown = wall-clock ratio, (CPU) = ratio of this process's "
          "CPU time; raw = the same statements without the platform (platform_throughput.py).")
    print(table(hdr(with_raw), write_rows))
    print("\nIndexed lookups (refresh: Twitter random recommender + followees' posts; "
          "trend: 7-day window holding only recent posts):")
    print(table(hdr(False), look_rows))
    if scan_rows:
        print(f"\nScanning reads, expected to grow with the history ({opts.scan_ops} calls x "
              f"{min(opts.scan_repeats, opts.repeats)} repeats; Reddit hot refresh: "
              f"{opts.hot_ops} x {min(opts.hot_repeats, opts.scan_repeats, opts.repeats)}):")
        print(table(hdr(False), scan_rows))
    indexed = write_rows + look_rows
    worst = max(indexed, key=lambda r: r[3])
    over = [r[0] for r in indexed if r[3] > TARGET_SLOWDOWN]
    verdict = "meets" if not over else f"misses ({len(over)} of {len(indexed)} over)"
    print(
        f"\nTarget: at most {TARGET_SLOWDOWN:.0f}x slowdown from {base:,} to {big:,} rows "
        f"(writes and indexed lookups). Worst: {worst[0]} {worst[3]:.2f}x -> {verdict}."
    )
    if with_raw:
        raw_rows = [summaries[lbl] for lbl in WRITES if lbl in summaries
                    and res.data[lbl][base]["raw_wall"]]
        if raw_rows:
            print(
                "Raw SQL of the same actions slows down "
                f"{median([m['raw_wall_slowdown'] for m in raw_rows]):.2f}x (median over "
                f"actions) vs the platform's {median([m['wall_slowdown'] for m in raw_rows]):.2f}x."
            )
    if stalled is not None:
        print(f"CPU contention during the timing (PSI cpu 'some'): {stalled:.0%} of wall time.")
    for s in sizes:
        print(f"Platform() on {s.n:,} rows/table opens in {s.open_seconds:.2f} s "
              f"(bulk load {s.history.load_seconds:.1f} s, {s.history.db_bytes / 2**20:,.0f} MiB).")

    groups = (("writes", WRITES), ("lookups", LOOKUPS), ("scans", SCANS))
    payload = {
        "benchmark": "platform_history",
        "machine": info,
        "config": dict(vars(opts)),
        "target_max_slowdown": TARGET_SLOWDOWN,
        "cpu_contention_share": stalled,
        "sizes": {
            str(s.n): {"load_seconds": s.history.load_seconds, "db_bytes": s.history.db_bytes,
                       "platform_open_seconds": s.open_seconds}
            for s in sizes
        },
        "results": {g: {lbl: summaries[lbl] for lbl in labels if lbl in summaries}
                    for g, labels in groups},
        "worst_indexed": {"action": worst[0], "slowdown": worst[3]},
        "over_target": over,
        "meets_target": not over,
    }
    path = write_results(opts.output, payload)
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
