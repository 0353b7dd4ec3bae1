"""sign_up, do_nothing, purchase_product, interview and products."""

from __future__ import annotations

import pytest
from platform_helpers import dump, failures, fails, last_trace, one, trace_count, traces, user_row

from oasis_des import ActionType, Platform


# -- sign_up ----------------------------------------------------------------------------------
def test_sign_up(platform):
    platform.now = 12.0
    assert platform.sign_up(agent_id=5, user_name="dave", name="Dave", bio="Hi.") == {
        "success": True,
        "user_id": 5,
    }
    row = user_row(platform, 5)
    assert row["user_id"] == row["agent_id"] == 5
    assert (row["user_name"], row["name"], row["bio"]) == ("dave", "Dave", "Hi.")
    assert (row["num_followings"], row["num_followers"]) == (0, 0)
    t = last_trace(platform)
    assert t["action"] == "sign_up" and t["user_id"] == 5
    assert list(t["info"]) == ["name", "user_name", "bio"]
    assert t["info"] == {"name": "Dave", "user_name": "dave", "bio": "Hi."}
    assert t["sim_time"] == 12.0


def test_sign_up_through_execute_with_digit_string_agent(platform):
    assert platform.execute("7", ActionType.SIGNUP, user_name="g", name="G", bio="b") == {
        "success": True,
        "user_id": 7,
    }
    assert user_row(platform, 7)["agent_id"] == 7


def test_sign_up_twice(platform):
    before = dump(platform)
    result = platform.sign_up(agent_id=1, user_name="bob2", name="Bob2", bio="")
    assert result["success"] is False and result["error"]
    assert dump(platform) == before
    assert user_row(platform, 1)["user_name"] == "bob"


def test_actions_of_an_agent_that_has_not_signed_up(platform):
    n = trace_count(platform)
    for action, args in [
        ("create_post", {"content": "x"}),
        ("do_nothing", {}),
        ("refresh", {}),
        ("listen_from_group", {}),
    ]:
        result = platform.execute(9, action, **args)
        assert result["success"] is False and result["error"]
    assert trace_count(platform) == n
    assert one(platform, "SELECT COUNT(*) FROM post") == 0


# -- do_nothing -------------------------------------------------------------------------------
def test_do_nothing(platform):
    n = trace_count(platform)
    assert platform.execute(1, ActionType.DO_NOTHING) == {"success": True}
    assert trace_count(platform) == n + 1
    t = last_trace(platform)
    assert t["action"] == "do_nothing" and t["user_id"] == 1
    assert t["info"] == {}


# -- purchase_product ------------------------------------------------------------------------
@pytest.fixture
def shop(platform):
    assert platform.sign_up_product(product_id=1, name="GlowPod") == {
        "success": True,
        "product_id": 1,
    }
    assert platform.sign_up_product(product_id=4, name="Mug") == {"success": True, "product_id": 4}
    return platform


def sales(p, pid):
    return one(p, "SELECT sales FROM product WHERE product_id = ?", (pid,))


def test_sign_up_product_not_traced(platform):
    n = trace_count(platform)
    platform.sign_up_product(product_id=1, name="GlowPod")
    assert trace_count(platform) == n
    assert one(platform, "SELECT product_id, product_name, sales FROM product") == (1, "GlowPod", 0)


def test_sign_up_product_twice(shop):
    assert shop.sign_up_product(product_id=1, name="Other")["success"] is False
    assert one(shop, "SELECT product_name FROM product WHERE product_id = 1") == "GlowPod"


