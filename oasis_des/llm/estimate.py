"""Tokens and cost of a run before running it (`oasis-des estimate CONFIG`).

Expected activations come from the activation model and the agents' activity profiles
(an upper bound: activations while an agent is still deciding are skipped in a run).
Prompt sizes are measured by building real prompts for a sample of each LLM profile's
agents, on a full feed (the platform's feed size, every post with the profile's number
of comments, texts of typical length) and a full memory: the steady state of a run, not
its cheap first minutes. Tokens are approximated as characters / 4 and completions as
`TYPICAL_COMPLETION_TOKENS` (the upper bound uses `max_tokens`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from oasis_des.agents.population import Population
from oasis_des.engine import schedule
from oasis_des.engine.config import Config
from oasis_des.llm.cache import canonical
from oasis_des.llm.interview import check_interviews, scheduled
from oasis_des.llm.policy import LLMPolicy
from oasis_des.llm.prompts import memory_line
from oasis_des.llm.session import LLMSession
from oasis_des.llm.tokens import approx_tokens
from oasis_des.platform.settings import PlatformSettings
from oasis_des.policies.base import Decision, Observation
from oasis_des.policies.router import PolicyRouter, policy_for

SAMPLE_AGENTS = 20  # prompts built per profile
TYPICAL_POST_CHARS = 200  # LLM-written posts; cut to the profile's post_chars
TYPICAL_COMMENT_CHARS = 100
TYPICAL_COMPLETION_TOKENS = 50  # a tool call with a short text argument
_FILLER = ("Honestly the new policy on renewable energy is a step forward, but prices keep "
           "rising and nobody explains who pays for it. What do you all think? ")


@dataclass(frozen=True, kw_only=True)
class ProfileEstimate:
    """Predicted LLM use of one profile's agents over a run."""

    profile: str
    model: str
    agents: int
    activations: float
    prompt_tokens_per_call: float
    completion_tokens_per_call: float
    max_completion_tokens: int
    price_input_per_mtok: float
    price_output_per_mtok: float
    interviews: bool = False  # calls are interviews (of agents counted in a decisions row)

    @property
    def prompt_tokens(self) -> float:
        return self.activations * self.prompt_tokens_per_call

    @property
    def completion_tokens(self) -> float:
        return self.activations * self.completion_tokens_per_call

    @property
    def cost_usd(self) -> float:
        return (self.prompt_tokens * self.price_input_per_mtok
                + self.completion_tokens * self.price_output_per_mtok) / 1e6

    @property
    def max_cost_usd(self) -> float:
        """Cost if every answer used max_tokens."""
        return (self.prompt_tokens * self.price_input_per_mtok + self.activations
                * self.max_completion_tokens * self.price_output_per_mtok) / 1e6


def expected_activations(config: Config, population: Population) -> np.ndarray:
    """Expected activations of each agent over the run's duration (with the activity the
    run gives it: its group's, the configured rate, else its persona's)."""
    from oasis_des.engine.setup import agent_activity

    t, a = config.time, config.activation
    activity = np.asarray(agent_activity(config, population), dtype=np.float64)
    start = datetime.fromisoformat(t.start_time)
    profile = schedule.ActivityProfile(activity, start.hour + start.minute / 60.0)
    if t.mode == "stepped":
        ticks = np.arange(math.ceil(t.duration / t.tick)) * t.tick
        hours = np.bincount([profile.hour(x) for x in ticks if x < t.duration], minlength=24)
        return schedule.tick_probability(activity, t.tick) @ hours
    if a.model == "csv":
        times = schedule.read_activation_csv(a.csv, len(population))
        agents = [agent for time, agent in times if time < t.duration]
        return np.bincount(agents, minlength=len(population)).astype(np.float64)
    if a.model in ("poisson", "bursty"):
        return profile.mean_rate() * t.duration / 60.0
    minutes = np.zeros(24)  # minutes of the run in each hour of the day
    edge = 0.0
    while edge < t.duration:
        into = (profile.start_hour * 60.0 + edge) % 60.0
        step = min(60.0 - into, t.duration - edge)
        minutes[profile.hour(edge)] += step
        edge += step
    return activity @ minutes / 60.0


