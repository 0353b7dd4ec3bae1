"""The LLM policy: agents that decide by asking an OpenAI-compatible chat model.

Per activation: build the prompt (persona, memory, feed), look the request up in the
record/replay cache or send it, read the tool call back into a Decision (or a typed
failure), remember the activation, and record the call's usage. A failure never escapes:
the agent does nothing and the run goes on; only a replay cache miss stops the run.

The calls of one agent run one after the other, in the order they were asked for (the
gateway keeps that order; `decide` keeps it too when called directly, as interviews after
a run do), so what an agent remembers never depends on which server answered first.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from oasis_des.agents.population import Population
from oasis_des.llm.cache import Stored, canonical, request_key
from oasis_des.llm.client import ChatClient
from oasis_des.llm.context import social_context
from oasis_des.llm.faults import LLMFault
from oasis_des.llm.memory import AgentMemory
from oasis_des.llm.profile import LLMProfile
from oasis_des.llm.prompts import PromptBuilder, memory_line
from oasis_des.llm.session import LLMSession
from oasis_des.llm.tokens import approx_tokens
from oasis_des.llm.tools import ToolSet, answer_text
from oasis_des.llm.usage import CallRecord
from oasis_des.policies.base import Decision, Observation


@dataclass(frozen=True, kw_only=True)
class Interview(Observation):
    """A researcher's question to an agent, decided like an observation (see interview.py)."""

    question: str


@dataclass(frozen=True, kw_only=True)
class _Request:
    """What is constant across calls of one purpose: sampling parameters and tools."""

    params: dict[str, Any]
    canonical: str  # hashed into cache keys
    tokens: int  # approximate prompt tokens of the tools


