"""Activations: when each agent wakes, and what it does awake (read, decide, act).

Agents wake on the stepped model's ticks, each on its own continuous clock, or at times
replayed from a CSV (schedule.py). Awake, an agent refreshes its feed through the platform
server, asks the gateway for a decision that takes effect after its think time, and does
the decided action; until then it is busy and further wake-ups are skipped. Every future
step is an agenda entry, so a checkpoint holds it (agenda.py). `Simulation` runs the clock,
the platform server, commits and checkpoints; this module is what the agents do meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from oasis_des.engine import schedule
from oasis_des.engine.agenda import Kind
from oasis_des.engine.setup import activation_clock, agent_activity
from oasis_des.platform.actions import ActionType
from oasis_des.policies.base import Observation
from oasis_des.policies.router import policy_for
from oasis_des.rng import keyed_uniform

if TYPE_CHECKING:
    from oasis_des.engine.simulation import Simulation

REFRESH = ActionType.REFRESH.value

Then = Callable[[dict[str, Any]], None]
# Simulation._serve: have the platform server do (agent, action, args), then call `then`.
Serve = Callable[[int, str, dict[str, Any], Then | None], None]


class Activations:
    """The agents of a simulation waking and deciding, as agenda entries (checkpointable).

    Built before the run's output file exists: reading an activation CSV can fail on user
    input. "tick" entries wake the agents of a step, "wake" ones ([agent, draws]) an agent
    on its own clock, "replay" ones the CSV's rows from a position; "decide" entries
    ((agent, request)) carry out a decision when its think time is over.
    """

    def __init__(self, sim: Simulation, serve: Serve) -> None:
        self.sim = sim
        self._serve = serve
        config, n = sim.config, len(sim.population)
        t = config.time
        start = datetime.fromisoformat(t.start_time)
        self.profile = schedule.ActivityProfile(
            agent_activity(config, sim.population), start.hour + start.minute / 60.0
        )
        self._ticks = schedule.TickModel(self.profile, tick=t.tick, seed=config.seed)
        self._clock = activation_clock(config, self.profile, sim.duration)
        self._replay_times = (
            schedule.read_activation_csv(config.activation.csv, n)
            if t.mode == "continuous" and config.activation.model == "csv" else []
        )
        self.busy: set[int] = set()  # agents between waking and acting on their decision
        self.index = np.zeros(n, dtype=np.int64)  # each agent's activations so far
        self.activations = 0
        self.skipped = 0
        a = sim.agenda
        a.register("tick", Kind(fire=self._tick))
        a.register("wake", Kind(fire=self._wake))
        a.register("replay", Kind(fire=self._replay))
        a.register("decide", Kind(
            fire=self._decided,
            save=lambda p: [p[0], sim.gateway.save_request(p[1])],
            load=lambda saved: (saved[0], sim.gateway.load_request(saved[1])),
        ))

    def start(self) -> None:
        """Schedule the first wake-ups of a new run."""
        sim = self.sim
        cfg, t = sim.config.activation, sim.config.time
        if t.mode == "stepped":
            sim.agenda.at(0.0, "tick", 0)
        elif cfg.model == "csv":
            if self._replay_times:
                sim.agenda.at(self._replay_times[0][0], "replay", 0)
        else:
            for agent in range(len(sim.population)):
                self._next_wake(agent, 0.0, 0)

    def state(self) -> dict[str, Any]:
        """The counters and busy agents, for a checkpoint (the agenda holds the rest)."""
        return {
            "activations": self.activations,
            "skipped": self.skipped,
            "activation_index": self.index,
            "busy": sorted(self.busy),
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.activations = saved["activations"]
        self.skipped = saved["skipped"]
        self.index[:] = saved["activation_index"]
        self.busy = set(saved["busy"])

    # -- waking -----------------------------------------------------------------------
    def _tick(self, step: int) -> None:
        sim = self.sim
        agents = self._ticks.activated(step).tolist()
        server = sim.config.server
        if server.per_action.get(REFRESH, server.service_minutes) <= 0:
            sim.platform.now = sim.env.now  # their refreshes come first, all at once
            sim.platform.prepare_refreshes([a for a in agents if a not in self.busy])
        following = (step + 1) * sim.config.time.tick
        if following < sim.duration:
            if server.per_action.get(REFRESH, server.service_minutes) <= 0:
                sim.platform.rank_ahead(self._ticks.activated(step + 1).tolist(), following)
        for agent in agents:
            self.activate(agent)
        if following < sim.duration:
            sim.agenda.at(following, "tick", step + 1)

    def _wake(self, state: list[int]) -> None:
        agent, draws = state
        self.activate(agent)
        self._next_wake(agent, self.sim.env.now, draws)

    def _next_wake(self, agent: int, after: float, draws: int) -> None:
        assert self._clock is not None
        following = self._clock.next(agent, after, draws)
        if following is not None and following[0] < self.sim.duration:
            self.sim.agenda.at(following[0], "wake", [agent, following[1]])

    def _replay(self, position: int) -> None:
        """Activations at times read from a file: every row of this time, then the next."""
        times, now = self._replay_times, self.sim.env.now
        while position < len(times) and times[position][0] <= now:
            self.activate(times[position][1])
            position += 1
        if position < len(times) and times[position][0] < self.sim.duration:
            self.sim.agenda.at(times[position][0], "replay", position)

    # -- deciding ---------------------------------------------------------------------
    def activate(self, agent: int) -> None:
        """Start an activation, unless the agent is still busy with the previous one."""
        if agent in self.busy:
            self.skipped += 1
            return
        self.busy.add(agent)
        self.activations += 1
        index = int(self.index[agent])
        self.index[agent] = index + 1
        self._serve(agent, REFRESH, {}, lambda feed: self._observed(agent, index, feed))

    def _observed(self, agent: int, index: int, feed: dict[str, Any]) -> None:
        """The agent has read its feed: ask for a decision, effective after its think time."""
        sim = self.sim
        observation = self._observe(agent, index, feed)
        request = sim.gateway.submit(observation, sim.env.now + self._think(agent, index))
        sim.agenda.at(request.resolve_at, "decide", (agent, request))

    def _decided(self, pending: tuple[int, Any]) -> None:
        agent, request = pending
        decision = request.decision
        assert decision is not None, "the run loop flushes the gateway before the horizon"
        if decision.error is None:
            self._serve(agent, decision.action, decision.args, lambda _: self.busy.discard(agent))
        else:
            self._record_policy_failure(agent, decision.error)
            self.busy.discard(agent)

    def _observe(self, agent: int, index: int, feed: dict[str, Any]) -> Observation:
        platform = self.sim.platform
        posts = tuple(feed.get("posts", ()))
        authors = {p["user_id"] for p in posts} - {agent}
        following: frozenset[int] = frozenset()
        muted: frozenset[int] = frozenset()
        if authors:  # the refresh has just looked these up: no queries here
            followees, mutees = platform.feed_index.relations(agent)
            following = frozenset(authors.intersection(followees))
            muted = frozenset(authors & mutees)
        liked, disliked, reposted = platform.engaged(agent, [p["post_id"] for p in posts])
        liked_comments, disliked_comments = platform.rated_comments(agent)
        context = getattr(policy_for(self.sim.policy, agent), "context", None)  # e.g. LLM agents'
        return Observation(
            agent_id=agent, time=self.sim.env.now, activation=index, posts=posts,
            following=following, muted=muted, liked=liked, disliked=disliked, reposted=reposted,
            liked_comments=liked_comments, disliked_comments=disliked_comments,
            **(context(platform.connection, agent) if context is not None else {}),
        )

    def _think(self, agent: int, index: int) -> float:
        """Minutes until the decision takes effect: inside the tick (stepped), or k-scaled."""
        config = self.sim.config
        t = config.time
        u = keyed_uniform(config.seed, "think", agent, index)
        if t.mode == "stepped":
            return t.tick * u
        seconds = max(t.min_think_seconds, -np.log(u) * t.think_seconds)
        return self.sim.platform.clock.real_to_sim(seconds)

    def _record_policy_failure(self, agent: int, error: str) -> None:
        platform = self.sim.platform
        platform.now = self.sim.env.now
        platform.record_failure(agent, "decide", {}, error)
