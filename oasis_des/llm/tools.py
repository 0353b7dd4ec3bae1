"""The agent's allowed actions as tools, and the model's answer back into a Decision.

Tool schemas are generated from `ACTION_SPECS` (names, descriptions, argument types), so a
new action or argument needs no change here. Servers without tool calling get the same
actions as a list in the system prompt and answer with a JSON object in the text; answers
with tool calls written as text (common with small local models) are parsed the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from oasis_des.llm import faults
from oasis_des.llm.faults import LLMFault
from oasis_des.platform.actions import ACTION_SPECS, ActionSpec, ArgumentError, parse_action
from oasis_des.policies.base import Decision

_JSON_TYPES = {int: "integer", str: "string"}
_FILLER = frozenset({"a", "an", "the", "on", "of", "to"})  # words a name need not repeat
# Actions whose name and arguments say what their description says in other words
# ("Publish a new post." for create_post(content), "Stop following a user." for
# unfollow(followee_id)): about 9 tokens each in every request.
_SELF_EXPLAINED = frozenset({"create_post", "unlike_post", "undo_dislike_post", "unlike_comment",
                             "undo_dislike_comment", "follow", "unfollow", "do_nothing"})
_NAME_KEYS = ("action", "name", "tool", "function")
_ARG_KEYS = ("args", "arguments", "parameters")


def tool_schema(spec: ActionSpec) -> dict[str, Any]:
    """One action as an OpenAI function tool.

    Tools are sent with every request (they are most of a prompt), so they are kept terse:
    arguments are described by their names (`post_id`, `content`, `quote_content`, ...)
    and the action's description, not by descriptions of their own; and a description that
    only repeats the names ("Like a post." for `like_post(post_id)`), or says them in other
    words (`_SELF_EXPLAINED`), is left out.
    """
    properties = {a.name: {"type": _JSON_TYPES[a.type]} for a in spec.args}
    names = {w for n in (spec.action.value, *properties) for w in n.split("_")}
    words = set(re.findall(r"[a-z]+", spec.description.lower())) - _FILLER
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    required = [a.name for a in spec.args if a.required]
    if required:
        parameters["required"] = required
    function: dict[str, Any] = {"name": spec.action.value}
    if not words <= names and spec.action.value not in _SELF_EXPLAINED:
        function["description"] = spec.description
    function["parameters"] = parameters
    return {"type": "function", "function": function}


def action_line(spec: ActionSpec) -> str:
    """One action for a prompt without tools, e.g. `like_post(post_id: integer): Like a post.`"""
    args = ", ".join(f"{a.name}: {_JSON_TYPES[a.type]}" for a in spec.args)
    return f"{spec.action.value}({args}): {spec.description}"


class ToolSet:
    """The actions an agent may take, how it is told to answer, and how answers are read."""

    def __init__(self, actions: Sequence[str], *, tool_calling: bool, max_chars: int) -> None:
        self.specs = {parse_action(a).value: ACTION_SPECS[parse_action(a)] for a in actions}
        self.max_chars = max_chars
        self.tool_calling = tool_calling
        if tool_calling:
            self.schemas: list[dict[str, Any]] | None = [tool_schema(s) for s in self.specs.values()]
            self.response_method = (
                "Act by calling exactly one tool (do_nothing is fine)."
                if "do_nothing" in self.specs else "Act by calling exactly one tool."
            )
        else:
            self.schemas = None
            lines = "\n".join(action_line(s) for s in self.specs.values())
            self.response_method = (
                "Reply with one JSON object and nothing else: "
                '{"action": "<name>", "args": {...}}. Actions:\n' + lines
            )

    def decision(self, body: dict[str, Any]) -> Decision:
        """The action a chat completion body chose, or raise LLMFault saying why not."""
        message, finish = _message(body)
        calls = message.get("tool_calls") or []
        content = message.get("content") or ""
        if not isinstance(content, str):
            content = json.dumps(content)
        if len(content) > self.max_chars:
            raise LLMFault(faults.TOO_LONG, f"the answer has {len(content)} characters "
                           f"(max_output_chars = {self.max_chars})")
        if calls and isinstance(calls, list) and isinstance(calls[0], dict):
            function = calls[0].get("function") or {}
            return self._decision(function.get("name"), function.get("arguments"), finish)
        found = json_action(content)
        if found is not None:
            return self._decision(found[0], found[1], finish)
        if finish == "length":
            raise LLMFault(faults.TOO_LONG, "the answer was cut off by max_tokens")
        raise LLMFault(faults.NO_TOOL_CALL, "the answer has no tool call and no JSON action")

    def _decision(self, name: Any, arguments: Any, finish: Any) -> Decision:
        if isinstance(arguments, str) and len(arguments) > self.max_chars:
            raise LLMFault(faults.TOO_LONG, f"the arguments have {len(arguments)} characters "
                           f"(max_output_chars = {self.max_chars})")
        if not isinstance(name, str) or name not in self.specs:
            shown = repr(name)[:60]
            raise LLMFault(faults.UNKNOWN_TOOL, f"{shown} is not one of the agent's actions")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except (ValueError, RecursionError):  # also >4300-digit ints, deep nesting
                if finish == "length":
                    raise LLMFault(faults.TOO_LONG, "the answer was cut off by max_tokens") from None
                raise LLMFault(faults.BAD_ARGUMENTS, f"arguments of {name} are not valid JSON") \
                    from None
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            raise LLMFault(faults.BAD_ARGUMENTS, f"arguments of {name} are not a JSON object")
        try:
            return Decision(action=name, args=self.specs[name].validate(arguments))
        except ArgumentError as exc:
            raise LLMFault(faults.BAD_ARGUMENTS, str(exc)[:300]) from None


def _message(body: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    choices = body.get("choices")
    if not isinstance(choices, list):
        raise LLMFault(faults.MALFORMED_RESPONSE, "the response has no 'choices' list")
    if not choices:
        raise LLMFault(faults.EMPTY_CHOICES, "the response has no choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise LLMFault(faults.MALFORMED_RESPONSE, "the first choice has no message")
    return message, choice.get("finish_reason")


def answer_text(body: dict[str, Any], max_chars: int) -> str:
    """The plain-text answer of a completion (interviews), or raise LLMFault."""
    message, _ = _message(body)
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise LLMFault(faults.NO_ANSWER, "the answer has no text")
    if len(content) > max_chars:
        raise LLMFault(faults.TOO_LONG, f"the answer has {len(content)} characters "
                       f"(max_output_chars = {max_chars})")
    return content.strip()


def json_action(text: str) -> tuple[Any, Any] | None:
    """(name, arguments) of the first JSON object in `text` that names an action.

    Accepts {"action": ..., "args": {...}} and the usual variants (name/tool/function,
    arguments/parameters), also inside code fences, <tool_call> tags or one wrapper object.
    """
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):  # hostile text: huge ints, deep nesting
            start = text.find("{", start + 1)
            continue
        found = _named(value, depth=2)
        if found is not None:
            return found
        start = text.find("{", end)
    return None


def _named(value: Any, depth: int) -> tuple[Any, Any] | None:
    if not isinstance(value, dict):
        return None
    for key in _NAME_KEYS:
        name = value.get(key)
        if isinstance(name, str):
            args = next((value[k] for k in _ARG_KEYS if k in value), {})
            return name, args
    if depth > 0:
        for inner in value.values():
            found = _named(inner, depth - 1)
            if found is not None:
                return found
    return None
