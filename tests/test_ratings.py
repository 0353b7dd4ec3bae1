"""Likes and dislikes of posts and comments, with and without self-rating."""

from __future__ import annotations

import pytest
from conftest import make_platform
from platform_helpers import comment_row, fails, last_trace, one, post_row, trace_count

# (do, undo, table, counter, id key, duplicate error, missing-record error)
POST_RATINGS = [
    pytest.param(
        "like_post",
        "unlike_post",
        "like",
        "num_likes",
        "like_id",
        "Like record already exists.",
        "Like record does not exist.",
        id="like",
    ),
    pytest.param(
        "dislike_post",
        "undo_dislike_post",
        "dislike",
        "num_dislikes",
        "dislike_id",
        "Dislike record already exists.",
        "Dislike record does not exist.",
        id="dislike",
    ),
]
COMMENT_RATINGS = [
    pytest.param(
        "like_comment",
        "unlike_comment",
        "comment_like",
        "num_likes",
        "comment_like_id",
        "Comment like record already exists.",
        "Comment like record does not exist.",
        id="comment_like",
    ),
    pytest.param(
        "dislike_comment",
        "undo_dislike_comment",
        "comment_dislike",
        "num_dislikes",
        "comment_dislike_id",
        "Comment dislike record already exists.",
        "Comment dislike record does not exist.",
        id="comment_dislike",
    ),
]
SELF_POST = "Users are not allowed to like/dislike their own posts."
SELF_COMMENT = "Users are not allowed to like/dislike their own comments."


# -- posts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_rate_post_and_undo(platform, do, undo, table, counter, key, dup, missing):
    platform.execute(0, "create_post", content="p")
    assert platform.execute(1, do, post_id=1) == {"success": True, key: 1}
    assert post_row(platform, 1)[counter] == 1
    assert one(platform, f'SELECT user_id, post_id FROM "{table}"') == (1, 1)
    t = last_trace(platform)
    assert t["action"] == do and t["user_id"] == 1
    assert list(t["info"]) == ["post_id", key]
    assert t["info"] == {"post_id": 1, key: 1}
    assert platform.execute(2, do, post_id=1) == {"success": True, key: 2}
    assert post_row(platform, 1)[counter] == 2

    assert platform.execute(1, undo, post_id=1) == {"success": True, key: 1}
    assert post_row(platform, 1)[counter] == 1
    assert one(platform, f'SELECT COUNT(*) FROM "{table}" WHERE user_id = 1') == 0
    t = last_trace(platform)
    assert t["action"] == undo
    assert list(t["info"]) == ["post_id", key]
    assert t["info"] == {"post_id": 1, key: 1}
    # rating again after undo works and gets a fresh id
    assert platform.execute(1, do, post_id=1) == {"success": True, key: 3}


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_rate_post_duplicate(platform, do, undo, table, counter, key, dup, missing):
    platform.execute(0, "create_post", content="p")
    platform.execute(1, do, post_id=1)
    fails(platform.execute(1, do, post_id=1), dup)
    assert post_row(platform, 1)[counter] == 1


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_rate_missing_post(platform, do, undo, table, counter, key, dup, missing):
    """fix (like_post): a missing post is `Post not found.`, not a crash or a dangling row."""
    platform.execute(0, "create_post", content="p")
    fails(platform.execute(1, do, post_id=2), "Post not found.")
    fails(platform.execute(1, do, post_id=0), "Post not found.")
    fails(platform.execute(1, do, post_id=-3), "Post not found.")
    assert one(platform, f'SELECT COUNT(*) FROM "{table}"') == 0


def test_unlike_missing_post(platform):
    fails(platform.execute(1, "unlike_post", post_id=9), "Post not found.")


