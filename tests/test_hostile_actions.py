"""Platform actions with hostile arguments, as LLM agents send them: any JSON value.

Every call returns {"success": bool, ...}: a refusal changes no table and keeps the
attempt (with its arguments) in failed_action; a success stores text arguments verbatim.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import make_platform
from hostile_values import (
    BIG_INTS,
    LONE_SURROGATES,
    NASTY_TEXTS,
    NUL_TEXTS,
    WRONG_TYPES,
    json_values,
    new_texts,
    same_json,
    table_dump,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oasis_des import Platform
from oasis_des.llm.faults import LLMFault
from oasis_des.llm.tools import ToolSet
from oasis_des.platform.actions import (
    ACTION_SPECS,
    MAX_QUERY_CHARS,
    MAX_TEXT_CHARS,
    ActionType,
    ArgSpec,
)

ACTIONS = [s for s in ACTION_SPECS.values() if s.action is not ActionType.SIGNUP]
VERBATIM = NASTY_TEXTS + NUL_TEXTS  # NUL is stored as is (docs/limits.md)


def seeded_platform(kind: str = "twitter") -> Platform:
    """Three users, a post, a comment, a group and a product, so ids 1 exist."""
    p = make_platform(kind)
    p.execute(0, "create_post", content="p")
    p.execute(0, "create_comment", post_id=1, content="c")
    p.execute(0, "create_group", group_name="g")
    p.execute(1, "join_group", group_id=1)
    p.sign_up_product(1, "GlowPod")
    return p


def call(p: Platform, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """Execute and check the contract: a clean failure, or a success storing texts verbatim."""
    before = table_dump(p.connection)
    result = p.execute(1, action, **args)
    after = table_dump(p.connection)
    assert isinstance(result, dict) and type(result.get("success")) is bool, result
    if result["success"]:
        stored = new_texts(before, after)
        for name, value in args.items():
            if isinstance(value, str) and name != "product_name":  # products are looked up
                assert value in stored, (action, name, value[:50])
    else:
        message = result.get("error", result.get("message"))
        assert isinstance(message, str) and message.encode("utf-8")  # storable text
        failures = after.pop("failed_action")
        assert len(failures) == len(before.pop("failed_action")) + 1
        assert after == before, "a failed action changed the tables"
        assert same_json(failures[-1][5], args)  # the attempt is kept, arguments and all
    return result


def valid_value(arg: ArgSpec) -> Any:
    return 1 if arg.type is int else ("GlowPod" if arg.name == "product_name" else "t")


# -- explicit cases ---------------------------------------------------------------------
@pytest.mark.parametrize("text", VERBATIM, ids=repr)
@pytest.mark.parametrize("kind", ["twitter", "reddit"])
def test_nasty_texts_are_stored_verbatim_by_every_text_argument(kind: str, text: str) -> None:
    with seeded_platform(kind) as p:
        for spec in ACTIONS:
            texts = [a for a in spec.args if a.type is str and a.name != "product_name"]
            for arg in texts:
                args = {a.name: valid_value(a) for a in spec.args}
                args[arg.name] = text
                call(p, spec.action.value, args)


@pytest.mark.parametrize(
    "bad", [*WRONG_TYPES, *BIG_INTS, *LONE_SURROGATES, "1.0", "-1", "", "1e3"], ids=repr
)
def test_wrong_values_for_every_argument_are_refused_naming_it(bad: Any) -> None:
    with seeded_platform() as p:
        for spec in ACTIONS:
            for arg in spec.args:
                if arg.type is str and isinstance(bad, str) and bad not in LONE_SURROGATES:
                    continue  # any valid text is a valid text argument
                if bad is None and not arg.required:
                    continue  # an optional argument may be left out
                args = {a.name: valid_value(a) for a in spec.args}
                args[arg.name] = bad
                result = call(p, spec.action.value, args)
                assert result["success"] is False
                assert arg.name in result["error"], (spec.action, arg.name, result)


def test_a_ten_megabyte_post_is_stored_verbatim() -> None:
    content = ("x" * 1023 + "\n") * 10 * 1024  # 10 MiB
    with seeded_platform() as p:
        assert call(p, "create_post", {"content": content})["success"]
        stored = p.connection.execute("SELECT content FROM post ORDER BY post_id DESC").fetchone()
        assert stored == (content,)


def test_texts_beyond_the_limits_are_refused_with_the_limit() -> None:
    with seeded_platform() as p:
        result = call(p, "create_post", {"content": "x" * (MAX_TEXT_CHARS + 1)})
        assert f"at most {MAX_TEXT_CHARS:,} characters" in result["error"]
        result = call(p, "search_posts", {"query": "%" * (MAX_QUERY_CHARS + 1)})
        assert "'query'" in result["error"] and f"{MAX_QUERY_CHARS:,}" in result["error"]
        # the longest query, all LIKE wildcards, is a valid search (escaped: matches nothing)
        result = call(p, "search_posts", {"query": "%_" * (MAX_QUERY_CHARS // 2)})
        assert result == {"success": False, "message": "No posts found matching the query."}


def test_sql_in_texts_is_data() -> None:
    with seeded_platform() as p:
        tables = {r[0] for r in p.connection.execute("SELECT name FROM sqlite_master")}
        for text in ("'); DROP TABLE post; --", "1; DELETE FROM user"):
            call(p, "create_post", {"content": text})
            call(p, "search_posts", {"query": text})
            call(p, "search_user", {"query": text})
        assert {r[0] for r in p.connection.execute("SELECT name FROM sqlite_master")} == tables
        assert p.connection.execute("SELECT COUNT(*) FROM user").fetchone() == (3,)
        assert call(p, "search_posts", {"query": "DROP TABLE"})["success"]


def test_nul_survives_the_database_and_feeds() -> None:
    with seeded_platform() as p:
        post = call(p, "create_post", {"content": "before\x00after"})["post_id"]
        row = p.connection.execute("SELECT content FROM post WHERE post_id = ?", (post,)).fetchone()
        assert row == ("before\x00after",)
        feed = p.execute(2, "refresh")
        assert "before\x00after" in [q["content"] for q in feed["posts"]]
        json.dumps(feed)  # what an LLM prompt is made of


@pytest.mark.parametrize(
    "key", ["\ud800", "\x00", "x" * 100_000, "'); DROP TABLE post; --"], ids=repr
)
def test_hostile_argument_names_are_refused(key: str) -> None:
    with seeded_platform() as p:
        result = call(p, "create_post", {"content": "c", key: 1})
        assert "Unexpected argument" in result["error"] and len(result["error"]) < 300


@pytest.mark.parametrize("agent", [*WRONG_TYPES, *BIG_INTS, -1, "x", "\ud800"], ids=repr)
def test_hostile_agent_ids_and_action_names_are_refused(agent: Any) -> None:
    with seeded_platform() as p:
        before = table_dump(p.connection)
        assert p.execute(agent, "do_nothing")["success"] is False
        assert p.execute(1, agent if not isinstance(agent, int) else str(agent))["success"] is False
        after = table_dump(p.connection)
        assert len(after.pop("failed_action")) == len(before.pop("failed_action")) + 2
        assert after == before


@pytest.mark.parametrize("digits", [20, 5000])  # beyond 64 bits; beyond Python's int parsing
def test_an_agent_id_of_too_many_digits_is_refused_in_a_short_message(digits: int) -> None:
    with seeded_platform() as p:
        result = p.execute("9" * digits, "do_nothing")
        assert result["success"] is False and len(result["error"]) < 200
        assert "agent_id must be a non-negative 64-bit integer" in result["error"]


# -- properties ---------------------------------------------------------------------------
def arguments_of(spec_index: int) -> st.SearchStrategy[dict[str, Any]]:
    spec = ACTIONS[spec_index]
    fields = {
        a.name: st.one_of(st.just(valid_value(a)), st.text(max_size=30), json_values)
        if a.type is str
        else st.one_of(st.just(1), st.integers(0, 3), json_values)
        for a in spec.args
    }
    unknown = st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=1)
    extra = st.integers(0, 4).flatmap(lambda k: unknown if k == 0 else st.just({}))  # now and then
    return st.tuples(st.fixed_dictionaries(fields), extra).map(lambda t: {**t[1], **t[0]})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    index=st.integers(0, len(ACTIONS) - 1),
    kind=st.sampled_from(["twitter", "reddit"]),
)
def test_any_json_arguments_fail_cleanly_or_are_stored_verbatim(
    data: st.DataObject, index: int, kind: str
) -> None:
    args = data.draw(arguments_of(index))
    with seeded_platform(kind) as p:
        call(p, ACTIONS[index].action.value, args)
        assert p.connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(1, 6))
def test_a_batch_of_hostile_actions_commits_only_whole_actions(data: st.DataObject, n: int) -> None:
    """Inside one engine transaction, failures leave nothing behind and successes stay."""
    with seeded_platform() as p:
        with p.batch():
            for _ in range(n):
                index = data.draw(st.integers(0, len(ACTIONS) - 1))
                call(p, ACTIONS[index].action.value, data.draw(arguments_of(index)))
        assert not p.connection.in_transaction
        assert p.connection.execute("PRAGMA foreign_key_check").fetchall() == []


# -- through the LLM tool-call reader ------------------------------------------------------
def tool_call(name: str, arguments: str) -> dict[str, Any]:
    return {
        "choices": [
            {"message": {"tool_calls": [{"function": {"name": name, "arguments": arguments}}]}}
        ]
    }


@settings(max_examples=150, deadline=None)
@given(data=st.data(), index=st.integers(0, len(ACTIONS) - 1), as_text=st.booleans())
def test_llm_answers_with_any_arguments_become_a_fault_or_a_clean_action(
    data: st.DataObject, index: int, as_text: bool
) -> None:
    name = ACTIONS[index].action.value
    arguments = json.dumps(data.draw(arguments_of(index)))  # NaN, surrogates: as LLMs write them
    body = (
        {"choices": [{"message": {"content": f'{{"action": "{name}", "args": {arguments}}}'}}]}
        if as_text
        else tool_call(name, arguments)
    )
    tools = ToolSet([s.action.value for s in ACTIONS], tool_calling=not as_text, max_chars=4000)
    try:
        decision = tools.decision(body)
    except LLMFault:
        return
    with seeded_platform() as p:
        call(p, decision.action, decision.args)


@pytest.mark.parametrize(
    "arguments", ['{"post_id": ' + "1" * 4400 + "}", '{"post_id": ' + "[" * 1500 + "]" * 1500 + "}"]
)
def test_llm_arguments_json_python_cannot_parse_are_a_fault(arguments: str) -> None:
    tools = ToolSet(["like_post"], tool_calling=True, max_chars=10_000)
    with pytest.raises(LLMFault):
        tools.decision(tool_call("like_post", arguments))