def estimate(config: Config, population: Population | None = None) -> list[ProfileEstimate]:
    """Predicted tokens and cost per LLM profile of a run (empty when no agent uses an LLM)."""
    from oasis_des.engine.setup import load_population
    from oasis_des.policies.router import build_policy

    population = population if population is not None else load_population(config)
    session = LLMSession()
    policy = build_policy(config, population, session)
    if isinstance(policy, PolicyRouter):
        parts = [(p, np.flatnonzero(policy.assignment == i)) for i, p in enumerate(policy.policies)]
    else:
        parts = [(policy, np.arange(len(population)))]
    check_interviews(config.llm.interviews, policy, len(population))  # as a run would
    activations = expected_activations(config, population)
    settings = PlatformSettings.for_kind(config.platform.kind, **config.platform.settings)
    out = []
    for p, agents in parts:
        if not isinstance(p, LLMPolicy) or not len(agents):
            continue
        sample = agents[np.linspace(0, len(agents) - 1, min(SAMPLE_AGENTS, len(agents))).astype(int)]
        prompt = float(np.mean([_prompt_tokens(p, int(a), settings, population) for a in sample]))
        prof = p.profile
        out.append(ProfileEstimate(
            profile=prof.name, model=prof.model, agents=len(agents),
            activations=float(activations[agents].sum()),
            prompt_tokens_per_call=prompt,
            completion_tokens_per_call=float(min(TYPICAL_COMPLETION_TOKENS, prof.max_tokens)),
            max_completion_tokens=prof.max_tokens,
            price_input_per_mtok=prof.price_input_per_mtok,
            price_output_per_mtok=prof.price_output_per_mtok,
        ))
    return out + _interviews(config, population, policy)


def _interviews(
    config: Config, population: Population, policy: LLMPolicy | PolicyRouter
) -> list[ProfileEstimate]:
    """The `[[llm.interviews]]` asked before the run's end: one call per agent and
    question, a row per profile (`PROFILE:interviews`), prompts measured with a full
    memory on up to SAMPLE_AGENTS of each question's agents."""
    asked: dict[int, tuple[LLMPolicy, list[tuple[int, str]]]] = {}
    for time, agent, question in scheduled(config.llm.interviews, len(population)):
        if time < config.time.duration:
            p = policy_for(policy, agent)
            assert isinstance(p, LLMPolicy)  # check_interviews refused the others
            asked.setdefault(id(p), (p, []))[1].append((agent, question))
    out = []
    for p, calls in asked.values():
        sample = [calls[i] for i in
                  np.linspace(0, len(calls) - 1, min(SAMPLE_AGENTS, len(calls))).astype(int)]
        prof = p.profile
        out.append(ProfileEstimate(
            profile=f"{prof.name}:interviews", model=prof.model,
            agents=len({agent for agent, _ in calls}), activations=float(len(calls)),
            prompt_tokens_per_call=float(np.mean([_interview_tokens(p, *c) for c in sample])),
            completion_tokens_per_call=float(min(TYPICAL_COMPLETION_TOKENS, prof.max_tokens)),
            max_completion_tokens=prof.max_tokens,
            price_input_per_mtok=prof.price_input_per_mtok,
            price_output_per_mtok=prof.price_output_per_mtok, interviews=True,
        ))
    return out


def _interview_tokens(policy: LLMPolicy, agent: int, question: str) -> int:
    """Prompt tokens of asking `agent` `question` with a full memory."""
    _fill_memory(policy, Observation(agent_id=agent, time=0.0, activation=0))
    messages = policy.prompts.interview_messages(agent, question, policy.memory.render(agent))
    return approx_tokens(canonical(messages)) + policy.request_tokens


