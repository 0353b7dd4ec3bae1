"""A population of agents, stored column-wise so that a million agents stay cheap.

Agent i has agent_id (= user_id) i. Text fields are lists (or read-only lazy columns for
synthetic populations, see `columns.LazyColumn`); numeric traits are numpy arrays;
follows are an (m, 2) array of (follower, followee) pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from oasis_des.agents.topics import TOPIC_NAMES

HOURS = 24


@dataclass(kw_only=True)
class Population:
    """Everything the platform and the policies need to know about the agents."""

    user_name: list[str]
    name: list[str]
    bio: list[str]
    # Persona text given to an LLM (OASIS `user_char` / `persona`).
    persona: Sequence[str]
    # Expected activations per simulated hour, for each hour of the day: shape (n, 24).
    activity: np.ndarray
    # Stance on the run's focal issue in [-1, 1]: shape (n,).
    stance: np.ndarray
    # Free-form traits per agent (age, gender, mbti, country, profession, topics...).
    traits: Sequence[dict[str, object]] = field(default_factory=list)
    # (follower, followee) pairs: shape (m, 2), int64. May hold self-follows and duplicates
    # exactly as a persona file gave them; sign-up drops and reports those.
    follows: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    # Posts that exist at time 0: (agent_id, content).
    seed_posts: list[tuple[int, str]] = field(default_factory=list)
    # Interest distribution over `topics`: shape (n, T) float32, rows sum to 1.
    # None means "unknown": filled with the uniform distribution.
    interests: np.ndarray | None = None
    # The topic axis of `interests` (the content-feature function's topics).
    topics: tuple[str, ...] = TOPIC_NAMES

    def __post_init__(self) -> None:
        n = len(self.user_name)
        for label, column in (("name", self.name), ("bio", self.bio), ("persona", self.persona)):
            if len(column) != n:
                raise ValueError(
                    f"Population column '{label}' has {len(column)} rows, expected {n}."
                )
        if self.activity.shape != (n, HOURS):
            raise ValueError(
                f"Population activity must have shape ({n}, 24), got {self.activity.shape}."
            )
        if self.stance.shape != (n,):
            raise ValueError(f"Population stance must have shape ({n},), got {self.stance.shape}.")
        if not self.traits:
            self.traits = [{} for _ in range(n)]
        elif len(self.traits) != n:
            raise ValueError(
                f"Population column 'traits' has {len(self.traits)} rows, expected {n}."
            )
        follows = np.asarray(self.follows)
        if follows.size == 0:
            follows = np.zeros((0, 2), dtype=np.int64)
        if follows.ndim != 2 or follows.shape[1] != 2:
            raise ValueError(f"Population follows must have shape (m, 2), got {follows.shape}.")
        self.follows = follows.astype(np.int64, copy=False)
        if self.interests is None:
            self.interests = np.full(
                (n, len(self.topics)), 1.0 / len(self.topics), dtype=np.float32
            )
        elif self.interests.shape != (n, len(self.topics)):
            raise ValueError(
                f"Population interests must have shape ({n}, {len(self.topics)}), "
                f"got {self.interests.shape}."
            )

    def __len__(self) -> int:
        return len(self.user_name)
