"""The gateway decides batches of independent requests, sync or async, in request order;
async calls start when requested and the run waits only for the ones due."""

from __future__ import annotations

import asyncio
import random
from typing import Sequence

import pytest

from oasis_des.engine.gateway import Decided, Gateway, Request, in_flight, slot_released
from oasis_des.policies.base import Decision, Observation


def obs(agent: int, t: float = 0.0) -> Observation:
    return Observation(agent_id=agent, time=t, activation=0)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        self.batches.append([o.agent_id for o in observations])
        return [Decision(action="create_post", args={"content": f"by {o.agent_id}"}) for o in observations]


def test_horizon_is_the_earliest_resolution() -> None:
    g = Gateway(Recorder())
    g.submit(obs(0, 0.0), 5.0)
    g.submit(obs(1, 1.0), 3.0)
    assert g.horizon == 3.0
    g.flush()
    assert g.horizon == float("inf") and not g.pending


def test_flush_decides_every_pending_request_in_one_batch() -> None:
    policy = Recorder()
    g = Gateway(policy)
    requests = [g.submit(obs(a), 1.0 + a) for a in range(5)]
    g.flush()
    assert policy.batches == [[0, 1, 2, 3, 4]]
    assert [r.decision.args["content"] for r in requests] == [f"by {a}" for a in range(5)]  # type: ignore[union-attr]
    assert g.stats.batches == 1 and g.stats.max_batch == 5 and g.stats.mean_batch == 5.0


def test_max_batch_flushes_early() -> None:
    policy = Recorder()
    g = Gateway(policy, max_batch=2)
    for a in range(5):
        g.submit(obs(a), 10.0)
    g.flush()
    assert policy.batches == [[0, 1], [2, 3], [4]]
    assert g.stats.sizes == {2: 2, 1: 1}


class Cached:
    """An async policy whose answers for even agents are in a cache (read at once)."""

    def decide_cached(self, observation: Observation) -> Decision | None:
        return Decision(action="do_nothing") if observation.agent_id % 2 == 0 else None

    async def decide(self, observation: Observation) -> Decision:
        return Decision(action="do_nothing")


def test_answers_read_from_a_cache_make_batches_no_larger_than_max_batch() -> None:
    g = Gateway(Cached(), max_batch=1)
    for a in range(6):
        g.submit(obs(a), 10.0)
    g.flush()
    assert g.stats.decisions == 6 and g.stats.max_batch == 1 and g.stats.sizes == {1: 6}


def test_decision_must_resolve_after_observation() -> None:
    g = Gateway(Recorder())
    with pytest.raises(ValueError, match="strictly after"):
        g.submit(obs(0, 2.0), 2.0)


def test_non_policy_is_refused() -> None:
    with pytest.raises(TypeError, match="neither decide_batch"):
        Gateway(object())  # type: ignore[arg-type]