def _prompt_tokens(
    policy: LLMPolicy, agent: int, settings: PlatformSettings, population: Population
) -> int:
    """Prompt tokens of `agent` in a run's steady state: a full feed and a full memory."""
    obs = Observation(agent_id=agent, time=0.0, activation=0,
                      posts=_typical_feed(agent, settings, policy, population))
    _fill_memory(policy, obs)
    messages = policy.prompts.decide_messages(obs, policy.memory.render(agent))
    return approx_tokens(canonical(messages)) + policy.request_tokens


def _fill_memory(policy: LLMPolicy, obs: Observation) -> None:
    """A full memory for the observing agent: a run's steady state, not its first minutes."""
    last = Decision(action="create_post", args={"content": _text(TYPICAL_POST_CHARS, 0)})
    for _ in range(policy.memory.activations):
        policy.memory.remember(obs.agent_id, memory_line(obs, last))


def _typical_feed(
    agent: int, settings: PlatformSettings, policy: LLMPolicy, population: Population
) -> tuple[dict[str, Any], ...]:
    shown = policy.profile.prompt.comments_per_post
    if settings.comments_per_post:
        shown = min(shown, settings.comments_per_post)
    seeds = [text for _, text in population.seed_posts]
    n = len(population)
    posts = []
    for i in range(settings.refresh_rec_post_count + settings.following_post_count):
        content = seeds[i % len(seeds)] if seeds else _text(TYPICAL_POST_CHARS, i)
        comments = [{"comment_id": 10 * i + j, "post_id": i + 1, "user_id": (agent + j + 2) % n,
                     "content": _text(TYPICAL_COMMENT_CHARS, j), "num_likes": j, "num_dislikes": 0}
                    for j in range(shown)]
        posts.append({"post_id": i + 1, "user_id": (agent + i + 1) % n, "content": content,
                      "num_likes": 3, "num_dislikes": 1, "num_shares": 1, "num_reports": 0,
                      "comments": comments})
    return tuple(posts)


def _text(chars: int, shift: int) -> str:
    doubled = _FILLER * (1 + chars // len(_FILLER) + 1)
    start = (shift * 17) % len(_FILLER)
    return doubled[start : start + chars]


def render(estimates: list[ProfileEstimate]) -> str:
    """The estimate as a table."""
    if not estimates:
        return "No agent of this run uses an LLM profile: no tokens, no cost."
    head = (f"{'profile':<22}{'model':<24}{'agents':>8}{'activations':>13}{'prompt/call':>12}"
            f"{'input tok':>14}{'output tok':>13}{'cost $':>11}{'max cost $':>12}")
    lines = [head]
    for e in estimates:
        lines.append(
            f"{e.profile[:21]:<22}{e.model[:23]:<24}{e.agents:>8,}{e.activations:>13,.0f}"
            f"{e.prompt_tokens_per_call:>12,.0f}{e.prompt_tokens:>14,.0f}"
            f"{e.completion_tokens:>13,.0f}{e.cost_usd:>11,.2f}{e.max_cost_usd:>12,.2f}"
        )
    if len(estimates) > 1:
        lines.append(
            f"{'total':<46}{sum(e.agents for e in estimates if not e.interviews):>8,}"
            f"{sum(e.activations for e in estimates):>13,.0f}{'':>12}"
            f"{sum(e.prompt_tokens for e in estimates):>14,.0f}"
            f"{sum(e.completion_tokens for e in estimates):>13,.0f}"
            f"{sum(e.cost_usd for e in estimates):>11,.2f}"
            f"{sum(e.max_cost_usd for e in estimates):>12,.2f}"
        )
    lines.append(
        "Activations are expected values (an upper bound: busy agents skip activations); "
        "a PROFILE:interviews row counts the interviews asked before the run's end; "
        f"prompts are measured on full feeds and memories (chars/4), answers as "
        f"{TYPICAL_COMPLETION_TOKENS} tokens (max cost: max_tokens)."
    )
    return "\n".join(lines)
