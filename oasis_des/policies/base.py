"""What policies receive and return, and the interfaces they implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True, kw_only=True)
class Observation:
    """What an activated agent sees: its feed, and which of the feed's authors it already
    follows or mutes (the engine looks up only those, not the agent's whole follow list)."""

    agent_id: int
    time: float  # simulated minutes
    activation: int  # this agent's activation index, the key of its random draws
    posts: tuple[dict[str, Any], ...] = ()
    following: frozenset[int] = frozenset()
    muted: frozenset[int] = frozenset()
    # Feed posts (their shown post_id) the agent has already liked, disliked or reposted:
    # the platform would refuse those actions again as duplicates.
    liked: frozenset[int] = frozenset()
    disliked: frozenset[int] = frozenset()
    reposted: frozenset[int] = frozenset()
    # Comments (comment_id) the agent has liked and disliked, all of them (a user rates
    # few comments): the platform would refuse those ratings again too.
    liked_comments: frozenset[int] = frozenset()
    disliked_comments: frozenset[int] = frozenset()
    # Filled only for policies that ask (a `context(connection, agent)` method, see
    # llm/context.py): the agent's follower counts and its chat groups' latest messages.
    followers: int | None = None
    followings: int | None = None
    group_messages: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One action with its arguments, or a typed failure (`error` set, action do_nothing)."""

    action: str
    args: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@runtime_checkable
class BatchPolicy(Protocol):
    """Decides a whole batch at once (vectorised offline models, scripts)."""

    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]: ...


@runtime_checkable
class AsyncPolicy(Protocol):
    """Decides one observation asynchronously (LLM calls); the gateway bounds concurrency."""

    def decide(self, observation: Observation) -> Awaitable[Decision]: ...