def test_undo_dislike_missing_post_fails(platform):
    assert platform.execute(1, "undo_dislike_post", post_id=9)["success"] is False


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_undo_without_rating(platform, do, undo, table, counter, key, dup, missing):
    platform.execute(0, "create_post", content="p")
    fails(platform.execute(1, undo, post_id=1), missing)
    platform.execute(2, do, post_id=1)
    # another user's rating is not mine to undo
    fails(platform.execute(1, undo, post_id=1), missing)
    assert post_row(platform, 1)[counter] == 1


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_rating_a_repost_rates_the_root(platform, do, undo, table, counter, key, dup, missing):
    platform.execute(0, "create_post", content="p")
    platform.execute(1, "repost", post_id=1)  # 2
    assert platform.execute(2, do, post_id=2) == {"success": True, key: 1}
    assert post_row(platform, 1)[counter] == 1
    assert post_row(platform, 2)[counter] == 0
    assert last_trace(platform)["info"] == {"post_id": 1, key: 1}
    # the root and the repost are the same post for duplicates and undo
    fails(platform.execute(2, do, post_id=1), dup)
    assert platform.execute(2, undo, post_id=2) == {"success": True, key: 1}
    assert last_trace(platform)["info"] == {"post_id": 1, key: 1}
    assert post_row(platform, 1)[counter] == 0


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_rating_a_quote_rates_the_quote(platform, do, undo, table, counter, key, dup, missing):
    platform.execute(0, "create_post", content="p")
    platform.execute(1, "quote_post", post_id=1, quote_content="q")  # 2
    platform.execute(2, do, post_id=2)
    assert post_row(platform, 2)[counter] == 1
    assert post_row(platform, 1)[counter] == 0


def test_like_and_dislike_are_independent(platform):
    platform.execute(0, "create_post", content="p")
    assert platform.execute(1, "like_post", post_id=1)["success"]
    assert platform.execute(1, "dislike_post", post_id=1)["success"]
    row = post_row(platform, 1)
    assert (row["num_likes"], row["num_dislikes"]) == (1, 1)


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_self_rating_of_post_allowed_by_default(
    platform, do, undo, table, counter, key, dup, missing
):
    assert platform.settings.allow_self_rating is True
    platform.execute(0, "create_post", content="p")
    assert platform.execute(0, do, post_id=1)["success"]


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_self_rating_of_post_refused(strict, do, undo, table, counter, key, dup, missing):
    strict.execute(0, "create_post", content="p")
    strict.execute(1, "repost", post_id=1)  # 2: a repost of user 0's post
    strict.execute(0, "quote_post", post_id=1, quote_content="q")  # 3: user 0's quote
    n = trace_count(strict)
    fails(strict.execute(0, do, post_id=1), SELF_POST)
    # through someone else's repost it is still user 0's own post
    fails(strict.execute(0, do, post_id=2), SELF_POST)
    fails(strict.execute(0, do, post_id=3), SELF_POST)
    assert trace_count(strict) == n
    assert one(strict, f'SELECT COUNT(*) FROM "{table}"') == 0
    # others may rate it; user 1 may rate user 0's post although user 1 reposted it
    assert strict.execute(1, do, post_id=1)["success"]
    assert strict.execute(1, do, post_id=3)["success"]


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", POST_RATINGS)
def test_duplicate_checked_before_self_rating(do, undo, table, counter, key, dup, missing):
    """Check order: duplicate, then self-rating (an own rating left from a permissive run)."""
    strict = make_platform("reddit", allow_self_rating=False)
    strict.execute(0, "create_post", content="p")
    strict.connection.execute(
        f'INSERT INTO "{table}" (user_id, post_id, created_at) VALUES (0, 1, 0)'
    )
    strict.connection.execute(f"UPDATE post SET {counter} = 1 WHERE post_id = 1")
    fails(strict.execute(0, do, post_id=1), dup)
    strict.close()


