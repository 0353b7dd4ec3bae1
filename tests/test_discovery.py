"""Reading actions (search_posts, search_user, trend, refresh) and how posts are rendered."""

from __future__ import annotations

import pytest
from conftest import make_platform
from platform_helpers import failures, last_trace, trace_count

from oasis_des import ActionType
from oasis_des.platform import platform as platform_module

DAY = 1440.0
POST_KEYS_SCORE = [
    "post_id",
    "user_id",
    "content",
    "created_at",
    "score",
    "num_shares",
    "num_reports",
    "comments",
]
POST_KEYS_COUNTS = [
    "post_id",
    "user_id",
    "content",
    "created_at",
    "num_likes",
    "num_dislikes",
    "num_shares",
    "num_reports",
    "comments",
]
COMMENT_KEYS_SCORE = ["comment_id", "post_id", "user_id", "content", "created_at", "score"]
COMMENT_KEYS_COUNTS = [
    "comment_id",
    "post_id",
    "user_id",
    "content",
    "created_at",
    "num_likes",
    "num_dislikes",
]


def search(p, query, uid=2):
    return p.execute(uid, "search_posts", query=query)


def found_ids(result):
    assert result["success"] is True, result
    return [post["post_id"] for post in result["posts"]]


def by_id(result):
    return {post["post_id"]: post for post in result["posts"]}


def no_posts(result, message):
    assert result == {"success": False, "message": message}


# -- search_posts -------------------------------------------------------------------------------
@pytest.fixture
def searchable(platform):
    for uid, text in [
        (0, "Hello World"),  # 1
        (1, "100% sure"),  # 2
        (1, "snake_case names"),  # 3
        (0, "back\\slash"),  # 4
        (2, "plain text"),  # 5
    ]:
        platform.execute(uid, "create_post", content=text)
    return platform


def test_search_posts_by_content_case_insensitive(searchable):
    result = search(searchable, "hello")
    assert set(result) == {"success", "posts"}
    assert found_ids(result) == [1]
    assert found_ids(search(searchable, "WORLD")) == [1]
    t = last_trace(searchable)
    assert t["action"] == "search_posts" and t["user_id"] == 2
    assert list(t["info"]) == ["query"]
    assert t["info"] == {"query": "WORLD"}


def test_search_posts_by_post_id_and_user_id(searchable):
    # "5" is post 5 only; "2" is post 2 and user 2's post 5
    assert found_ids(search(searchable, "5")) == [5]
    assert found_ids(search(searchable, "2")) == [2, 5]
    # "0" is user 0's posts 1 and 4 and the content "100% sure"
    assert found_ids(search(searchable, "0")) == [1, 2, 4]


def test_search_posts_percent_and_underscore_are_literal(searchable):
    """fix: OASIS passes the query to LIKE, so % and _ match anything."""
    assert found_ids(search(searchable, "%")) == [2]
    assert found_ids(search(searchable, "_")) == [3]
    assert found_ids(search(searchable, "0%")) == [2]
    assert found_ids(search(searchable, "\\")) == [4]
    # as LIKE patterns these would match "100% sure" and "Hello World"
    no_posts(search(searchable, "1%e"), "No posts found matching the query.")
    no_posts(search(searchable, "H_llo"), "No posts found matching the query.")


def test_search_posts_nothing_found(searchable):
    n = trace_count(searchable)
    no_posts(search(searchable, "zebra"), "No posts found matching the query.")
    assert trace_count(searchable) == n
    assert failures(searchable)[-1]["action"] == "search_posts"
    assert failures(searchable)[-1]["error"] == "No posts found matching the query."


def test_search_posts_on_empty_platform(platform):
    no_posts(search(platform, "a"), "No posts found matching the query.")


def test_search_posts_case_insensitive_beyond_ascii(platform):
    platform.execute(0, "create_post", content="Un café à Zürich")
    assert found_ids(search(platform, "CAFÉ")) == [1]
    assert found_ids(search(platform, "zÜrich")) == [1]


# -- search_user --------------------------------------------------------------------------------
USER_KEYS = [
    "user_id",
    "user_name",
    "name",
    "bio",
    "created_at",
    "num_followings",
    "num_followers",
]


