"""Whole runs: determinism, batching invariance, time modes, scripted actions, the server."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine_helpers import config, small_population
from oasis_des.engine.config import ConfigError
from oasis_des.engine.scripted import ScriptedAction, read_script
from oasis_des.engine.simulation import Simulation


def run(tmp_path: Path | None = None, population_seed: int = 0, **sections: object):  # type: ignore[no-untyped-def]
    sections.setdefault("time", {"duration": "3h"})
    sim = Simulation(config(tmp_path, **sections), population=small_population(60, seed=population_seed))
    try:
        return sim.run()
    finally:
        sim.close()


@pytest.mark.parametrize("kind", ["twitter", "reddit"])
def test_same_seed_same_digest_and_batching_never_changes_it(kind: str) -> None:
    a = run(seed=5, platform={"kind": kind})
    b = run(seed=5, platform={"kind": kind})
    one = run(seed=5, platform={"kind": kind}, gateway={"max_batch": 1})
    assert a.digest == b.digest == one.digest
    assert a.gateway.max_batch > 1 and one.gateway.max_batch == 1
    assert a.total_actions > 100 and sum(v for k, v in a.actions.items() if k not in ("sign_up", "refresh")) > 20


def test_different_seed_different_digest() -> None:
    assert run(seed=1).digest != run(seed=2).digest


def test_continuous_batching_invariance() -> None:
    t = {"mode": "continuous", "duration": "4h", "think_seconds": 20.0}
    for model in ("poisson", "profile", "bursty"):
        a = run(seed=3, time=t, activation={"model": model, "rate": 2.0})
        b = run(seed=3, time=t, activation={"model": model, "rate": 2.0}, gateway={"max_batch": 1})
        assert a.digest == b.digest, model
        assert a.activations > 50, model


def test_same_digest_in_a_fresh_process(tmp_path: Path) -> None:
    here = run(tmp_path, seed=9)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from engine_helpers import config, small_population;"
        "from oasis_des.engine.simulation import Simulation;"
        "s = Simulation(config(None, seed=9, time={'duration': '3h'}), population=small_population(60));"
        "print(s.run().digest)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == here.digest


def test_run_can_be_advanced_in_steps() -> None:
    whole = run(seed=4)
    sim = Simulation(config(seed=4, time={"duration": "3h"}), population=small_population(60))
    first = sim.run(until=45)
    assert first.sim_time == 45.0
    second = sim.run(until=100)
    assert second.sim_time == 100.0 and second.total_actions >= first.total_actions
    assert sim.run().digest == whole.digest
    sim.close()


def test_steps_can_skip_the_digest_and_take_it_at_the_last() -> None:
    whole = run(seed=4)
    sim = Simulation(config(seed=4, time={"duration": "3h"}), population=small_population(60))
    first = sim.run(until=45, digest=False)
    assert first.digest is None and first.sim_time == 45.0 and first.activations > 0
    assert sim.run(digest=True).digest == whole.digest
    assert sim.result(digest=False).digest is None
    sim.close()


def test_database_holds_trace_with_sim_time_and_run_metadata(tmp_path: Path) -> None:
    result = run(tmp_path, seed=2)
    conn = sqlite3.connect(result.db_path)
    rows = conn.execute("SELECT created_at, sim_time FROM trace WHERE action != 'sign_up'").fetchall()
    assert rows and all(created == int(sim // 3.0) for created, sim in rows)  # tick = 3 minutes
    meta = dict(conn.execute("SELECT key, value FROM run_meta"))
    assert json.loads(meta["seed"]) == 2 and json.loads(meta["config"])["time"]["tick"] == 3.0
    counted = dict(conn.execute("SELECT action, COUNT(*) FROM trace GROUP BY action"))
    assert counted == result.actions


def test_existing_output_is_refused_unless_overwrite(tmp_path: Path) -> None:
    run(tmp_path, seed=1)
    with pytest.raises(FileExistsError, match="already exists"):
        run(tmp_path, seed=1)
    assert run(tmp_path, seed=1, output={"path": str(tmp_path / "run.db"), "overwrite": True}).total_actions


def test_an_agent_never_has_two_open_activations() -> None:
    # Think times of ~60 simulated minutes with activations every ~6 minutes: most are skipped.
    r = run(seed=1, time={"mode": "continuous", "duration": "5h", "think_seconds": 60.0},
            activation={"model": "poisson", "rate": 10.0})
    assert r.skipped_activations > r.activations


def test_scripted_actions_run_at_their_time(tmp_path: Path) -> None:
    script = tmp_path / "script.csv"
    script.write_text(
        'time,agent_id,action,args\n0,3,create_post,"{""content"": ""Breaking news""}"\n'
        '7.5,4,like_post,"{""post_id"": 1}"\n'
    )
    result = run(tmp_path, seed=1, script={"file": str(script)})
    conn = sqlite3.connect(result.db_path)
    first = conn.execute("SELECT user_id, content FROM post ORDER BY post_id LIMIT 1").fetchone()
    assert first == (3, "Breaking news")
    like = conn.execute(
        "SELECT sim_time FROM trace WHERE action = 'like_post' AND user_id = 4 ORDER BY trace_id LIMIT 1"
    ).fetchone()
    assert like == (7.5,)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,agent_id,action\nx,1,do_nothing\n", r"row 2, field time"),
        ("time,agent_id,action\n1,1,fly\n", r"row 2, field action: Unknown action 'fly'"),
        ("time,agent_id,action,args\n1,1,do_nothing,{bad\n", r"row 2, field args"),
        ("time,agent_id\n1,1\n", r"row 2: missing field 'action'"),
    ],
)
def test_script_errors_name_row_and_field(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "s.csv"
    f.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_script(f)


def test_scripted_action_from_python() -> None:
    sim = Simulation(config(seed=1, time={"duration": "1h"}), population=small_population(10))
    sim.schedule(ScriptedAction(time=30.0, agent_id=2, action="create_post", args={"content": "hello"}))
    sim.run()
    row = sim.platform.connection.execute(
        "SELECT sim_time FROM trace WHERE action = 'create_post' AND info LIKE '%hello%'"
    ).fetchone()
    assert row == (30.0,)
    with pytest.raises(ValueError, match="in the past"):
        sim.schedule(ScriptedAction(time=1.0, agent_id=2, action="do_nothing"))
    sim.close()


def _action_times(result) -> list[float]:  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(result.db_path)
    return [t for (t,) in conn.execute(
        "SELECT sim_time FROM trace WHERE action != 'sign_up' UNION ALL "
        "SELECT sim_time FROM failed_action ORDER BY 1"
    )]


def test_server_capacity_and_service_time_create_queues(tmp_path: Path) -> None:
    """One server with 0.5-minute service serialises actions; two servers overlap them."""
    one = run(tmp_path / "one", seed=6, time={"duration": "2h"},
              server={"capacity": 1, "service_minutes": 0.5})
    two = run(tmp_path / "two", seed=6, time={"duration": "2h"},
              server={"capacity": 2, "service_minutes": 0.5})
    gaps_one = [b - a for a, b in zip(_action_times(one), _action_times(one)[1:])]
    gaps_two = [b - a for a, b in zip(_action_times(two), _action_times(two)[1:])]
    assert len(gaps_one) > 50
    assert min(gaps_one) >= 0.5 - 1e-9
    assert min(gaps_two) < 0.5


def test_per_action_service_time() -> None:
    slow_posts = run(seed=6, server={"per_action": {"refresh": 1.0}})
    assert slow_posts.activations > 0 and slow_posts.digest != run(seed=6).digest


def test_csv_activation_times(tmp_path: Path) -> None:
    f = tmp_path / "times.csv"
    f.write_text("agent_id,time\n0,1\n1,2\n0,50\n")
    r = run(tmp_path, seed=1, time={"mode": "continuous", "duration": "2h"},
            activation={"model": "csv", "csv": str(f)})
    assert r.activations == 3
    conn = sqlite3.connect(r.db_path)
    times = sorted(
        t
        for table in ("trace", "failed_action")  # an empty feed is a failed refresh
        for (t,) in conn.execute(f"SELECT sim_time FROM {table} WHERE action = 'refresh'")
    )
    assert times == [1.0, 2.0, 50.0]


def test_stepped_mode_refuses_continuous_models_before_creating_the_database(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="needs time.mode = 'continuous'"):
        run(tmp_path, seed=1, activation={"model": "poisson"})
    assert not (tmp_path / "run.db").exists()


def test_activation_groups_replace_persona_activity() -> None:
    """OASIS's 1M set-up: a core activated with a fixed tick probability, the rest rarely."""
    groups = [{"agents": "0-99", "tick_probability": 0.5}, {"fraction": 0.9, "rate": 0.001}]
    cfg = config(time={"duration": 60.0}, activation={"groups": groups})
    sim = Simulation(cfg, population=small_population(400, rate=6.0))
    sim.run()
    conn = sim.platform.connection
    per_agent = np.zeros(400)
    for table in ("trace", "failed_action"):
        for uid, count in conn.execute(
            f"SELECT user_id, COUNT(*) FROM {table} WHERE action = 'refresh' GROUP BY user_id"
        ):
            per_agent[uid] += count
    sim.close()
    core = per_agent[:100].sum()  # 100 agents x 20 ticks x 0.5
    assert abs(core - 1000) < 4 * np.sqrt(1000 * 0.5)
    # The rest: 90% of all agents drawn at 0.001/h (about nothing), the others keep 6/h.
    rest = per_agent[100:]
    quiet = (rest == 0).sum()
    assert 250 <= quiet <= 320  # about 0.9 * 300 agents, minus the core's share


