"""The LLM policy: agents that decide by asking an OpenAI-compatible chat model.

Per activation: build the prompt (persona, memory, feed), look the request up in the
record/replay cache or send it, read the tool call back into a Decision (or a typed
failure), remember the activation, and record the call's usage. A failure never escapes:
the agent does nothing and the run goes on; only a replay cache miss stops the run.

Callers run the calls of one agent one after the other, in the order they were asked for
(the gateway does; so do interviews after a run), so what an agent remembers never
depends on which server answered first.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from oasis_des.agents.population import Population
from oasis_des.engine.gateway import in_flight
from oasis_des.llm.cache import Stored, canonical, request_key
from oasis_des.llm.client import CallOutcome, ChatClient
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

# A larger token count than this from a server is taken for no count (chars / 4 instead).
MAX_REPORTED_TOKENS = 10**9


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


@dataclass(kw_only=True)
class _Call:
    """One call in the making: what is sent, and the cache's answer to it if it has one."""

    obs: Observation
    purpose: str  # "decide" or "interview"
    request: _Request
    messages: list[dict[str, str]]
    key: str | None = None  # in the cache
    stored: Stored | None = None


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
            # Load the client library and make the clients now rather than in the run's
            # first calls (half a second); a replay never calls a server and does without.
            self.client.open()
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

    # -- AsyncPolicy ------------------------------------------------------------------
    # The gateway's concurrency slot is held only while a request is on the wire: prompts
    # are built while calls ahead hold the slots, answers read once the slot is passed on.
    slot_in_flight = True

    async def decide(self, observation: Observation) -> Decision:
        call = self._prepare(observation)
        if call.stored is not None:
            return self._conclude(call, call.stored.body, call.stored.fault(), None)
        request = {**call.request.params, "messages": call.messages}
        async with in_flight():
            outcome = await self.client.complete(request)
        cache = self.session.cache
        if cache is not None and call.key is not None:
            cache.put(call.key, self.profile.model, Stored.of(outcome.body, outcome.fault))
        return self._conclude(call, outcome.body, outcome.fault, outcome)

    def decide_cached(self, observation: Observation) -> Decision | None:
        """The decision at once if the cache holds its answer, else None (ask `decide`).

        Replays answer every call from the cache: deciding them here spares the gateway its
        event loop, which costs more than the decision itself.
        """
        cache = self.session.cache
        if cache is None or not cache.reads:
            return None
        call = self._prepare(observation)
        if call.stored is None:
            return None
        return self._conclude(call, call.stored.body, call.stored.fault(), None)

    # -- one call ---------------------------------------------------------------------
    def _prepare(self, obs: Observation) -> _Call:
        """The messages of a decision or an interview, and the cache's answer if it has one."""
        agent = obs.agent_id
        memory = self.memory.render(agent)
        if isinstance(obs, Interview):
            call = _Call(obs=obs, purpose="interview", request=self._interview,
                         messages=self.prompts.interview_messages(agent, obs.question, memory))
        else:
            call = _Call(obs=obs, purpose="decide", request=self._decide,
                         messages=self.prompts.decide_messages(obs, memory))
        cache = self.session.cache
        if cache is not None:
            call.key = request_key(call.request.canonical, agent, obs.activation, call.messages)
            call.stored = cache.get(call.key)
            if call.stored is None and cache.mode == "replay":
                raise cache.miss(call.key, f"agent {agent} ({call.purpose} at minute {obs.time:g})")
        return call

    def _conclude(
        self, call: _Call, body: dict[str, Any] | None, fault: LLMFault | None,
        outcome: CallOutcome | None,
    ) -> Decision:
        """Read the answer (any fault gives a typed failure Decision), record the call's
        usage, and remember what the agent did."""
        obs = call.obs
        decision = None
        if body is not None:
            try:
                decision = self._read(obs, body)
            except LLMFault as exc:
                fault = exc
        prompt_tokens, completion_tokens, cached_tokens = _tokens(
            body, call.messages, call.request.tokens)
        self.session.usage.add(CallRecord(
            agent_id=obs.agent_id, sim_time=obs.time, activation=obs.activation,
            purpose=call.purpose, model=self.profile.model,
            endpoint=outcome.endpoint if outcome else None, prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens, cached_prompt_tokens=cached_tokens,
            cost=self.profile.cost(prompt_tokens, completion_tokens, cached_tokens),
            latency_s=outcome.latency_s if outcome else 0.0, cache_hit=outcome is None,
            attempts=outcome.attempts if outcome else 0,
            error=fault.category if fault is not None else None,
        ), outcome.retries if outcome else None)
        if decision is None:
            assert fault is not None
            decision = Decision(action="do_nothing", error=str(fault))
        self._remember(obs, decision)
        return decision

    def _read(self, obs: Observation, body: dict[str, Any]) -> Decision:
        if not isinstance(obs, Interview):
            return self.tools.decision(body)
        answer = answer_text(body, self.profile.max_output_chars)
        return Decision(action="interview", args={"prompt": obs.question, "response": answer})

    def _remember(self, obs: Observation, decision: Decision) -> None:
        if not isinstance(obs, Interview):
            self.memory.remember(obs.agent_id, memory_line(obs, decision))
        elif decision.error is None and self.session.remember_interviews:
            q = " ".join(obs.question.split())[:100]
            answer = decision.args["response"]
            self.memory.remember(obs.agent_id, f'was asked "{q}" and answered "{answer[:200]}"')

    @staticmethod
    def context(connection: sqlite3.Connection, agent: int) -> dict[str, Any]:
        """What the agent observes beside its feed (the engine asks when it observes)."""
        return social_context(connection, agent)

    # -- bookkeeping ------------------------------------------------------------------
    @property
    def request_tokens(self) -> int:
        """Approximate prompt tokens a decision request adds to its messages (the tools)."""
        return self._decide.tokens

    def state(self) -> dict[str, Any]:
        """JSON-able agent state (memory), for checkpoints."""
        return {"memory": self.memory.state()}

    def restore(self, state: dict[str, Any]) -> None:
        self.memory.restore(state["memory"])

    async def aclose(self) -> None:
        await self.client.aclose()


