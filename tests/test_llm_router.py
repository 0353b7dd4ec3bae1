"""Policy groups: config validation, agent selection, and the gateway deciding mixed batches."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import small_population

from oasis_des.engine.config import Config, ConfigError, load_config
from oasis_des.engine.gateway import Gateway, PolicyAbort
from oasis_des.llm.session import LLMSession
from oasis_des.policies.base import Decision, Observation
from oasis_des.policies.offline import OfflinePolicy
from oasis_des.policies.profiles import find_profile
from oasis_des.agents.selection import parse_agents
from oasis_des.policies.router import PolicyRouter, build_policy


def obs(agent: int) -> Observation:
    return Observation(agent_id=agent, time=0.0, activation=0)


class Batch:
    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        self.seen.append([o.agent_id for o in observations])
        return [Decision(action="create_post", args={"content": f"batch {o.agent_id}"})
                for o in observations]


class Slow:
    """Answers later for lower agent ids, so completion order is the reverse of request order."""

    concurrency = 3

    def __init__(self) -> None:
        self.running = self.peak = 0

    async def decide(self, observation: Observation) -> Decision:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(0.002 * (20 - observation.agent_id))
        self.running -= 1
        if observation.agent_id == 13:
            raise ValueError("bad answer")
        return Decision(action="create_post", args={"content": f"llm {observation.agent_id}"})


def test_mixed_batches_keep_request_order_and_each_policy_limit() -> None:
    batch, slow = Batch(), Slow()
    assignment = np.array([0, 1] * 10)  # even agents offline, odd agents LLM
    gateway = Gateway(PolicyRouter([batch, slow], assignment), max_concurrency=100)
    order = [5, 2, 9, 4, 13, 11, 0, 7]
    requests = [gateway.submit(obs(a), 1.0) for a in order]
    gateway.flush()
    assert batch.seen == [[2, 4, 0]]  # one vectorised call, in request order
    assert slow.peak == 3 == gateway.stats.max_in_flight  # the policy's own concurrency
    contents = [r.decision.args.get("content") for r in requests]  # type: ignore[union-attr]
    assert contents == ["llm 5", "batch 2", "llm 9", "batch 4", None, "llm 11", "batch 0", "llm 7"]
    assert requests[4].decision.error == "ValueError: bad answer"  # type: ignore[union-attr]
    gateway.close()


class Aborting:
    def __init__(self) -> None:
        self.finished = 0

    async def decide(self, observation: Observation) -> Decision:
        if observation.agent_id == 0:
            raise PolicyAbort("replay miss")
        await asyncio.sleep(0.05)
        self.finished += 1
        return Decision(action="do_nothing")


def test_policy_abort_stops_the_batch() -> None:
    policy = Aborting()
    gateway = Gateway(policy, max_concurrency=4)
    for a in range(4):
        gateway.submit(obs(a), 1.0)
    with pytest.raises(PolicyAbort, match="replay miss"):
        gateway.flush()
    assert policy.finished == 0  # the other calls were cancelled
    gateway.close()


def test_agent_ranges() -> None:
    assert parse_agents("0-9, 15,20 - 21", "k") == [(0, 9), (15, 15), (20, 21)]
    for bad, message in (("0-", "is not an agent id"), ("5-2", "ends before it starts"),
                         ("a", "is not an agent id")):
        with pytest.raises(ValueError, match=message):
            parse_agents(bad, "policy.groups[0].agents")


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ('model = "offline"\n', "needs exactly one of 'agents'"),
        ('model = "offline"\nagents = "1-3"\nfraction = 0.5\n', "needs exactly one of"),
        ('model = "offline"\nagents = "x"\n', r"policy.groups\[0\].agents = 'x'"),
        ('model = "offline"\nfraction = 1.5\n', r"policy.groups\[0\].fraction = 1.5 is out of range"),
        ('agents = "1"\n', r"Missing config key 'policy.groups\[0\].model'"),
        ('model = "offline"\nagents = "1"\nagent = 2\n', r"Unknown config key 'policy.groups\[0\].agent'"),
    ],
)
def test_group_config_errors_name_the_key(tmp_path: Path, groups: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[[policy.groups]]\n" + groups)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_fractions_and_interviews_are_checked() -> None:
    with pytest.raises(ConfigError, match="fractions add up to 1.2"):
        Config().override(policy={"groups": [{"model": "a", "fraction": 0.6},
                                             {"model": "b", "fraction": 0.6}]})
    with pytest.raises(ConfigError, match=r"llm.interviews\[0\].agents"):
        Config().override(llm={"interviews": [{"time": 1, "agents": "?", "question": "q"}]})
    cfg = Config().override(llm={"interviews": [{"time": "2h", "agents": "1", "question": "q"}]})
    assert cfg.llm.interviews[0].time == 120.0
    with pytest.raises(ConfigError, match="llm.cache_mode = 'play' is not allowed"):
        Config().override(llm={"cache_mode": "play"})


def test_build_policy_assigns_first_matching_group(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(find_profile("offline").read_text())
    pop = small_population(50)
    cfg = Config().override(policy={"groups": [
        {"model": str(other), "agents": "0-9"},
        {"model": "offline", "agents": "5-14"},  # 5-9 already taken
        {"model": str(other), "fraction": 0.5},
    ]})
    router = build_policy(cfg, pop, LLMSession())
    assert isinstance(router, PolicyRouter) and len(router.policies) == 2
    assert all(isinstance(p, OfflinePolicy) for p in router.policies)
    first = router.policy_for(0)
    assert [router.policy_for(a) is first for a in range(15)] == [True] * 10 + [False] * 5
    rest = [router.policy_for(a) is first for a in range(15, 50)]
    assert 8 <= sum(rest) <= 27  # about half of the others
    again = build_policy(cfg, pop, LLMSession())
    assert isinstance(again, PolicyRouter) and np.array_equal(again.assignment, router.assignment)
    with pytest.raises(ValueError, match=r"policy.groups\[0\].agents: agent 99 does not exist"):
        build_policy(Config().override(policy={"groups": [{"model": "offline", "agents": "99"}]}),
                     pop, LLMSession())
