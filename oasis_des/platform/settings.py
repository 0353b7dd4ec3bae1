"""Platform settings, with OASIS's Twitter and Reddit defaults."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from typing import Any

from oasis_des.platform.clock import Kind


@dataclass(frozen=True, kw_only=True)
class PlatformSettings:
    """How the platform behaves; `for_kind` gives the defaults of each kind."""

    recommender: str
    allow_self_rating: bool = True
    show_score: bool
    max_rec_post_len: int
    refresh_rec_post_count: int
    following_post_count: int
    report_threshold: int = 2
    trend_days: float = 7
    trend_top_k: int = 1
    # Comments shown under each post: the most recent N, in creation order; 0 = all (OASIS).
    # Feeds of popular posts otherwise grow without bound, and so do LLM prompts.
    comments_per_post: int = 0
    # Recommenders (docs/recommenders.md). The embedder of interest-based recommenders:
    # "hashing" (numpy, no model), "sentence-transformers" (extra), or a dotted path.
    embedder: str = "hashing"
    # Recommenders rank at most this many most recent posts (bounds the cost of a refresh).
    candidate_window: int = 100_000
    # A user's computed feed candidates are reused for this many simulated minutes;
    # 0 = computed on every refresh (OASIS recomputes them every step).
    feed_cache_minutes: float = 0.0

    @classmethod
    def for_kind(cls, kind: Kind, **overrides: Any) -> PlatformSettings:
        """Defaults of `kind` ("twitter" or "reddit") with `overrides` applied and checked."""
        if kind == "twitter":
            base = cls(
                recommender="twitter",
                show_score=False,
                max_rec_post_len=2,
                refresh_rec_post_count=2,
                following_post_count=3,
            )
        elif kind == "reddit":
            base = cls(
                recommender="reddit",
                show_score=True,
                max_rec_post_len=100,
                refresh_rec_post_count=5,
                following_post_count=0,
            )
        else:
            raise ValueError(f"Platform kind must be 'twitter' or 'reddit', got {kind!r}.")
        valid = {f.name: f for f in fields(cls)}
        for key, value in overrides.items():
            if key not in valid:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise TypeError(f"Unknown platform setting '{key}'.{hint}")
            _check(key, value, valid[key].type)
        return replace(base, **overrides)


def _check(key: str, value: Any, annotation: Any) -> None:
    expected = {"bool": bool, "int": int, "float": (int, float), "str": str}[str(annotation)]
    ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
    if not ok:
        raise TypeError(f"Platform setting '{key}' must be {annotation}, got {value!r}.")
    least = _MINIMUM.get(key, 0)
    if expected is not str and expected is not bool and value < least:
        raise ValueError(f"Platform setting '{key}' must be >= {least}, got {value!r}.")


_MINIMUM = {"candidate_window": 1}
