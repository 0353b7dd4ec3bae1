"""Interviews (OASIS's interview action): researchers' questions to LLM agents.

During a run a question is asked at a simulated time through the gateway, like a decision:
it is sent at once and, for one agent, answered after every request the agent made before
it, so the answer never depends on batching or on which server was fastest. The
answer is recorded one simulated second later as an `interview` trace row (prompt and
response). Answers enter the agent's memory only with `llm.remember_interviews = true`.

After a run, `interview_database` asks agents of a finished run's database: personas come
from the run's config, memory from the agent's last traced actions, and the answers are
appended to the trace at the time of the run's last trace row.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oasis_des.engine.agenda import Kind
from oasis_des.engine.checkpoint import existing_run_file
from oasis_des.engine.config import Config, ConfigConflict, InterviewConfig
from oasis_des.engine.scripted import ScriptedAction
from oasis_des.llm.policy import Interview, LLMPolicy
from oasis_des.llm.prompts import describe
from oasis_des.llm.session import LLMSession
from oasis_des.policies.base import Decision
from oasis_des.agents.selection import parse_agents, select
from oasis_des.policies.router import policy_for

if TYPE_CHECKING:
    from oasis_des.engine.simulation import Simulation

ANSWER_MINUTES = 1.0 / 60.0  # an answer is recorded one simulated second after the question
_NOT_MEMORY = ("sign_up", "refresh", "interview")  # trace rows that are not remembered acts


class Interviews:
    """Schedules questions to agents of a simulation, as agenda entries (checkpointable).

    "interview" entries ask (agent, question, index); "answer" entries, one simulated second
    later, record the answer as a scripted `interview` action, or the failure.
    """

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self._asked: dict[int, int] = {}  # agent -> questions so far (the Interview index)
        sim.agenda.register("interview", Kind(fire=self._ask))
        sim.agenda.register("answer", Kind(
            fire=self._answer,
            save=lambda p: [p[0], p[1], sim.gateway.save_request(p[2])],
            load=lambda saved: (saved[0], saved[1], sim.gateway.load_request(saved[2])),
        ))

    def answers(self, agent: int) -> bool:
        """Whether `agent` decides with an LLM (only those can answer)."""
        return isinstance(policy_for(self.sim.policy, agent), LLMPolicy)

    def ask(self, time: float, agent: int, question: str) -> None:
        """Ask `agent` `question` at simulated minute `time`."""
        sim = self.sim
        if not 0 <= agent < len(sim.population):
            raise ValueError(f"Interview of unknown agent {agent}.")
        if time < sim.env.now:
            raise ValueError(f"Interview at {time} is in the past (now {sim.env.now}).")
        if not self.answers(agent):
            raise _cannot_answer(agent, time, sim.policy)
        index = self._asked.get(agent, 0)
        self._asked[agent] = index + 1
        sim.agenda.at(time, "interview", [agent, question, index])

    def schedule(self, items: Sequence[InterviewConfig]) -> None:
        """The `[[llm.interviews]]` of a config."""
        for time, agent, question in scheduled(items, len(self.sim.population)):
            self.ask(time, agent, question)

    def take(self, action: ScriptedAction) -> bool:
        """Ask a scripted `interview` without a response if its agent can answer; else False."""
        if action.action != "interview" or "response" in action.args:
            return False
        if not 0 <= action.agent_id < len(self.sim.population) or not self.answers(action.agent_id):
            return False
        prompt = action.args.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise ValueError(
                f"Scripted interview of agent {action.agent_id} at minute {action.time:g} "
                "has no 'prompt' (the question)."
            )
        self.ask(action.time, action.agent_id, prompt)
        return True

    def _ask(self, payload: list[Any]) -> None:
        agent, question, index = payload
        sim = self.sim
        now = sim.env.now
        asked = Interview(agent_id=agent, time=now, activation=index, question=question)
        request = sim.gateway.submit(asked, now + ANSWER_MINUTES)
        sim.agenda.at(request.resolve_at, "answer", (agent, question, request))

    def _answer(self, pending: tuple[int, str, Any]) -> None:
        agent, question, request = pending
        sim = self.sim
        decision = request.decision
        assert decision is not None, "the run loop flushes the gateway before the horizon"
        if decision.error is None:
            sim.schedule(ScriptedAction(time=sim.env.now, agent_id=agent, action=decision.action,
                                        args=decision.args))
        else:
            sim.platform.now = sim.env.now
            sim.platform.record_failure(agent, "interview", {"prompt": question}, decision.error)


@dataclass(frozen=True, kw_only=True)
class Answer:
    agent_id: int
    question: str
    response: str | None
    error: str | None


def interview_database(
    db_path: str,
    agents: Sequence[int],
    question: str,
    *,
    model: str | None,
    session: LLMSession,
) -> list[Answer]:
    """Ask agents of a finished run; answers are appended to its trace (and llm_call)."""
    from oasis_des.engine.setup import load_population
    from oasis_des.platform.platform import Platform
    from oasis_des.policies.profiles import load_policy
    from oasis_des.policies.router import build_policy

    meta = _run_meta(db_path)
    config = Config().override(**meta["config"])
    population = load_population(config)
    kind, seed = config.platform.kind, config.seed
    for agent in agents:
        if not 0 <= agent < len(population):
            raise ValueError(f"{db_path}: agent {agent} does not exist "
                             f"(the run has {len(population)} agents).")
    if model is not None:
        run_policy: Any = load_policy(model, population, kind=kind, seed=seed, session=session)
    else:
        run_policy = build_policy(config, population, session)
    clock = meta["clock"]
    platform = Platform(db_path, meta["platform_kind"], tick=clock["tick"],
                        start_time=clock["start_time"], k=clock["k"], seed=meta["platform_seed"],
                        **meta["platform_settings"])
    try:
        conn = platform.connection
        now = conn.execute("SELECT COALESCE(MAX(sim_time), 0) FROM trace").fetchone()[0]
        asked = []
        for agent in agents:
            policy = policy_for(run_policy, agent)
            if not isinstance(policy, LLMPolicy):
                raise ValueError(  # noqa: TRY004 (a user error: the CLI reports ValueErrors)
                    f"Agent {agent} decided with {type(policy).__name__} in this run; pass "
                    "--model PROFILE to interview it with an LLM."
                )
            _recall(conn, policy, agent)
            index = conn.execute(
                "SELECT COUNT(*) FROM llm_call WHERE agent_id = ? AND purpose = 'interview'",
                (agent,),
            ).fetchone()[0]
            asked.append((policy, Interview(agent_id=agent, time=now, activation=index,
                                            question=question)))
        decisions = asyncio.run(_ask_all(asked, run_policy))
        platform.now = now
        answers = []
        for (_, obs), decision in zip(asked, decisions):
            if decision.error is None:
                platform.execute(obs.agent_id, "interview", **decision.args)
                answers.append(Answer(agent_id=obs.agent_id, question=question,
                                      response=decision.args["response"], error=None))
            else:
                platform.record_failure(obs.agent_id, "interview", {"prompt": question},
                                        decision.error)
                answers.append(Answer(agent_id=obs.agent_id, question=question, response=None,
                                      error=decision.error))
        session.usage.write(conn)
    finally:
        platform.close()
    return answers


async def _ask_all(asked: list[tuple[LLMPolicy, Interview]], run_policy: Any) -> list[Decision]:
    """Agents in parallel, the questions of one agent in order (an answer may enter memory)."""
    by_agent: dict[int, list[int]] = {}
    for i, (_, obs) in enumerate(asked):
        by_agent.setdefault(obs.agent_id, []).append(i)
    answers: dict[int, Decision] = {}

    async def in_turn(positions: list[int]) -> None:
        for i in positions:
            answers[i] = await asked[i][0].decide(asked[i][1])

    try:
        await asyncio.gather(*(in_turn(p) for p in by_agent.values()))
        return [answers[i] for i in range(len(asked))]
    finally:
        close = getattr(run_policy, "aclose", None)
        if close is not None:
            await close()


def _run_meta(db_path: str) -> dict[str, Any]:
    existing_run_file(db_path)
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        rows = dict(conn.execute("SELECT key, value FROM run_meta").fetchall())
        conn.close()
    except sqlite3.Error as exc:
        raise ValueError(f"{db_path} is not an oasis-des run database ({exc}).") from None
    missing = {"config", "clock", "platform_kind", "platform_settings", "platform_seed"} - rows.keys()
    if missing:
        raise ValueError(
            f"{db_path} is not an oasis-des run database (run_meta lacks {', '.join(sorted(missing))})."
        )
    return {k: json.loads(v) for k, v in rows.items()}


def _recall(conn: sqlite3.Connection, policy: LLMPolicy, agent: int) -> None:
    """Memory for an interview after a run: the agent's last traced actions."""
    n = policy.memory.activations
    marks = ",".join("?" * len(_NOT_MEMORY))
    rows = conn.execute(
        f"SELECT action, info FROM trace WHERE user_id = ? AND action NOT IN ({marks}) "
        "ORDER BY trace_id DESC LIMIT ?",
        (agent, *_NOT_MEMORY, n),
    ).fetchall()
    for action, info in reversed(rows):
        try:
            args = json.loads(info) if info else {}
        except json.JSONDecodeError:
            args = {}
        policy.memory.remember(agent, describe(Decision(action=action, args=args)))


def check_interviews(items: Sequence[InterviewConfig], policy: Any, agents: int) -> None:
    """Refuse `[[llm.interviews]]` of agents that cannot answer, before a run's output
    exists (an existing file it would overwrite is still intact)."""
    for time, agent, _ in scheduled(items, agents):
        if not isinstance(policy_for(policy, agent), LLMPolicy):
            raise _cannot_answer(agent, time, policy)


def scheduled(items: Sequence[InterviewConfig], agents: int) -> Iterator[tuple[float, int, str]]:
    """(time, agent, question) of each interview the config asks for (also those at or
    after the run's end, which are never asked)."""
    for i, item in enumerate(items):
        key = f"llm.interviews[{i}].agents"
        for agent in select(parse_agents(item.agents, key), agents, key).nonzero()[0]:
            yield item.time, int(agent), item.question


def _cannot_answer(agent: int, time: float, policy: Any) -> ValueError:
    return ConfigConflict(
        f"Interview of agent {agent} at minute {time:g}: its policy "
        f"({type(policy_for(policy, agent)).__name__}) cannot answer questions; "
        "only agents with an LLM profile can."
    )
