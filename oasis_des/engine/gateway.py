"""The decision gateway: conservative-lookahead batching of policy calls.

A decision requested at t resolves at t + think_time > t. Every request made before the
earliest pending resolution time (the horizon) was made on an observation taken before any
of them can act, so they cannot influence each other and may be decided together, in
parallel. The run loop flushes the batch just before simulated time reaches the horizon.
Decisions are stored on their requests and applied by the agents' processes in simulated
time order, never in the order in which an (async) policy returned them. With a
`PolicyRouter` (agent groups), batch policies decide their part of a batch at once and
async policies theirs concurrently, each with its own concurrency limit when it has one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Sequence

from oasis_des.policies.base import AsyncPolicy, BatchPolicy, Decision, Observation
from oasis_des.policies.router import PolicyRouter


class PolicyAbort(RuntimeError):
    """A policy error that must stop the run instead of becoming a typed failure
    (e.g. a replay cache miss: the run no longer matches its recording)."""


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
        self,
        policy: BatchPolicy | AsyncPolicy | PolicyRouter,
        *,
        max_batch: int = 0,
        max_concurrency: int = 16,
    ) -> None:
        if not isinstance(policy, (BatchPolicy, AsyncPolicy, PolicyRouter)):
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
        if isinstance(self.policy, PolicyRouter):
            parts = self.policy.split(observations)
        else:
            parts = [(self.policy, list(range(len(batch))))]
        waiting: list[tuple[AsyncPolicy, list[int]]] = []
        in_flight = 0
        for policy, positions in parts:
            if isinstance(policy, BatchPolicy):
                decisions = policy.decide_batch([observations[i] for i in positions])
                if len(decisions) != len(positions):
                    raise RuntimeError(
                        f"Policy returned {len(decisions)} decisions for {len(positions)} observations."
                    )
                for i, decision in zip(positions, decisions):
                    batch[i].decision = decision
                in_flight = max(in_flight, len(positions))
            else:
                waiting.append((policy, positions))
        if waiting:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            peak = self._loop.run_until_complete(self._decide_async(batch, waiting))
            in_flight = max(in_flight, peak)
        s = self.stats
        s.batches += 1
        s.decisions += len(batch)
        s.max_batch = max(s.max_batch, len(batch))
        s.max_in_flight = max(s.max_in_flight, in_flight)
        s.sizes[len(batch)] = s.sizes.get(len(batch), 0) + 1

    async def _decide_async(
        self, batch: Sequence[Request], parts: Sequence[tuple[AsyncPolicy, list[int]]]
    ) -> int:
        """Decide the async parts concurrently; return the peak number of calls in flight."""
        running = peak = 0

        async def one(policy: AsyncPolicy, limit: asyncio.Semaphore, request: Request) -> None:
            nonlocal running, peak
            async with limit:
                running += 1
                peak = max(peak, running)
                try:
                    request.decision = await policy.decide(request.observation)
                except PolicyAbort:
                    raise
                except Exception as exc:  # a failed call is a typed failure, not a crash
                    request.decision = Decision(
                        action="do_nothing", error=f"{type(exc).__name__}: {exc}"
                    )
                finally:
                    running -= 1

        tasks = []
        for policy, positions in parts:
            # A policy with its own limit (an LLM profile's `concurrency`) uses it.
            limit = asyncio.Semaphore(getattr(policy, "concurrency", None) or self.max_concurrency)
            tasks += [asyncio.ensure_future(one(policy, limit, batch[i])) for i in positions]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return peak

    def close(self) -> None:
        """Let async policies close their connections, then release the event loop."""
        if self._loop is not None:
            close = getattr(self.policy, "aclose", None)
            if close is not None:
                self._loop.run_until_complete(close())
            self._loop.close()
            self._loop = None
