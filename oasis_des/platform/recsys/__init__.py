"""Recommenders: which posts fill a user's feed buffer when the user refreshes.

Built in: `random`, `reddit` (hot score), `twitter` (interest x recency x popularity,
out of network; the refresh adds followees' posts) and `embedding` (profile + recent
engagement x recency). Any other name is a dotted path to the user's own recommender:
"package.module:Name" (or "package.module.Name"), where Name is a class constructed with
the platform, an object with a `recommend` method, or a function called as `recommend`.
See docs/recommenders.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from oasis_des.platform.recsys.plugins import load_object, takes_positional
from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform


class Recommender(Protocol):
    """Chooses up to `k` candidate post ids for `user_id` at simulated time `now`, best first.

    `rng` is this call's own random stream (keyed by seed, user and refresh count).
    """

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]: ...


# A recommender may also have `prepare(user_ids, now, k)`: the platform calls it with the
# users about to refresh at `now` before anything changes (a stepped tick), so that it can
# rank them together; `recommend` must return what it would have returned anyway.


class FunctionRecommender:
    """A plain function `recommend(user_id, now, k, rng) -> list[int]` as a recommender."""

    def __init__(self, function: Callable[[int, float, int, KeyedStream], list[int]]) -> None:
        self._function = function

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]:
        return list(self._function(user_id, now, k, rng))


def builtin_recommenders() -> dict[str, Callable[[Platform], Recommender]]:
    from oasis_des.platform.recsys.embedding import EmbeddingRecommender
    from oasis_des.platform.recsys.hot import HotRecommender
    from oasis_des.platform.recsys.random import RandomRecommender
    from oasis_des.platform.recsys.twitter import TwitterRecommender

    return {
        "random": RandomRecommender,
        "reddit": HotRecommender,
        "twitter": TwitterRecommender,
        "embedding": EmbeddingRecommender,
    }


def make_recommender(name: str, platform: Platform) -> Recommender:
    """The recommender called `name` (built in, or a dotted path) for `platform`."""
    return recommender_factory(name)(platform)


def recommender_factory(name: str) -> Callable[[Platform], Recommender]:
    """What builds the recommender called `name` for a platform, checked without calling it.

    Config files are checked with this before any output exists, and a dotted path may name
    anything (`os:system`): so the target is only imported and inspected (its attributes and
    signatures), never called, and anything but the three documented forms is refused.
    """
    known = builtin_recommenders()
    if name in known:
        return known[name]
    target: Any = load_object(name, what="recommender", known=known)
    if inspect.isclass(target):
        if callable(getattr(target, "recommend", None)) and takes_positional(target, 1):
            return cast("Callable[[Platform], Recommender]", target)
    elif inspect.isfunction(target):
        if takes_positional(target, 4):
            return lambda platform: FunctionRecommender(target)
    elif takes_positional(getattr(target, "recommend", None), 4):
        return lambda platform: cast(Recommender, target)
    raise TypeError(
        f"{name!r} is not a recommender; expected a class constructed with the platform that "
        "has a method recommend(user_id, now, k, rng), an object with that method, or a "
        "function recommend(user_id, now, k, rng)."
    )

