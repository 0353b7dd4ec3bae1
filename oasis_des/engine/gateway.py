"""The decision gateway: conservative-lookahead scheduling of policy calls.

A decision requested at t resolves at t + think_time > t. Its observation was taken at t,
and nothing that happens after t can change it, so the request can be decided at any
moment before simulated time reaches its resolution. The gateway uses that freedom:

- Async policies (LLM calls) start at once, when the request is made, and run while the
  simulation goes on. The run loop waits only when the next event is the resolution of a
  request still undecided (the horizon), and then only for the requests due at that time;
  the rest keep running. Calls queue for a policy's concurrency by earliest resolution
  first, since those are the ones the simulation will wait for. A policy may hold its slot
  only while its request is in flight (`in_flight()`), and prepare and read outside it.
- Batch policies (vectorised offline models) decide every request queued for them at once,
  when the horizon is reached, as one batch.

Decisions are stored on their requests and applied by the engine in simulated-time order,
never in the order in which calls finished. The calls of one agent run one after the other
in the order they were made (its memory of one decision is part of its next prompt).
A checkpoint stores decided requests by their decision and undecided ones by their
observation (`save_request`), to be asked again on resume (`load_request`), so a commit
never has to wait for calls in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import importlib
from dataclasses import asdict, dataclass, field, fields
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from oasis_des.policies.base import AsyncPolicy, BatchPolicy, Decision, Observation
from oasis_des.policies.router import PolicyRouter, policy_for


class PolicyAbort(RuntimeError):
    """A policy error that must stop the run instead of becoming a typed failure
    (e.g. a replay cache miss: the run no longer matches its recording)."""


@dataclass(kw_only=True, eq=False)
class Request:
    """One decision to make: what was observed, and when the decision takes effect."""

    observation: Observation
    resolve_at: float
    seq: int = 0  # order of requests (an agent's calls run in this order)
    decision: Decision | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    after: Request | None = field(default=None, repr=False)  # the agent's previous call


@dataclass(frozen=True, kw_only=True)
class Decided:
    """A request restored from a checkpoint with its decision."""

    decision: Decision


@dataclass(kw_only=True)
class GatewayStats:
    """Batch sizes and concurrency of a run (for studying LLM parallelism).

    A batch is what one wait of the run loop settled: the requests decided since the
    previous wait (async calls finish in the background, batch policies decide at once).
    """

    batches: int = 0
    decisions: int = 0
    max_batch: int = 0
    max_in_flight: int = 0
    sizes: dict[int, int] = field(default_factory=dict)  # batch size -> how many batches

    @property
    def mean_batch(self) -> float:
        return self.decisions / self.batches if self.batches else 0.0


class Gateway:
    """Decides requests with one policy (or a router of policies) ahead of their horizon."""

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
        self.max_batch = max_batch  # > 0: decide (or await) every this many requests
        self.max_concurrency = max_concurrency
        self.stats = GatewayStats()
        self._seq = 0
        self._queued: list[Request] = []  # for batch policies, decided at the horizon
        self._queued_horizon = float("inf")
        self._undecided: dict[int, Request] = {}  # async requests by seq
        self._due: list[tuple[float, int, Request]] = []  # heap of (resolve_at, seq, request)
        self._unstarted: list[Request] = []
        self._last: dict[int, Request] = {}  # agent -> its latest undecided async request
        self._slots: dict[int, _Slots] = {}  # id(policy) -> its concurrency limit
        self._is_batch: dict[int, bool] = {}  # id(policy) -> BatchPolicy (a slow isinstance)
        self._settled = 0  # decisions since the last wait (the next batch's size)
        self._running = 0
        # One event loop for the whole run, so async clients keep their connections.
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- requests ---------------------------------------------------------------------
    @property
    def pending(self) -> bool:
        """Whether some request is not decided yet."""
        return bool(self._queued or self._undecided)

    @property
    def horizon(self) -> float:
        """The earliest resolution time of an undecided request (inf: none)."""
        due = self._due
        while due and due[0][2].decision is not None:
            heapq.heappop(due)
        return min(self._queued_horizon, due[0][0]) if due else self._queued_horizon

    @property
    def oldest(self) -> float:
        """The earliest observation time of an undecided request (inf: none)."""
        times = [r.observation.time for r in self._queued]
        times += [r.observation.time for r in self._undecided.values()]
        return min(times, default=float("inf"))

    def submit(self, observation: Observation, resolve_at: float) -> Request:
        """Ask for a decision; it is made before simulated time reaches `resolve_at`."""
        if resolve_at <= observation.time:
            raise ValueError("A decision must resolve strictly after its observation.")
        request = Request(observation=observation, resolve_at=resolve_at, seq=self._seq)
        self._seq += 1
        policy = policy_for(self.policy, observation.agent_id)
        if self._batches(policy):
            self._queued.append(request)
            self._queued_horizon = min(self._queued_horizon, resolve_at)
            if self.max_batch and len(self._queued) >= self.max_batch:
                self.decide_queued()
                self._count_batch()
            return request
        cached = getattr(policy, "decide_cached", None)
        if cached is not None and observation.agent_id not in self._last:
            # No earlier call of this agent is pending, so its answer may be read now.
            request.decision = _guarded(cached, observation)
            if request.decision is not None:
                self._settled += 1
                if self.max_batch and self._settled >= self.max_batch:
                    self._count_batch()  # a batch of answers read from the cache
                return request
        self._add_async(request)
        if self.max_batch and len(self._undecided) >= self.max_batch:
            self._wait(list(self._undecided.values()))
            self._count_batch()
        else:
            self._pump()  # send it now
        return request

    def _batches(self, policy: Any) -> bool:
        kind = self._is_batch.get(id(policy))
        if kind is None:
            kind = self._is_batch[id(policy)] = isinstance(policy, BatchPolicy)
        return kind

    def flush(self) -> None:
        """Decide what the run needs before it reaches the horizon: every queued batch
        request, and every async one due at the horizon (the others keep running)."""
        horizon = self.horizon
        self.decide_queued()
        due = []
        while self._due and self._due[0][0] <= horizon:
            request = heapq.heappop(self._due)[2]
            if request.decision is None:
                due.append(request)
        self._wait(due)
        self._count_batch()

    def drain(self) -> None:
        """Decide every request (a finished run accounts for every call it made)."""
        self.decide_queued()
        self._wait(list(self._undecided.values()))
        self._count_batch()

    # -- checkpoints ------------------------------------------------------------------
    @staticmethod
    def save_request(request: Request | Decided) -> dict[str, Any]:
        """A request as JSON: its decision, or (undecided) what to ask again on resume."""
        if request.decision is not None:
            return asdict(request.decision)
        assert isinstance(request, Request)
        obs = request.observation
        values = {f.name: getattr(obs, f.name) for f in fields(obs)}
        for key, value in values.items():
            if isinstance(value, frozenset):
                values[key] = sorted(value)
        return {"ask": {"type": f"{type(obs).__module__}:{type(obs).__qualname__}",
                        "observation": values, "resolve_at": request.resolve_at,
                        "seq": request.seq}}

    def load_request(self, saved: dict[str, Any]) -> Request | Decided:
        """A request from `save_request`: decided, or asked again (in its original order)."""
        if "ask" not in saved:
            return Decided(decision=Decision(**saved))
        ask = saved["ask"]
        module, name = ask["type"].split(":")
        kind = getattr(importlib.import_module(module), name)
        if not (isinstance(kind, type) and issubclass(kind, Observation)):
            raise ValueError(f"Checkpoint holds a request of unknown type {ask['type']!r}.")
        values = dict(ask["observation"])
        for f in fields(kind):  # JSON gave lists for sets and tuples
            if f.name in values and isinstance(f.default, (frozenset, tuple)):
                values[f.name] = type(f.default)(values[f.name])
        request = Request(observation=kind(**values), resolve_at=ask["resolve_at"],
                          seq=ask["seq"])
        self._seq = max(self._seq, request.seq + 1)
        self._add_async(request)
        return request

    # -- deciding ---------------------------------------------------------------------
    def decide_queued(self) -> None:
        """Decide the requests queued for batch policies (also before a checkpoint)."""
        batch, self._queued, self._queued_horizon = self._queued, [], float("inf")
        if not batch:
            return
        observations = [r.observation for r in batch]
        if isinstance(self.policy, PolicyRouter):
            parts = self.policy.split(observations)
        else:
            parts = [(self.policy, list(range(len(batch))))]
        for policy, positions in parts:
            assert isinstance(policy, BatchPolicy)
            decisions = policy.decide_batch([observations[i] for i in positions])
            if len(decisions) != len(positions):
                raise RuntimeError(
                    f"Policy returned {len(decisions)} decisions for {len(positions)} observations."
                )
            for i, decision in zip(positions, decisions):
                batch[i].decision = decision
            self.stats.max_in_flight = max(self.stats.max_in_flight, len(positions))
        self._settled += len(batch)

    def _count_batch(self) -> None:
        n, self._settled = self._settled, 0
        if not n:
            return
        s = self.stats
        s.batches += 1
        s.decisions += n
        s.max_batch = max(s.max_batch, n)
        s.sizes[n] = s.sizes.get(n, 0) + 1

    def _add_async(self, request: Request) -> None:
        self._undecided[request.seq] = request
        heapq.heappush(self._due, (request.resolve_at, request.seq, request))
        self._unstarted.append(request)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def _start(self) -> None:
        """Create the tasks of new requests, in request order (restored ones included)."""
        if not self._unstarted:
            return
        loop = self._event_loop()
        starting, self._unstarted = sorted(self._unstarted, key=lambda r: r.seq), []
        for request in starting:
            agent = request.observation.agent_id
            request.after = self._last.get(agent)
            self._last[agent] = request
            request.task = loop.create_task(self._decide(request))

    def _pump(self) -> None:
        """Let the event loop send new calls and take in answers, without blocking."""
        self._start()
        loop = self._event_loop()
        loop.call_soon(loop.stop)
        loop.run_forever()

    def _wait(self, requests: list[Request]) -> None:
        """Run the event loop until `requests` are decided (other calls progress too)."""
        self._start()
        tasks = [r.task for r in requests if r.decision is None and r.task is not None]
        if not tasks:
            return
        loop = self._event_loop()
        done, _ = loop.run_until_complete(asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION))
        for task in done:
            if task.exception() is not None:  # a PolicyAbort: the run stops
                self._cancel()
                raise task.exception()  # type: ignore[misc]

    async def _decide(self, request: Request) -> None:
        obs = request.observation
        previous, request.after = request.after, None
        if previous is not None and previous.task is not None and not previous.task.done():
            await asyncio.wait([previous.task])
        policy = policy_for(self.policy, obs.agent_id)
        slots = self._slots.get(id(policy))
        if slots is None:
            limit = getattr(policy, "concurrency", None) or self.max_concurrency
            slots = self._slots[id(policy)] = _Slots(limit)
        turn = _Turn(self, slots, (request.resolve_at, request.seq))
        current = _TURN.set(turn)
        try:
            if not getattr(policy, "slot_in_flight", False):
                await turn.take()  # the whole call holds the slot
            decision = await _guarded_async(policy.decide(obs))  # type: ignore[union-attr]
        finally:
            _TURN.reset(current)
            turn.give()
        request.decision = decision
        del self._undecided[request.seq]
        if self._last.get(obs.agent_id) is request:
            del self._last[obs.agent_id]
        self._settled += 1

    def _flying(self, change: int) -> None:
        self._running += change
        self.stats.max_in_flight = max(self.stats.max_in_flight, self._running)

    def _cancel(self) -> None:
        """Stop every call in flight (the run failed or ends)."""
        tasks = [r.task for r in self._undecided.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        if tasks and self._loop is not None:
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    def close(self) -> None:
        """Stop calls in flight, let async policies close their connections, release the loop."""
        if self._loop is not None:
            self._cancel()
            close = getattr(self.policy, "aclose", None)
            if close is not None:
                self._loop.run_until_complete(close())
            self._loop.close()
            self._loop = None


class _Turn:
    """One decision's claim on its policy's concurrency: a slot, held while a call is in
    flight."""

    def __init__(self, gateway: Gateway, slots: _Slots, priority: tuple[float, int]) -> None:
        self.gateway = gateway
        self.slots = slots
        self.priority = priority
        self.held = False

    async def take(self) -> None:
        await self.slots.acquire(self.priority)
        self.held = True
        self.gateway._flying(1)

    def give(self) -> bool:
        """Free the slot if held; whether a waiting call got it."""
        if not self.held:
            return False
        self.held = False
        self.gateway._flying(-1)
        return self.slots.release()

    @contextlib.asynccontextmanager
    async def holding(self) -> AsyncIterator[None]:
        taken = not self.held
        if taken:
            await self.take()
        try:
            yield
        finally:
            if taken and self.give():
                await asyncio.sleep(0)  # the call that got the slot is sent first

    @contextlib.asynccontextmanager
    async def released(self) -> AsyncIterator[None]:
        self.give()
        try:
            yield
        finally:
            await self.take()


# The turn of the decision a task is making.
_TURN: contextvars.ContextVar[_Turn | None] = contextvars.ContextVar("turn", default=None)


def in_flight() -> contextlib.AbstractAsyncContextManager[None]:
    """Hold the deciding call's concurrency slot for the block: the wait for a server.

    A policy with `slot_in_flight = True` takes its slot only here, so it builds its
    request before (while other calls hold the slots) and reads the answer after (the slot
    is already another call's). Other policies hold a slot for the whole decision. Outside
    the gateway, a no-op.
    """
    turn = _TURN.get()
    return turn.holding() if turn is not None else contextlib.nullcontext()


def slot_released() -> contextlib.AbstractAsyncContextManager[None]:
    """Give the call's concurrency slot to another call while waiting (a retry's backoff):
    a call that sleeps is not in flight. Outside the gateway or a held slot, a no-op."""
    turn = _TURN.get()
    return turn.released() if turn is not None and turn.held else contextlib.nullcontext()


def _guarded(decide: Callable[[Observation], Decision | None], obs: Observation) -> Decision | None:
    """`decide(obs)`, with an exception (a failed call) as a typed failure, not a crash."""
    try:
        return decide(obs)
    except PolicyAbort:
        raise
    except Exception as exc:
        return _failure(exc)


async def _guarded_async(deciding: Awaitable[Decision]) -> Decision:
    try:
        return await deciding
    except PolicyAbort:
        raise
    except Exception as exc:
        return _failure(exc)


def _failure(exc: Exception) -> Decision:
    return Decision(action="do_nothing", error=f"{type(exc).__name__}: {exc}")


class _Slots:
    """A semaphore whose waiters get in by priority (earliest resolution first): the
    simulation waits for the earliest undecided request, so that one should run first."""

    def __init__(self, limit: int) -> None:
        self.free = limit
        self._waiting: list[tuple[tuple[float, int], asyncio.Future[None]]] = []

    async def acquire(self, priority: tuple[float, int]) -> None:
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release()  # handed the slot just as it was cancelled: pass it on
            raise

    def release(self) -> bool:
        """Hand the slot to the first waiter still waiting (True), else free it."""
        while self._waiting:
            _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return True
        self.free += 1
        return False
