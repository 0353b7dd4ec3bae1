"""The simulation: one SimPy environment driving the platform, the agents and the gateway.

`Simulation.run()` advances simulated time with `env.peek()/env.step()`, flushing the
gateway's batch just before time reaches the earliest pending decision (see gateway.py)
and committing the database every `commit_every` simulated minutes. Nothing reads the wall
clock except to report how long the run took.
"""

from __future__ import annotations

import sqlite3
import time as wallclock
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Generator

import simpy

from oasis_des.agents.population import Population
from oasis_des.engine import checkpoint
from oasis_des.engine.activation import Activations, Then
from oasis_des.engine.agenda import Agenda, Environment, Kind
from oasis_des.engine.collector import rare_collections
from oasis_des.engine.config import Config
from oasis_des.engine.digest import table_digest
from oasis_des.engine.gateway import Gateway, GatewayStats
from oasis_des.engine.results import Progress, RunResult
from oasis_des.engine.runlock import RunLock
from oasis_des.engine.scripted import ScriptedAction
from oasis_des.engine.setup import (
    create_run_database,
    load_policy,
    load_population,
    load_script,
    open_platform,
    prepare_output,
    sign_up,
)
from oasis_des.engine.threads import blas_threads
from oasis_des.llm.interview import Interviews, check_interviews
from oasis_des.llm.session import LLMSession
from oasis_des.platform.platform import Platform
from oasis_des.platform.store import StorageError, storage_error
from oasis_des.policies.base import AsyncPolicy, BatchPolicy
from oasis_des.policies.router import PolicyRouter