class SlowAsync:
    """Answers after a random delay; tracks how many calls run at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.rng = random.Random(0)

    async def decide(self, observation: Observation) -> Decision:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(self.rng.uniform(0, 0.01))
        self.running -= 1
        if observation.agent_id == 3:
            raise ConnectionError("server went away")
        return Decision(action="create_post", args={"content": f"by {observation.agent_id}"})


def test_async_results_keep_request_order_and_concurrency_is_bounded() -> None:
    policy = SlowAsync()
    g = Gateway(policy, max_concurrency=4)
    requests = [g.submit(obs(a), 1.0) for a in range(12)]
    g.flush()
    assert policy.peak == 4
    assert g.stats.max_in_flight == 4
    for a, r in enumerate(requests):
        assert r.decision is not None
        if a == 3:
            assert r.decision.error == "ConnectionError: server went away"
        else:
            assert r.decision.args["content"] == f"by {a}"


class Gated:
    """Async decisions that finish only once the test opens an agent's gate; records the
    order in which calls started."""

    concurrency = 1

    def __init__(self) -> None:
        self.started: list[tuple[int, int]] = []  # (agent, activation)
        self.open: set[int] = set()

    async def decide(self, observation: Observation) -> Decision:
        self.started.append((observation.agent_id, observation.activation))
        while observation.agent_id not in self.open:
            await asyncio.sleep(0.001)
        return Decision(action="do_nothing", args={})


def test_async_calls_start_when_requested_and_a_flush_waits_only_for_the_due_ones() -> None:
    policy = Gated()
    policy.concurrency = 4
    g = Gateway(policy)
    first = g.submit(obs(0), 1.0)
    second = g.submit(obs(1), 2.0)
    assert policy.started == [(0, 0), (1, 0)]  # sent before anything asked for them
    assert g.horizon == 1.0
    policy.open.add(0)
    g.flush()
    assert first.decision is not None and second.decision is None
    assert g.pending and g.horizon == 2.0 and g.oldest == 0.0
    policy.open.add(1)
    g.flush()
    assert second.decision is not None and not g.pending and g.horizon == float("inf")
    g.close()


def test_queued_calls_run_earliest_resolution_first_and_one_agent_in_request_order() -> None:
    policy = Gated()  # one call at a time
    g = Gateway(policy)
    g.submit(obs(9), 1.0)  # holds the only slot until its gate opens
    for agent, resolve_at in ((1, 5.0), (2, 3.0), (3, 4.0)):
        g.submit(obs(agent), resolve_at)
    g.submit(Observation(agent_id=1, time=0.5, activation=1), 2.0)  # agent 1 again, due first
    policy.open.update({1, 2, 3, 9})
    g.flush()
    g.flush()
    assert policy.started == [(9, 0), (2, 0), (3, 0), (1, 0), (1, 1)]
    assert not g.pending
    g.close()


def test_an_undecided_request_is_saved_as_its_observation_and_asked_again() -> None:
    policy = Gated()
    g = Gateway(policy)
    seen = Observation(agent_id=4, time=2.0, activation=3, posts=({"post_id": 1, "user_id": 2},),
                       following=frozenset({2}))
    request = g.submit(seen, 7.5)
    saved = g.save_request(request)
    g.close()
    assert saved["ask"]["resolve_at"] == 7.5
    again = Gateway(policy)
    restored = again.load_request(saved)
    assert isinstance(restored, Request) and restored.observation == seen
    assert again.pending and again.horizon == 7.5
    policy.open.add(4)
    again.flush()
    assert restored.decision == Decision(action="do_nothing")
    assert again.load_request(again.save_request(restored)) == Decided(decision=restored.decision)
    again.close()


class BacksOff:
    """Agent 0's call waits (as a retry's backoff does) without holding its slot."""

    concurrency = 1

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    async def decide(self, observation: Observation) -> Decision:
        self.events.append(("start", observation.agent_id))
        if observation.agent_id == 0:
            async with slot_released():
                await asyncio.sleep(0.02)
        self.events.append(("end", observation.agent_id))
        return Decision(action="do_nothing")


def test_a_call_waiting_to_retry_lends_its_slot() -> None:
    policy = BacksOff()
    g = Gateway(policy)
    g.submit(obs(0), 1.0)
    g.submit(obs(1), 2.0)
    g.flush()
    g.flush()
    assert policy.events == [("start", 0), ("start", 1), ("end", 1), ("end", 0)]
    assert g.stats.max_in_flight == 1 and not g.pending
    g.close()


class SlotInFlight:
    """Prepares and reads outside its slot (as the LLM policy does); one call in flight."""

    concurrency = 1
    slot_in_flight = True

    def __init__(self, calls: int) -> None:
        self.events: list[tuple[str, int]] = []
        self.calls = calls
        self.all_prepared = asyncio.Event()

    async def decide(self, observation: Observation) -> Decision:
        agent = observation.agent_id
        self.events.append(("prepare", agent))
        if sum(e[0] == "prepare" for e in self.events) == self.calls:
            self.all_prepared.set()
        async with in_flight():
            self.events.append(("send", agent))
            await self.all_prepared.wait()  # the server answers once every call is prepared
            self.events.append(("answer", agent))
        self.events.append(("read", agent))
        return Decision(action="do_nothing")


def test_a_policy_holding_its_slot_in_flight_prepares_while_others_are_on_the_wire() -> None:
    policy = SlotInFlight(calls=3)
    g = Gateway(policy)
    for a in range(3):
        g.submit(obs(a), 1.0 + a)
    g.drain()
    # Every call is prepared before the first answer; only one is ever on the wire, and
    # the next one is sent as soon as an answer is in, before that answer is read.
    assert policy.events[:4] == [("prepare", 0), ("send", 0), ("prepare", 1), ("prepare", 2)]
    wire = [e for e in policy.events if e[0] in ("send", "answer")]
    assert wire == [("send", 0), ("answer", 0), ("send", 1), ("answer", 1), ("send", 2),
                    ("answer", 2)]
    assert policy.events.index(("send", 1)) < policy.events.index(("read", 0))
    assert g.stats.max_in_flight == 1 and not g.pending
    g.close()
