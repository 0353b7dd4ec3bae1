"""Different policies for different agents: LLM core users beside an offline mass.

`[[policy.groups]]` in a run config gives a profile to a set of agents; agents no group
selects use `policy.model`. A group selects agents by id ranges (`agents = "0-99,150"`) or
by a share of all agents (`fraction = 0.1`: a seeded random sample; fractions of several
groups draw disjoint samples). An agent belongs to the first group that selects it.

The gateway asks the router to `split` a batch by policy, decides batch policies at once
and async policies concurrently, and applies every decision in request order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from oasis_des.agents.selection import group_masks
from oasis_des.policies.base import AsyncPolicy, BatchPolicy, Observation

if TYPE_CHECKING:
    from oasis_des.agents.population import Population
    from oasis_des.engine.config import Config
    from oasis_des.llm.session import LLMSession

Policy = BatchPolicy | AsyncPolicy


class PolicyRouter:
    """Sends each observation to its agent's policy."""

    def __init__(self, policies: Sequence[Policy], assignment: np.ndarray) -> None:
        self.policies = list(policies)
        self.assignment = np.asarray(assignment, dtype=np.int64)  # agent -> policy index

    def policy_for(self, agent: int) -> Policy:
        return self.policies[int(self.assignment[agent])]

    def split(self, observations: Sequence[Observation]) -> list[tuple[Policy, list[int]]]:
        """(policy, positions in `observations`) per policy that has any, in policy order."""
        parts: dict[int, list[int]] = {}
        assignment = self.assignment
        for i, obs in enumerate(observations):
            parts.setdefault(int(assignment[obs.agent_id]), []).append(i)
        return [(self.policies[p], parts[p]) for p in sorted(parts)]

    async def aclose(self) -> None:
        for policy in self.policies:
            close = getattr(policy, "aclose", None)
            if close is not None:
                await close()


def policy_for(policy: Policy | PolicyRouter, agent: int) -> Policy:
    """The policy that decides for `agent` (the policy itself when there is no router)."""
    return policy.policy_for(agent) if isinstance(policy, PolicyRouter) else policy


def build_policy(
    config: Config, population: Population, session: LLMSession
) -> Policy | PolicyRouter:
    """The run's policy: `policy.model` alone, or a router over the groups' profiles."""
    from oasis_des.policies.profiles import load_policy

    kind, seed, n = config.platform.kind, config.seed, len(population)
    groups = config.policy.groups
    if not groups:
        return load_policy(config.policy.model, population, kind=kind, seed=seed, session=session)
    models = [config.policy.model]  # index 0: agents no group selects
    assignment = np.zeros(n, dtype=np.int64)
    masks = group_masks(groups, n, seed=seed, purpose="policy-group", key="policy.groups")
    for group, mask in zip(groups, masks):
        if group.model not in models:
            models.append(group.model)
        assignment[mask] = models.index(group.model)
    used = sorted(set(assignment.tolist()))
    loaded: dict[int, Any] = {
        m: load_policy(models[m], population, kind=kind, seed=seed, session=session) for m in used
    }
    remap = np.zeros(len(models), dtype=np.int64)
    for position, m in enumerate(used):
        remap[m] = position
    return PolicyRouter([loaded[m] for m in used], remap[assignment])
