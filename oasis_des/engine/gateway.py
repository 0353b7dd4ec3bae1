"""The decision gateway: conservative-lookahead batching of policy calls.

A decision requested at t resolves at t + think_time > t. Every request made before the
earliest pending resolution time (the horizon) was made on an observation taken before any
of them can act, so they cannot influence each other and may be decided together, in
parallel. The run loop flushes the batch just before simulated time reaches the horizon.
Decisions are stored on their requests and applied by the agents' processes in simulated
time order, never in the order in which an (async) policy returned them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Sequence

from oasis_des.policies.base import AsyncPolicy, BatchPolicy, Decision, Observation


@dataclass(kw_only=True)
class Request:
    """One pending decision: what was observed, and when the decision takes effect."""

    observation: Observation
    resolve_at: float
    decision: Decision | None = None


@dataclass(kw_only=True)
class GatewayStats:
    """Batch sizes and concurrency of a run (for studying LLM parallelism)."""

    batches: int = 0
    decisions: int = 0
    max_batch: int = 0
    max_in_flight: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches

    @property
    def mean_batch(self) -> float:
        return self.decisions / self.batches if self.batches else 0.0


class Gateway:
    """Collects requests and decides them in batches with one policy."""

    def __init__(
        self, policy: BatchPolicy | AsyncPolicy, *, max_batch: int = 0, max_concurrency: int = 16
    ) -> None:
        if not isinstance(policy, (BatchPolicy, AsyncPolicy)):
            raise TypeError(f"{type(policy).__name__} has neither decide_batch() nor decide().")
        self.policy = policy
        self.max_batch = max_batch
        self.max_concurrency = max_concurrency
        self.pending: list[Request] = []
        self.horizon = float("inf")
        self.stats = GatewayStats()
        # One event loop for the whole run, so async clients keep their connections.
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, observation: Observation, resolve_at: float) -> Request:
        """Queue a decision; it is decided before simulated time reaches `resolve_at`."""
        if resolve_at <= observation.time:
            raise ValueError("A decision must resolve strictly after its observation.")
        request = Request(observation=observation, resolve_at=resolve_at)
        self.pending.append(request)
        self.horizon = min(self.horizon, resolve_at)
        if self.max_batch and len(self.pending) >= self.max_batch:
            self.flush()
        return request

    def flush(self) -> None:
        """Decide every pending request."""
        batch, self.pending, self.horizon = self.pending, [], float("inf")
        if not batch:
            return
        observations = [r.observation for r in batch]
        if isinstance(self.policy, BatchPolicy):
            decisions = self.policy.decide_batch(observations)
            in_flight = len(batch)
        else:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            decisions = self._loop.run_until_complete(self._decide_async(observations))
            in_flight = min(len(batch), self.max_concurrency)
        if len(decisions) != len(batch):
            raise RuntimeError(
                f"Policy returned {len(decisions)} decisions for {len(batch)} observations."
            )
        for request, decision in zip(batch, decisions):
            request.decision = decision
        s = self.stats
        s.batches += 1
        s.decisions += len(batch)
        s.max_batch = max(s.max_batch, len(batch))
        s.max_in_flight = max(s.max_in_flight, in_flight)
        s.sizes[len(batch)] = s.sizes.get(len(batch), 0) + 1

    async def _decide_async(self, observations: Sequence[Observation]) -> list[Decision]:
        assert isinstance(self.policy, AsyncPolicy)
        policy = self.policy
        limit = asyncio.Semaphore(self.max_concurrency)

        async def one(obs: Observation) -> Decision:
            async with limit:
                try:
                    return await policy.decide(obs)
                except Exception as exc:  # a failed call is a typed failure, not a crash
                    return Decision(action="do_nothing", error=f"{type(exc).__name__}: {exc}")

        return list(await asyncio.gather(*(one(o) for o in observations)))

    def close(self) -> None:
        """Release the event loop of async policies."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None
