"""A hypothesis state machine over the platform: random actions of every type, checked
against a small Python model and against every invariant of PLATFORM_SPEC after each step.

Each step fires one action (valid and invalid ids, duplicates, self-actions, digit-string
ids, bad agents, bad arguments). The model predicts success or the exact error text and the
exact result, trace `info` and rendering; a failure must leave every table unchanged.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import hypothesis.strategies as st
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from platform_helpers import dump, follow_edges, graph_edges, sequences

from oasis_des import ACTION_SPECS, ActionType, Platform

START = datetime(2024, 1, 1)
DAY = 1440.0

ID_ARGS = {"post_id", "comment_id", "followee_id", "mutee_id", "group_id", "purchase_num"}
SPEC_ARGS: dict[str, list[str]] = {
    a.value: [arg.name for arg in s.args] for a, s in ACTION_SPECS.items()
}
OPTIONAL = {("interview", "response")}

BAD_IDS = ["x", "-1", 1.5, True, None]
BAD_AGENTS = [-1, "x", 1.5, True]
CONTENTS = ["Hello world", "50% off", "x_y z", "plain", "café AU lait", "Ünïcode 1", "A"]
QUERIES = ["hello", "HELLO", "%", "_", "x_y", "50%", "1", "2", "0", "a", "CAFÉ", "zzz", "ünï",
           ""]
NAMES = ["ann", "Ben", "cat_2", "Dé", "ed%"]


def ids(lo: int, hi: int, missing: list[int]) -> st.SearchStrategy[Any]:
    """Mostly ids lo..hi (some not existing yet), some missing ids, digit strings and a few
    non-integers."""
    values: list[Any] = list(range(lo, hi + 1)) * 4 + missing
    values += [str(i) for i in range(lo, hi + 1)] + BAD_IDS
    return st.sampled_from(values)


# agents 0..2 are signed up from the start, 3 and 4 may sign up, 5 never does
AGENTS = st.sampled_from([0, 1, 2] * 8 + ["0", "1", "2", 3, 4, 5] + BAD_AGENTS)
POST_IDS = ids(1, 8, [0, -1, 20])
COMMENT_IDS = ids(1, 4, [0, -1, 20])
USER_IDS = ids(0, 4, [5, 9, -1])
GROUP_IDS = ids(1, 3, [0, -1, 9])
TEXT = st.sampled_from(CONTENTS)


# -- the model ----------------------------------------------------------------------------------
@dataclass
class MPost:
    post_id: int
    author: int
    original: int | None
    quote: str | None
    content: str
    created: float


@dataclass
class MComment:
    comment_id: int
    post_id: int
    author: int
    content: str
    created: float


@dataclass
class Model:
    users: dict[int, tuple[str, str, str, float]] = field(default_factory=dict)
    posts: dict[int, MPost] = field(default_factory=dict)
    comments: dict[int, MComment] = field(default_factory=dict)
    likes: dict[tuple[int, int], int] = field(default_factory=dict)  # (post, user) -> id
    dislikes: dict[tuple[int, int], int] = field(default_factory=dict)
    comment_likes: dict[tuple[int, int], int] = field(default_factory=dict)
    comment_dislikes: dict[tuple[int, int], int] = field(default_factory=dict)
    reports: dict[tuple[int, int], int] = field(default_factory=dict)
    follows: dict[tuple[int, int], int] = field(default_factory=dict)  # (er, ee) -> id
    mutes: dict[tuple[int, int], int] = field(default_factory=dict)
    groups: dict[int, tuple[str, set[int]]] = field(default_factory=dict)
    messages: list[tuple[int, int, int, str, float]] = field(default_factory=list)
    products: dict[str, int] = field(default_factory=dict)
    sales: dict[int, int] = field(default_factory=dict)
    seq: dict[str, int] = field(default_factory=dict)
    interview_ids: set[int] = field(default_factory=set)
    successes: int = 0  # traced successes
    failures: int = 0

    def next_id(self, table: str) -> int:
        return self.seq.get(table, 0) + 1

    def take_id(self, table: str) -> int:
        self.seq[table] = self.next_id(table)
        return self.seq[table]

    def root(self, post_id: int) -> int:
        p = self.posts[post_id]
        return p.original if p.original is not None and p.quote is None else post_id

    def shares(self, post_id: int) -> int:
        return sum(1 for p in self.posts.values() if p.original == post_id)


@dataclass
class Expect:
    ok: bool | None  # None: either is allowed
    result: dict[str, Any] | None = None  # exact result keys beyond success (None: check later)
    info: dict[str, Any] | None = None  # exact trace info (None: not traced or checked later)
    traced: bool = True
    commit: Callable[[], None] | None = None
    errors: set[str] | None = None  # allowed error texts (None: any)
    names: set[str] | None = None  # the error must name one of these
    key: str = "error"
    check: Callable[[dict[str, Any]], None] | None = None  # extra check of a success


def fail(*errors: str, key: str = "error") -> Expect:
    return Expect(ok=False, errors=set(errors) if errors else None, key=key)


class PlatformMachine(RuleBasedStateMachine):
    """Several users on a Twitter or Reddit platform, random actions of every type."""

    p: Platform

    @initialize(
        kind=st.sampled_from(["twitter", "reddit"]),
        self_rating=st.booleans(),
        show_score=st.sampled_from([None, True, False]),
        tick=st.sampled_from([1.0, 3.0]),
        report_threshold=st.sampled_from([1, 2]),
        trend_top_k=st.sampled_from([1, 3]),
        trend_days=st.sampled_from([7, 2]),
    )
    def setup(self, kind, self_rating, show_score, tick, report_threshold, trend_top_k, trend_days):
        extra = {} if show_score is None else {"show_score": show_score}
        self.p = Platform(
            db_path=":memory:",
            kind=kind,
            tick=tick,
            allow_self_rating=self_rating,
            report_threshold=report_threshold,
            trend_top_k=trend_top_k,
            trend_days=trend_days,
            seed=0,
            **extra,
        )
        self.m = Model()
        for product_id, name in ((1, "GlowPod"), (3, "Mug")):
            assert self.p.sign_up_product(product_id=product_id, name=name)["success"]
            self.m.products[name] = product_id
            self.m.sales[product_id] = 0
        # a starting population and some content, through the normal checked path
        for uid, name in enumerate(["ann", "Ben", "cat_2"]):
            self.do(uid, "sign_up", user_name=name, name=name.title(), bio=f"bio of {name}")
        self.do(0, "create_post", content="Hello world")
        self.do(1, "create_post", content="50% off")
        self.do(2, "create_post", content="x_y z")
        self.do(2, "repost", post_id=1)
        self.do(1, "create_comment", post_id=1, content="first")
        self.do(0, "create_comment", post_id=2, content="second")
        self.do(0, "create_group", group_name="club")
        self.do(1, "join_group", group_id=1)
        self.do(1, "follow", followee_id=0)

    def teardown(self):
        if hasattr(self, "p"):
            self.p.close()

    # -- the checked call ------------------------------------------------------------------------
    def stamp(self, minutes: float) -> int | str:
        if self.p.kind == "twitter":
            return int(minutes // self.p.clock.tick)
        return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")

    def do(self, agent: Any, action: Any, **args: Any) -> dict[str, Any]:
        before, seqs = dump(self.p), sequences(self.p)
        n_failed = self._count("failed_action")
        exp = self.expect(agent, action, args)
        result = self.p.execute(agent, action, **args)
        assert isinstance(result, dict) and isinstance(result.get("success"), bool), result
        event(f"{_value(action)}: {'ok' if result['success'] else 'failed'}")
        if exp.ok is not None:
            assert result["success"] is exp.ok, (agent, action, args, result)
        if result["success"]:
            self._check_success(action, agent, exp, result, before)
        else:
            assert set(result) == {"success", exp.key}, result
            message = result[exp.key]
            assert isinstance(message, str) and message
            if exp.errors is not None:
                assert message in exp.errors, (action, args, message, exp.errors)
            if exp.names:
                assert any(name in message for name in exp.names), (message, exp.names)
            # a failure changes nothing, and is recorded
            assert dump(self.p) == before
            assert sequences(self.p) == seqs
            assert self._count("failed_action") == n_failed + 1
            row = self.p.connection.execute(
                "SELECT action, error, sim_time FROM failed_action ORDER BY failure_id DESC LIMIT 1"
            ).fetchone()
            assert row[1] == message and row[2] == self.p.now
            self.m.failures += 1
        return result

    def _check_success(self, action, agent, exp: Expect, result, before) -> None:
        uid = _agent(agent)
        if exp.result is not None:
            assert result == {"success": True, **exp.result}, (action, result, exp.result)
        if exp.check is not None:
            exp.check(result)
        n_trace = len(before["trace"])
        if exp.traced:
            assert self._count("trace") == n_trace + 1, action
            row = self.p.connection.execute(
                "SELECT user_id, created_at, action, info, sim_time FROM trace "
                "ORDER BY trace_id DESC LIMIT 1"
            ).fetchone()
            assert row[0] == uid and row[2] == _value(action)
            assert row[1] == self.stamp(self.p.now) and row[4] == self.p.now
            info = json.loads(row[3])
            if exp.info is not None:
                assert list(info.items()) == list(exp.info.items()), (action, info, exp.info)
            if action in ("trend", "refresh"):
                assert info == {"posts": result["posts"]}
            self.m.successes += 1
        else:
            assert self._count("trace") == n_trace
        if exp.commit is not None:
            exp.commit()

    def _count(self, table: str) -> int:
        return self.p.connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

    # -- prediction -------------------------------------------------------------------------------
    def expect(self, agent: Any, action: Any, args: dict[str, Any]) -> Expect:
        uid = _agent(agent)
        name = _value(action)
        if name not in SPEC_ARGS:
            return Expect(ok=False)
        clean, bad = _clean(name, args)
        if uid is None:
            return Expect(ok=False)
        if bad:
            return Expect(ok=False, names=bad)
        if name == "sign_up":
            if uid in self.m.users:
                return Expect(ok=False)
        elif uid not in self.m.users:
            return Expect(ok=False)
        return getattr(self, f"m_{name}")(uid, **clean)

    # posts
    def m_sign_up(self, uid, user_name, name, bio):
        now = self.p.now

        def commit():
            self.m.users[uid] = (user_name, name, bio, now)

        return Expect(
            ok=True,
            result={"user_id": uid},
            info={"name": name, "user_name": user_name, "bio": bio},
            commit=commit,
        )

    def m_create_post(self, uid, content):
        pid, now = self.m.next_id("post"), self.p.now

        def commit():
            self.m.take_id("post")
            self.m.posts[pid] = MPost(pid, uid, None, None, content, now)

        return Expect(ok=True, result={"post_id": pid}, info={"content": content, "post_id": pid},
                      commit=commit)

    def m_repost(self, uid, post_id):
        if post_id not in self.m.posts:
            return fail("Post not found.")
        root = self.m.root(post_id)
        if any(
            p.author == uid and p.original == root and p.quote is None
            for p in self.m.posts.values()
        ):
            return fail("Repost record already exists.")
        pid, now = self.m.next_id("post"), self.p.now

        def commit():
            self.m.take_id("post")
            self.m.posts[pid] = MPost(pid, uid, root, None, "", now)

        return Expect(ok=True, result={"post_id": pid},
                      info={"reposted_id": post_id, "new_post_id": pid}, commit=commit)

    def m_quote_post(self, uid, post_id, quote_content):
        if post_id not in self.m.posts:
            return fail("Post not found.")
        target = self.m.posts[post_id]
        to = post_id if target.original is None else target.original
        content = self.m.posts[to].content
        pid, now = self.m.next_id("post"), self.p.now

        def commit():
            self.m.take_id("post")
            self.m.posts[pid] = MPost(pid, uid, to, quote_content, content, now)

        return Expect(ok=True, result={"post_id": pid},
                      info={"quoted_id": post_id, "new_post_id": pid}, commit=commit)

    def m_create_comment(self, uid, post_id, content):
        if post_id not in self.m.posts:
            return fail("Post not found.")
        root = self.m.root(post_id)
        cid, now = self.m.next_id("comment"), self.p.now

        def commit():
            self.m.take_id("comment")
            self.m.comments[cid] = MComment(cid, root, uid, content, now)

        return Expect(ok=True, result={"comment_id": cid},
                      info={"content": content, "comment_id": cid}, commit=commit)

    def m_report_post(self, uid, post_id, report_reason):
        if (post_id, uid) in self.m.reports:
            return fail("Report record already exists.")
        if post_id not in self.m.posts:
            return fail("Post not found.")
        rid = self.m.next_id("report")

        def commit():
            self.m.reports[(post_id, uid)] = self.m.take_id("report")

        return Expect(ok=True, result={"report_id": rid},
                      info={"post_id": post_id, "report_id": rid}, commit=commit)

    # ratings
    def _rate(self, uid, target, table, store, key, dup, target_key, own):
        if (target, uid) in store:
            return fail(dup)
        if not self.p.settings.allow_self_rating and own == uid:
            what = "posts" if target_key == "post_id" else "comments"
            return fail(f"Users are not allowed to like/dislike their own {what}.")
        rid = self.m.next_id(table)

        def commit():
            store[(target, uid)] = self.m.take_id(table)

        return Expect(ok=True, result={key: rid}, info={target_key: target, key: rid},
                      commit=commit)

    def _unrate(self, uid, target, store, key, missing, target_key):
        if (target, uid) not in store:
            return fail(missing)
        rid = store[(target, uid)]

        def commit():
            del store[(target, uid)]

        return Expect(ok=True, result={key: rid}, info={target_key: target, key: rid},
                      commit=commit)

    def _post_rate(self, uid, post_id, table, store, key, dup):
        if post_id not in self.m.posts:
            return fail("Post not found.")
        root = self.m.root(post_id)
        return self._rate(uid, root, table, store, key, dup, "post_id", self.m.posts[root].author)

    def _post_unrate(self, uid, post_id, store, key, missing, missing_post_errors):
        if post_id not in self.m.posts:
            return fail(*missing_post_errors)
        return self._unrate(uid, self.m.root(post_id), store, key, missing, "post_id")

    def _comment_rate(self, uid, comment_id, table, store, key, dup):
        if comment_id not in self.m.comments:
            return fail("Comment not found.")
        own = self.m.comments[comment_id].author
        return self._rate(uid, comment_id, table, store, key, dup, "comment_id", own)

    def m_like_post(self, uid, post_id):
        return self._post_rate(uid, post_id, "like", self.m.likes, "like_id",
                               "Like record already exists.")

    def m_unlike_post(self, uid, post_id):
        return self._post_unrate(uid, post_id, self.m.likes, "like_id",
                                 "Like record does not exist.", ["Post not found."])

    def m_dislike_post(self, uid, post_id):
        return self._post_rate(uid, post_id, "dislike", self.m.dislikes, "dislike_id",
                               "Dislike record already exists.")

    def m_undo_dislike_post(self, uid, post_id):
        # the spec names only the missing-record error; a missing post may say either
        return self._post_unrate(uid, post_id, self.m.dislikes, "dislike_id",
                                 "Dislike record does not exist.",
                                 ["Post not found.", "Dislike record does not exist."])

    def m_like_comment(self, uid, comment_id):
        return self._comment_rate(uid, comment_id, "comment_like", self.m.comment_likes,
                                  "comment_like_id", "Comment like record already exists.")

    def m_unlike_comment(self, uid, comment_id):
        return self._unrate(uid, comment_id, self.m.comment_likes, "comment_like_id",
                            "Comment like record does not exist.", "comment_id")

    def m_dislike_comment(self, uid, comment_id):
        return self._comment_rate(uid, comment_id, "comment_dislike", self.m.comment_dislikes,
                                  "comment_dislike_id", "Comment dislike record already exists.")

    def m_undo_dislike_comment(self, uid, comment_id):
        return self._unrate(uid, comment_id, self.m.comment_dislikes, "comment_dislike_id",
                            "Comment dislike record does not exist.", "comment_id")

    # relations
    def _relate(self, uid, other, store, table, verb, dup, result_key, info):
        if other == uid:
            return fail(f"Users cannot {verb} themselves.")
        if other not in self.m.users:
            return fail("User not found.")
        if (uid, other) in store:
            return fail(dup)
        rid = self.m.next_id(table)

        def commit():
            store[(uid, other)] = self.m.take_id(table)

        return Expect(ok=True, result={result_key: rid}, info=info(rid), commit=commit)

    def m_follow(self, uid, followee_id):
        return self._relate(uid, followee_id, self.m.follows, "follow", "follow",
                            "Follow record already exists.", "follow_id",
                            lambda rid: {"follow_id": rid})

    def m_unfollow(self, uid, followee_id):
        if (uid, followee_id) not in self.m.follows:
            return fail("Follow record does not exist.")
        rid = self.m.follows[(uid, followee_id)]
        return Expect(ok=True, result={"follow_id": rid}, info={"followee_id": followee_id},
                      commit=lambda: self.m.follows.pop((uid, followee_id)))

    def m_mute(self, uid, mutee_id):
        return self._relate(uid, mutee_id, self.m.mutes, "mute", "mute",
                            "Mute record already exists.", "mute_id",
                            lambda rid: {"mutee_id": mutee_id})

    def m_unmute(self, uid, mutee_id):
        if (uid, mutee_id) not in self.m.mutes:
            return fail("No mute record exists.")
        rid = self.m.mutes[(uid, mutee_id)]
        return Expect(ok=True, result={"mute_id": rid}, info={"mutee_id": mutee_id},
                      commit=lambda: self.m.mutes.pop((uid, mutee_id)))

    # discovery
    def render(self, post_id: int) -> dict[str, Any]:
        """How PLATFORM_SPEC says post `post_id` is shown, from the model."""
        m, s = self.m, self.p.settings
        post = m.posts[post_id]
        is_repost = post.original is not None and post.quote is None
        src = m.posts[post.original] if is_repost else post
        if post.original is None:
            content = post.content
        else:
            root = m.posts[post.original]
            if is_repost:
                content = (f"User {post.author} reposted a post from User {root.author}. "
                           f"Repost content: {root.content}. ")
            else:
                content = (f"User {post.author} quoted a post from User {root.author}. "
                           f"Quote content: {post.quote}. Original Content: {root.content}")
        reports = sum(1 for (pid, _) in m.reports if pid == src.post_id)
        if reports >= s.report_threshold:
            content = f"[Warning: This post has been reported {reports} times]\n{content}"
        likes = sum(1 for (pid, _) in m.likes if pid == src.post_id)
        dislikes = sum(1 for (pid, _) in m.dislikes if pid == src.post_id)
        comments = [
            {
                "comment_id": c.comment_id,
                "post_id": c.post_id,
                "user_id": c.author,
                "content": c.content,
                "created_at": self.stamp(c.created),
                **self._ratings(
                    sum(1 for (cid, _) in m.comment_likes if cid == c.comment_id),
                    sum(1 for (cid, _) in m.comment_dislikes if cid == c.comment_id),
                ),
            }
            for c in sorted(m.comments.values(), key=lambda c: c.comment_id)
            if c.post_id == src.post_id
        ]
        return {
            "post_id": post_id,
            "user_id": post.author,
            "content": content,
            "created_at": self.stamp(src.created),
            **self._ratings(likes, dislikes),
            "num_shares": m.shares(src.post_id),
            "num_reports": reports,
            "comments": comments,
        }

    def _ratings(self, likes: int, dislikes: int) -> dict[str, int]:
        if self.p.settings.show_score:
            return {"score": likes - dislikes}
        return {"num_likes": likes, "num_dislikes": dislikes}

    def _check_rendered(self, posts: list[dict[str, Any]]) -> None:
        for post in posts:
            expected = self.render(post["post_id"])
            assert list(post.items()) == list(expected.items()), (post, expected)

    def m_search_posts(self, uid, query):
        hits = [
            p.post_id
            for p in sorted(self.m.posts.values(), key=lambda p: p.post_id)
            if _contains(p.content, query) or query in str(p.post_id) or query in str(p.author)
        ]
        if not hits:
            return fail("No posts found matching the query.", key="message")
        return Expect(ok=True, result={"posts": [self.render(pid) for pid in hits]},
                      info={"query": query}, check=lambda r: self._check_rendered(r["posts"]))

    def m_search_user(self, uid, query):
        rows = []
        for user_id in sorted(self.m.users):
            user_name, name, bio, created = self.m.users[user_id]
            if any(_contains(t, query) for t in (user_name, name, bio)) or query in str(user_id):
                rows.append({
                    "user_id": user_id,
                    "user_name": user_name,
                    "name": name,
                    "bio": bio,
                    "created_at": self.stamp(created),
                    "num_followings": sum(1 for (a, _) in self.m.follows if a == user_id),
                    "num_followers": sum(1 for (_, b) in self.m.follows if b == user_id),
                })
        if not rows:
            return fail("No users found matching the query.", key="message")

        def check(result):
            assert [list(u.items()) for u in result["users"]] == [list(u.items()) for u in rows]

        return Expect(ok=True, result={"users": rows}, info={"query": query}, check=check)

    def m_trend(self, uid):
        s = self.p.settings
        since = self.stamp(max(0.0, self.p.now - s.trend_days * DAY))
        window = [p for p in self.m.posts.values() if self.stamp(p.created) >= since]
        if not window:
            return fail("No trending posts in the specified period.", key="message")
        likes = {p.post_id: sum(1 for (pid, _) in self.m.likes if pid == p.post_id) for p in window}
        top = sorted(likes, key=lambda pid: (-likes[pid], pid))[: s.trend_top_k]
        return Expect(ok=True, result={"posts": [self.render(pid) for pid in top]},
                      check=lambda r: self._check_rendered(r["posts"]))

    def m_refresh(self, uid):
        s = self.p.settings
        muted = {b for (a, b) in self.m.mutes if a == uid}
        posts = self.m.posts

        def shows_no_muted(p: MPost) -> bool:  # nor a repost or quote of a muted user's post
            return p.author not in muted and (
                p.original is None or posts[p.original].author not in muted)

        visible = sorted(p.post_id for p in posts.values() if shows_no_muted(p))
        followees = {b for (a, b) in self.m.follows if a == uid}
        fposts = [p.post_id for p in posts.values()
                  if p.author in followees and shows_no_muted(p)]
        likes = {pid: sum(1 for (q, _) in self.m.likes if q == pid) for pid in fposts}
        top_followed = sorted(fposts, key=lambda pid: (-likes[pid], pid))[: s.following_post_count]
        limit = s.refresh_rec_post_count + s.following_post_count

        def check(result):
            got = [post["post_id"] for post in result["posts"]]
            assert got == sorted(set(got)), got
            assert set(got) <= set(visible), (got, visible, muted)
            assert 0 < len(got) <= limit
            assert set(top_followed) <= set(got)
            if self.p.kind == "reddit" and len(self.m.posts) <= s.max_rec_post_len:
                # every post is a candidate: all visible ones, or refresh_rec_post_count of them
                if len(visible) <= s.refresh_rec_post_count:
                    assert got == visible
                else:
                    assert len(got) == s.refresh_rec_post_count
            self._check_rendered(result["posts"])

        if not visible:
            return fail("No posts found.", key="message")
        all_candidates = self.p.kind == "reddit" and len(self.m.posts) <= s.max_rec_post_len
        sure = bool(top_followed) or all_candidates
        return Expect(ok=True if sure else None, check=check, errors={"No posts found."},
                      key="message")

    def m_do_nothing(self, uid):
        return Expect(ok=True, result={}, info={})

    # products, interviews
    def m_purchase_product(self, uid, product_name, purchase_num):
        if product_name not in self.m.products:
            return fail("No such product.")
        if purchase_num <= 0:
            exp = Expect(ok=False, names={"purchase_num"})
            return exp
        pid = self.m.products[product_name]

        def commit():
            self.m.sales[pid] += purchase_num

        return Expect(ok=True, result={"product_id": pid},
                      info={"product_name": product_name, "purchase_num": purchase_num},
                      commit=commit)

    def m_interview(self, uid, prompt, response=None):
        def check(result):
            iid = result["interview_id"]
            assert set(result) == {"success", "interview_id"}
            assert iid not in self.m.interview_ids
            info = {"prompt": prompt}
            if response is not None:
                info["response"] = response
            info["interview_id"] = iid
            exp.info = info
            self.m.interview_ids.add(iid)

        exp = Expect(ok=True, check=check)
        return exp

    # groups
    def m_create_group(self, uid, group_name):
        gid = self.m.next_id("chat_group")

        def commit():
            self.m.take_id("chat_group")
            self.m.groups[gid] = (group_name, {uid})

        return Expect(ok=True, result={"group_id": gid},
                      info={"group_id": gid, "group_name": group_name}, commit=commit)

    def m_join_group(self, uid, group_id):
        if group_id not in self.m.groups:
            return fail("Group does not exist.")
        if uid in self.m.groups[group_id][1]:
            return fail("User is already in the group.")
        return Expect(ok=True, result={}, info={"group_id": group_id},
                      commit=lambda: self.m.groups[group_id][1].add(uid))

    def m_leave_group(self, uid, group_id):
        if group_id not in self.m.groups or uid not in self.m.groups[group_id][1]:
            return fail("User is not a member of this group.")
        return Expect(ok=True, result={}, info={"group_id": group_id},
                      commit=lambda: self.m.groups[group_id][1].discard(uid))

    def m_send_to_group(self, uid, group_id, message):
        if group_id not in self.m.groups or uid not in self.m.groups[group_id][1]:
            return fail("User is not a member of this group.")
        mid, now = self.m.next_id("group_messages"), self.p.now
        others = sorted(self.m.groups[group_id][1] - {uid})

        def check(result):
            assert set(result) == {"success", "message_id", "to"}
            assert result["message_id"] == mid and sorted(result["to"]) == others

        def commit():
            self.m.take_id("group_messages")
            self.m.messages.append((mid, group_id, uid, message, now))

        return Expect(ok=True, info={"group_id": group_id, "message_id": mid, "content": message},
                      check=check, commit=commit)

    def m_listen_from_group(self, uid):
        joined = sorted(g for g, (_, members) in self.m.groups.items() if uid in members)
        messages = {
            g: [
                {"message_id": mid, "content": text, "sender_id": sender,
                 "sent_at": self.stamp(sent)}
                for mid, gid, sender, text, sent in self.m.messages
                if gid == g
            ]
            for g in joined
        }

        def check(result):
            assert set(result) == {"success", "all_groups", "joined_groups", "messages"}
            assert result["all_groups"] == {g: name for g, (name, _) in self.m.groups.items()}
            assert sorted(result["joined_groups"]) == joined
            got = {g: msgs for g, msgs in result["messages"].items() if msgs}
            assert set(result["messages"]) <= set(joined)
            assert got == {g: msgs for g, msgs in messages.items() if msgs}
            for msgs in got.values():
                for msg in msgs:
                    assert list(msg) == ["message_id", "content", "sender_id", "sent_at"]

        return Expect(ok=True, traced=False, check=check)

    # -- rules ------------------------------------------------------------------------------
    @rule(minutes=st.sampled_from([0.0, 1.0, 2.5, 60.0, DAY, 3 * DAY, 8 * DAY]))
    def advance_time(self, minutes):
        self.p.now = self.p.now + minutes

    @rule(agent=st.sampled_from([3, 4, "4", 0, 1]), name=st.sampled_from(NAMES), bio=TEXT)
    def sign_up(self, agent, name, bio):
        self.do(agent, "sign_up", user_name=name, name=name.upper(), bio=bio)

    @rule(agent=AGENTS, content=TEXT)
    def create_post(self, agent, content):
        self.do(agent, ActionType.CREATE_POST, content=content)

    @rule(agent=AGENTS, post_id=POST_IDS)
    def repost(self, agent, post_id):
        self.do(agent, ActionType.REPOST, post_id=post_id)

    @rule(agent=AGENTS, post_id=POST_IDS, quote=TEXT)
    def quote_post(self, agent, post_id, quote):
        self.do(agent, "quote_post", post_id=post_id, quote_content=quote)

    @rule(agent=AGENTS, post_id=POST_IDS, action=st.sampled_from(
        ["like_post", "unlike_post", "dislike_post", "undo_dislike_post"]))
    def rate_post(self, agent, post_id, action):
        self.do(agent, action, post_id=post_id)

    @rule(agent=AGENTS, post_id=POST_IDS, do=st.sampled_from(["like_post", "dislike_post"]),
          again=st.booleans())
    def rate_post_twice(self, agent, post_id, do, again):
        """A rating followed by its duplicate or its undo (same agent, same post)."""
        self.do(agent, do, post_id=post_id)
        undo = {"like_post": "unlike_post", "dislike_post": "undo_dislike_post"}[do]
        self.do(agent, do if again else undo, post_id=post_id)

    @rule(agent=AGENTS, comment_id=COMMENT_IDS, do=st.sampled_from(
        ["like_comment", "dislike_comment"]), again=st.booleans())
    def rate_comment_twice(self, agent, comment_id, do, again):
        self.do(agent, do, comment_id=comment_id)
        undo = {"like_comment": "unlike_comment", "dislike_comment": "undo_dislike_comment"}[do]
        self.do(agent, do if again else undo, comment_id=comment_id)

    @rule(agent=AGENTS, other=USER_IDS, do=st.sampled_from(["follow", "mute"]),
          again=st.booleans())
    def relate_twice(self, agent, other, do, again):
        key = {"follow": "followee_id", "mute": "mutee_id"}[do]
        self.do(agent, do, **{key: other})
        undo = {"follow": "unfollow", "mute": "unmute"}[do]
        self.do(agent, do if again else undo, **{key: other})

    @rule(agent=AGENTS, post_id=POST_IDS, quote_first=st.booleans(), text=TEXT)
    def share_twice(self, agent, post_id, quote_first, text):
        """A quote and a repost of the same post by the same user, in either order."""
        if quote_first:
            self.do(agent, "quote_post", post_id=post_id, quote_content=text)
            self.do(agent, "repost", post_id=post_id)
        else:
            self.do(agent, "repost", post_id=post_id)
            self.do(agent, "quote_post", post_id=post_id, quote_content=text)
        self.do(agent, "repost", post_id=post_id)

    @rule(agent=AGENTS, other=USER_IDS, follow=st.booleans())
    def mute_then_refresh(self, agent, other, follow):
        if follow:
            self.do(agent, "follow", followee_id=other)
        self.do(agent, "mute", mutee_id=other)
        self.do(agent, "refresh")
        self.do(agent, "unmute", mutee_id=other)
        self.do(agent, "refresh")

    @rule(agent=AGENTS, post_id=POST_IDS, reporters=st.lists(AGENTS, min_size=1, max_size=3),
          quote=st.booleans())
    def reports_then_search(self, agent, post_id, reporters, quote):
        """Reports of a post (or of a fresh quote of it), then the post as search shows it."""
        if quote:
            result = self.do(agent, "quote_post", post_id=post_id, quote_content="see this")
            if result["success"]:
                post_id = result["post_id"]
        for reporter in reporters:
            self.do(reporter, "report_post", post_id=post_id, report_reason="spam")
        self.do(agent, "search_posts", query=str(post_id))
        self.do(agent, "trend")

    @rule(agent=AGENTS, days=st.sampled_from([0.5, 1.5, 3.0, 6.0, 8.0]), text=TEXT)
    def time_passes_then_trend(self, agent, days, text):
        self.do(agent, "trend")
        self.p.now = self.p.now + days * DAY
        self.do(agent, "trend")
        self.do(agent, "create_post", content=text)
        self.do(agent, "trend")

    @rule(agent=AGENTS, group_id=GROUP_IDS, message=TEXT)
    def group_visit(self, agent, group_id, message):
        """Join, talk, listen, leave, and talk again (after leaving: refused)."""
        self.do(agent, "join_group", group_id=group_id)
        self.do(agent, "send_to_group", group_id=group_id, message=message)
        self.do(agent, "listen_from_group")
        self.do(agent, "leave_group", group_id=group_id)
        self.do(agent, "send_to_group", group_id=group_id, message=message)

    @rule(agent=AGENTS, post_id=POST_IDS, content=TEXT)
    def create_comment(self, agent, post_id, content):
        self.do(agent, "create_comment", post_id=post_id, content=content)

    @rule(agent=AGENTS, comment_id=COMMENT_IDS, action=st.sampled_from(
        ["like_comment", "unlike_comment", "dislike_comment", "undo_dislike_comment"]))
    def rate_comment(self, agent, comment_id, action):
        self.do(agent, action, comment_id=comment_id)

    @rule(agent=AGENTS, other=USER_IDS, action=st.sampled_from(["follow", "unfollow"]))
    def follow(self, agent, other, action):
        self.do(agent, action, followee_id=other)

    @rule(agent=AGENTS, other=USER_IDS, action=st.sampled_from(["mute", "unmute"]))
    def mute(self, agent, other, action):
        self.do(agent, action, mutee_id=other)

    @rule(agent=AGENTS, post_id=POST_IDS, reason=TEXT)
    def report_post(self, agent, post_id, reason):
        self.do(agent, "report_post", post_id=post_id, report_reason=reason)

    @rule(agent=AGENTS, query=st.sampled_from(QUERIES),
          action=st.sampled_from(["search_posts", "search_user"]))
    def search(self, agent, query, action):
        self.do(agent, action, query=query)

    @rule(agent=AGENTS, action=st.sampled_from(["trend", "refresh", "do_nothing",
                                                "listen_from_group"]))
    def no_arguments(self, agent, action):
        self.do(agent, action)

    @rule(agent=AGENTS, name=st.sampled_from(["GlowPod", "Mug", "glowpod", "Nope"]),
          num=st.sampled_from([1, 2, 5, 0, -1, "3", "-2", 1.5, True, None]))
    def purchase(self, agent, name, num):
        self.do(agent, "purchase_product", product_name=name, purchase_num=num)

    @rule(agent=AGENTS, name=st.sampled_from(["club", "news"]))
    def create_group(self, agent, name):
        self.do(agent, "create_group", group_name=name)

    @rule(agent=AGENTS, group_id=GROUP_IDS, action=st.sampled_from(["join_group", "leave_group"]))
    def membership(self, agent, group_id, action):
        self.do(agent, action, group_id=group_id)

    @rule(agent=AGENTS, group_id=GROUP_IDS, message=TEXT)
    def send_to_group(self, agent, group_id, message):
        self.do(agent, "send_to_group", group_id=group_id, message=message)

    @rule(agent=AGENTS, prompt=TEXT, response=st.sampled_from([None, "yes", 3]))
    def interview(self, agent, prompt, response):
        args = {"prompt": prompt}
        if response is not None:
            args["response"] = response
        self.do(agent, "interview", **args)

    @rule(agent=AGENTS, action=st.sampled_from([a.value for a in ActionType]),
          drop=st.booleans(), extra=st.sampled_from(["bogus", "user_id", "post_id"]))
    def bad_arguments(self, agent, action, drop, extra):
        """A required argument missing, or an argument the action does not take."""
        names = [n for n in SPEC_ARGS[action] if (action, n) not in OPTIONAL]
        args = {n: (1 if n in ID_ARGS else "x") for n in names}
        if drop and names:
            del args[names[-1]]
        elif extra not in SPEC_ARGS[action]:
            args[extra] = 1
        else:
            args["bogus"] = 1
        self.do(agent, action, **args)

    @rule(agent=AGENTS, action=st.sampled_from(["fly", "LIKE_POST", "", 7, None]))
    def unknown_action(self, agent, action):
        self.do(agent, action)

    @rule(a=AGENTS, post_id=POST_IDS, b=AGENTS, other=USER_IDS)
    def batch_of_actions(self, a, post_id, b, other):
        """Actions in one committed batch behave as they do alone (failures included)."""
        with self.p.batch():
            self.do(a, "like_post", post_id=post_id)
            self.do(b, "follow", followee_id=other)
            self.do(a, "create_post", content="in a batch")
        assert not self.p.connection.in_transaction

    # -- invariants -------------------------------------------------------------------------
    def q(self, sql: str) -> list[tuple[Any, ...]]:
        return self.p.connection.execute(sql).fetchall()

    @invariant()
    def counters_equal_row_counts(self):
        for table, target, counter, key in (
            ('"like"', "post", "num_likes", "post_id"),
            ('"dislike"', "post", "num_dislikes", "post_id"),
            ("report", "post", "num_reports", "post_id"),
            ("comment_like", "comment", "num_likes", "comment_id"),
            ("comment_dislike", "comment", "num_dislikes", "comment_id"),
        ):
            assert self.q(
                f"SELECT {key} FROM {target} t WHERE {counter} != "
                f"(SELECT COUNT(*) FROM {table} r WHERE r.{key} = t.{key})"
            ) == [], (table, counter)
        assert self.q(
            "SELECT post_id FROM post t WHERE num_shares != "
            "(SELECT COUNT(*) FROM post s WHERE s.original_post_id = t.post_id)"
        ) == []
        assert self.q(
            "SELECT user_id FROM user u WHERE "
            "num_followers != (SELECT COUNT(*) FROM follow f WHERE f.followee_id = u.user_id) OR "
            "num_followings != (SELECT COUNT(*) FROM follow f WHERE f.follower_id = u.user_id)"
        ) == []

    @invariant()
    def no_duplicates_self_relations_or_negative_counters(self):
        for table, a, b in (
            ('"like"', "post_id", "user_id"),
            ('"dislike"', "post_id", "user_id"),
            ("report", "post_id", "user_id"),
            ("comment_like", "comment_id", "user_id"),
            ("comment_dislike", "comment_id", "user_id"),
            ("follow", "follower_id", "followee_id"),
            ("mute", "muter_id", "mutee_id"),
            ("group_members", "group_id", "agent_id"),
        ):
            sql = f"SELECT {a}, {b} FROM {table} GROUP BY {a}, {b} HAVING COUNT(*) > 1"
            assert self.q(sql) == [], table
        assert self.q("SELECT * FROM follow WHERE follower_id = followee_id") == []
        assert self.q("SELECT * FROM mute WHERE muter_id = mutee_id") == []
        assert self.q(
            "SELECT post_id FROM post WHERE MIN(num_likes, num_dislikes, num_shares, "
            "num_reports) < 0"
        ) == []
        assert self.q("SELECT comment_id FROM comment WHERE MIN(num_likes, num_dislikes) < 0") == []
        assert self.q("SELECT user_id FROM user WHERE MIN(num_followers, num_followings) < 0") == []
        assert self.q("SELECT product_id FROM product WHERE sales < 0") == []

    @invariant()
    def no_post_points_at_a_repost(self):
        assert self.q(
            "SELECT p.post_id FROM post p JOIN post o ON p.original_post_id = o.post_id "
            "WHERE o.original_post_id IS NOT NULL AND o.quote_content IS NULL"
        ) == []
        # reposts are empty; quotes carry their text
        assert self.q(
            "SELECT post_id FROM post WHERE original_post_id IS NOT NULL "
            "AND quote_content IS NULL AND content != ''"
        ) == []

    @invariant()
    def trace_matches_successes(self):
        assert self.q("SELECT COUNT(*) FROM trace")[0][0] == self.m.successes
        assert self.q("SELECT COUNT(*) FROM failed_action")[0][0] == self.m.failures
        assert self.q("SELECT COUNT(*) FROM trace WHERE action = 'listen_from_group'")[0][0] == 0

    @invariant()
    def sales_equal_successful_purchases(self):
        sales = dict(self.q("SELECT product_id, sales FROM product"))
        assert sales == self.m.sales
        from_trace: dict[str, int] = {}
        for (info,) in self.q("SELECT info FROM trace WHERE action = 'purchase_product'"):
            d = json.loads(info)
            from_trace[d["product_name"]] = from_trace.get(d["product_name"], 0) + d["purchase_num"]
        assert {self.m.products[n]: v for n, v in from_trace.items()} == {
            pid: v for pid, v in sales.items() if v
        }

    @invariant()
    def group_messages_only_from_members(self):
        """Replay membership from the trace: every message's sender was in the group."""
        members: dict[int, set[int]] = {}
        sent = []
        for uid, action, info in self.q(
            "SELECT user_id, action, info FROM trace WHERE action IN "
            "('create_group', 'join_group', 'leave_group', 'send_to_group') ORDER BY trace_id"
        ):
            gid = json.loads(info)["group_id"]
            if action in ("create_group", "join_group"):
                members.setdefault(gid, set()).add(uid)
            elif action == "leave_group":
                members[gid].discard(uid)
            else:
                assert uid in members.get(gid, set()), (uid, gid)
                sent.append((json.loads(info)["message_id"], gid, uid))
        assert sorted(sent) == self.q(
            "SELECT message_id, group_id, sender_id FROM group_messages ORDER BY message_id"
        )
        assert sorted(self.q("SELECT group_id, agent_id FROM group_members")) == sorted(
            (g, u) for g, us in members.items() for u in us
        )

    @invariant()
    def graph_equals_follow(self):
        assert graph_edges(self.p) == follow_edges(self.p)

    @invariant()
    def tables_equal_model(self):
        m = self.m

        def pairs(sql: str) -> dict[tuple[int, int], int]:
            return {(a, b): i for i, a, b in self.q(sql)}

        assert pairs('SELECT like_id, post_id, user_id FROM "like"') == m.likes
        assert pairs('SELECT dislike_id, post_id, user_id FROM "dislike"') == m.dislikes
        assert pairs("SELECT comment_like_id, comment_id, user_id FROM comment_like") == (
            m.comment_likes
        )
        assert pairs("SELECT comment_dislike_id, comment_id, user_id FROM comment_dislike") == (
            m.comment_dislikes
        )
        assert pairs("SELECT report_id, post_id, user_id FROM report") == m.reports
        assert pairs("SELECT follow_id, follower_id, followee_id FROM follow") == m.follows
        assert pairs("SELECT mute_id, muter_id, mutee_id FROM mute") == m.mutes
        assert self.q(
            "SELECT post_id, user_id, original_post_id, quote_content, content FROM post "
            "ORDER BY post_id"
        ) == [
            (p.post_id, p.author, p.original, p.quote, p.content)
            for p in sorted(m.posts.values(), key=lambda p: p.post_id)
        ]
        assert self.q("SELECT comment_id, post_id, user_id FROM comment ORDER BY comment_id") == [
            (c.comment_id, c.post_id, c.author)
            for c in sorted(m.comments.values(), key=lambda c: c.comment_id)
        ]
        assert self.q("SELECT user_id, agent_id FROM user ORDER BY user_id") == [
            (u, u) for u in sorted(m.users)
        ]