def users(result):
    assert result["success"] is True, result
    assert set(result) == {"success", "users"}
    return [u["user_id"] for u in result["users"]]


def test_search_user_fields(platform):
    platform.execute(1, "follow", followee_id=0)
    result = platform.execute(2, ActionType.SEARCH_USER, query="ALIC")
    assert users(result) == [0]
    u = result["users"][0]
    assert list(u) == USER_KEYS
    assert u["user_name"] == "alice" and u["name"] == "Alice" and u["bio"] == "Likes cats."
    assert (u["num_followings"], u["num_followers"]) == (0, 1)
    t = last_trace(platform)
    assert t["action"] == "search_user"
    assert list(t["info"]) == ["query"]
    assert t["info"] == {"query": "ALIC"}


def test_search_user_by_name_bio_and_id(platform):
    assert users(platform.execute(0, "search_user", query="Bob")) == [1]  # name / user_name
    assert users(platform.execute(0, "search_user", query="dogs")) == [1]  # bio
    assert users(platform.execute(0, "search_user", query="2")) == [2]  # user_id
    assert users(platform.execute(0, "search_user", query="E")) == [0, 1, 2]  # handles, bios


def test_search_user_case_insensitive_beyond_ascii(platform):
    platform.sign_up(agent_id=5, user_name="zoe", name="Zoé Ærø", bio="Ünïcode")
    assert users(platform.execute(0, "search_user", query="ZOÉ")) == [5]
    assert users(platform.execute(0, "search_user", query="ünï")) == [5]


def test_search_user_nothing_found(platform):
    assert platform.execute(0, "search_user", query="zebra") == {
        "success": False,
        "message": "No users found matching the query.",
    }
    assert platform.execute(0, "search_user", query="%") == {
        "success": False,
        "message": "No users found matching the query.",
    }


# -- trend -----------------------------------------------------------------------------------
def likes(p, post_id, n):
    for uid in range(n):
        assert p.execute(uid, "like_post", post_id=post_id)["success"]


def test_trend_most_liked(platform):
    for i in range(3):
        platform.execute(0, "create_post", content=f"p{i}")
    likes(platform, 2, 2)
    likes(platform, 3, 1)
    result = platform.execute(1, ActionType.TREND)
    assert set(result) == {"success", "posts"}
    assert found_ids(result) == [2]
    t = last_trace(platform)
    assert t["action"] == "trend"
    assert list(t["info"]) == ["posts"]
    assert t["info"]["posts"] == result["posts"]


def test_trend_top_k(platform_kind):
    p = make_platform(platform_kind, trend_top_k=2)
    for i in range(3):
        p.execute(0, "create_post", content=f"p{i}")
    likes(p, 3, 2)
    likes(p, 1, 1)
    assert found_ids(p.execute(1, "trend")) == [3, 1]
    p.close()
    p = make_platform(platform_kind, trend_top_k=5)
    for i in range(3):
        p.execute(0, "create_post", content=f"p{i}")
    likes(p, 2, 1)
    assert found_ids(p.execute(1, "trend")) == [2, 1, 3]
    p.close()


def test_trend_window(platform_kind):
    p = make_platform(platform_kind, trend_top_k=3)
    p.execute(0, "create_post", content="old")  # 1, minute 0, most liked
    likes(p, 1, 3)
    p.now = 6 * DAY
    p.execute(0, "create_post", content="newer")  # 2
    p.now = 6.5 * DAY
    assert found_ids(p.execute(1, "trend")) == [1, 2]
    p.now = 7.5 * DAY  # post 1 is 7.5 days old
    assert found_ids(p.execute(1, "trend")) == [2]
    p.now = 14 * DAY  # post 2 is 8 days old
    assert p.execute(1, "trend") == {
        "success": False,
        "message": "No trending posts in the specified period.",
    }
    p.close()


def test_trend_days_setting(platform_kind):
    p = make_platform(platform_kind, trend_days=1)
    p.execute(0, "create_post", content="a")
    p.now = 0.5 * DAY
    assert found_ids(p.execute(1, "trend")) == [1]
    p.now = 2 * DAY
    assert p.execute(1, "trend")["success"] is False
    p.close()
    p = make_platform(platform_kind, trend_days=30)
    p.execute(0, "create_post", content="a")
    p.now = 20 * DAY
    assert found_ids(p.execute(1, "trend")) == [1]
    p.close()