# -- comments -------------------------------------------------------------------------------
@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", COMMENT_RATINGS)
def test_rate_comment_and_undo(platform, do, undo, table, counter, key, dup, missing):
    platform.execute(0, "create_post", content="p")
    platform.execute(1, "create_comment", post_id=1, content="c")
    assert platform.execute(2, do, comment_id=1) == {"success": True, key: 1}
    assert comment_row(platform, 1)[counter] == 1
    assert one(platform, f'SELECT user_id, comment_id FROM "{table}"') == (2, 1)
    t = last_trace(platform)
    assert t["action"] == do and t["user_id"] == 2
    assert list(t["info"]) == ["comment_id", key]
    assert t["info"] == {"comment_id": 1, key: 1}
    fails(platform.execute(2, do, comment_id=1), dup)
    assert platform.execute(2, undo, comment_id=1) == {"success": True, key: 1}
    assert comment_row(platform, 1)[counter] == 0
    t = last_trace(platform)
    assert t["action"] == undo
    assert list(t["info"]) == ["comment_id", key]
    assert t["info"] == {"comment_id": 1, key: 1}
    fails(platform.execute(2, undo, comment_id=1), missing)


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", COMMENT_RATINGS)
def test_rate_missing_comment(platform, do, undo, table, counter, key, dup, missing):
    """fix: rating a missing comment is `Comment not found.`"""
    platform.execute(0, "create_post", content="p")
    fails(platform.execute(1, do, comment_id=1), "Comment not found.")
    fails(platform.execute(1, undo, comment_id=1), missing)
    assert one(platform, f'SELECT COUNT(*) FROM "{table}"') == 0


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", COMMENT_RATINGS)
def test_self_rating_of_comment(strict, do, undo, table, counter, key, dup, missing):
    strict.execute(0, "create_post", content="p")
    strict.execute(1, "create_comment", post_id=1, content="c")
    fails(strict.execute(1, do, comment_id=1), SELF_COMMENT)
    # the post's author may rate a comment on it
    assert strict.execute(0, do, comment_id=1)["success"]
    assert comment_row(strict, 1)[counter] == 1


@pytest.mark.parametrize("do,undo,table,counter,key,dup,missing", COMMENT_RATINGS)
def test_self_rating_of_comment_allowed_by_default(
    platform, do, undo, table, counter, key, dup, missing
):
    platform.execute(0, "create_post", content="p")
    platform.execute(1, "create_comment", post_id=1, content="c")
    assert platform.execute(1, do, comment_id=1)["success"]


def test_engaged_posts_follow_the_tables_through_rollback(platform):
    """What the engine tells an agent it has already liked, disliked or reposted."""
    platform.execute(0, "create_post", content="root")  # 1
    platform.execute(1, "repost", post_id=1)  # 2, shown with its root's ratings
    platform.execute(0, "create_post", content="other")  # 3
    assert platform.engaged(2, [1, 2, 3, 99]) == (frozenset(), frozenset(), frozenset())
    platform.execute(2, "like_post", post_id=2)  # likes the root
    platform.execute(2, "dislike_post", post_id=3)
    platform.execute(2, "repost", post_id=1)  # 4
    assert platform.engaged(2, [1, 2, 3]) == ({1, 2}, {3}, {1, 2})
    platform.execute(2, "unlike_post", post_id=1)
    with pytest.raises(RuntimeError), platform.batch():
        platform.execute(2, "like_post", post_id=3)
        raise RuntimeError
    assert platform.engaged(2, [1, 2, 3]) == (frozenset(), {3}, {1, 2})
    assert fails(platform.execute(2, "repost", post_id=2)) == "Repost record already exists."


def test_engagement_knows_who_never_engaged(platform):
    """Users without likes, dislikes or reposts are answered without looking at posts;
    a rolled-back like does not count, an undone one still may."""
    platform.execute(0, "create_post", content="root")
    assert not platform.engagement.active(2)
    with pytest.raises(RuntimeError), platform.batch():
        platform.execute(2, "like_post", post_id=1)
        assert platform.engagement.active(2)
        raise RuntimeError
    assert not platform.engagement.active(2)
    assert platform.engaged(2, [1]) == (frozenset(), frozenset(), frozenset())
    platform.execute(2, "like_post", post_id=1)
    assert platform.engaged(2, [1]) == ({1}, frozenset(), frozenset())
    platform.execute(2, "unlike_post", post_id=1)
    assert platform.engaged(2, [1]) == (frozenset(), frozenset(), frozenset())
