"""Chat groups: create_group, join_group, leave_group, send_to_group, listen_from_group."""

from __future__ import annotations

from platform_helpers import fails, last_trace, one, trace_count

from oasis_des import ActionType


def members(p, gid):
    return [
        r[0]
        for r in p.connection.execute(
            "SELECT agent_id FROM group_members WHERE group_id = ? ORDER BY agent_id", (gid,)
        )
    ]


def test_create_group_joins_the_creator(platform):
    assert platform.execute(0, ActionType.CREATE_GROUP, group_name="cats") == {
        "success": True,
        "group_id": 1,
    }
    assert one(platform, "SELECT group_id, name FROM chat_group") == (1, "cats")
    assert members(platform, 1) == [0]
    t = last_trace(platform)
    assert t["action"] == "create_group" and t["user_id"] == 0
    assert list(t["info"]) == ["group_id", "group_name"]
    assert t["info"] == {"group_id": 1, "group_name": "cats"}
    assert platform.execute(1, "create_group", group_name="cats") == {
        "success": True,
        "group_id": 2,
    }


def test_join_group(platform):
    platform.execute(0, "create_group", group_name="cats")
    assert platform.execute(1, ActionType.JOIN_GROUP, group_id=1) == {"success": True}
    assert members(platform, 1) == [0, 1]
    t = last_trace(platform)
    assert t["action"] == "join_group" and t["user_id"] == 1
    assert list(t["info"]) == ["group_id"]
    assert t["info"] == {"group_id": 1}


def test_join_missing_group(platform):
    fails(platform.execute(1, "join_group", group_id=1), "Group does not exist.")
    assert one(platform, "SELECT COUNT(*) FROM group_members") == 0


def test_join_group_twice(platform):
    platform.execute(0, "create_group", group_name="cats")
    fails(platform.execute(0, "join_group", group_id=1), "User is already in the group.")
    platform.execute(1, "join_group", group_id=1)
    fails(platform.execute(1, "join_group", group_id=1), "User is already in the group.")
    assert members(platform, 1) == [0, 1]


def test_leave_group(platform):
    platform.execute(0, "create_group", group_name="cats")
    platform.execute(1, "join_group", group_id=1)
    assert platform.execute(0, ActionType.LEAVE_GROUP, group_id=1) == {"success": True}
    assert members(platform, 1) == [1]
    t = last_trace(platform)
    assert t["action"] == "leave_group" and t["user_id"] == 0
    assert list(t["info"]) == ["group_id"]
    assert t["info"] == {"group_id": 1}
    # and back in
    assert platform.execute(0, "join_group", group_id=1) == {"success": True}


def test_leave_group_not_member(platform):
    platform.execute(0, "create_group", group_name="cats")
    fails(platform.execute(1, "leave_group", group_id=1), "User is not a member of this group.")
    fails(platform.execute(1, "leave_group", group_id=9), "User is not a member of this group.")
    platform.execute(0, "leave_group", group_id=1)
    fails(platform.execute(0, "leave_group", group_id=1), "User is not a member of this group.")


def test_send_to_group(platform):
    platform.execute(1, "create_group", group_name="cats")
    platform.execute(0, "join_group", group_id=1)
    platform.execute(2, "join_group", group_id=1)
    result = platform.execute(1, ActionType.SEND_TO_GROUP, group_id=1, message="meow")
    assert set(result) == {"success", "message_id", "to"}
    assert result["success"] is True and result["message_id"] == 1
    assert sorted(result["to"]) == [0, 2]
    assert one(platform, "SELECT group_id, sender_id, content FROM group_messages") == (
        1,
        1,
        "meow",
    )
    t = last_trace(platform)
    assert t["action"] == "send_to_group" and t["user_id"] == 1
    assert list(t["info"]) == ["group_id", "message_id", "content"]
    assert t["info"] == {"group_id": 1, "message_id": 1, "content": "meow"}


def test_send_to_group_alone_has_no_recipients(platform):
    platform.execute(1, "create_group", group_name="solo")
    result = platform.execute(1, "send_to_group", group_id=1, message="anyone?")
    assert result == {"success": True, "message_id": 1, "to": []}


def test_send_to_group_not_member(platform):
    platform.execute(0, "create_group", group_name="cats")
    fails(
        platform.execute(1, "send_to_group", group_id=1, message="hi"),
        "User is not a member of this group.",
    )
    fails(
        platform.execute(1, "send_to_group", group_id=5, message="hi"),
        "User is not a member of this group.",
    )
    platform.execute(1, "join_group", group_id=1)
    platform.execute(1, "leave_group", group_id=1)
    fails(
        platform.execute(1, "send_to_group", group_id=1, message="hi"),
        "User is not a member of this group.",
    )
    assert one(platform, "SELECT COUNT(*) FROM group_messages") == 0


def test_listen_from_group(platform):
    platform.execute(0, "create_group", group_name="cats")  # 1
    platform.execute(1, "create_group", group_name="dogs")  # 2
    platform.execute(2, "create_group", group_name="birds")  # 3
    platform.execute(2, "join_group", group_id=1)
    platform.now = 3.0
    platform.execute(0, "send_to_group", group_id=1, message="one")
    platform.execute(2, "send_to_group", group_id=1, message="two")
    platform.execute(1, "send_to_group", group_id=2, message="woof")
    n = trace_count(platform)
    result = platform.execute(2, ActionType.LISTEN_FROM_GROUP)
    assert trace_count(platform) == n  # not traced
    assert set(result) == {"success", "all_groups", "joined_groups", "messages"}
    assert result["success"] is True
    assert result["all_groups"] == {1: "cats", 2: "dogs", 3: "birds"}
    assert sorted(result["joined_groups"]) == [1, 3]
    assert set(result["messages"]) <= {1, 3}
    msgs = result["messages"][1]
    assert [m["content"] for m in msgs] == ["one", "two"]
    assert [m["sender_id"] for m in msgs] == [0, 2]
    assert [m["message_id"] for m in msgs] == [1, 2]
    assert list(msgs[0]) == ["message_id", "content", "sender_id", "sent_at"]
    expected = 3 if platform.kind == "twitter" else "2024-01-01 00:03:00.000000"
    assert msgs[0]["sent_at"] == expected
    assert one(platform, "SELECT sent_at FROM group_messages WHERE message_id = 1") == expected
    assert result["messages"].get(3, []) == []


def test_listen_from_group_with_no_groups(platform):
    n = trace_count(platform)
    result = platform.execute(0, "listen_from_group")
    assert result["success"] is True
    assert result["all_groups"] == {}
    assert result["joined_groups"] == []
    assert result["messages"] == {}
    assert trace_count(platform) == n
