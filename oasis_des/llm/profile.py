"""LLM model profiles: a TOML file naming the server(s), the model, sampling, limits and prices.

Every key has a default except `model` and `base_urls`; unknown keys are errors that suggest
the closest known key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oasis_des.platform.actions import ACTION_SPECS, ActionType
from oasis_des.policies.profile_keys import (
    DEFAULT_ACTIONS,
    Keys,
    ProfileError,
    action_lists,
    boolean,
    check_keys,
    integer,
    nonempty,
    number,
    text,
)

# Local servers (vLLM, llama.cpp, Ollama) accept any key; the client library needs one.
DUMMY_API_KEY = "EMPTY"


@dataclass(frozen=True, kw_only=True)
class PromptSettings:
    """How prompts are built (see docs/llm.md, "Prompts")."""

    system_template: Path | None = None  # a custom system prompt (str.format keys)
    memory_activations: int = 5  # the last N activations the agent remembers
    memory_tokens: int = 150  # ... within this budget (approximate tokens: chars / 4)
    comments_per_post: int = 1  # most recent comments shown under each feed post
    post_chars: int = 280  # longer posts are cut to this many characters
    comment_chars: int = 80  # longer comments are cut to this many characters


@dataclass(frozen=True, kw_only=True)
class LLMProfile:
    """One OpenAI-compatible model and how to call it."""

    path: Path
    name: str
    model: str
    base_urls: tuple[str, ...]
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float | None = None  # None: the server's default
    max_tokens: int = 256
    seed: int | None = None  # sent to servers that support it
    concurrency: int = 16  # calls in flight at once, over all base URLs
    timeout_s: float = 60.0
    max_retries: int = 3  # retries after the first attempt (timeouts, 429, 5xx, connection)
    backoff_s: float = 0.5  # first retry delay; doubles per retry
    backoff_max_s: float = 30.0  # cap on any delay, including a server's Retry-After
    price_input_per_mtok: float = 0.0  # USD per million prompt tokens
    price_output_per_mtok: float = 0.0  # USD per million completion tokens
    # USD per million prompt tokens the server read from its own prompt cache (OpenAI,
    # DeepSeek and vLLM report them); None: the input price
    price_cached_input_per_mtok: float | None = None
    tool_calling: bool = True  # False: actions listed in the prompt, answer parsed as JSON
    max_output_chars: int = 4000  # longer answers are a "too_long" failure
    prompt: PromptSettings = PromptSettings()
    actions: dict[str, tuple[str, ...]] | None = None  # per platform kind; None = OASIS's

    def api_key(self) -> str:
        """The key from the environment variable `api_key_env`, or a dummy for local servers."""
        return os.environ.get(self.api_key_env) or DUMMY_API_KEY

    def allowed_actions(self, kind: str) -> tuple[str, ...]:
        return (self.actions or DEFAULT_ACTIONS)[kind]

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """USD for one call at this profile's prices; `cached_tokens` of the prompt were
        read from the server's prompt cache (at most all of it)."""
        cached_tokens = min(cached_tokens, prompt_tokens)
        cached_price = self.price_cached_input_per_mtok
        if cached_price is None:
            cached_price = self.price_input_per_mtok
        return ((prompt_tokens - cached_tokens) * self.price_input_per_mtok
                + cached_tokens * cached_price
                + completion_tokens * self.price_output_per_mtok) / 1e6

    @classmethod
    def from_toml(cls, path: Path, raw: dict[str, Any]) -> LLMProfile:
        """Validate a parsed profile file; relative template paths are read from its folder."""
        return _parse(Path(path), raw)


def _urls(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not v or not all(isinstance(u, str) and u for u in v):
        raise TypeError
    for url in v:  # a typo here would only show as failed calls, at the end of a run
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError
        _ = parts.port  # raises ValueError for a port that is not a number in range
    return tuple(u.rstrip("/") for u in v)


_TOP: Keys = {
    "name": (nonempty, "a non-empty string"),
    "kind": (nonempty, '"openai"'),
    "description": (text, "a string"),
    "model": (nonempty, "the model name the server expects, e.g. \"gpt-4o-mini\""),
    "base_urls": (_urls, 'a list of http:// or https:// URLs such as ["http://127.0.0.1:8000/v1"]'),
    "api_key_env": (nonempty, "the name of an environment variable"),
    "temperature": (number(0.0), "a number >= 0"),
    "max_tokens": (integer(1), "an integer >= 1"),
    "seed": (integer(-(2**63)), "an integer"),
    "concurrency": (integer(1), "an integer >= 1"),
    "timeout_s": (number(0.0, strict=True), "a number of seconds > 0"),
    "max_retries": (integer(0), "an integer >= 0"),
    "backoff_s": (number(0.0), "a number of seconds >= 0"),
    "backoff_max_s": (number(0.0), "a number of seconds >= 0"),
    "price_input_per_mtok": (number(0.0), "USD per million tokens >= 0"),
    "price_output_per_mtok": (number(0.0), "USD per million tokens >= 0"),
    "price_cached_input_per_mtok": (number(0.0), "USD per million tokens >= 0"),
    "tool_calling": (boolean, "true or false"),
    "max_output_chars": (integer(1), "an integer >= 1"),
}
_PROMPT: Keys = {
    "system_template": (nonempty, "a path to a text file"),
    "memory_activations": (integer(0), "an integer >= 0"),
    "memory_tokens": (integer(0), "an integer >= 0"),
    "comments_per_post": (integer(0), "an integer >= 0"),
    "post_chars": (integer(20), "an integer >= 20"),
    "comment_chars": (integer(20), "an integer >= 20"),
}


# What an LLM agent may be offered: every agent action but those the platform or a user does.
_AGENT_ACTIONS = frozenset(a.value for a in ACTION_SPECS) - {
    ActionType.SIGNUP.value, ActionType.REFRESH.value, ActionType.INTERVIEW.value}


def _parse(path: Path, raw: dict[str, Any]) -> LLMProfile:
    raw = dict(raw)
    prompt_raw = raw.pop("prompt", {})
    actions_raw = raw.pop("actions", None)
    if not isinstance(prompt_raw, dict):
        raise ProfileError(f"{path}: [prompt] must be a table.")
    top = check_keys(path, raw, _TOP, "")
    for key in ("model", "base_urls"):
        if key not in top:
            raise ProfileError(f"{path}: missing key '{key}' ({_TOP[key][1]}).")
    if top.pop("kind", "openai") != "openai":
        raise ProfileError(f"{path}: key 'kind' must be \"openai\" for an LLM profile.")
    top.pop("description", None)
    prompt = check_keys(path, prompt_raw, _PROMPT, "prompt.")
    if "system_template" in prompt:
        template = (path.parent / prompt["system_template"]).resolve()
        if not template.is_file():
            raise ProfileError(
                f"{path}: key 'prompt.system_template': file {template} does not exist."
            )
        prompt["system_template"] = template
    return LLMProfile(
        path=path,
        name=top.pop("name", path.stem),
        prompt=PromptSettings(**prompt),
        actions=None if actions_raw is None else action_lists(path, actions_raw, _AGENT_ACTIONS),
        **top,
    )