def test_purchase_product(shop):
    assert shop.execute(0, ActionType.PURCHASE_PRODUCT, product_name="Mug", purchase_num=2) == {
        "success": True,
        "product_id": 4,
    }
    assert sales(shop, 4) == 2 and sales(shop, 1) == 0
    t = last_trace(shop)
    assert t["action"] == "purchase_product" and t["user_id"] == 0
    assert list(t["info"]) == ["product_name", "purchase_num"]
    assert t["info"] == {"product_name": "Mug", "purchase_num": 2}
    shop.execute(1, "purchase_product", product_name="Mug", purchase_num=3)
    shop.execute(0, "purchase_product", product_name="Mug", purchase_num="5")  # digit string
    assert sales(shop, 4) == 10
    assert last_trace(shop)["info"] == {"product_name": "Mug", "purchase_num": 5}


def test_purchase_unknown_product(shop):
    for name in ("Nope", "mug", ""):
        fails(shop.execute(0, "purchase_product", product_name=name, purchase_num=1),
              "No such product.")
    # the product check comes first
    fails(shop.execute(0, "purchase_product", product_name="Nope", purchase_num=0),
          "No such product.")


@pytest.mark.parametrize("bad", [0, -1, -5])
def test_purchase_num_must_be_positive(shop, bad):
    """fix: OASIS lets agents buy zero or negative amounts."""
    n = trace_count(shop)
    message = fails(shop.execute(0, "purchase_product", product_name="Mug", purchase_num=bad))
    assert "purchase_num" in message
    assert sales(shop, 4) == 0
    assert trace_count(shop) == n


@pytest.mark.parametrize("bad", [1.5, 2.0, True, "two", "-1", "1.0", "", [1]])
def test_purchase_num_must_be_an_integer(shop, bad):
    message = fails(shop.execute(0, "purchase_product", product_name="Mug", purchase_num=bad))
    assert "purchase_num" in message
    assert sales(shop, 4) == 0


# -- interview ----------------------------------------------------------------------------------
def test_interview(platform):
    assert platform.execute(1, ActionType.INTERVIEW, prompt="How are you?") == {
        "success": True,
        "interview_id": 1,
    }
    t = last_trace(platform)
    assert t["action"] == "interview" and t["user_id"] == 1
    assert list(t["info"]) == ["prompt", "interview_id"]
    assert t["info"] == {"prompt": "How are you?", "interview_id": 1}
    assert platform.execute(2, "interview", prompt="And you?", response="Fine.") == {
        "success": True,
        "interview_id": 2,
    }
    t = last_trace(platform)
    assert list(t["info"]) == ["prompt", "response", "interview_id"]
    assert t["info"] == {"prompt": "And you?", "response": "Fine.", "interview_id": 2}


def test_interview_invisible_to_others(platform):
    platform.execute(1, "interview", prompt="secret question", response="secret answer")
    assert one(platform, "SELECT COUNT(*) FROM post") == 0
    assert platform.execute(0, "search_posts", query="secret")["success"] is False


def test_interview_ids_unique_after_rollback_and_reopen(tmp_path):
    path = tmp_path / "run.db"
    p = Platform(db_path=path, kind="twitter")
    p.sign_up(agent_id=0, user_name="a", name="A", bio="")
    assert p.execute(0, "interview", prompt="q1")["success"]
    with pytest.raises(RuntimeError):
        with p.batch():
            p.execute(0, "interview", prompt="q2 (rolled back)")
            raise RuntimeError("abort the batch")
    assert p.execute(0, "interview", prompt="q3")["success"]
    p.close()
    p = Platform(db_path=path, kind="twitter")
    assert p.execute(0, "interview", prompt="q4")["success"]
    ids = [t["info"]["interview_id"] for t in traces(p) if t["action"] == "interview"]
    p.close()
    assert len(ids) == 3
    assert len(set(ids)) == 3, f"interview ids repeat: {ids}"


def test_failed_action_rows_for_misc(shop):
    shop.now = 4.0
    shop.execute(2, "purchase_product", product_name="Nope", purchase_num=1)
    row = failures(shop)[-1]
    assert row["user_id"] == 2
    assert row["action"] == "purchase_product"
    assert row["args"] == {"product_name": "Nope", "purchase_num": 1}
    assert row["error"] == "No such product."
    assert row["sim_time"] == 4.0
