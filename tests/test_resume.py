"""Checkpoints and resume: a stopped, failed or killed run ends as an uninterrupted one."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import pytest

from engine_helpers import config, small_population
from oasis_des.agents.synthetic import generate_population
from oasis_des.engine import checkpoint
from oasis_des.engine.agenda import Environment
from oasis_des.engine.scripted import ScriptedAction
from oasis_des.engine.simulation import Simulation
from oasis_des.policies.base import Decision, Observation
from oasis_des.policies.offline import OfflineParams, OfflinePolicy
from oasis_des.resources import data_dir

SCRIPT = [
    ScriptedAction(time=0.0, agent_id=0, action="create_post", args={"content": "seed post"}),
    ScriptedAction(time=95.0, agent_id=1, action="like_post", args={"post_id": 1}),
]
SCENARIOS = {
    "stepped": {"time": {"duration": 240.0}},
    "reddit": {"platform": {"kind": "reddit"}, "time": {"duration": 240.0}},
    "poisson": {"time": {"mode": "continuous", "duration": 180.0},
                "activation": {"model": "poisson", "rate": 2.0}},
    "bursty": {"time": {"mode": "continuous", "duration": 180.0},
               "activation": {"model": "bursty", "rate": 2.0}},
    "profile": {"time": {"mode": "continuous", "duration": 180.0, "commit_every": 7.0}},
    # Recommender state beyond the tables: cached feeds, recent engagement, which posts
    # have vectors (small windows, so that they move on and their arrays regrow).
    "twitter-cached": {"time": {"duration": 240.0},
                       "platform": {"settings": {"feed_cache_minutes": 30.0}}},
    "embedding": {"time": {"duration": 240.0}, "platform": {"settings": {
        "recommender": "embedding", "candidate_window": 10}}},
    "embedding-cached": {"time": {"duration": 240.0}, "platform": {"settings": {
        "recommender": "embedding", "feed_cache_minutes": 10.0, "candidate_window": 40}}},
    "reddit-cached": {"platform": {"kind": "reddit", "settings": {"feed_cache_minutes": 20.0}},
                      "time": {"duration": 240.0}},
}


def _build(tmp_path: Path, name: str, scenario: str, **kw: Any) -> Simulation:
    cfg = config(output={"path": str(tmp_path / f"{name}.db")}, **SCENARIOS[scenario])
    return Simulation(cfg, population=small_population(40), script=list(SCRIPT), **kw)


def _digest_of_whole_run(tmp_path: Path, scenario: str) -> str:
    sim = _build(tmp_path, "whole", scenario)
    try:
        return sim.run().digest
    finally:
        sim.close()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_stopped_and_resumed_twice_ends_with_the_uninterrupted_digest(
    tmp_path: Path, scenario: str
) -> None:
    expected = _digest_of_whole_run(tmp_path, scenario)
    sim = _build(tmp_path, "parts", scenario)
    sim.run(until=50.0)
    sim.close()
    for until in (121.5, None):
        sim = Simulation.resume(tmp_path / "parts.db", population=small_population(40))
        result = sim.run(until=until)
        sim.close()
    assert result.sim_time == SCENARIOS[scenario]["time"]["duration"]
    assert result.digest == expected


def test_entries_fire_at_exactly_their_time_from_any_now() -> None:
    """From minute 81.04727233441666 no float delay reaches 243.75016254864087 (SimPy adds
    it to now); a run resumed at minute 170 would reach it, so the agenda must too."""
    now, time = 81.04727233441666, 243.75016254864087
    assert now + (time - now) != time
    env = Environment(initial_time=now)
    fired: list[float] = []
    env.timeout_at(time).callbacks.append(lambda _: fired.append(env.now))
    env.timeout(1.0).callbacks.append(lambda _: fired.append(env.now))  # plain ones as before
    env.run()
    assert fired == [now + 1.0, time]


def test_a_continuous_run_resumed_far_from_its_agents_wake_times_ends_the_same(
    tmp_path: Path,
) -> None:
    """Agents of a continuous profile run wake hours after they are scheduled (the case
    above): stopped in between and resumed, the run must end with the same tables."""
    population = generate_population(200, seed=5)

    def build(name: str) -> Simulation:
        cfg = config(seed=5, output={"path": str(tmp_path / f"{name}.db")},
                     time={"mode": "continuous", "duration": 360.0, "commit_every": 30.0},
                     activation={"model": "profile"})
        return Simulation(cfg, population=population)

    whole = build("whole")
    expected = whole.run().digest
    whole.close()
    parts = build("parts")
    parts.run(until=170.0)
    parts.close()
    resumed = Simulation.resume(tmp_path / "parts.db", population=population)
    assert resumed.run().digest == expected
    resumed.close()


class _Failing:
    """The offline policy, failing once at its `fail_at`-th batch (a crash mid-stretch)."""

    def __init__(self, inner: OfflinePolicy, fail_at: int) -> None:
        self.inner, self.fail_at, self.batches = inner, fail_at, 0

    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        self.batches += 1
        if self.batches == self.fail_at:
            raise RuntimeError("policy crashed")
        return self.inner.decide_batch(observations)

    def state(self) -> dict[str, Any]:
        return self.inner.state()

    def restore(self, state: dict[str, Any]) -> None:
        self.inner.restore(state)


def test_a_crash_rolls_back_to_the_last_checkpoint_and_resume_redoes_it(tmp_path: Path) -> None:
    expected = _digest_of_whole_run(tmp_path, "stepped")
    population = small_population(40)
    offline = OfflinePolicy(population, OfflineParams.from_toml(data_dir("models") / "offline.toml"),
                            kind="twitter", seed=0)
    sim = _build(tmp_path, "crash", "stepped", policy=_Failing(offline, fail_at=23))
    with pytest.raises(RuntimeError, match="policy crashed"):
        sim.run()
    with pytest.raises(RuntimeError, match="resume"):
        sim.run()  # this object's memory is ahead of its database now
    sim.close()
    with sqlite3.connect(tmp_path / "crash.db") as conn:
        saved = checkpoint.load(conn)
        traced = conn.execute("SELECT MAX(sim_time) FROM trace").fetchone()[0]
    assert saved is not None and 0 < saved["now"] < 240.0
    assert traced <= saved["now"]  # nothing after the checkpoint was kept
    sim = Simulation.resume(tmp_path / "crash.db", population=population)
    assert sim.run().digest == expected
    sim.close()


def test_resuming_a_finished_run_changes_nothing(tmp_path: Path) -> None:
    expected = _digest_of_whole_run(tmp_path, "stepped")
    sim = Simulation.resume(tmp_path / "whole.db", population=small_population(40))
    result = sim.run()
    sim.close()
    assert result.digest == expected and result.sim_time == 240.0


def test_resume_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Simulation.resume(tmp_path / "missing.db")
    foreign = tmp_path / "notes.db"
    foreign.write_text("just some text, not SQLite\n" * 100)
    with pytest.raises(ValueError, match="not an oasis-des run database"):
        Simulation.resume(foreign)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValueError, match="not an oasis-des run database"):
        Simulation.resume(other)
    assert foreign.read_text().startswith("just some text")  # left as it was


def test_a_busy_server_at_the_end_is_reported_as_not_resumable(tmp_path: Path) -> None:
    cfg = config(output={"path": str(tmp_path / "busy.db")}, time={"duration": 60.0},
                 server={"service_minutes": 0.5})
    sim = Simulation(cfg, population=small_population(40, rate=30.0))
    sim.run(until=30.0)
    busy = sim._in_service > 0
    sim.close()
    if busy:
        with pytest.raises(ValueError, match="cannot be resumed"):
            Simulation.resume(tmp_path / "busy.db")
    else:  # the queue happened to be empty at minute 30: then it resumes normally
        Simulation.resume(tmp_path / "busy.db").close()


# -- the command line: SIGKILL and Ctrl-C -------------------------------------------------
def _cli(*args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "oasis_des.cli", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw,
    )


def _digest(output: str) -> str:
    return next(line.split()[-1] for line in output.splitlines() if line.startswith("digest"))


RUN = ("--agents", "1500", "--duration", "10h", "--seed", "3", "--quiet")
# Platform settings of killed runs (with cached feeds and recommender state to get back),
# and how many times to kill one.
KILLED = {
    "twitter": ("[platform.settings]\nfeed_cache_minutes = 30.0\n", 2),
    "reddit-embedding": ('[platform]\nkind = "reddit"\n[platform.settings]\n'
                         'recommender = "embedding"\nfeed_cache_minutes = 30.0\n'
                         "candidate_window = 200\n", 1),
}


@pytest.mark.parametrize("variant", sorted(KILLED))
def test_killed_at_random_moments_and_resumed_ends_with_the_uninterrupted_digest(
    tmp_path: Path, variant: str
) -> None:
    settings, attempts = KILLED[variant]
    (tmp_path / "run.toml").write_text(settings)
    run = ("run", str(tmp_path / "run.toml"), *RUN)
    whole = _cli(*run, "--out", str(tmp_path / "whole.db"))
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    expected = _digest(out)
    rng = random.Random(f"20261126 {variant}")
    for attempt in range(attempts):
        db = tmp_path / f"killed{attempt}.db"
        proc = _cli(*run, "--out", str(db))
        while not db.exists():  # before that there is nothing to resume
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        resumed = _cli("resume", str(db), "--quiet")
        out, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err
        assert _digest(out) == expected, (attempt, err)


# A process that dies (os._exit: no cleanup, like SIGKILL) when the run calls `name`.
_DIES_AT = """
import importlib, os, sys
from oasis_des.cli import main
module, name = sys.argv[1].split(":")
setattr(importlib.import_module(module), name, lambda *args, **kwargs: os._exit(9))
sys.exit(main(sys.argv[2:]))
"""


def test_a_run_killed_while_its_database_is_created_leaves_none_or_a_resumable_one(
    tmp_path: Path,
) -> None:
    """Killed before the database is in place: no file, and the same command runs again.
    Killed just after (before signing up): resume restarts it from its config."""
    run = ("run", *RUN)
    whole = _cli(*run, "--out", str(tmp_path / "whole.db"))
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    expected = _digest(out)
    db = tmp_path / "created.db"
    died = subprocess.run([sys.executable, "-c", _DIES_AT, "os:replace", *run, "--out", str(db)],
                          capture_output=True, text=True, timeout=120)
    assert died.returncode == 9, died.stderr
    assert not db.exists() and Path(f"{db}-new").exists()
    again = _cli(*run, "--out", str(db))  # no --overwrite needed: nothing was there
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert _digest(out) == expected and not Path(f"{db}-new").exists()
    db.unlink()
    died = subprocess.run([sys.executable, "-c", _DIES_AT, "oasis_des.engine.simulation:sign_up",
                           *run, "--out", str(db)], capture_output=True, text=True, timeout=120)
    assert died.returncode == 9, died.stderr
    resumed = _cli("resume", str(db), "--quiet")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert _digest(out) == expected


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery to a child process")
def test_ctrl_c_checkpoints_and_says_how_to_resume(tmp_path: Path) -> None:
    db = tmp_path / "stopped.db"
    proc = _cli("run", "--agents", "1500", "--duration", "48h", "--out", str(db))
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert f"oasis-des resume {db}" in out + err
    with sqlite3.connect(db) as conn:
        saved = checkpoint.load(conn)
    assert saved is not None and saved["resumable"] and saved["now"] < 48 * 60


def test_checkpoint_round_trip_keeps_values_and_array_types_exactly() -> None:
    import numpy as np

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE checkpoint (name TEXT PRIMARY KEY, data BLOB NOT NULL)")
    state = {
        "now": 0.1 + 0.2,  # floats survive JSON exactly
        "counts": np.array([0, 0, 7, 2**62], dtype=np.int64),
        "opinions": np.random.default_rng(1).uniform(-1, 1, 1000),
        "nested": [{"a": np.array([True, False])}, "text ✓", None],
    }
    checkpoint.save(conn, state)
    checkpoint.save(conn, state)  # replaces, never accumulates
    back = checkpoint.load(conn)
    assert back is not None and back["now"] == state["now"]
    for key in ("counts", "opinions"):
        assert back[key].dtype == state[key].dtype and np.array_equal(back[key], state[key])
    assert back["nested"][0]["a"].tolist() == [True, False] and back["nested"][1:] == ["text ✓", None]
    assert conn.execute("SELECT COUNT(*) FROM checkpoint").fetchone()[0] == 4  # state + 3 arrays
    with pytest.raises(TypeError, match="cannot hold a set"):
        checkpoint.save(conn, {"busy": {1, 2}})
    kept = checkpoint.load(conn)  # a state that cannot be saved leaves the last one
    assert kept is not None and kept["now"] == state["now"]


class _Stopping(_Failing):
    """The offline policy, asking its run to stop at its `fail_at`-th batch (a Ctrl-C)."""

    sim: Simulation

    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        self.batches += 1
        if self.batches == self.fail_at:
            self.sim.request_stop()
        return self.inner.decide_batch(observations)


def test_a_stop_request_commits_at_once_not_at_the_next_commit(tmp_path: Path) -> None:
    scenario = {"time": {"duration": 240.0, "commit_every": 1000.0}}
    population = small_population(40)

    def build(name: str, policy: Any = None) -> Simulation:
        cfg = config(output={"path": str(tmp_path / f"{name}.db")}, **scenario)
        return Simulation(cfg, population=population, script=list(SCRIPT), policy=policy)

    whole = build("whole")
    expected = whole.run().digest
    whole.close()
    offline = OfflinePolicy(population, OfflineParams.from_toml(data_dir("models") / "offline.toml"),
                            kind="twitter", seed=0)
    stopping = _Stopping(offline, fail_at=12)
    sim = stopping.sim = build("stopped", policy=stopping)
    result = sim.run()
    sim.close()
    assert 0 < result.sim_time < 240.0  # long before the first scheduled commit
    with sqlite3.connect(tmp_path / "stopped.db") as conn:
        saved = checkpoint.load(conn)
    assert saved is not None and saved["now"] == result.sim_time
    sim = Simulation.resume(tmp_path / "stopped.db", population=population)
    assert sim.run().digest == expected
    sim.close()
