"""Key checks shared by the model-profile loaders (the offline model's and the LLM's).

A loader describes each key by a check and a phrase saying what is allowed, so every refusal
is one line naming the file, the key and the value, and an unknown key suggests the closest
known one: a typo must never fall back silently to a default.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

# A check returns the value to use, or raises TypeError/ValueError to refuse it.
Check = Callable[[Any], Any]
Keys = dict[str, tuple[Check, str]]

# OASIS's action sets on each platform kind (the defaults of both kinds of profile).
DEFAULT_ACTIONS: dict[str, tuple[str, ...]] = {
    "twitter": ("create_post", "like_post", "repost", "quote_post", "follow", "unfollow", "mute",
                "create_comment", "like_comment", "report_post", "search_posts", "trend",
                "do_nothing"),
    "reddit": ("create_post", "like_post", "dislike_post", "create_comment", "like_comment",
               "dislike_comment", "follow", "mute", "report_post", "search_posts", "trend",
               "do_nothing"),
}


class ProfileError(ValueError):
    """A model profile is invalid; the message names the file and the key."""


def integer(minimum: int) -> Check:
    def check(v: Any) -> int:
        if type(v) is not int or v < minimum:
            raise TypeError
        return v
    return check


def number(
    minimum: float = -math.inf, maximum: float = math.inf, *, strict: bool = False
) -> Check:
    """A finite number in [minimum, maximum] (above minimum if strict), as a float.

    TOML spells NaN and infinities (`nan`, `inf`) but no key means them, and NaN fails every
    comparison, so a range test alone would let it reach the run (and its JSON output).
    """
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError
        try:
            value = float(v)
        except OverflowError:  # an integer beyond the largest float
            raise ValueError from None
        if not math.isfinite(value) or not minimum <= value <= maximum or (
                strict and value == minimum):
            raise ValueError
        return value
    return check


def span(minimum: float = -math.inf, maximum: float = math.inf) -> Check:
    """A [low, high] range of numbers in [minimum, maximum] with low <= high, as a tuple."""
    bound = number(minimum, maximum)

    def check(v: Any) -> tuple[float, float]:
        if not isinstance(v, list) or len(v) != 2:
            raise TypeError
        low, high = bound(v[0]), bound(v[1])
        if low > high:
            raise ValueError
        return low, high
    return check


def nonempty(v: Any) -> str:
    if not isinstance(v, str) or not v:
        raise TypeError
    return v


def text(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError
    return v


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError
    return v


def unknown_key(path: Path, key: str, known: Collection[str], prefix: str = "") -> ProfileError:
    """The error for `key`, suggesting the closest of `known`."""
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
    return ProfileError(f"{path}: unknown key '{prefix}{key}'.{hint}")


def check_keys(path: Path, raw: dict[str, Any], keys: Keys, prefix: str) -> dict[str, Any]:
    """The checked values of `raw`, whose keys must all be in `keys`."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in keys:
            raise unknown_key(path, key, keys, prefix)
        check, allowed = keys[key]
        try:
            out[key] = check(value)
        except (TypeError, ValueError):
            raise ProfileError(
                f"{path}: key '{prefix}{key}' = {value!r} is invalid; expected {allowed}."
            ) from None
    return out


def action_lists(path: Path, raw: Any, valid: Collection[str]) -> dict[str, tuple[str, ...]]:
    """The `[actions]` table: per platform kind, the actions agents may take (all in `valid`);
    kinds it does not name keep OASIS's set."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: [actions] must be a table of platform kind -> action list.")
    out = dict(DEFAULT_ACTIONS)
    for kind, names in raw.items():
        if kind not in DEFAULT_ACTIONS:
            raise unknown_key(path, kind, DEFAULT_ACTIONS, "actions.")
        if not isinstance(names, list) or not names:
            raise ProfileError(f"{path}: key 'actions.{kind}' must be a non-empty list of actions.")
        for name in names:
            if not isinstance(name, str) or name not in valid:
                close = difflib.get_close_matches(str(name), sorted(valid), n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise ProfileError(f"{path}: key 'actions.{kind}': {name!r} is not an action "
                                   f"this model's agents can take.{hint}")
        out[kind] = tuple(names)
    return out