class LLMPolicy:
    """Implements `AsyncPolicy` with chat completions; `concurrency` bounds calls in flight."""

    def __init__(
        self,
        profile: LLMProfile,
        population: Population,
        *,
        kind: str,
        session: LLMSession,
    ) -> None:
        self.profile = profile
        self.session = session
        self.concurrency = profile.concurrency
        self.tools = ToolSet(profile.allowed_actions(kind), tool_calling=profile.tool_calling,
                             max_chars=profile.max_output_chars)
        self.prompts = PromptBuilder(profile.prompt, population, kind, self.tools.response_method)
        self.memory = AgentMemory(profile.prompt.memory_activations, profile.prompt.memory_tokens)
        self.client = ChatClient(profile)
        if session.cache is None or session.cache.mode != "replay":
            # Load the client library now rather than in the run's first call (it takes
            # about half a second); a replay never calls a server and does without it.
            import openai  # noqa: F401
        sampling: dict[str, Any] = {"model": profile.model, "max_tokens": profile.max_tokens}
        if profile.temperature is not None:
            sampling["temperature"] = profile.temperature
        if profile.seed is not None:
            sampling["seed"] = profile.seed
        decide = dict(sampling)
        if self.tools.schemas is not None:
            decide["tools"] = self.tools.schemas
        self._decide = _Request(params=decide, canonical=canonical(["decide", decide]),
                                tokens=approx_tokens(canonical(decide.get("tools", ""))))
        self._interview = _Request(params=sampling, canonical=canonical(["interview", sampling]),
                                   tokens=0)
        self._turns: dict[int, asyncio.Future[None]] = {}

    # -- AsyncPolicy ------------------------------------------------------------------
    async def decide(self, observation: Observation) -> Decision:
        async with self._turn(observation.agent_id):
            if isinstance(observation, Interview):
                return await self._answer(observation)
            agent = observation.agent_id
            messages = self.prompts.decide_messages(observation, self.memory.render(agent))
            decision = await self._call("decide", observation, messages, self._decide,
                                        self.tools.decision)
            self.memory.remember(agent, memory_line(observation, decision))
            return decision

    async def _answer(self, interview: Interview) -> Decision:
        agent = interview.agent_id
        messages = self.prompts.interview_messages(agent, interview.question,
                                                   self.memory.render(agent))
        max_chars = self.profile.max_output_chars

        def read(body: dict[str, Any]) -> Decision:
            answer = answer_text(body, max_chars)
            return Decision(action="interview",
                            args={"prompt": interview.question, "response": answer})

        decision = await self._call("interview", interview, messages, self._interview, read)
        if decision.error is None and self.session.remember_interviews:
            q = " ".join(interview.question.split())[:100]
            answer = decision.args["response"]
            self.memory.remember(agent, f'was asked "{q}" and answered "{answer[:200]}"')
        return decision

    # -- one call ---------------------------------------------------------------------
    async def _call(
        self,
        purpose: str,
        obs: Observation,
        messages: list[dict[str, str]],
        request: _Request,
        read: Callable[[dict[str, Any]], Decision],
    ) -> Decision:
        """Ask (the cache, else a server) and `read` the answer; record the call's usage.

        Any fault, in transport or in the answer, gives a typed failure Decision.
        """
        cache = self.session.cache
        stored = None
        if cache is not None:
            key = request_key(request.canonical, obs.agent_id, obs.activation, messages)
            stored = cache.get(key)
            if stored is None and cache.mode == "replay":
                raise cache.miss(key, f"agent {obs.agent_id} ({purpose} at minute {obs.time:g})")
        if stored is not None:
            body = stored.body
            fault = (LLMFault(stored.error_category, stored.error_detail or "")
                     if stored.error_category else None)
            endpoint, latency, attempts, retries = None, 0.0, 0, None
        else:
            outcome = await self.client.complete({**request.params, "messages": messages})
            body, fault = outcome.body, outcome.fault
            endpoint, latency, attempts = outcome.endpoint, outcome.latency_s, outcome.attempts
            retries = outcome.retries
            if cache is not None:
                cache.put(key, self.profile.model, Stored(
                    body=body,
                    error_category=fault.category if fault else None,
                    error_detail=fault.detail if fault else None,
                ))
        decision = None
        if body is not None:
            try:
                decision = read(body)
            except LLMFault as exc:
                fault = exc
        prompt_tokens, completion_tokens = _tokens(body, messages, request.tokens)
        self.session.usage.add(CallRecord(
            agent_id=obs.agent_id, sim_time=obs.time, activation=obs.activation, purpose=purpose,
            model=self.profile.model, endpoint=endpoint, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=self.profile.cost(prompt_tokens, completion_tokens), latency_s=latency,
            cache_hit=stored is not None, attempts=attempts,
            error=fault.category if fault is not None else None,
        ), retries)
        if decision is None:
            assert fault is not None
            return Decision(action="do_nothing", error=str(fault))
        return decision

    @staticmethod
    def context(connection: sqlite3.Connection, agent: int) -> dict[str, Any]:
        """What the agent observes beside its feed (the engine asks when it observes)."""
        return social_context(connection, agent)

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def request_tokens(self) -> int:
        """Approximate prompt tokens a decision request adds to its messages (the tools)."""
        return self._decide.tokens

    @asynccontextmanager
    async def _turn(self, agent: int) -> AsyncIterator[None]:
        """Run an agent's calls one at a time, in the order they were asked for."""
        previous = self._turns.get(agent)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._turns[agent] = mine
        try:
            if previous is not None:
                await previous
            yield
        finally:
            mine.set_result(None)
            if self._turns.get(agent) is mine:
                del self._turns[agent]

    def state(self) -> dict[str, Any]:
        """JSON-able agent state (memory), for checkpoints."""
        return {"memory": self.memory.state()}

    def restore(self, state: dict[str, Any]) -> None:
        self.memory.restore(state["memory"])

    async def aclose(self) -> None:
        await self.client.aclose()


def _tokens(body: dict[str, Any] | None, messages: list[dict[str, str]], tools: int) -> tuple[int, int]:
    """(prompt, completion) tokens: the server's usage, else chars / 4; (0, 0) without a body."""
    if body is None:
        return 0, 0
    usage = body.get("usage")
    if isinstance(usage, dict):
        p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if type(p) is int and type(c) is int:
            return p, c
    choices = body.get("choices") or [{}]
    first = choices[0] if isinstance(choices, list) and isinstance(choices[0], dict) else {}
    answer = json.dumps(first.get("message", ""), ensure_ascii=False)
    return approx_tokens(canonical(messages)) + tools, approx_tokens(answer)
