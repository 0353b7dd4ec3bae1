"""Mixed-action throughput of `Platform.execute`, against the raw SQL of the same actions.

A deterministic stream of mixed actions (posts, likes, dislikes, reposts, quotes, comments,
comment likes, follows, unfollows, mutes, reports, do_nothing, unlikes, and ~6 % failing
attempts: duplicates, self-follows, missing posts, ill-typed arguments) is executed by
1,000 signed-up users on a file database (WAL, synchronous=NORMAL, in a temporary
directory), with validation and trace rows:

* platform, batch:       `with p.batch():` around every 100 actions (as the engine commits)
* platform, per action:  every action commits on its own
* raw, batch:            the same INSERT/UPDATE/SELECT/DELETE statements, issued directly on a
                         sqlite3 connection with the same schema, same batching, no savepoints
* raw + savepoints:      as raw, plus the SAVEPOINT/RELEASE per action the platform uses for
                         atomicity inside a batch (to attribute that cost)
* raw, per action:       the raw statements, BEGIN/COMMIT per action

The raw baseline writes exactly the same rows (checked: a digest of every table of the
platform's database equals the raw database's). Throughput = timed actions / wall time.

    python benchmarks/platform_throughput.py            # default: 1,000 users, 50,000 actions x 3
    python benchmarks/platform_throughput.py --quick    # smaller
    python benchmarks/platform_throughput.py --profile  # also cProfile one platform batch run
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import pstats
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np

from _common import Contention, machine_info, median, print_machine, table, write_results
from oasis_des import ActionType, Platform
from oasis_des.platform.store import schema_sql

A = ActionType
TARGET = 20_000.0  # mixed actions/s on the 2-core reference machine
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
START = datetime(2024, 1, 1)

# (label, probability). Labels are actions, or failing attempts (prefix "fail:").
MIX: list[tuple[str, float]] = [
    ("create_post", 0.14),
    ("like_post", 0.20),
    ("dislike_post", 0.05),
    ("unlike_post", 0.03),
    ("repost", 0.07),
    ("quote_post", 0.04),
    ("create_comment", 0.10),
    ("like_comment", 0.07),
    ("follow", 0.09),
    ("unfollow", 0.02),
    ("mute", 0.02),
    ("report_post", 0.02),
    ("do_nothing", 0.09),
    ("fail:duplicate_like", 0.015),
    ("fail:duplicate_follow", 0.01),
    ("fail:self_follow", 0.005),
    ("fail:missing_post", 0.01),
    ("fail:unlike_absent", 0.01),
    ("fail:bad_argument", 0.005),
]

WORDS = (
    "news vote climate market vaccine election policy game music science city rain "
    "football movie book travel coffee health study tech phone school art photo story "
    "truth fake report breaking update people world today love hate think agree never"
).split()


# --------------------------------------------------------------------------------------
# The workload: a deterministic action stream, generated against a model of the state so
# that duplicates, unlikes and unfollows hit real rows.
# --------------------------------------------------------------------------------------
class PairSet:
    """A set of pairs with O(1) add, remove and uniform random choice."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int]] = []
        self._pos: dict[tuple[int, int], int] = {}

    def __contains__(self, item: tuple[int, int]) -> bool:
        return item in self._pos

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: tuple[int, int]) -> None:
        if item not in self._pos:
            self._pos[item] = len(self._items)
            self._items.append(item)

    def remove(self, item: tuple[int, int]) -> None:
        i = self._pos.pop(item)
        last = self._items.pop()
        if i < len(self._items):
            self._items[i] = last
            self._pos[last] = i

    def choice(self, rng: np.random.Generator) -> tuple[int, int]:
        return self._items[int(rng.integers(len(self._items)))]


@dataclass(frozen=True, slots=True)
class Action:
    uid: int
    kind: ActionType
    args: dict[str, Any]
    label: str
    expect_success: bool
    arg_error: str | None = None  # the validation error text, for ill-typed arguments