def test_trend_window_with_twitter_ticks():
    p = make_platform("twitter", tick=3.0)
    p.execute(0, "create_post", content="a")
    p.now = 6.9 * DAY
    assert found_ids(p.execute(1, "trend")) == [1]
    p.now = 7.1 * DAY
    assert p.execute(1, "trend")["success"] is False
    p.close()


def test_trend_on_empty_platform(platform):
    assert platform.execute(0, "trend") == {
        "success": False,
        "message": "No trending posts in the specified period.",
    }


@pytest.fixture(params=["twitter", "reddit"])
def platform_kind(request):
    return request.param


# -- refresh ----------------------------------------------------------------------------------
def test_refresh_empty(platform):
    assert platform.execute(0, ActionType.REFRESH) == {
        "success": False,
        "message": "No posts found.",
    }


def test_refresh_reddit_shows_refresh_rec_post_count_posts(reddit):
    for i in range(10):
        reddit.execute(i % 3, "create_post", content=f"post {i}")
    result = reddit.execute(0, "refresh")
    assert set(result) == {"success", "posts"}
    ids = found_ids(result)
    assert len(ids) == 5 == reddit.settings.refresh_rec_post_count
    assert len(set(ids)) == 5
    assert set(ids) <= set(range(1, 11))
    t = last_trace(reddit)
    assert t["action"] == "refresh" and t["user_id"] == 0
    assert list(t["info"]) == ["posts"]
    assert t["info"]["posts"] == result["posts"]


def test_refresh_twitter_includes_followees_most_liked_posts(twitter):
    for i in range(6):
        twitter.execute(1, "create_post", content=f"bob {i}")  # 1..6
    likes(twitter, 4, 3)
    likes(twitter, 2, 2)
    likes(twitter, 6, 1)
    twitter.execute(0, "follow", followee_id=1)
    ids = found_ids(twitter.execute(0, "refresh"))
    assert {4, 2, 6} <= set(ids)
    s = twitter.settings
    assert len(ids) <= s.refresh_rec_post_count + s.following_post_count
    assert ids == sorted(set(ids))


def test_refresh_reddit_shows_all_when_few(reddit):
    reddit.execute(1, "create_post", content="a")
    reddit.execute(2, "create_post", content="b")
    assert found_ids(reddit.execute(0, "refresh")) == [1, 2]


def test_mute_hides_posts_from_refresh_reddit(reddit):
    """fix: OASIS ignores mutes."""
    for _ in range(3):
        reddit.execute(1, "create_post", content="from bob")
    reddit.execute(0, "mute", mutee_id=1)
    assert reddit.execute(0, "refresh") == {"success": False, "message": "No posts found."}
    reddit.execute(2, "create_post", content="from carol")  # 4
    for _ in range(5):
        assert found_ids(reddit.execute(0, "refresh")) == [4]
    # others still see bob's posts
    assert 1 in found_ids(reddit.execute(2, "refresh"))
    reddit.execute(0, "unmute", mutee_id=1)
    assert found_ids(reddit.execute(0, "refresh")) == [1, 2, 3, 4]


def test_mute_hides_followee_posts_from_refresh_twitter(twitter):
    """fix: a muted followee's posts leave the feed, recommended or followed."""
    for _ in range(4):
        twitter.execute(1, "create_post", content="from bob")
    twitter.execute(0, "follow", followee_id=1)
    assert found_ids(twitter.execute(0, "refresh"))
    twitter.execute(0, "mute", mutee_id=1)
    for _ in range(5):
        assert twitter.execute(0, "refresh") == {"success": False, "message": "No posts found."}
    twitter.execute(2, "create_post", content="from carol")  # 5
    for _ in range(5):
        result = twitter.execute(0, "refresh")
        if result["success"]:
            assert {post["user_id"] for post in result["posts"]} == {2}


