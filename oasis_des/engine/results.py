"""What a run reports: its result at the end, and its progress after each commit."""

from __future__ import annotations

from dataclasses import dataclass

from oasis_des.engine.gateway import GatewayStats
from oasis_des.llm.usage import LLMUsage


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """What a run produced and how it went."""

    db_path: str
    actions: dict[str, int]  # successful actions (trace rows) per action name
    failures: dict[str, int]  # failed attempts per action name
    activations: int
    skipped_activations: int  # activations while the agent was still deciding
    sim_time: float  # simulated minutes reached
    wall_seconds: float
    digest: str | None  # SHA-256 of the result tables (digest.py); None: not asked for
    gateway: GatewayStats
    setup_actions: int = 0  # trace rows written before the run (sign-ups, seed posts)
    llm: LLMUsage | None = None  # LLM calls, tokens, cost and faults (None: no LLM agents)

    @property
    def total_actions(self) -> int:
        return sum(self.actions.values())

    @property
    def run_actions(self) -> int:
        """Trace rows written by the run itself (excluding sign-ups and seed posts)."""
        return self.total_actions - self.setup_actions


@dataclass(frozen=True, kw_only=True)
class Progress:
    """Reported to a progress callback after each committed stretch of simulated time."""

    sim_time: float
    duration: float
    activations: int
    actions: int
    wall_seconds: float
