"""Writing actions: create_post, repost, quote_post, create_comment, report_post."""

from __future__ import annotations

from platform_helpers import comment_row, fails, last_trace, one, post_row, trace_count

from oasis_des import ActionType


# -- create_post ----------------------------------------------------------------------
def test_create_post_row_result_and_trace(platform):
    assert platform.execute(0, ActionType.CREATE_POST, content="hello world") == {
        "success": True,
        "post_id": 1,
    }
    row = post_row(platform, 1)
    assert row["user_id"] == 0
    assert row["content"] == "hello world"
    assert row["original_post_id"] is None and row["quote_content"] is None
    assert (row["num_likes"], row["num_dislikes"], row["num_shares"], row["num_reports"]) == (
        0,
        0,
        0,
        0,
    )
    t = last_trace(platform)
    assert t["action"] == "create_post" and t["user_id"] == 0
    assert list(t["info"]) == ["content", "post_id"]
    assert t["info"] == {"content": "hello world", "post_id": 1}


def test_create_post_ids_increase_per_post(platform):
    ids = [platform.execute(u, "create_post", content=f"p{u}")["post_id"] for u in (0, 1, 2, 0)]
    assert ids == [1, 2, 3, 4]
    assert one(platform, "SELECT COUNT(*) FROM post WHERE user_id = 0") == 2


# -- repost -----------------------------------------------------------------------------
def test_repost_creates_empty_post_pointing_at_root(platform):
    platform.execute(0, "create_post", content="original")
    assert platform.execute(1, ActionType.REPOST, post_id=1) == {"success": True, "post_id": 2}
    new = post_row(platform, 2)
    assert new["user_id"] == 1
    assert new["original_post_id"] == 1
    assert new["content"] == ""
    assert new["quote_content"] is None
    assert post_row(platform, 1)["num_shares"] == 1
    assert new["num_shares"] == 0
    t = last_trace(platform)
    assert t["action"] == "repost" and t["user_id"] == 1
    assert list(t["info"]) == ["reposted_id", "new_post_id"]
    assert t["info"] == {"reposted_id": 1, "new_post_id": 2}


def test_repost_missing_post(platform):
    fails(platform.execute(1, "repost", post_id=7), "Post not found.")
    assert one(platform, "SELECT COUNT(*) FROM post") == 0


def test_repost_of_repost_goes_to_root_and_traces_given_id(platform):
    platform.execute(0, "create_post", content="original")
    platform.execute(1, "repost", post_id=1)  # post 2
    assert platform.execute(2, "repost", post_id=2) == {"success": True, "post_id": 3}
    assert post_row(platform, 3)["original_post_id"] == 1
    assert post_row(platform, 1)["num_shares"] == 2
    assert post_row(platform, 2)["num_shares"] == 0
    assert last_trace(platform)["info"] == {"reposted_id": 2, "new_post_id": 3}


def test_repost_duplicate_direct_and_through_a_repost(platform):
    platform.execute(0, "create_post", content="original")
    platform.execute(1, "repost", post_id=1)  # 2
    platform.execute(2, "repost", post_id=1)  # 3
    fails(platform.execute(1, "repost", post_id=1), "Repost record already exists.")
    # post 3 is a repost of post 1: going to the root finds user 1's repost again
    fails(platform.execute(1, "repost", post_id=3), "Repost record already exists.")
    assert post_row(platform, 1)["num_shares"] == 2
    assert one(platform, "SELECT COUNT(*) FROM post") == 3


def test_quote_does_not_block_repost(platform):
    """fix: only the user's reposts count as an existing repost, a quote does not."""
    platform.execute(0, "create_post", content="original")
    assert platform.execute(1, "quote_post", post_id=1, quote_content="so true")["success"]
    assert platform.execute(1, "repost", post_id=1) == {"success": True, "post_id": 3}
    assert post_row(platform, 3)["quote_content"] is None
    assert post_row(platform, 1)["num_shares"] == 2


def test_repost_does_not_block_quote(platform):
    platform.execute(0, "create_post", content="original")
    platform.execute(1, "repost", post_id=1)
    assert platform.execute(1, "quote_post", post_id=1, quote_content="q") == {
        "success": True,
        "post_id": 3,
    }


def test_repost_of_a_quote_points_at_the_quote(platform):
    platform.execute(0, "create_post", content="original")
    platform.execute(1, "quote_post", post_id=1, quote_content="q")  # 2, a quote
    assert platform.execute(2, "repost", post_id=2)["success"]
    assert post_row(platform, 3)["original_post_id"] == 2
    assert post_row(platform, 2)["num_shares"] == 1
    assert post_row(platform, 1)["num_shares"] == 1
    # reposting the original is a different post: allowed
    assert platform.execute(2, "repost", post_id=1)["success"]


def test_repost_own_post_allowed(platform):
    platform.execute(0, "create_post", content="mine")
    assert platform.execute(0, "repost", post_id=1) == {"success": True, "post_id": 2}


# -- quote_post ---------------------------------------------------------------------------
def test_quote_common_post(platform):
    platform.execute(0, "create_post", content="original")
    assert platform.execute(1, ActionType.QUOTE_POST, post_id=1, quote_content="my take") == {
        "success": True,
        "post_id": 2,
    }
    q = post_row(platform, 2)
    assert q["user_id"] == 1
    assert q["original_post_id"] == 1
    assert q["content"] == "original"
    assert q["quote_content"] == "my take"
    assert post_row(platform, 1)["num_shares"] == 1
    t = last_trace(platform)
    assert t["action"] == "quote_post"
    assert list(t["info"]) == ["quoted_id", "new_post_id"]
    assert t["info"] == {"quoted_id": 1, "new_post_id": 2}


