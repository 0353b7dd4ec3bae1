"""Cached post views (render.py) always equal a fresh rendering of the tables."""

from __future__ import annotations

import json

import pytest

from hypothesis import example, given, settings
from hypothesis import strategies as st

from oasis_des import Platform
from oasis_des.platform.post_rows import COLUMNS, PostRows
from oasis_des.platform.render import PostViews, encode_info, encode_json
from platform_helpers import ok

USERS = 4
# (action, argument kind): every action that changes what a post view shows.
STEPS = st.one_of(
    st.tuples(st.just("create_post"), st.integers(0, USERS - 1), st.just(0)),
    st.tuples(
        st.sampled_from(["repost", "quote_post", "create_comment", "like_post", "dislike_post",
                         "unlike_post", "undo_dislike_post", "report_post"]),
        st.integers(0, USERS - 1),
        st.integers(1, 3),
    ),
    st.tuples(
        st.sampled_from(["like_comment", "dislike_comment", "unlike_comment",
                         "undo_dislike_comment"]),
        st.integers(0, USERS - 1),
        st.integers(1, 4),
    ),
)
ARG = {
    "repost": "post_id", "quote_post": "post_id", "create_comment": "post_id",
    "like_post": "post_id", "dislike_post": "post_id", "unlike_post": "post_id",
    "undo_dislike_post": "post_id", "report_post": "post_id", "like_comment": "comment_id",
    "dislike_comment": "comment_id", "unlike_comment": "comment_id",
    "undo_dislike_comment": "comment_id",
}
TEXT = {"quote_post": "quote_content", "create_comment": "content",
        "report_post": "report_reason"}


def _platform(kind: str, comments_per_post: int) -> Platform:
    p = Platform(":memory:", kind, comments_per_post=comments_per_post)
    for u in range(USERS):
        ok(p.sign_up(u, f"u{u}", f"User {u}", "bio"))
    return p


@settings(max_examples=100, deadline=None)
@example(  # a comment window that must slide
    kind="twitter", comments_per_post=1, capacity=3,
    steps=[("create_post", 0, 0), ("create_comment", 1, 1), ("create_comment", 2, 1)],
)
@given(
    kind=st.sampled_from(["twitter", "reddit"]),
    comments_per_post=st.integers(0, 2),
    steps=st.lists(STEPS, max_size=40),
    capacity=st.integers(1, 6),
)
def test_cached_views_equal_fresh_rendering(
    kind: str, comments_per_post: int, steps: list[tuple[str, int, int]], capacity: int
) -> None:
    p = _platform(kind, comments_per_post)
    # Small caches also exercise eviction of post rows, views and comment threads.
    p.posts = PostRows(p.connection, max_entries=capacity)
    p.views = PostViews(p.posts, p.connection, p.settings, max_entries=capacity)
    for i, (action, user, target) in enumerate(steps):
        args: dict[str, object] = {}
        if action == "create_post":
            args["content"] = f"post {i}"
        else:
            args[ARG[action]] = target
        if action in TEXT:
            args[TEXT[action]] = f"text {i}"
        p.execute(user, action, **args)
        ids = [r[0] for r in p.connection.execute("SELECT post_id FROM post ORDER BY post_id")]
        ids.append(999)  # unknown ids are skipped
        shown, text = p.views.show(ids)
        fresh, fresh_text = PostViews(PostRows(p.connection), p.connection, p.settings).show(ids)
        assert shown == fresh
        table = p.connection.execute(f"SELECT {', '.join(COLUMNS)} FROM post").fetchall()
        assert sorted(tuple(r) for r in p.posts.many(ids).values()) == sorted(table)
        assert text == fresh_text == json.dumps({"posts": fresh}, ensure_ascii=False)


def test_shown_posts_are_copies() -> None:
    p = _platform("twitter", 0)
    ok(p.execute(0, "create_post", content="hello"))
    ok(p.execute(1, "create_comment", post_id=1, content="first"))
    shown, _ = p.views.show([1])
    shown[0]["comments"].append({"comment_id": 99})
    shown[0]["content"] = "changed"
    again, _ = p.views.show([1])
    assert again[0]["content"] == "hello"
    assert [c["comment_id"] for c in again[0]["comments"]] == [1]


def test_cached_view_follows_likes_comments_and_reports() -> None:
    p = _platform("twitter", 0)
    ok(p.execute(0, "create_post", content="hello"))
    ok(p.execute(1, "repost", post_id=1))
    assert p.views.show([1, 2])[0][0]["num_likes"] == 0  # cached from here on
    ok(p.execute(1, "like_post", post_id=2))  # a repost's like counts on its root
    ok(p.execute(2, "create_comment", post_id=1, content="first"))
    for reporter in (1, 2, 3):
        ok(p.execute(reporter, "report_post", post_id=1, report_reason="spam"))
        shown, text = p.views.show([1, 2])
        assert json.loads(text) == {"posts": shown}
        post, repost = shown
        assert post["num_likes"] == repost["num_likes"] == 1
        assert [c["content"] for c in post["comments"]] == ["first"]
        assert post["num_reports"] == reporter
        warned = post["content"].startswith(f"[Warning: This post has been reported {reporter} times]")
        assert warned == (reporter >= 2)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(info=st.dictionaries(st.text() | st.integers() | st.booleans(), JSON_VALUES, max_size=5))
def test_trace_info_encodes_as_the_json_encoder_does(info: dict) -> None:
    assert encode_info(info) == encode_json(info)


@pytest.mark.parametrize("kind", ["twitter", "reddit"])
def test_cached_comments_follow_new_comments_and_their_ratings(kind: str) -> None:
    p = _platform(kind, 2)  # the two most recent comments are shown
    ok(p.execute(0, "create_post", content="hello"))
    for user in (1, 2, 3):
        ok(p.execute(user, "create_comment", post_id=1, content=f"c{user}"))
    p.views.show([1])  # cached from here on
    ok(p.execute(0, "like_comment", comment_id=3))
    ok(p.execute(1, "dislike_comment", comment_id=3))
    ok(p.execute(2, "like_comment", comment_id=3))
    ok(p.execute(0, "like_comment", comment_id=1))  # no longer shown
    (post,), text = p.views.show([1])
    assert json.loads(text) == {"posts": [post]}
    comments = {c["comment_id"]: c for c in post["comments"]}
    assert sorted(comments) == [2, 3]
    if kind == "reddit":
        assert comments[3]["score"] == 1 and comments[2]["score"] == 0
    else:
        assert (comments[3]["num_likes"], comments[3]["num_dislikes"]) == (2, 1)
    ok(p.execute(0, "unlike_comment", comment_id=3))
    ok(p.execute(0, "create_comment", post_id=1, content="c4"))
    (post,), _ = p.views.show([1])
    assert [c["content"] for c in post["comments"]] == ["c3", "c4"]
    rated = post["comments"][0]
    assert (rated["score"] == 0) if kind == "reddit" else (rated["num_likes"] == 1)