def _tokens(
    body: dict[str, Any] | None, messages: list[dict[str, str]], tools: int
) -> tuple[int, int, int]:
    """(prompt, completion, of the prompt read from the server's prompt cache) tokens: the
    server's usage, else chars / 4 and none cached; (0, 0, 0) without a body."""
    if body is None:
        return 0, 0, 0
    usage = body.get("usage")
    if isinstance(usage, dict):
        p, c = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if _count(p) and _count(c):
            return p, c, _server_cached(usage, p)
    choices = body.get("choices") or [{}]
    first = choices[0] if isinstance(choices, list) and isinstance(choices[0], dict) else {}
    answer = json.dumps(first.get("message", ""), ensure_ascii=False)
    return approx_tokens(canonical(messages)) + tools, approx_tokens(answer), 0


def _count(tokens: Any) -> bool:
    """Whether a server's token count is one: a whole number from 0 to MAX_REPORTED_TOKENS
    (a negative or absurd count, which SQLite may not even hold, is no report at all)."""
    return type(tokens) is int and 0 <= tokens <= MAX_REPORTED_TOKENS


def _server_cached(usage: dict[str, Any], prompt: int) -> int:
    """Prompt tokens the server read from its prompt cache, as OpenAI and vLLM
    (`prompt_tokens_details.cached_tokens`) or DeepSeek (`prompt_cache_hit_tokens`) report
    them; 0 when it says nothing, and never more than the prompt."""
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if type(cached) is not int:
        cached = usage.get("prompt_cache_hit_tokens")
    return min(max(cached, 0), prompt) if type(cached) is int else 0