def test_quote_missing_post(platform):
    fails(platform.execute(1, "quote_post", post_id=3, quote_content="x"), "Post not found.")


def test_quote_of_repost_points_at_root(platform):
    platform.execute(0, "create_post", content="original")
    platform.execute(1, "repost", post_id=1)  # 2
    platform.execute(2, "quote_post", post_id=2, quote_content="via repost")  # 3
    q = post_row(platform, 3)
    assert q["original_post_id"] == 1
    assert q["content"] == "original"
    assert post_row(platform, 1)["num_shares"] == 2
    assert post_row(platform, 2)["num_shares"] == 0
    assert last_trace(platform)["info"] == {"quoted_id": 2, "new_post_id": 3}


def test_quote_of_quote_points_at_quoted_posts_root(platform):
    platform.execute(0, "create_post", content="original")
    platform.execute(1, "quote_post", post_id=1, quote_content="first")  # 2
    platform.execute(2, "quote_post", post_id=2, quote_content="second")  # 3
    q = post_row(platform, 3)
    assert q["original_post_id"] == 1
    assert q["content"] == "original"
    assert q["quote_content"] == "second"
    assert post_row(platform, 1)["num_shares"] == 2
    assert post_row(platform, 2)["num_shares"] == 0


def test_quoting_twice_is_allowed(platform):
    platform.execute(0, "create_post", content="original")
    assert platform.execute(1, "quote_post", post_id=1, quote_content="a")["success"]
    assert platform.execute(1, "quote_post", post_id=1, quote_content="b")["success"]
    assert post_row(platform, 1)["num_shares"] == 2


# -- create_comment -----------------------------------------------------------------------
def test_create_comment(platform):
    platform.execute(0, "create_post", content="post")
    assert platform.execute(1, ActionType.CREATE_COMMENT, post_id=1, content="nice") == {
        "success": True,
        "comment_id": 1,
    }
    c = comment_row(platform, 1)
    assert (c["post_id"], c["user_id"], c["content"], c["num_likes"], c["num_dislikes"]) == (
        1,
        1,
        "nice",
        0,
        0,
    )
    t = last_trace(platform)
    assert t["action"] == "create_comment" and t["user_id"] == 1
    assert list(t["info"]) == ["content", "comment_id"]
    assert t["info"] == {"content": "nice", "comment_id": 1}


def test_create_comment_missing_post(platform):
    fails(platform.execute(1, "create_comment", post_id=1, content="x"), "Post not found.")
    assert one(platform, "SELECT COUNT(*) FROM comment") == 0


def test_comment_on_repost_goes_to_root_but_quote_keeps_its_own(platform):
    platform.execute(0, "create_post", content="post")
    platform.execute(1, "repost", post_id=1)  # 2
    platform.execute(1, "quote_post", post_id=1, quote_content="q")  # 3
    platform.execute(2, "create_comment", post_id=2, content="on repost")
    platform.execute(2, "create_comment", post_id=3, content="on quote")
    assert comment_row(platform, 1)["post_id"] == 1
    assert comment_row(platform, 2)["post_id"] == 3


# -- report_post ----------------------------------------------------------------------------
def test_report_post(platform):
    platform.execute(0, "create_post", content="bad")
    assert platform.execute(1, ActionType.REPORT_POST, post_id=1, report_reason="spam") == {
        "success": True,
        "report_id": 1,
    }
    assert one(platform, "SELECT user_id, post_id, report_reason FROM report") == (1, 1, "spam")
    assert post_row(platform, 1)["num_reports"] == 1
    t = last_trace(platform)
    assert t["action"] == "report_post"
    assert list(t["info"]) == ["post_id", "report_id"]
    assert t["info"] == {"post_id": 1, "report_id": 1}
    assert platform.execute(2, "report_post", post_id=1, report_reason="lies")["report_id"] == 2
    assert post_row(platform, 1)["num_reports"] == 2


def test_report_duplicate(platform):
    platform.execute(0, "create_post", content="bad")
    platform.execute(1, "report_post", post_id=1, report_reason="spam")
    fails(
        platform.execute(1, "report_post", post_id=1, report_reason="again"),
        "Report record already exists.",
    )
    assert post_row(platform, 1)["num_reports"] == 1


def test_report_missing_post(platform):
    fails(platform.execute(1, "report_post", post_id=4, report_reason="x"), "Post not found.")
    assert one(platform, "SELECT COUNT(*) FROM report") == 0


def test_report_counts_on_the_exact_post_not_the_root(platform):
    platform.execute(0, "create_post", content="bad")
    platform.execute(1, "repost", post_id=1)  # 2
    platform.execute(2, "report_post", post_id=2, report_reason="x")
    assert post_row(platform, 2)["num_reports"] == 1
    assert post_row(platform, 1)["num_reports"] == 0
    assert one(platform, "SELECT post_id FROM report") == 2
    # a report of the repost is not a report of the root
    assert platform.execute(2, "report_post", post_id=1, report_reason="x")["success"]


def test_each_success_writes_exactly_one_trace_row(platform):
    before = trace_count(platform)
    platform.execute(0, "create_post", content="a")
    platform.execute(1, "repost", post_id=1)
    platform.execute(1, "quote_post", post_id=1, quote_content="q")
    platform.execute(2, "create_comment", post_id=1, content="c")
    platform.execute(2, "report_post", post_id=1, report_reason="r")
    assert trace_count(platform) == before + 5
