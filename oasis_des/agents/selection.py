"""Groups of agents chosen in a config: by id ranges, or as a seeded random share.

Used by `[[policy.groups]]` (which profile decides) and `[[activation.groups]]` (how often
agents act). Each group has `agents` ("0-99,150") or `fraction` (of all agents); fraction
groups draw disjoint samples from one keyed uniform per agent, so a group's members do not
depend on the population's order or size beyond their own ids. The first group that
selects an agent takes it.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

import numpy as np

from oasis_des.engine.config import ConfigConflict
from oasis_des.rng import keyed_uniforms

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_agents(spec: str, key: str) -> list[tuple[int, int]]:
    """Inclusive (first, last) id ranges from text such as "0-99, 150, 200-249"."""
    out = []
    for part in spec.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(
                f"{key} = {spec!r}: {part.strip()!r} is not an agent id or range like '0-99'."
            )
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"{key} = {spec!r}: range {part.strip()!r} ends before it starts.")
        out.append((first, last))
    return out


class UnknownAgentError(ConfigConflict):
    """A config names an agent the population does not have (a persona file may set its
    size)."""


def select(ranges: Sequence[tuple[int, int]], n: int, key: str) -> np.ndarray:
    """A boolean mask over n agents of the ids in `ranges` (which must exist)."""
    mask = np.zeros(n, dtype=bool)
    for first, last in ranges:
        if last >= n:
            raise UnknownAgentError(
                f"{key}: agent {last} does not exist (the population has {n} agents).")
        mask[first : last + 1] = True
    return mask


class Group(Protocol):
    agents: str
    fraction: float


def group_masks(
    groups: Sequence[Group], n: int, *, seed: int, purpose: str, key: str
) -> list[np.ndarray]:
    """One boolean mask over the n agents per group; masks are disjoint."""
    u = keyed_uniforms(seed, purpose, np.arange(n)) if n else np.zeros(0)
    taken = np.zeros(n, dtype=bool)
    low = 0.0
    masks = []
    for i, group in enumerate(groups):
        if group.agents:
            name = f"{key}[{i}].agents"
            mask = select(parse_agents(group.agents, name), n, name)
        else:
            mask = (u >= low) & (u < low + group.fraction)
            low += group.fraction
        mask &= ~taken
        taken |= mask
        masks.append(mask)
    return masks