# -- rendering ----------------------------------------------------------------------------------
def test_render_reddit_shows_score(reddit):
    reddit.execute(0, "create_post", content="p")
    reddit.execute(1, "like_post", post_id=1)
    reddit.execute(2, "like_post", post_id=1)
    reddit.execute(0, "dislike_post", post_id=1)
    reddit.execute(1, "create_comment", post_id=1, content="c")
    reddit.execute(0, "dislike_comment", comment_id=1)
    post = search(reddit, "p")["posts"][0]
    assert list(post) == POST_KEYS_SCORE
    assert post["score"] == 1
    assert (post["post_id"], post["user_id"], post["content"]) == (1, 0, "p")
    assert (post["num_shares"], post["num_reports"]) == (0, 0)
    assert list(post["comments"][0]) == COMMENT_KEYS_SCORE
    assert post["comments"][0]["score"] == -1
    assert post["comments"][0]["content"] == "c"


def test_render_twitter_shows_likes_and_dislikes(twitter):
    twitter.execute(0, "create_post", content="p")
    twitter.execute(1, "like_post", post_id=1)
    twitter.execute(2, "like_post", post_id=1)
    twitter.execute(0, "dislike_post", post_id=1)
    twitter.execute(1, "create_comment", post_id=1, content="c")
    twitter.execute(0, "like_comment", comment_id=1)
    post = search(twitter, "p")["posts"][0]
    assert list(post) == POST_KEYS_COUNTS
    assert (post["num_likes"], post["num_dislikes"]) == (2, 1)
    comment = post["comments"][0]
    assert list(comment) == COMMENT_KEYS_COUNTS
    assert (comment["num_likes"], comment["num_dislikes"]) == (1, 0)
    assert (comment["comment_id"], comment["post_id"], comment["user_id"]) == (1, 1, 1)


@pytest.mark.parametrize("kind,show_score", [("twitter", True), ("reddit", False)])
def test_render_show_score_setting_overrides_kind(kind, show_score):
    p = make_platform(kind, show_score=show_score)
    p.execute(0, "create_post", content="p")
    p.execute(1, "create_comment", post_id=1, content="c")
    post = search(p, "p")["posts"][0]
    assert list(post) == (POST_KEYS_SCORE if show_score else POST_KEYS_COUNTS)
    assert list(post["comments"][0]) == (COMMENT_KEYS_SCORE if show_score else COMMENT_KEYS_COUNTS)
    p.close()


def test_render_repost(platform):
    platform.execute(0, "create_post", content="root text")  # 1
    platform.now = 5.0
    platform.execute(1, "repost", post_id=1)  # 2
    platform.execute(2, "like_post", post_id=1)
    platform.execute(2, "create_comment", post_id=1, content="on root")
    platform.execute(1, "quote_post", post_id=1, quote_content="q")  # 3: num_shares 2
    posts = by_id(search(platform, "1"))  # post 1, and user 1's posts 2 and 3
    root, repost = posts[1], posts[2]
    assert repost["content"] == (
        "User 1 reposted a post from User 0. Repost content: root text. "
    )
    assert repost["post_id"] == 2
    assert repost["user_id"] == 1
    # the root's counters, time and comments
    for key in root:
        if key not in ("post_id", "user_id", "content"):
            assert repost[key] == root[key], key
    assert repost["num_shares"] == 2
    assert repost["created_at"] != platform.connection.execute(
        "SELECT created_at FROM post WHERE post_id = 2"
    ).fetchone()[0]
    assert [c["content"] for c in repost["comments"]] == ["on root"]


def test_render_quote_with_its_own_counters(platform):
    platform.execute(0, "create_post", content="root text")  # 1
    platform.execute(1, "quote_post", post_id=1, quote_content="my view")  # 2
    platform.execute(0, "like_post", post_id=2)
    platform.execute(2, "create_comment", post_id=2, content="on quote")
    platform.execute(2, "report_post", post_id=2, report_reason="x")
    quote = by_id(search(platform, "root"))[2]
    assert quote["content"] == (
        "User 1 quoted a post from User 0. Quote content: my view. Original Content: root text"
    )
    assert quote["user_id"] == 1
    assert quote["num_reports"] == 1  # fix: OASIS loses num_reports of quotes
    assert quote["num_shares"] == 0
    if platform.settings.show_score:
        assert quote["score"] == 1
    else:
        assert (quote["num_likes"], quote["num_dislikes"]) == (1, 0)
    assert [c["content"] for c in quote["comments"]] == ["on quote"]
    root = by_id(search(platform, "root"))[1]
    assert root["num_reports"] == 0 and root["comments"] == []