class Workload:
    """Generates actions and tracks what the database will contain after them."""

    def __init__(self, n_users: int, rng: np.random.Generator, recent: int = 500) -> None:
        self.n_users = n_users
        self.rng = rng
        self.recent = recent
        self.root: list[int] = [0]  # root[pid] (index 0 unused); a repost's root is its original
        self.common: list[bool] = [False]
        self.n_comments = 0
        self.likes, self.dislikes, self.comment_likes = PairSet(), PairSet(), PairSet()
        self.follows, self.mutes = PairSet(), PairSet()
        self.reports: set[tuple[int, int]] = set()
        self.reposts: set[tuple[int, int]] = set()
        labels, probs = zip(*MIX)
        self.labels = list(labels)
        self.probs = np.array(probs) / sum(probs)

    @property
    def n_posts(self) -> int:
        return len(self.root) - 1

    def user(self) -> int:
        return int(self.rng.integers(self.n_users))

    def _pick(self, n: int) -> int:
        """An id in 1..n, mostly among the most recent (what feeds show)."""
        if n > self.recent and self.rng.random() < 0.7:
            return int(self.rng.integers(n - self.recent + 1, n + 1))
        return int(self.rng.integers(1, n + 1))

    def text(self, lo: int, hi: int) -> str:
        words = self.rng.choice(WORDS, size=int(self.rng.integers(lo, hi)))
        return " ".join(words.tolist())

    def stream(self, n: int) -> list[Action]:
        choices = self.rng.choice(len(self.labels), size=n, p=self.probs)
        return [self.make(self.labels[c]) for c in choices]

    def create_posts(self, n: int) -> list[Action]:
        return [self.make("create_post") for _ in range(n)]

    # Each branch mirrors the platform's rules (PLATFORM_SPEC) to predict the outcome.
    def make(self, label: str) -> Action:
        u = self.user()
        if self.n_posts == 0:
            label = "create_post"
        if label == "create_post":
            content = self.text(6, 30)
            self.root.append(self.n_posts + 1)
            self.common.append(True)
            return Action(u, A.CREATE_POST, {"content": content}, label, True)
        if label in ("like_post", "dislike_post"):
            pid = self._pick(self.n_posts)
            pairs = self.likes if label == "like_post" else self.dislikes
            key = (u, self.root[pid])
            ok = key not in pairs
            if ok:
                pairs.add(key)
            kind = A.LIKE_POST if label == "like_post" else A.DISLIKE_POST
            return Action(u, kind, {"post_id": pid}, label, ok)
        if label == "unlike_post":
            if not self.likes:
                return self.make("like_post")
            u, root = self.likes.choice(self.rng)
            self.likes.remove((u, root))
            return Action(u, A.UNLIKE_POST, {"post_id": root}, label, True)
        if label == "repost":
            pid = self._pick(self.n_posts)
            key = (u, self.root[pid])
            ok = key not in self.reposts
            if ok:
                self.reposts.add(key)
                self.root.append(self.root[pid])
                self.common.append(False)
            return Action(u, A.REPOST, {"post_id": pid}, label, ok)
        if label == "quote_post":
            pid = self._pick(self.n_posts)
            self.root.append(self.n_posts + 1)  # a quote is rated itself
            self.common.append(False)
            return Action(
                u, A.QUOTE_POST, {"post_id": pid, "quote_content": self.text(3, 15)}, label, True
            )
        if label == "create_comment":
            pid = self._pick(self.n_posts)
            self.n_comments += 1
            return Action(
                u, A.CREATE_COMMENT, {"post_id": pid, "content": self.text(3, 20)}, label, True
            )
        if label == "like_comment":
            if self.n_comments == 0:
                return self.make("create_comment")
            cid = self._pick(self.n_comments)
            ok = (u, cid) not in self.comment_likes
            if ok:
                self.comment_likes.add((u, cid))
            return Action(u, A.LIKE_COMMENT, {"comment_id": cid}, label, ok)
        if label in ("follow", "mute"):
            v = self.user()
            pairs = self.follows if label == "follow" else self.mutes
            ok = v != u and (u, v) not in pairs
            if ok:
                pairs.add((u, v))
            if label == "follow":
                return Action(u, A.FOLLOW, {"followee_id": v}, label, ok)
            return Action(u, A.MUTE, {"mutee_id": v}, label, ok)
        if label == "unfollow":
            if not self.follows:
                return self.make("follow")
            u, v = self.follows.choice(self.rng)
            self.follows.remove((u, v))
            return Action(u, A.UNFOLLOW, {"followee_id": v}, label, True)
        if label == "report_post":
            pid = self._pick(self.n_posts)
            ok = (u, pid) not in self.reports
            if ok:
                self.reports.add((u, pid))
            return Action(
                u, A.REPORT_POST, {"post_id": pid, "report_reason": "misinformation"}, label, ok
            )
        if label == "do_nothing":
            return Action(u, A.DO_NOTHING, {}, label, True)
        # failing attempts
        if label == "fail:duplicate_like":
            if not self.likes:
                return self.make("like_post")
            u, root = self.likes.choice(self.rng)
            return Action(u, A.LIKE_POST, {"post_id": root}, label, False)
        if label == "fail:duplicate_follow":
            if not self.follows:
                return self.make("follow")
            u, v = self.follows.choice(self.rng)
            return Action(u, A.FOLLOW, {"followee_id": v}, label, False)
        if label == "fail:self_follow":
            return Action(u, A.FOLLOW, {"followee_id": u}, label, False)
        if label == "fail:missing_post":
            return Action(u, A.LIKE_POST, {"post_id": self.n_posts + 1_000_000}, label, False)
        if label == "fail:unlike_absent":
            pid = self._pick(self.n_posts)
            key = (u, self.root[pid])
            ok = key in self.likes
            if ok:
                self.likes.remove(key)
            return Action(u, A.UNLIKE_POST, {"post_id": pid}, label, ok)
        if label == "fail:bad_argument":
            bad = "post #" + str(self._pick(self.n_posts))
            err = f"Argument 'post_id' of like_post must be an integer, got {bad!r}."
            return Action(u, A.LIKE_POST, {"post_id": bad}, label, False, arg_error=err)
        raise ValueError(label)