def _value(action: Any) -> Any:
    return action.value if isinstance(action, ActionType) else action


def _agent(agent: Any) -> int | None:
    if type(agent) is int:
        return agent if agent >= 0 else None
    if isinstance(agent, str) and agent.isascii() and agent.isdigit():
        return int(agent)
    return None


def _clean(action: str, args: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The arguments coerced as PLATFORM_SPEC says, and the names of the bad ones."""
    clean: dict[str, Any] = {}
    bad = {k for k in args if k not in SPEC_ARGS[action]}
    for name in SPEC_ARGS[action]:
        value = args.get(name)
        if value is None:
            if (action, name) not in OPTIONAL:
                bad.add(name)
            continue
        if name in ID_ARGS:
            if type(value) is int:
                clean[name] = value
            elif isinstance(value, str) and value.isascii() and value.isdigit():
                clean[name] = int(value)
            else:
                bad.add(name)
        elif isinstance(value, str):
            clean[name] = value
        else:
            bad.add(name)
    return clean, bad


def _contains(text: str, query: str) -> bool:
    return query.casefold() in text.casefold()


PlatformMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPlatformMachine = PlatformMachine.TestCase


class RollbackMachine(PlatformMachine):
    """The same, plus batches that raise: everything in them must be rolled back."""

    @rule(a=AGENTS, post_id=POST_IDS, b=AGENTS, other=USER_IDS, content=TEXT,
          read=st.sampled_from(["refresh", "trend", "search_posts", "interview"]))
    def aborted_batch(self, a, post_id, b, other, content, read):
        saved_model = copy.deepcopy(self.m)
        before, seqs, edges = dump(self.p), sequences(self.p), graph_edges(self.p)
        try:
            with self.p.batch():
                self.do(a, "create_post", content=content)
                self.do(b, "like_post", post_id=post_id)
                self.do(b, "follow", followee_id=other)
                self.do(a, "unfollow", followee_id=other)
                if read == "search_posts":
                    self.do(b, read, query=content)
                elif read == "interview":
                    self.do(b, read, prompt=content)
                else:
                    self.do(b, read)
                raise _Abort
        except _Abort:
            pass
        self.m = saved_model
        assert dump(self.p) == before
        assert sequences(self.p) == seqs
        assert graph_edges(self.p) == edges == follow_edges(self.p)
        assert not self.p.connection.in_transaction
        # reads right after the rollback see only what was committed
        for agent in (a, b):
            self.do(agent, "refresh")
            self.do(agent, "trend")
            self.do(agent, "search_posts", query=content)


class _Abort(Exception):
    pass


RollbackMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRollbackMachine = RollbackMachine.TestCase