def test_render_quote_shows_its_reports_and_warning(platform):
    """fix: a quote shows its own num_reports (and therefore the warning)."""
    platform.execute(0, "create_post", content="root")
    platform.execute(1, "quote_post", post_id=1, quote_content="q")  # 2
    platform.execute(0, "report_post", post_id=2, report_reason="x")
    platform.execute(2, "report_post", post_id=2, report_reason="y")
    quote = by_id(search(platform, "root"))[2]
    assert quote["num_reports"] == 2
    assert quote["content"] == (
        "[Warning: This post has been reported 2 times]\n"
        "User 1 quoted a post from User 0. Quote content: q. Original Content: root"
    )


def test_render_report_warning_at_threshold(platform):
    platform.execute(0, "create_post", content="claim")
    platform.execute(1, "report_post", post_id=1, report_reason="x")
    post = search(platform, "claim")["posts"][0]
    assert post["content"] == "claim" and post["num_reports"] == 1
    platform.execute(2, "report_post", post_id=1, report_reason="x")
    post = search(platform, "claim")["posts"][0]
    assert post["content"] == "[Warning: This post has been reported 2 times]\nclaim"
    assert post["num_reports"] == 2
    platform.execute(0, "report_post", post_id=1, report_reason="x")
    post = search(platform, "claim")["posts"][0]
    assert post["content"] == "[Warning: This post has been reported 3 times]\nclaim"


def test_render_report_threshold_setting():
    p = make_platform("reddit", report_threshold=3)
    p.execute(0, "create_post", content="claim")
    p.execute(1, "report_post", post_id=1, report_reason="x")
    p.execute(2, "report_post", post_id=1, report_reason="x")
    assert search(p, "claim")["posts"][0]["content"] == "claim"
    p.execute(0, "report_post", post_id=1, report_reason="x")
    assert search(p, "claim")["posts"][0]["content"] == (
        "[Warning: This post has been reported 3 times]\nclaim"
    )
    p.close()


def test_render_repost_of_reported_post_shows_root_reports(platform):
    platform.execute(0, "create_post", content="claim")  # 1
    platform.execute(1, "repost", post_id=1)  # 2
    platform.execute(1, "report_post", post_id=1, report_reason="x")
    platform.execute(2, "report_post", post_id=1, report_reason="x")
    repost = by_id(search(platform, "1"))[2]
    assert repost["num_reports"] == 2
    assert repost["content"] == (
        "[Warning: This post has been reported 2 times]\n"
        "User 1 reposted a post from User 0. Repost content: claim. "
    )


def test_render_comments_in_creation_order(platform):
    platform.execute(0, "create_post", content="pa")
    platform.execute(0, "create_post", content="pb")
    for uid, text in [(2, "first"), (0, "second"), (1, "third")]:
        platform.now += 1
        platform.execute(uid, "create_comment", post_id=1, content=text)
    platform.execute(1, "create_comment", post_id=2, content="elsewhere")
    platform.now += 1
    platform.execute(1, "repost", post_id=1)  # 3: comment via the repost goes to post 1
    platform.execute(2, "create_comment", post_id=3, content="fourth")
    posts = by_id(search(platform, "p"))
    comments = posts[1]["comments"]
    assert [c["content"] for c in comments] == ["first", "second", "third", "fourth"]
    assert [c["user_id"] for c in comments] == [2, 0, 1, 2]
    assert [c["comment_id"] for c in comments] == [1, 2, 3, 5]
    assert all(c["post_id"] == 1 for c in comments)
    assert [c["content"] for c in posts[2]["comments"]] == ["elsewhere"]


def test_refresh_reddit_ranks_by_hot_score():
    """Candidates are the max_rec_post_len hottest posts: score, then recency."""
    p = make_platform("reddit", max_rec_post_len=2, refresh_rec_post_count=2)
    for i in range(4):
        p.execute(0, "create_post", content=f"p{i}")  # 1..4, all at minute 0
    likes(p, 3, 3)
    likes(p, 1, 1)
    assert found_ids(p.execute(1, "refresh")) == [1, 3]
    # two days later a new post with no likes is hotter than everything (1 point / 12.5 h)
    p.now = 2 * DAY
    p.execute(2, "create_post", content="fresh")  # 5
    assert found_ids(p.execute(1, "refresh")) == [3, 5]
    p.close()


