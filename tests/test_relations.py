"""Follows, mutes and the igraph follow graph."""

from __future__ import annotations

from platform_helpers import (
    assert_graph_matches,
    fails,
    follow_edges,
    graph_edges,
    last_trace,
    one,
    user_row,
)

from oasis_des import ActionType


def counts(p, uid):
    row = user_row(p, uid)
    return row["num_followings"], row["num_followers"]


# -- follow ---------------------------------------------------------------------------------
def test_follow(platform):
    assert platform.execute(0, ActionType.FOLLOW, followee_id=1) == {
        "success": True,
        "follow_id": 1,
    }
    assert one(platform, "SELECT follower_id, followee_id FROM follow") == (0, 1)
    assert counts(platform, 0) == (1, 0)
    assert counts(platform, 1) == (0, 1)
    assert counts(platform, 2) == (0, 0)
    t = last_trace(platform)
    assert t["action"] == "follow" and t["user_id"] == 0
    assert list(t["info"]) == ["follow_id"]
    assert t["info"] == {"follow_id": 1}
    assert graph_edges(platform) == {(0, 1): 1}
    assert_graph_matches(platform)


def test_follow_self(platform):
    """fix: OASIS lets users follow themselves."""
    fails(platform.execute(1, "follow", followee_id=1), "Users cannot follow themselves.")
    assert counts(platform, 1) == (0, 0)
    assert not follow_edges(platform)
    assert_graph_matches(platform)


def test_follow_unknown_user(platform):
    """fix: OASIS inserts a follow row for a user that does not exist."""
    fails(platform.execute(0, "follow", followee_id=3), "User not found.")
    fails(platform.execute(0, "follow", followee_id=-1), "User not found.")
    assert counts(platform, 0) == (0, 0)
    assert not follow_edges(platform)


def test_follow_duplicate(platform):
    platform.execute(0, "follow", followee_id=1)
    fails(platform.execute(0, "follow", followee_id=1), "Follow record already exists.")
    assert counts(platform, 0) == (1, 0)
    assert counts(platform, 1) == (0, 1)
    assert graph_edges(platform) == {(0, 1): 1}


def test_follow_both_directions_are_distinct(platform):
    assert platform.execute(0, "follow", followee_id=1)["success"]
    assert platform.execute(1, "follow", followee_id=0)["success"]
    assert counts(platform, 0) == (1, 1)
    assert counts(platform, 1) == (1, 1)
    assert graph_edges(platform) == {(0, 1): 1, (1, 0): 1}


# -- unfollow -------------------------------------------------------------------------------
def test_unfollow(platform):
    platform.execute(0, "follow", followee_id=1)
    platform.execute(0, "follow", followee_id=2)
    assert platform.execute(0, ActionType.UNFOLLOW, followee_id=1) == {
        "success": True,
        "follow_id": 1,
    }
    assert follow_edges(platform) == {(0, 2): 1}
    assert counts(platform, 0) == (1, 0)
    assert counts(platform, 1) == (0, 0)
    assert counts(platform, 2) == (0, 1)
    t = last_trace(platform)
    assert t["action"] == "unfollow" and t["user_id"] == 0
    assert list(t["info"]) == ["followee_id"]
    assert t["info"] == {"followee_id": 1}
    assert_graph_matches(platform)


def test_unfollow_without_follow(platform):
    fails(platform.execute(0, "unfollow", followee_id=1), "Follow record does not exist.")
    platform.execute(1, "follow", followee_id=0)
    # the reverse direction is not mine to undo
    fails(platform.execute(0, "unfollow", followee_id=1), "Follow record does not exist.")
    fails(platform.execute(0, "unfollow", followee_id=0), "Follow record does not exist.")
    fails(platform.execute(0, "unfollow", followee_id=42), "Follow record does not exist.")
    assert counts(platform, 1) == (1, 0)


def test_follow_unfollow_follow_again(platform):
    platform.execute(0, "follow", followee_id=1)
    _ = platform.graph  # apply buffered changes, then change again
    platform.execute(0, "unfollow", followee_id=1)
    assert_graph_matches(platform)
    assert platform.execute(0, "follow", followee_id=1) == {"success": True, "follow_id": 2}
    assert counts(platform, 0) == (1, 0)
    assert_graph_matches(platform)
    platform.execute(0, "unfollow", followee_id=1)
    platform.execute(0, "follow", followee_id=1)
    platform.execute(0, "unfollow", followee_id=1)
    assert not graph_edges(platform)
    assert_graph_matches(platform)


def test_graph_has_vertex_for_users_signed_up_later(twitter):
    twitter.sign_up(agent_id=7, user_name="g", name="G", bio="")
    assert twitter.graph.vcount() >= 8
    assert twitter.execute(7, "follow", followee_id=0)["success"]
    assert twitter.execute(0, "follow", followee_id=7)["success"]
    assert graph_edges(twitter) == {(7, 0): 1, (0, 7): 1}
    assert twitter.graph.are_adjacent(7, 0)
    assert_graph_matches(twitter)


# -- mute / unmute ----------------------------------------------------------------------------
def test_mute(platform):
    assert platform.execute(0, ActionType.MUTE, mutee_id=1) == {"success": True, "mute_id": 1}
    assert one(platform, "SELECT muter_id, mutee_id FROM mute") == (0, 1)
    t = last_trace(platform)
    assert t["action"] == "mute" and t["user_id"] == 0
    assert list(t["info"]) == ["mutee_id"]
    assert t["info"] == {"mutee_id": 1}
    # a mute is not a follow
    assert counts(platform, 0) == (0, 0)
    assert not graph_edges(platform)


def test_mute_self(platform):
    """fix"""
    fails(platform.execute(0, "mute", mutee_id=0), "Users cannot mute themselves.")
    assert one(platform, "SELECT COUNT(*) FROM mute") == 0


def test_mute_unknown_user(platform):
    """fix"""
    fails(platform.execute(0, "mute", mutee_id=9), "User not found.")
    assert one(platform, "SELECT COUNT(*) FROM mute") == 0


def test_mute_duplicate(platform):
    platform.execute(0, "mute", mutee_id=1)
    fails(platform.execute(0, "mute", mutee_id=1), "Mute record already exists.")
    assert one(platform, "SELECT COUNT(*) FROM mute") == 1


def test_unmute(platform):
    platform.execute(0, "mute", mutee_id=1)
    platform.execute(0, "mute", mutee_id=2)
    assert platform.execute(0, ActionType.UNMUTE, mutee_id=1) == {"success": True, "mute_id": 1}
    assert platform.connection.execute("SELECT muter_id, mutee_id FROM mute").fetchall() == [(0, 2)]
    t = last_trace(platform)
    assert t["action"] == "unmute"
    assert list(t["info"]) == ["mutee_id"]
    assert t["info"] == {"mutee_id": 1}


def test_unmute_without_mute(platform):
    fails(platform.execute(0, "unmute", mutee_id=1), "No mute record exists.")
    platform.execute(1, "mute", mutee_id=0)
    fails(platform.execute(0, "unmute", mutee_id=1), "No mute record exists.")


def test_mute_then_unmute_then_mute_again(platform):
    platform.execute(0, "mute", mutee_id=1)
    platform.execute(0, "unmute", mutee_id=1)
    assert platform.execute(0, "mute", mutee_id=1) == {"success": True, "mute_id": 2}
