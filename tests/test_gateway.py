"""The gateway decides batches of independent requests, sync or async, in request order."""

from __future__ import annotations

import asyncio
import random
from typing import Sequence

import pytest

from oasis_des.engine.gateway import Gateway
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