def test_refresh_keeps_max_rec_post_len_candidates_in_rec():
    p = make_platform("reddit", max_rec_post_len=3)
    for i in range(10):
        p.execute(1, "create_post", content=f"p{i}")
    ids = found_ids(p.execute(0, "refresh"))
    rec = [r[0] for r in p.connection.execute("SELECT post_id FROM rec WHERE user_id = 0")]
    assert len(rec) == 3
    assert set(ids) == set(rec)
    p.close()


def test_rows_held_while_holding_are_written_in_action_order_or_dropped_on_rollback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = make_platform("reddit", max_rec_post_len=3)
    for user in (3, 4):
        p.sign_up(agent_id=user, user_name=f"u{user}", name=f"U{user}", bio="")
    for i in range(10):
        p.execute(1, "create_post", content=f"p{i}")

    def refresh(user: int) -> None:
        assert p.execute(user, "refresh")["success"]

    def rec(user: int) -> list[int]:
        return sorted(r[0] for r in p.connection.execute(
            "SELECT post_id FROM rec WHERE user_id = ?", (user,)))

    def trace() -> list[tuple[int, str]]:
        return p.connection.execute("SELECT user_id, action FROM trace ORDER BY trace_id").fetchall()

    refresh(2)  # not holding: written at once
    assert len(rec(2)) == 3 and trace()[-1] == (2, "refresh")
    before = trace()
    p.holding = True  # as the engine does while it advances
    with p.batch():
        refresh(0)
        p.execute(2, "create_post", content="held")
        refresh(0)  # the table keeps each user's latest buffer only
        assert rec(0) == [] and trace() == before  # held
        p.write_held()
    assert len(rec(0)) == 3
    assert trace() == before + [(0, "refresh"), (2, "create_post"), (0, "refresh")]
    with pytest.raises(RuntimeError):
        with p.batch():
            refresh(3)
            raise RuntimeError
    p.execute(4, "refresh")
    p.write_held()
    assert rec(3) == [] and len(rec(4)) == 3  # the rolled-back batch's rows were dropped
    assert trace()[-1] == (4, "refresh") and (3, "refresh") not in trace()
    monkeypatch.setattr(platform_module, "HELD_ROWS", 3)
    before = trace()
    for user in (0, 2, 4):
        refresh(user)
    refresh(3)  # past HELD_ROWS rows are written without waiting for write_held
    assert trace() == before + [(0, "refresh"), (2, "refresh"), (4, "refresh")]
    p.write_held()
    assert trace()[-1] == (3, "refresh") and len(rec(3)) == 3
    p.holding = False
    p.close()


def test_refresh_twitter_shows_refresh_rec_post_count_when_following_nobody(twitter):
    for i in range(10):
        twitter.execute(1, "create_post", content=f"bob {i}")
    for _ in range(5):
        ids = found_ids(twitter.execute(0, "refresh"))
        assert len(ids) == twitter.settings.refresh_rec_post_count == 2
        assert set(ids) <= set(range(1, 11))
        rec = twitter.connection.execute("SELECT post_id FROM rec WHERE user_id = 0").fetchall()
        assert len(rec) == twitter.settings.max_rec_post_len


def test_comments_per_post_shows_the_most_recent_in_creation_order():
    from conftest import make_platform

    p = make_platform("reddit", comments_per_post=2)
    p.execute(0, "create_post", content="topic")
    for i in range(5):
        p.execute(1 + i % 2, "create_comment", post_id=1, content=f"c{i}")
    shown = p.execute(2, "search_posts", query="topic")["posts"][0]["comments"]
    assert [c["content"] for c in shown] == ["c3", "c4"]
    everything = make_platform("reddit")
    everything.execute(0, "create_post", content="topic")
    for i in range(5):
        everything.execute(1, "create_comment", post_id=1, content=f"c{i}")
    assert len(everything.execute(2, "search_posts", query="topic")["posts"][0]["comments"]) == 5
