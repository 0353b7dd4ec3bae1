"""The simulation: one SimPy environment driving the platform, the agents and the gateway.

`Simulation.run()` advances simulated time with `env.peek()/env.step()`, flushing the
gateway's batch just before time reaches the earliest pending decision (see gateway.py)
and committing the database every `commit_every` simulated minutes. Nothing reads the wall
clock except to report how long the run took.
"""

from __future__ import annotations

import json
import time as wallclock
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Generator

import numpy as np
import simpy

from oasis_des import __version__
from oasis_des.agents.population import Population
from oasis_des.engine import schedule
from oasis_des.engine.config import Config
from oasis_des.engine.digest import table_digest
from oasis_des.engine.gateway import Gateway, GatewayStats
from oasis_des.engine.scripted import ScriptedAction, read_script
from oasis_des.platform.actions import ActionType
from oasis_des.platform.platform import Platform
from oasis_des.policies.base import AsyncPolicy, BatchPolicy, Observation
from oasis_des.rng import keyed_uniforms


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
    digest: str  # SHA-256 of the result tables (see digest.py)
    gateway: GatewayStats
    setup_actions: int = 0  # trace rows written before the run (sign-ups, seed posts)

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


class Simulation:
    """One run: build it from a Config, then call `run()` (repeatedly, to advance)."""

    def __init__(
        self,
        config: Config,
        *,
        population: Population | None = None,
        policy: BatchPolicy | AsyncPolicy | None = None,
        script: list[ScriptedAction] | None = None,
    ) -> None:
        self.config = config
        t = config.time
        self.duration = t.duration
        # Everything that can fail on user input happens before the output file exists.
        self.population = population if population is not None else _load_population(config)
        self.policy = policy if policy is not None else _load_policy(config, self.population)
        self.db_path = _prepare_output(config.output.path, config.output.overwrite)
        self.env = simpy.Environment()
        self.platform = Platform(
            self.db_path,
            config.platform.kind,
            tick=t.tick if t.mode == "stepped" else 1.0,
            start_time=datetime.fromisoformat(t.start_time),
            k=t.k,
            seed=config.seed,
            **config.platform.settings,
        )
        _sign_up(self.platform, self.population, config.population.trace_sign_ups)
        self.gateway = Gateway(
            self.policy,
            max_batch=config.gateway.max_batch,
            max_concurrency=config.gateway.max_concurrency,
        )
        self.server = simpy.Resource(self.env, capacity=config.server.capacity)
        self._busy: set[int] = set()
        self._activation_index = np.zeros(len(self.population), dtype=np.int64)
        self.activations = 0
        self.skipped = 0
        start = datetime.fromisoformat(t.start_time)
        self.profile = schedule.ActivityProfile(
            self.population.activity, start.hour + start.minute / 60.0
        )
        self._start_schedule()
        for action in script if script is not None else _load_script(config):
            self.schedule(action)
        self._commit_every = t.commit_every or (t.tick if t.mode == "stepped" else 1.0)
        self._next_commit = self._commit_every
        self._wall = 0.0
        self.events = 0  # SimPy events processed (for overhead measurements)
        self._write_meta()
        self._setup_actions = self._trace_count()

    # -- building ---------------------------------------------------------------------
    def _start_schedule(self) -> None:
        cfg, t = self.config.activation, self.config.time
        env, seed, activate = self.env, self.config.seed, self.activate
        if t.mode == "stepped":
            if cfg.model != "profile":
                raise ValueError(
                    f"activation.model = {cfg.model!r} needs time.mode = 'continuous'; "
                    "stepped mode activates by the activity profile."
                )
            env.process(
                schedule.tick_process(
                    env, self.profile, tick=t.tick, duration=self.duration, seed=seed,
                    activate=activate,
                )
            )
            return
        if cfg.model == "csv":
            times = schedule.read_activation_csv(cfg.csv, len(self.population))
            env.process(schedule.replay_process(env, times, duration=self.duration, activate=activate))
            return
        rates = np.full(len(self.population), cfg.rate) if cfg.rate else self.profile.mean_rate()
        for agent in range(len(self.population)):
            if cfg.model == "poisson":
                proc = schedule.poisson_process(
                    env, agent, float(rates[agent]), duration=self.duration, seed=seed,
                    activate=activate,
                )
            elif cfg.model == "bursty":
                proc = schedule.bursty_process(
                    env, agent, float(rates[agent]), alpha=cfg.burst_alpha,
                    duration=self.duration, seed=seed, activate=activate,
                )
            else:
                proc = schedule.profile_poisson_process(
                    env, agent, self.profile, duration=self.duration, seed=seed, activate=activate
                )
            env.process(proc)

    def schedule(self, action: ScriptedAction) -> None:
        """Run a scripted action at its simulated time (no thinking, through the server)."""
        if not 0 <= action.agent_id < len(self.population):
            raise ValueError(f"Scripted action for unknown agent {action.agent_id}.")
        if action.time < self.env.now:
            raise ValueError(f"Scripted action at {action.time} is in the past (now {self.env.now}).")
        self.env.process(self._scripted(action))

    def _scripted(self, action: ScriptedAction) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(action.time - self.env.now)
        yield from self._perform(action.agent_id, action.action, action.args)

    # -- agents -----------------------------------------------------------------------
    def activate(self, agent: int) -> None:
        """Start an activation, unless the agent is still busy with the previous one."""
        if agent in self._busy:
            self.skipped += 1
            return
        self._busy.add(agent)
        self.activations += 1
        self.env.process(self._activation(agent))

    def _activation(self, agent: int) -> Generator[simpy.Event, Any, None]:
        index = int(self._activation_index[agent])
        self._activation_index[agent] = index + 1
        observation = yield from self._served(ActionType.REFRESH.value, lambda: self._observe(agent, index))
        now = self.env.now
        request = self.gateway.submit(observation, now + self._think(agent, index))
        yield self.env.timeout(request.resolve_at - now)
        decision = request.decision
        assert decision is not None, "the run loop flushes the gateway before the horizon"
        if decision.error is None:
            yield from self._perform(agent, decision.action, decision.args)
        else:
            self._record_policy_failure(agent, decision.error)
        self._busy.discard(agent)

    def _observe(self, agent: int, index: int) -> Observation:
        feed = self.platform.execute(agent, ActionType.REFRESH)
        posts = tuple(feed.get("posts", ()))
        authors = sorted({p["user_id"] for p in posts} - {agent})
        following: frozenset[int] = frozenset()
        muted: frozenset[int] = frozenset()
        if authors:
            conn, marks = self.platform.connection, ",".join("?" * len(authors))
            following = frozenset(r[0] for r in conn.execute(
                f"SELECT followee_id FROM follow WHERE follower_id = ? AND followee_id IN ({marks})",
                (agent, *authors),
            ))
            muted = frozenset(r[0] for r in conn.execute(
                f"SELECT mutee_id FROM mute WHERE muter_id = ? AND mutee_id IN ({marks})",
                (agent, *authors),
            ))
        liked, disliked, reposted = self._engaged(agent, [p["post_id"] for p in posts])
        return Observation(
            agent_id=agent, time=self.env.now, activation=index, posts=posts,
            following=following, muted=muted, liked=liked, disliked=disliked, reposted=reposted,
        )

    def _engaged(self, agent: int, shown: list[int]) -> tuple[frozenset[int], ...]:
        """Which shown posts the agent already liked, disliked or reposted (via their root)."""
        if not shown:
            return frozenset(), frozenset(), frozenset()
        marks = ",".join("?" * len(shown))
        rows = self.platform.connection.execute(
            "SELECT p.post_id, "
            "EXISTS (SELECT 1 FROM \"like\" WHERE post_id = r.root AND user_id = ?1), "
            "EXISTS (SELECT 1 FROM dislike WHERE post_id = r.root AND user_id = ?1), "
            "EXISTS (SELECT 1 FROM post WHERE original_post_id = r.root AND user_id = ?1 "
            "AND quote_content IS NULL) "
            "FROM post p JOIN (SELECT post_id AS id, CASE WHEN original_post_id IS NOT NULL "
            "AND quote_content IS NULL THEN original_post_id ELSE post_id END AS root "
            f"FROM post WHERE post_id IN ({marks})) r ON r.id = p.post_id",
            (agent, *shown),
        ).fetchall()
        return tuple(frozenset(r[0] for r in rows if r[i]) for i in (1, 2, 3))  # type: ignore[return-value]

    def _think(self, agent: int, index: int) -> float:
        """Minutes until the decision takes effect: inside the tick (stepped), or k-scaled."""
        t = self.config.time
        u = float(keyed_uniforms(self.config.seed, "think", agent, index))
        if t.mode == "stepped":
            return t.tick * u
        seconds = max(t.min_think_seconds, -np.log(u) * t.think_seconds)
        return self.platform.clock.real_to_sim(seconds)

    def _perform(
        self, agent: int, action: str, args: dict[str, Any]
    ) -> Generator[simpy.Event, Any, None]:
        yield from self._served(action, lambda: self.platform.execute(agent, action, **args))

    def _served(self, action: str, work: Callable[[], Any]) -> Generator[simpy.Event, Any, Any]:
        """Queue for the platform server, hold it for the action's service time, then act.

        An action with no service time that finds a free server is done at once: that is
        what the server would do, without two scheduling events per action.
        """
        server = self.config.server
        service = server.per_action.get(action, server.service_minutes)
        if service <= 0 and self.server.count < self.server.capacity and not self.server.queue:
            self.platform.now = self.env.now
            return work()
        with self.server.request() as slot:
            yield slot
            if service > 0:
                yield self.env.timeout(service)
            self.platform.now = self.env.now
            return work()

    def _record_policy_failure(self, agent: int, error: str) -> None:
        self.platform.now = self.env.now
        self.platform.record_failure(agent, "decide", {}, error)

    # -- running ----------------------------------------------------------------------
    def run(
        self, until: float | None = None, progress: Callable[[Progress], None] | None = None
    ) -> RunResult:
        """Advance to simulated minute `until` (default: the configured duration)."""
        stop = self.duration if until is None else min(float(until), self.duration)
        env, gateway, conn = self.env, self.gateway, self.platform.connection
        started = wallclock.perf_counter()
        if not conn.in_transaction:
            conn.execute("BEGIN")
        try:
            while True:
                nxt = env.peek()
                if gateway.pending and nxt >= gateway.horizon:
                    gateway.flush()
                if nxt >= stop:
                    break
                if nxt >= self._next_commit:
                    conn.execute("COMMIT")
                    conn.execute("BEGIN")
                    while self._next_commit <= nxt:
                        self._next_commit += self._commit_every
                    if progress is not None:
                        progress(self._progress(nxt, started))
                env.step()
                self.events += 1
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
        if stop > env.now and env.peek() >= stop:
            env.run(until=stop)  # advance the clock to `stop` (no events remain before it)
        self._wall += wallclock.perf_counter() - started
        return self.result()

    def _progress(self, sim_time: float, started: float) -> Progress:
        return Progress(
            sim_time=sim_time,
            duration=self.duration,
            activations=self.activations,
            actions=self._trace_count() - self._setup_actions,
            wall_seconds=self._wall + wallclock.perf_counter() - started,
        )

    def _trace_count(self) -> int:
        row = self.platform.connection.execute("SELECT MAX(trace_id) FROM trace").fetchone()
        return int(row[0] or 0)

    def result(self) -> RunResult:
        conn = self.platform.connection
        actions = dict(conn.execute("SELECT action, COUNT(*) FROM trace GROUP BY action ORDER BY action"))
        failures = dict(
            conn.execute("SELECT action, COUNT(*) FROM failed_action GROUP BY action ORDER BY action")
        )
        return RunResult(
            db_path=self.db_path,
            actions=actions,
            failures=failures,
            activations=self.activations,
            skipped_activations=self.skipped,
            sim_time=self.env.now,
            wall_seconds=self._wall,
            digest=table_digest(conn),
            gateway=self.gateway.stats,
            setup_actions=self._setup_actions,
        )

    def close(self) -> None:
        self.gateway.close()
        self.platform.close()

    def _write_meta(self) -> None:
        meta = {
            "config": asdict(self.config),
            "seed": self.config.seed,
            "package_version": __version__,
            "agents": len(self.population),
        }
        with self.platform.store.atomic():
            self.platform.connection.executemany(
                "INSERT OR REPLACE INTO run_meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True)) for k, v in meta.items()],
            )


def _prepare_output(path: str, overwrite: bool) -> str:
    if path == ":memory:":
        return path
    out = Path(path)
    if out.exists():
        if not overwrite:
            raise FileExistsError(
                f"Output database {out} already exists; choose another path or allow overwriting "
                "(--overwrite, or output.overwrite = true)."
            )
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out}{suffix}").unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    return str(out)


def _load_population(config: Config) -> Population:
    from oasis_des.agents.loaders import load_population
    from oasis_des.agents.synthetic import generate_population

    if config.population.personas:
        return load_population(config.population.personas, seed=config.seed)
    return generate_population(config.population.agents, seed=config.seed, kind=config.platform.kind)


def _sign_up(platform: Platform, population: Population, trace: bool) -> None:
    from oasis_des.agents.signup import sign_up_population

    sign_up_population(platform, population, trace_sign_ups=trace)


def _load_policy(config: Config, population: Population) -> BatchPolicy | AsyncPolicy:
    from oasis_des.policies.profiles import load_policy

    return load_policy(config.policy.model, population, kind=config.platform.kind, seed=config.seed)


def _load_script(config: Config) -> list[ScriptedAction]:
    return read_script(config.script.file) if config.script.file else []