# --------------------------------------------------------------------------------------
# Raw baseline: the statements the platform's handlers issue, without the platform.
# --------------------------------------------------------------------------------------
SQL_POST = "SELECT user_id, original_post_id, quote_content FROM post WHERE post_id = ?"
SQL_AUTHOR = "SELECT user_id FROM post WHERE post_id = ?"
SQL_TRACE = "INSERT INTO trace (user_id, created_at, action, info, sim_time) VALUES (?, ?, ?, ?, ?)"
SQL_FAIL = (
    "INSERT INTO failed_action (user_id, created_at, sim_time, action, args, error) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _root(c: sqlite3.Connection, pid: int) -> int | None:
    row = c.execute(SQL_POST, (pid,)).fetchone()
    if row is None:
        return None
    if row[1] is not None and row[2] is None:
        c.execute(SQL_AUTHOR, (row[1],)).fetchone()
        return row[1]
    return pid


def raw_create_post(r, u, a, st):


    c = r.c
    pid = c.execute(
        "INSERT INTO post (user_id, content, created_at) VALUES (?, ?, ?)", (u, a["content"], st)
    ).lastrowid
    return {"content": a["content"], "post_id": pid}


def _raw_rate(table, target, counter, exists_error):
    dup_sql = f'SELECT 1 FROM "{table}" WHERE {target}_id = ? AND user_id = ?'
    ins_sql = f'INSERT INTO "{table}" (user_id, {target}_id, created_at) VALUES (?, ?, ?)'
    upd_sql = f"UPDATE {target} SET {counter} = {counter} + 1 WHERE {target}_id = ?"
    tkey, ikey = f"{target}_id", f"{table}_id"

    def rate(r, u, a, st):

        c = r.c
        if target == "post":
            t = _root(c, a["post_id"])
            if t is None:
                return "Post not found."
        else:
            t = a["comment_id"]
            row = c.execute("SELECT user_id FROM comment WHERE comment_id = ?", (t,)).fetchone()
            if row is None:
                return "Comment not found."
        if c.execute(dup_sql, (t, u)).fetchone() is not None:
            return exists_error
        rid = c.execute(ins_sql, (u, t, st)).lastrowid
        c.execute(upd_sql, (t,))
        return {tkey: t, ikey: rid}

    return rate


def _raw_unrate(table, counter, missing_error):
    sel = f'SELECT {table}_id FROM "{table}" WHERE post_id = ? AND user_id = ?'
    dele = f'DELETE FROM "{table}" WHERE {table}_id = ?'
    upd = f"UPDATE post SET {counter} = {counter} - 1 WHERE post_id = ?"
    ikey = f"{table}_id"

    def unrate(r, u, a, st):

        c = r.c
        t = _root(c, a["post_id"])
        if t is None:
            return "Post not found."
        row = c.execute(sel, (t, u)).fetchone()
        if row is None:
            return missing_error
        c.execute(dele, (row[0],))
        c.execute(upd, (t,))
        return {"post_id": t, ikey: row[0]}

    return unrate


def raw_repost(r, u, a, st):


    c = r.c
    pid = a["post_id"]
    root = _root(c, pid)
    if root is None:
        return "Post not found."
    if c.execute(
        "SELECT 1 FROM post WHERE original_post_id = ? AND user_id = ? AND quote_content IS NULL",
        (root, u),
    ).fetchone():
        return "Repost record already exists."
    new = c.execute(
        "INSERT INTO post (user_id, original_post_id, content, created_at) VALUES (?, ?, '', ?)",
        (u, root, st),
    ).lastrowid
    c.execute("UPDATE post SET num_shares = num_shares + 1 WHERE post_id = ?", (root,))
    return {"reposted_id": pid, "new_post_id": new}


def raw_quote_post(r, u, a, st):


    c = r.c
    pid = a["post_id"]
    row = c.execute(SQL_POST, (pid,)).fetchone()
    if row is None:
        return "Post not found."
    target = pid if row[1] is None else row[1]
    content = c.execute("SELECT content FROM post WHERE post_id = ?", (target,)).fetchone()[0]
    new = c.execute(
        "INSERT INTO post (user_id, original_post_id, content, quote_content, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (u, target, content, a["quote_content"], st),
    ).lastrowid
    c.execute("UPDATE post SET num_shares = num_shares + 1 WHERE post_id = ?", (target,))
    return {"quoted_id": pid, "new_post_id": new}


def raw_create_comment(r, u, a, st):


    c = r.c
    root = _root(c, a["post_id"])
    if root is None:
        return "Post not found."
    cid = c.execute(
        "INSERT INTO comment (post_id, user_id, content, created_at) VALUES (?, ?, ?, ?)",
        (root, u, a["content"], st),
    ).lastrowid
    return {"content": a["content"], "comment_id": cid}


def _raw_relation(table, a_col, b_col, arg, verb, exists_error, counts):
    dup = f"SELECT 1 FROM {table} WHERE {a_col} = ? AND {b_col} = ?"
    ins = f"INSERT INTO {table} ({a_col}, {b_col}, created_at) VALUES (?, ?, ?)"

    def act(r, u, a, st):

        c = r.c
        v = a[arg]
        if v == u:
            return f"Users cannot {verb} themselves."
        if v not in r.users:
            return "User not found."
        if c.execute(dup, (u, v)).fetchone() is not None:
            return exists_error
        rid = c.execute(ins, (u, v, st)).lastrowid
        if counts:
            c.execute(
                "UPDATE user SET num_followings = num_followings + ? WHERE user_id = ?", (1, u)
            )
            c.execute("UPDATE user SET num_followers = num_followers + ? WHERE user_id = ?", (1, v))
            return {"follow_id": rid}
        return {"mutee_id": v}

    return act


def raw_unfollow(r, u, a, st):


    c = r.c
    v = a["followee_id"]
    row = c.execute(
        "SELECT follow_id FROM follow WHERE follower_id = ? AND followee_id = ?", (u, v)
    ).fetchone()
    if row is None:
        return "Follow record does not exist."
    c.execute("DELETE FROM follow WHERE follow_id = ?", (row[0],))
    c.execute("UPDATE user SET num_followings = num_followings + ? WHERE user_id = ?", (-1, u))
    c.execute("UPDATE user SET num_followers = num_followers + ? WHERE user_id = ?", (-1, v))
    return {"followee_id": v}


def raw_report_post(r, u, a, st):


    c = r.c
    pid = a["post_id"]
    if c.execute("SELECT 1 FROM report WHERE post_id = ? AND user_id = ?", (pid, u)).fetchone():
        return "Report record already exists."
    if c.execute(SQL_POST, (pid,)).fetchone() is None:
        return "Post not found."
    rid = c.execute(
        "INSERT INTO report (user_id, post_id, report_reason, created_at) VALUES (?, ?, ?, ?)",
        (u, pid, a["report_reason"], st),
    ).lastrowid
    c.execute("UPDATE post SET num_reports = num_reports + 1 WHERE post_id = ?", (pid,))
    return {"post_id": pid, "report_id": rid}


def raw_do_nothing(r, u, a, st):
    return {}


RAW: dict[ActionType, Callable[..., Any]] = {
    A.CREATE_POST: raw_create_post,
    A.LIKE_POST: _raw_rate("like", "post", "num_likes", "Like record already exists."),
    A.DISLIKE_POST: _raw_rate("dislike", "post", "num_dislikes", "Dislike record already exists."),
    A.UNLIKE_POST: _raw_unrate("like", "num_likes", "Like record does not exist."),
    A.REPOST: raw_repost,
    A.QUOTE_POST: raw_quote_post,
    A.CREATE_COMMENT: raw_create_comment,
    A.LIKE_COMMENT: _raw_rate(
        "comment_like", "comment", "num_likes", "Comment like record already exists."
    ),
    A.FOLLOW: _raw_relation(
        "follow", "follower_id", "followee_id", "followee_id", "follow",
        "Follow record already exists.", True,
    ),
    A.UNFOLLOW: raw_unfollow,
    A.MUTE: _raw_relation(
        "mute", "muter_id", "mutee_id", "mutee_id", "mute", "Mute record already exists.", False
    ),
    A.REPORT_POST: raw_report_post,
    A.DO_NOTHING: raw_do_nothing,
}


class Raw:
    """Executes actions with the platform's statements on a bare sqlite3 connection."""

    def __init__(self, path: str, kind: str) -> None:
        self.kind = kind
        c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        c.execute("PRAGMA foreign_keys = ON")
        c.execute("PRAGMA journal_mode = WAL")
        c.execute("PRAGMA synchronous = NORMAL")
        c.executescript(schema_sql())
        self.c = c
        self.users: set[int] = {r[0] for r in c.execute("SELECT user_id FROM user")}

    def stamp(self, now: float) -> int | str:
        if self.kind == "twitter":
            return int(now // 1.0)
        return (START + timedelta(minutes=now)).strftime(TIMESTAMP_FORMAT)

    def sign_up(self, uid: int, user_name: str, name: str, bio: str, st: Any) -> None:
        self.users.add(uid)
        self.c.execute(
            "INSERT INTO user (user_id, agent_id, user_name, name, bio, created_at, "
            "num_followings, num_followers) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
            (uid, uid, user_name, name, bio, st),
        )
        info = {"name": name, "user_name": user_name, "bio": bio}
        self.c.execute(SQL_TRACE, (uid, st, "sign_up", json.dumps(info, ensure_ascii=False), 0.0))

    def run(self, batches: list[list[Action]], t0: int, mode: str) -> None:
        """mode: 'batch', 'savepoint' (batch + SAVEPOINT per action) or 'action'."""
        execute = self.c.execute
        dumps = json.dumps
        users = self.users
        for b, batch in enumerate(batches):
            now = float(t0 + b)
            st = self.stamp(now)
            if mode != "action":
                execute("BEGIN")
            for act in batch:
                u, kind, args = act.uid, act.kind, act.args
                if mode == "action":
                    execute("BEGIN")
                if act.arg_error is not None:
                    out: Any = act.arg_error
                elif u not in users:  # signed-up users are kept in memory, as the platform does
                    out = f"Agent {u} has not signed up."
                else:
                    if mode == "savepoint":
                        execute("SAVEPOINT a1")
                    out = RAW[kind](self, u, args, st)
                    if isinstance(out, dict):
                        execute(SQL_TRACE, (u, st, kind.value, dumps(out, ensure_ascii=False), now))
                    elif mode == "savepoint":
                        execute("ROLLBACK TO a1")
                    if mode == "savepoint":
                        execute("RELEASE a1")
                if not isinstance(out, dict):
                    if mode == "savepoint":
                        execute("SAVEPOINT a1")
                    execute(
                        SQL_FAIL,
                        (u, st, now, kind.value,
                         dumps(args, ensure_ascii=False, sort_keys=True, default=repr), out),
                    )
                    if mode == "savepoint":
                        execute("RELEASE a1")
                if mode == "action":
                    execute("COMMIT")
            if mode != "action":
                execute("COMMIT")


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------
TABLES = (
    "user", "post", "like", "dislike", "comment", "comment_like", "follow", "mute",
    "report", "trace", "failed_action",
)


def digest(conn: sqlite3.Connection) -> str:
    h = hashlib.sha256()
    for t in TABLES:
        for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid'):
            h.update(repr(row).encode())
    return h.hexdigest()


def chunk(actions: list[Action], size: int) -> list[list[Action]]:
    return [actions[i : i + size] for i in range(0, len(actions), size)]


def users(n: int) -> list[tuple[int, str, str, str]]:
    return [(i, f"user{i}", f"User {i}", f"Bio of user {i}: likes {WORDS[i % len(WORDS)]}.")
            for i in range(n)]


def run_platform(
    path: str, kind: str, people, warm, timed, batched: bool, profile=None
) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the timed actions."""
    p = Platform(db_path=path, kind=kind, seed=0)
    with p.batch():
        for u in people:
            p.sign_up(*u)
    t = 1
    for batch in warm:
        p.now = float(t)
        t += 1
        with p.batch():
            for a in batch:
                p.execute(a.uid, a.kind, **a.args)
    execute = p.execute
    if profile is not None:
        profile.enable()
    start, cpu = time.perf_counter(), time.process_time()
    for batch in timed:
        p.now = float(t)
        t += 1
        if batched:
            with p.batch():
                for a in batch:
                    execute(a.uid, a.kind, **a.args)
        else:
            for a in batch:
                execute(a.uid, a.kind, **a.args)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profile is not None:
        profile.disable()
    p.close()
    return elapsed, cpu


def run_raw(path: str, kind: str, people, warm, timed, mode: str) -> tuple[float, float]:
    r = Raw(path, kind)
    st0 = r.stamp(0.0)
    r.c.execute("BEGIN")
    for u in people:
        r.sign_up(*u, st=st0)
    r.c.execute("COMMIT")
    r.run(warm, 1, "batch" if mode != "action" else "action")
    start, cpu = time.perf_counter(), time.process_time()
    r.run(timed, 1 + len(warm), mode)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    r.c.close()
    return elapsed, cpu


MODES = [
    ("platform, batch", "platform", "batch"),
    ("platform, per-action commit", "platform", "action"),
    ("raw SQL, batch", "raw", "batch"),
    ("raw SQL + savepoints, batch", "raw", "savepoint"),
    ("raw SQL, per-action commit", "raw", "action"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--actions", type=int, default=50_000, help="timed actions per run")
    ap.add_argument("--warmup", type=int, default=5_000, help="untimed actions before timing")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--kind", choices=("twitter", "reddit"), default="twitter")
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--quick", action="store_true", help="10,000 actions, 2 repeats")
    ap.add_argument("--profile", action="store_true", help="cProfile one platform batch run")
    ap.add_argument("--no-check", action="store_true", help="skip the platform == raw digest check")
    ap.add_argument("--db-dir", default=None, help="where the databases go (default: system tmp)")
    ap.add_argument("--output", default="platform_throughput", help="name of the results JSON")
    opts = ap.parse_args()
    if opts.quick:
        opts.actions, opts.warmup, opts.repeats = 10_000, 2_000, 2

    info = machine_info()
    print_machine(info)
    rng = np.random.default_rng(opts.seed)
    wl = Workload(opts.users, rng)
    warm_actions = wl.create_posts(min(opts.users, 500)) + wl.stream(opts.warmup)
    timed_actions = wl.stream(opts.actions)
    warm = chunk(warm_actions, opts.batch_size)
    timed = chunk(timed_actions, opts.batch_size)
    people = users(opts.users)
    counts: dict[str, int] = {}
    for a in timed_actions:
        counts[a.label] = counts.get(a.label, 0) + 1
    n_fail = sum(not a.expect_success for a in timed_actions)
    print(
        f"{opts.kind}, {opts.users:,} users, {opts.actions:,} timed actions "
        f"({n_fail / len(timed_actions):.1%} failing) after {len(warm_actions):,} untimed, "
        f"batches of {opts.batch_size}, {opts.repeats} repeats, file DB (WAL)"
    )

    times: dict[str, list[float]] = {label: [] for label, _, _ in MODES}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in MODES}
    digests: dict[str, str] = {}
    expected_trace = len(people) + sum(a.expect_success for a in warm_actions + timed_actions)
    n = len(timed_actions)
    contention = Contention()
    with tempfile.TemporaryDirectory(prefix="oasis_bench_", dir=opts.db_dir) as tmp:
        for rep in range(opts.repeats):
            for label, impl, mode in MODES:
                path = str(Path(tmp) / f"{impl}_{mode}_{rep}.db")
                if impl == "platform":
                    dt, cpu = run_platform(path, opts.kind, people, warm, timed, mode == "batch")
                else:
                    dt, cpu = run_raw(path, opts.kind, people, warm, timed, mode)
                times[label].append(dt)
                cpus[label].append(cpu)
                print(
                    f"  rep {rep + 1}: {label:<30} {n / dt:>10,.0f} actions/s"
                    f"   (CPU {cpu / dt:.0%} of wall)"
                )
                if rep == 0 and not opts.no_check:
                    with sqlite3.connect(path) as conn:
                        digests[label] = digest(conn)
                        n_trace = conn.execute("SELECT COUNT(*) FROM trace").fetchone()[0]
                    if n_trace != expected_trace:
                        sys.exit(f"{label}: {n_trace} trace rows, expected {expected_trace}")
                for suffix in ("", "-wal", "-shm"):
                    Path(path + suffix).unlink(missing_ok=True)
        stalled = contention.stalled()
        if not opts.no_check and len(set(digests.values())) != 1:
            sys.exit(f"Databases differ between modes: {digests}")

        prof_text = None
        if opts.profile:
            prof = cProfile.Profile()
            run_platform(str(Path(tmp) / "profile.db"), opts.kind, people, warm, timed, True, prof)
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(30)
            prof_text = s.getvalue()

    rate = {label: n / median(ts) for label, ts in times.items()}
    best = {label: n / min(ts) for label, ts in times.items()}
    cpu_rate = {label: n / median(ts) for label, ts in cpus.items()}
    raw_of = {
        "platform, batch": "raw SQL, batch",
        "platform, per-action commit": "raw SQL, per-action commit",
    }
    rows = []
    for label, _, _ in MODES:
        if label in raw_of:
            ratio = rate[label] / rate[raw_of[label]]
            ratio_cpu = cpu_rate[label] / cpu_rate[raw_of[label]]
        else:
            ratio = ratio_cpu = float("nan")
        rows.append(
            [label, rate[label], best[label], 1e6 / best[label], cpu_rate[label], ratio, ratio_cpu]
        )
    print()
    print(
        table(
            ["mode", "actions/s median", "best", "µs/action best", "per CPU-s",
             "platform/raw", "(CPU)"],
            rows,
        )
    )
    print(
        "actions/s: wall clock, median and best of the repeats; per CPU-s: actions per second "
        "of this process's CPU time (insensitive to other processes); platform/raw: ratio of "
        "the medians."
    )
    if stalled is not None:
        print(f"CPU contention during the runs (PSI cpu 'some'): {stalled:.0%} of wall time.")
    pb = rate["platform, batch"]
    verdict = "meets" if pb >= TARGET else "misses"
    print(
        f"\nTarget >= {TARGET:,.0f} mixed actions/s (batch mode): median {pb:,.0f}, "
        f"best {best['platform, batch']:,.0f} -> {verdict} ({pb / TARGET:.2f}x of target)."
    )
    if digests:
        print("Check: every mode wrote identical tables (digest "
              f"{next(iter(digests.values()))[:12]}), trace rows = predicted successes.")
    print("\nTimed action mix:")
    print(table(["label", "count", "share"],
                [[k, v, f"{v / n:.1%}"] for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]))
    if prof_text:
        print("\ncProfile of one platform batch run (sorted by tottime):")
        print(prof_text)

    payload = {
        "benchmark": "platform_throughput",
        "machine": info,
        "config": dict(vars(opts)),
        "target_actions_per_s": TARGET,
        "timed_actions": n,
        "failing_share": n_fail / n,
        "mix": counts,
        "cpu_contention_share": stalled,
        "results": {
            label: {
                "actions_per_s_median": rate[label],
                "actions_per_s_best": best[label],
                "actions_per_cpu_s_median": cpu_rate[label],
                "wall_seconds": times[label],
                "cpu_seconds": cpus[label],
            }
            for label, _, _ in MODES
        },
        "ratio_platform_over_raw": {k: rate[k] / rate[v] for k, v in raw_of.items()},
        "ratio_platform_over_raw_cpu": {k: cpu_rate[k] / cpu_rate[v] for k, v in raw_of.items()},
        "meets_target": pb >= TARGET,
        "digest_check": bool(digests) and len(set(digests.values())) == 1,
    }
    path = write_results(opts.output, payload)
    print(f"\nResults written to {path}")


if __name__ == "__main__":
    main()