class Simulation:
    """One run: build it from a Config, then call `run()` (repeatedly, to advance)."""

    def __init__(
        self,
        config: Config,
        *,
        population: Population | None = None,
        policy: BatchPolicy | AsyncPolicy | PolicyRouter | None = None,
        script: list[ScriptedAction] | None = None,
        llm: LLMSession | None = None,
        _checkpoint: dict[str, Any] | None = None,
        _lock: RunLock | None = None,
    ) -> None:
        self._lock = _lock  # this process's lock on the database (runlock.py), until close()
        try:
            self._build(config, population, policy, script, llm, _checkpoint)
        except BaseException:
            self._release_lock()
            raise

    def _build(
        self,
        config: Config,
        population: Population | None,
        policy: BatchPolicy | AsyncPolicy | PolicyRouter | None,
        script: list[ScriptedAction] | None,
        llm: LLMSession | None,
        _checkpoint: dict[str, Any] | None,
    ) -> None:
        self.config = config
        t = config.time
        self.duration = t.duration
        resuming = _checkpoint is not None
        # Everything that can fail on user input happens before the output file exists.
        self.population = population if population is not None else load_population(config)
        # LLM policies share the record/replay cache and the usage log (llm/session.py).
        self.llm = llm if llm is not None else LLMSession.open(
            config.llm.cache, config.llm.cache_mode,
            remember_interviews=config.llm.remember_interviews,
        )
        self.policy = policy if policy is not None else load_policy(
            config, self.population, self.llm
        )
        self.env = Environment(initial_time=_checkpoint["now"] if resuming else 0.0)
        self.agenda = Agenda(self.env)
        self._agents = Activations(self, self._serve)  # reads an activation CSV, if any
        script = script if script is not None or resuming else load_script(
            config, len(self.population))
        if not resuming:  # settings the platform refuses (a plugin that cannot be loaded)
            open_platform(config, ":memory:").close()  # leave no output file behind
            check_interviews(config.llm.interviews, self.policy, len(self.population))
        self.db_path = (
            config.output.path if resuming
            else prepare_output(config.output.path, config.output.overwrite, self._take_lock)
        )
        if resuming:
            self.platform = open_platform(config, self.db_path)
        else:  # the config first: a run killed while signing up can restart
            self.platform = create_run_database(config, self.db_path, len(self.population))
            sign_up(self.platform, self.population, config.population.trace_sign_ups)
        self.gateway = Gateway(
            self.policy,
            max_batch=config.gateway.max_batch,
            max_concurrency=config.gateway.max_concurrency,
        )
        # A run never closed (a script that ends without close()) is closed when it is
        # dropped or at exit: its write-ahead log goes into the database file, which then
        # holds every committed row on its own, and its lock is released.
        self._closer = weakref.finalize(
            self, _close, self.gateway, self.llm, self.platform, self._lock
        )
        self.server = simpy.Resource(self.env, capacity=config.server.capacity)
        self._in_service = 0  # actions queued for or held by the server
        # A scripted action is an agenda entry too, so that a checkpoint holds the script.
        self.agenda.register("script", Kind(
            fire=lambda act: self._serve(act.agent_id, act.action, act.args),
            save=lambda act: asdict(act),
            load=lambda saved: ScriptedAction(**saved),
        ))
        self._commit_every = t.commit_every or (t.tick if t.mode == "stepped" else 1.0)
        self._next_commit = self._commit_every
        self._wall = 0.0
        self.events = 0  # SimPy events processed (for overhead measurements)
        self.stop_requested = False
        self._broken = False
        self.interviews = Interviews(self)
        if resuming:
            self._restore(_checkpoint)
            return
        self._agents.start()
        self.interviews.schedule(config.llm.interviews)
        for action in script or ():
            if not self.interviews.take(action):  # questions to LLM agents are asked
                self.schedule(action)
        self._setup_actions = self._trace_count()
        with self.platform.store.atomic():
            self._checkpoint()

    @classmethod
    def resume(
        cls,
        db_path: str | Path,
        *,
        population: Population | None = None,
        policy: BatchPolicy | AsyncPolicy | PolicyRouter | None = None,
        llm: LLMSession | None = None,
    ) -> "Simulation":
        """Continue a stopped run from its last checkpoint (see checkpoint.py).

        The run ends exactly as it would have without the stop. Pass the population and
        policy again if the run was built with objects rather than from its config.
        """
        # Locked before the checkpoint is read: no other process can advance the run now.
        lock = RunLock(db_path) if Path(db_path).is_file() else None
        try:
            config, saved = checkpoint.read_checkpoint(db_path)
            if saved is None:  # stopped before its first commit: nothing of it is kept
                return cls(config.override(output={"overwrite": True}), population=population,
                           policy=policy, llm=llm, _lock=lock)
            return cls(config, population=population, policy=policy, llm=llm,
                       _checkpoint=saved, _lock=lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    def _take_lock(self, db_path: str) -> None:
        """Lock the database at `db_path` for this process, unless it holds the lock."""
        if self._lock is None:
            self._lock = RunLock(db_path)

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def schedule(self, action: ScriptedAction) -> None:
        """Run a scripted action at its simulated time (no thinking, through the server)."""
        if not 0 <= action.agent_id < len(self.population):
            raise ValueError(f"Scripted action for unknown agent {action.agent_id}.")
        if action.time < self.env.now:
            raise ValueError(f"Scripted action at {action.time} is in the past (now {self.env.now}).")
        self.agenda.at(action.time, "script", action)

    # -- agents (activation.py) -------------------------------------------------------
    @property
    def activations(self) -> int:
        """Activations started so far."""
        return self._agents.activations

    @property
    def skipped(self) -> int:
        """Activations skipped because the agent was still deciding."""
        return self._agents.skipped

    def activate(self, agent: int) -> None:
        """Start an activation, unless the agent is still busy with the previous one."""
        self._agents.activate(agent)

    # -- the platform server ----------------------------------------------------------
    def _serve(
        self, agent: int, action: str, args: dict[str, Any],
        then: Then | None = None,
    ) -> None:
        """Have the platform server do an action, then call `then` with its result.

        An action with no service time that finds a free server is done at once: that is
        what the server would do, without scheduling events. Otherwise it queues for the
        server (a SimPy resource) and holds it for the action's service time.
        """
        server = self.config.server
        service = server.per_action.get(action, server.service_minutes)
        if service <= 0 and self.server.count < self.server.capacity and not self.server.queue:
            self.platform.now = self.env.now
            result = self.platform.execute(agent, action, **args)
            if then is not None:
                then(result)
            return
        self._in_service += 1
        self.env.process(self._queued(agent, action, args, service, then))

    def _queued(
        self, agent: int, action: str, args: dict[str, Any], service: float,
        then: Then | None,
    ) -> Generator[simpy.Event, Any, None]:
        with self.server.request() as slot:
            yield slot
            if service > 0:
                yield self.env.timeout(service)
            self.platform.now = self.env.now
            result = self.platform.execute(agent, action, **args)
        self._in_service -= 1
        if then is not None:
            then(result)

    # -- running ----------------------------------------------------------------------
    def run(
        self, until: float | None = None, progress: Callable[[Progress], None] | None = None,
        *, digest: bool = True,
    ) -> RunResult:
        """Advance to simulated minute `until` (default: the configured duration).

        The result's digest reads every table (a second for a 10,000-agent day, about a
        minute at 10^6 agents): a run advanced in many steps can skip it with
        `digest=False` (then `RunResult.digest` is None) and take it at the last step.

        Every `commit_every` minutes the stretch is committed with a checkpoint. If anything
        raises (or the process dies) the uncommitted stretch is rolled back: the database
        then holds the last checkpoint, and `Simulation.resume` continues from it (this
        object cannot). `request_stop()` (e.g. from a Ctrl-C handler) commits and ends the
        run before the next event that no platform action is in progress for.
        """
        with blas_threads(self.config.engine.blas_threads), rare_collections():
            self._advance(until, progress)
        return self.result(digest=digest)

    def _advance(
        self, until: float | None, progress: Callable[[Progress], None] | None
    ) -> None:
        if self._broken:
            raise RuntimeError(
                f"This run failed earlier; continue it from its database with "
                f"Simulation.resume({self.db_path!r}) or `oasis-des resume {self.db_path}`."
            )
        stop = self.duration if until is None else min(float(until), self.duration)
        env, gateway, conn = self.env, self.gateway, self.platform.connection
        self.platform.store.copy_wal_in_background()  # each commit carries megabytes of trace
        started = wallclock.perf_counter()
        if not conn.in_transaction:
            conn.execute("BEGIN")
        self.platform.store.defer_indexes()  # built when the run ends (store.py)
        self.platform.holding = True  # trace and rec rows go in at each commit
        try:
            while True:
                nxt = env.peek()
                if nxt >= stop:
                    break
                if gateway.pending and nxt >= gateway.horizon:
                    gateway.flush()
                due = nxt >= self._next_commit or self.stop_requested
                if due and self._in_service == 0:
                    while self._next_commit <= nxt:
                        self._next_commit += self._commit_every
                    self._commit(started)
                    if progress is not None:
                        progress(self._progress(nxt, started))
                    if self.stop_requested:
                        break
                    conn.execute("BEGIN")
                env.step()
                self.events += 1
            if not self.stop_requested and stop > env.now and env.peek() >= stop:
                env.run(until=stop)  # advance the clock to `stop` (no events remain before it)
            if conn.in_transaction:
                if env.now >= self.duration:
                    gateway.drain()  # a finished run accounts for every call it made
                self._commit(started)
            if env.now >= self.duration:
                self.platform.store.build_deferred_indexes()
                self.platform.stop_helpers()
        except BaseException as exc:
            self._broken = True
            self.platform.stop_helpers()
            self.platform.discard_held()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # Other databases (e.g. an LLM cache) raise StorageErrors naming their file.
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, StorageError):
                raise self._storage_fault(exc) from exc
            raise
        finally:
            self.platform.holding = False
        self._wall += wallclock.perf_counter() - started

    def _storage_fault(self, exc: sqlite3.Error) -> StorageError:
        """`exc`, a fault of the run database (disk full, I/O error, locked), as one sentence
        that names the file and says that the committed work can be continued."""
        error = storage_error(self.db_path, exc)
        if self.db_path != ":memory:":
            error.args = (f"{error} The run stopped; everything up to its last checkpoint is "
                          f"kept: continue it with `oasis-des resume {self.db_path}`.",)
        return error

    def request_stop(self) -> None:
        """End `run()` before its next event, with a commit and checkpoint (safe from a
        signal handler; with a busy platform server, once the server is free)."""
        self.stop_requested = True

    def _commit(self, started: float) -> None:
        """Commit the stretch together with the checkpoint of the state it leads to."""
        # Calls in flight go on: the checkpoint asks them again on resume (gateway.py), and
        # holds the records of calls that may still sort before theirs (usage.py).
        self.gateway.decide_queued()
        conn = self.platform.connection
        self.platform.write_held()
        self.llm.usage.write(conn, before=min(self.gateway.oldest, self.env.now))
        self._checkpoint(wallclock.perf_counter() - started)
        conn.execute("COMMIT")
        self.platform.store.committed()

    # -- checkpoints ------------------------------------------------------------------
    def _checkpoint(self, running: float = 0.0) -> None:
        """Save everything `resume` needs (inside the caller's transaction)."""
        if self._in_service:  # a SimPy process holds the server: its state cannot be saved
            checkpoint.save(self.platform.connection, {"resumable": False, "now": self.env.now})
            return
        checkpoint.save(self.platform.connection, {
            "resumable": True,
            "now": self.env.now,
            "next_commit": self._next_commit,
            **self._agents.state(),
            "events": self.events,
            "wall": self._wall + running,
            "setup_actions": self._setup_actions,
            "agenda": self.agenda.save(),
            "gateway": asdict(self.gateway.stats),
            "platform": self.platform.state(),
            "policies": [_policy_state(p) for p in _policies(self.policy)],
            "llm_usage": self.llm.usage.state(),
        })

    def _restore(self, saved: dict[str, Any]) -> None:
        self._next_commit = saved["next_commit"]
        self._agents.restore(saved)
        self.events = saved["events"]
        self._wall = saved["wall"]
        self._setup_actions = saved["setup_actions"]
        stats = saved["gateway"]
        stats["sizes"] = {int(k): v for k, v in stats["sizes"].items()}
        self.gateway.stats = GatewayStats(**stats)
        self.platform.restore(saved["platform"])
        for policy, state in zip(_policies(self.policy), saved["policies"], strict=True):
            if state is not None:
                policy.restore(state)  # type: ignore[union-attr]
        self.llm.usage.restore(saved["llm_usage"])
        self.agenda.restore(saved["agenda"])

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

    def result(self, *, digest: bool = True) -> RunResult:
        """The run so far (`digest=False`: without the digest, which reads every table)."""
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
            digest=table_digest(conn) if digest else None,
            gateway=self.gateway.stats,
            setup_actions=self._setup_actions,
            llm=self.llm.usage.totals() if self.llm.usage.calls else None,
        )

    def close(self) -> None:
        """Close the database and release it for other processes (once)."""
        self._closer()


def _close(gateway: Gateway, llm: LLMSession, platform: Platform, lock: RunLock | None) -> None:
    """Close a run's parts, and release its database for other processes."""
    try:
        gateway.close()
        llm.close()
        platform.close()
    finally:
        if lock is not None:
            lock.release()


def _policies(policy: Any) -> list[Any]:
    return list(policy.policies) if isinstance(policy, PolicyRouter) else [policy]


def _policy_state(policy: Any) -> Any:
    """A policy's mutable state (opinions, memory), or None if it keeps none."""
    state = getattr(policy, "state", None)
    return state() if callable(state) else None
