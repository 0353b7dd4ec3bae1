"""Recommenders: which posts fill a user's feed buffer when the user refreshes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol

from oasis_des.rng import KeyedStream

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform


class Recommender(Protocol):
    """Chooses up to `k` candidate post ids for `user_id` at simulated time `now`.

    `rng` is this call's own random stream (keyed by seed, user and refresh count).
    """

    def recommend(self, user_id: int, now: float, k: int, rng: KeyedStream) -> list[int]: ...


def make_recommender(name: str, platform: "Platform") -> Recommender:
    """The recommender called `name` for `platform`."""
    from oasis_des.platform.recsys.hot import HotRecommender
    from oasis_des.platform.recsys.random import RandomRecommender

    known: dict[str, Callable[["Platform"], Recommender]] = {
        "random": RandomRecommender,
        "reddit": HotRecommender,
    }
    if name not in known:
        raise ValueError(
            f"Unknown recommender {name!r}; available: {', '.join(sorted(known))}."
        )
    return known[name](platform)