@pytest.mark.parametrize("model", ["poisson", "bursty"])
def test_activation_groups_apply_over_a_uniform_rate(model: str) -> None:
    """`activation.rate` sets everyone's rate; a group's rate still wins for its agents."""
    cfg = config(time={"mode": "continuous", "duration": 600.0},
                 activation={"model": model, "rate": 0.5,
                             "groups": [{"agents": "0-49", "rate": 30.0}]})
    sim = Simulation(cfg, population=small_population(200, rate=6.0))
    sim.run()
    rows = sim.platform.connection.execute(
        "SELECT user_id < 50, COUNT(*) FROM trace WHERE action = 'refresh' GROUP BY user_id < 50"
    ).fetchall()
    sim.close()
    counts = dict(rows)
    # The group: 30/h, fewer as an agent still thinking skips (about 2/h remain, against
    # 0.5/h = 250 if the uniform rate won); the rest: 150 x 10 h x 0.5/h = 750.
    assert counts[1] > 600
    assert 600 <= counts[0] <= 900


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ({"agents": "0-9"}, "exactly one of 'rate'"),
        ({"agents": "0-9", "rate": 1.0, "tick_probability": 0.1}, "exactly one of 'rate'"),
        ({"rate": 1.0}, "exactly one of 'agents'"),
        ({"fraction": 1.5, "rate": 1.0}, r"fraction = 1.5 is out of range"),
        ({"agents": "9-0", "rate": 1.0}, "ends before it starts"),
        ({"agents": "0-9", "tick_probability": 1.0}, r"tick_probability = 1.0 is out of range"),
    ],
)
def test_activation_group_errors_name_the_key(group: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(activation={"groups": [group]})


def test_runs_collect_garbage_rarely_while_they_advance():
    """`run` raises the collector's young-generation threshold (never lowers it) and gives
    the process its thresholds back afterwards, also when the run fails."""
    import gc

    from oasis_des.engine.collector import YOUNG_THRESHOLD

    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    try:
        for young in (700, 2 * YOUNG_THRESHOLD):
            gc.set_threshold(young, 10, 10)
            sim = Simulation(config(population={"agents": 20}, time={"duration": 30.0,
                                    "commit_every": 6.0}))
            sim.run(until=12.0, progress=lambda p: seen.append(gc.get_threshold()))
            assert gc.get_threshold() == (young, 10, 10)
            assert seen[-1] == (max(young, YOUNG_THRESHOLD), 10, 10)

            def fail(progress: object) -> None:
                raise RuntimeError("stop")

            with pytest.raises(RuntimeError):
                sim.run(progress=fail)
            assert gc.get_threshold() == (young, 10, 10)
            sim.close()
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize("limit", [1, 0])
def test_runs_limit_blas_threads_while_they_advance(limit):
    """`engine.blas_threads` bounds BLAS threads during `run` (0 leaves the library's
    default) and gives the process its setting back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    seen: list[list[int]] = []
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas()
        sim = Simulation(config(population={"agents": 20}, time={"duration": 30.0,
                                "commit_every": 6.0}, engine={"blas_threads": limit}))
        sim.run(progress=lambda p: seen.append(blas()))
        sim.close()
        assert blas() == outside
    assert seen and outside
    assert all(s == ([limit] * len(outside) if limit else outside) for s in seen)
