"""Tools come from ACTION_SPECS; answers become Decisions or typed faults."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oasis_des.llm import faults
from oasis_des.llm.faults import LLMFault
from oasis_des.llm.profile import DEFAULT_ACTIONS
from oasis_des.llm.tools import ToolSet, answer_text, json_action
from oasis_des.platform.actions import ACTION_SPECS, ActionType
from oasis_des.policies.base import Decision

TOOLS = ToolSet(DEFAULT_ACTIONS["twitter"], tool_calling=True, max_chars=500)


def body(*, tool: str | None = None, args: Any = None, content: str | None = None,
         finish: str = "stop") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool is not None:
        arguments = args if isinstance(args, str) else json.dumps(args or {})
        message["tool_calls"] = [{"id": "1", "type": "function",
                                  "function": {"name": tool, "arguments": arguments}}]
    return {"choices": [{"index": 0, "message": message, "finish_reason": finish}]}


def fault(b: dict[str, Any], tools: ToolSet = TOOLS) -> str:
    with pytest.raises(LLMFault) as info:
        tools.decision(b)
    return info.value.category


def test_schemas_are_the_allowed_actions_with_spec_types_and_required_args() -> None:
    schemas = {t["function"]["name"]: t["function"] for t in TOOLS.schemas or []}
    assert list(schemas) == list(DEFAULT_ACTIONS["twitter"])
    assert "dislike_post" not in schemas and "interview" not in schemas  # not allowed on Twitter
    for name, fn in schemas.items():
        spec = ACTION_SPECS[ActionType(name)]
        assert fn.get("description", spec.description) == spec.description
        props = fn["parameters"]["properties"]
        assert list(props) == [a.name for a in spec.args]
        for a in spec.args:
            assert props[a.name]["type"] == {int: "integer", str: "string"}[a.type]
        assert fn["parameters"].get("required", []) == [a.name for a in spec.args if a.required]
    # Descriptions that repeat the names, or say them in other words, are left out,
    # arguments are described by their names alone: tools are most of a prompt.
    assert [n for n, fn in schemas.items() if "description" not in fn] == \
        ["create_post", "like_post", "follow", "unfollow", "create_comment", "like_comment",
         "do_nothing"]
    assert all("description" not in arg for fn in schemas.values()
               for arg in fn["parameters"]["properties"].values())


def test_tool_call_becomes_a_validated_decision() -> None:
    assert TOOLS.decision(body(tool="like_post", args={"post_id": "12"})) == \
        Decision(action="like_post", args={"post_id": 12})
    assert TOOLS.decision(body(tool="do_nothing", args="")) == Decision(action="do_nothing")
    assert TOOLS.decision(body(tool="create_post", args={"content": "hi"}, content="Sure!")) == \
        Decision(action="create_post", args={"content": "hi"})


@pytest.mark.parametrize(
    "text",
    [
        '{"action": "follow", "args": {"followee_id": 3}}',
        'I will follow them.\n```json\n{"name": "follow", "arguments": {"followee_id": 3}}\n```',
        '<tool_call>\n{"name": "follow", "arguments": {"followee_id": 3}}\n</tool_call>',
        '{"tool_call": {"function": "follow", "parameters": {"followee_id": 3}}}',
        'Set {x} aside. {"action": "follow", "args": {"followee_id": "3"}}',
    ],
)
def test_json_in_text_is_read_when_there_is_no_tool_call(text: str) -> None:
    assert TOOLS.decision(body(content=text)) == Decision(action="follow", args={"followee_id": 3})


def test_prompt_only_mode_lists_actions_and_reads_json() -> None:
    tools = ToolSet(["like_post", "do_nothing"], tool_calling=False, max_chars=500)
    assert tools.schemas is None
    assert "like_post(post_id: integer): Like a post." in tools.response_method
    assert tools.decision(body(content='{"action": "like_post", "args": {"post_id": 5}}')) == \
        Decision(action="like_post", args={"post_id": 5})


def test_answer_faults_are_typed() -> None:
    assert fault(body(tool="fly", args={})) == faults.UNKNOWN_TOOL
    assert fault(body(tool="dislike_post", args={"post_id": 1})) == faults.UNKNOWN_TOOL  # not allowed
    assert fault(body(tool="like_post", args={"post_id": "twelve"})) == faults.BAD_ARGUMENTS
    assert fault(body(tool="like_post", args={"post": 1})) == faults.BAD_ARGUMENTS
    assert fault(body(tool="like_post", args="{post_id: 1")) == faults.BAD_ARGUMENTS
    assert fault(body(tool="like_post", args="[1]")) == faults.BAD_ARGUMENTS
    assert fault(body(tool="like_post", args='{"post_id": 1', finish="length")) == faults.TOO_LONG
    assert fault(body(content="I like it!")) == faults.NO_TOOL_CALL
    assert fault(body(content="I like it and", finish="length")) == faults.TOO_LONG
    assert fault(body(content="x" * 501)) == faults.TOO_LONG
    assert fault(body(tool="create_post", args={"content": "x" * 600})) == faults.TOO_LONG
    assert fault({"choices": []}) == faults.EMPTY_CHOICES
    assert fault({"id": "x"}) == faults.MALFORMED_RESPONSE
    assert fault({"choices": [{"message": None}]}) == faults.MALFORMED_RESPONSE


def test_fault_messages_are_deterministic_text() -> None:
    with pytest.raises(LLMFault) as info:
        TOOLS.decision(body(tool="like_post", args={"post_id": "twelve"}))
    assert str(info.value).startswith("llm bad_arguments: Argument 'post_id' of like_post must be an integer")


def test_interview_answers_are_plain_text() -> None:
    assert answer_text(body(content="  I think so.  "), 100) == "I think so."
    with pytest.raises(LLMFault, match="no_answer"):
        answer_text(body(content=""), 100)
    with pytest.raises(LLMFault, match="too_long"):
        answer_text(body(content="y" * 101), 100)


def test_json_action_ignores_objects_without_a_name() -> None:
    assert json_action('{"a": 1} and {"b": {"c": 2}}') is None
    assert json_action("no json here {") is None


@pytest.mark.parametrize("inner", ["1" * 4400, "[" * 1500 + "]" * 1500])
def test_json_in_text_python_cannot_parse_is_skipped(inner: str) -> None:
    # Ints past Python's 4300-digit limit raise ValueError, deep nesting RecursionError.
    text = f'{{"action": "like_post", "args": {{"post_id": {inner}}}}} {{"action": "do_nothing"}}'
    assert json_action(text) == ("do_nothing", {})
