"""The CLI with LLM profiles: run --model/--llm-cache, estimate, interview."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import config, small_population
from llm_server import LLMServer
from test_llm_run import agent_script, profile

from oasis_des.cli import main
from oasis_des.engine.simulation import Simulation
from oasis_des.llm.estimate import estimate, expected_activations
from oasis_des.policies.base import Decision, Observation


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def digest(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("digest"))


def test_run_records_then_replays_with_the_server_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = str(tmp_path / "llm.sqlite")
    common = ["--agents", "15", "--duration", "1h", "--seed", "2", "--quiet"]
    with LLMServer(agent_script) as server:
        model = profile(tmp_path, server.url)
        code, recorded, _ = cli(capsys, "run", *common, "--model", model, "--out",
                                str(tmp_path / "a.db"), "--llm-cache", cache, "--llm-cache-mode", "record")
    assert code == 0 and "llm calls" in recorded and "(0 from the cache)" in recorded
    code, replayed, _ = cli(capsys, "run", *common, "--model", model, "--out", str(tmp_path / "b.db"),
                            "--llm-cache", cache, "--llm-cache-mode", "replay")
    assert code == 0 and digest(replayed) == digest(recorded)
    calls = recorded.split("llm calls", 1)[1].split()[0]
    assert f"llm calls        {calls} ({calls} from the cache)" in replayed
    code, _, err = cli(capsys, "run", *common, "--seed", "3", "--model", model,
                       "--out", str(tmp_path / "c.db"), "--llm-cache", cache, "--llm-cache-mode", "replay")
    assert code == 2 and "has no answer for agent" in err
    code, _, err = cli(capsys, "run", *common, "--model", model, "--out", str(tmp_path / "d.db"),
                       "--llm-cache", str(tmp_path / "none.sqlite"), "--llm-cache-mode", "replay")
    assert code == 2 and "does not exist" in err and not (tmp_path / "d.db").exists()


def test_estimate_predicts_llm_agents_tokens_and_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = profile(tmp_path, "http://127.0.0.1:9/v1")  # never called
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[population]\nagents = 50\n[time]\nduration = "6h"\n'
                   f'[[policy.groups]]\nmodel = "{model}"\nagents = "0-9"\n')
    code, out, _ = cli(capsys, "estimate", str(cfg))
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("llm"))
    fields = row.split()
    assert fields[1] == "test-model" and fields[2] == "10"
    prompt_per_call = float(fields[4].replace(",", ""))
    assert 300 < prompt_per_call < 3000 and float(fields[7]) > 0  # tokens and dollars
    code, out, _ = cli(capsys, "estimate", "--agents", "20", "--duration", "1h")
    assert code == 0 and "No agent of this run uses an LLM profile" in out
    asked = '[[llm.interviews]]\ntime = "{}"\nagents = "{}"\nquestion = "How are you today?"\n'
    with cfg.open("a") as f:  # asked of 5 agents at 1 h, and at 7 h: after the run's end
        f.write(asked.format("1h", "0-4") + asked.format("7h", "0-9"))
    code, out, _ = cli(capsys, "estimate", str(cfg))
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:-1]}
    assert code == 0 and rows["llm"] == fields  # the decisions as before
    interviews = rows["llm:interviews"]
    assert interviews[1:4] == ["test-model", "5", "5"]  # agents, calls
    assert 50 < float(interviews[4].replace(",", "")) < prompt_per_call  # no feed in its prompt
    assert rows["total"][1:3] == ["10", f"{float(fields[3].replace(',', '')) + 5:,.0f}"]
    with cfg.open("a") as f:
        f.write(asked.format("2h", "9-12"))  # agents 10-12 decide offline: they cannot answer
    code, _, err = cli(capsys, "estimate", str(cfg))
    assert code == 2 and "Interview of agent 10 at minute 120: its policy" in err


class Idle:
    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        return [Decision(action="do_nothing") for _ in observations]


def test_expected_activations_match_runs() -> None:
    pop = small_population(200, rate=2.0)
    for time, activation in (({"duration": "3h"}, {}),
                             ({"duration": "3h", "mode": "continuous", "think_seconds": 5.0},
                              {"model": "poisson"}),
                             ({"duration": "3h", "mode": "continuous", "think_seconds": 5.0},
                              {"model": "profile"}),
                             # groups set the activity of some agents (the others keep theirs)
                             ({"duration": "3h"},
                              {"groups": [{"agents": "0-99", "tick_probability": 0.25}]}),
                             ({"duration": "3h", "mode": "continuous", "think_seconds": 5.0},
                              {"model": "poisson", "groups": [{"fraction": 0.5, "rate": 6.0}]})):
        cfg = config(seed=1, time=time, activation=activation)
        sim = Simulation(cfg, population=pop, policy=Idle())
        result = sim.run()
        sim.close()
        expected = expected_activations(cfg, pop).sum()
        assert abs(result.activations + result.skipped_activations - expected) < 0.1 * expected
    pop.activity[:, :12] = 0.0  # nobody is active before noon
    cfg = config(time={"duration": "4h", "start_time": "2024-01-01T08:00:00"})
    assert expected_activations(cfg, pop).sum() == 0.0
    late = {"duration": "4h", "start_time": "2024-01-01T11:30:00"}
    stepped = expected_activations(config(time=late), pop)
    assert np.allclose(stepped, 70 * 2.0 * 3 / 60)  # 70 of 80 ticks after noon
    continuous = expected_activations(config(time={**late, "mode": "continuous"},
                                             activation={"model": "profile"}), pop)
    assert np.allclose(continuous, 2.0 * 210 / 60)  # 210 of 240 minutes after noon


def test_estimate_scales_with_agents_and_prices(tmp_path: Path) -> None:
    model = profile(tmp_path, "http://127.0.0.1:9/v1")
    cfg = config(time={"duration": "2h"}, policy={"model": model})
    small = estimate(cfg, small_population(20))[0]
    big = estimate(cfg, small_population(40))[0]
    assert big.activations == pytest.approx(2 * small.activations)
    assert big.cost_usd == pytest.approx(2 * small.cost_usd, rel=0.05)
    assert small.max_cost_usd > small.cost_usd > 0


def test_interview_after_a_run_appends_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "run.db")
    with LLMServer(agent_script) as server:
        model = profile(tmp_path, server.url)
        assert cli(capsys, "run", "--agents", "8", "--duration", "1h", "--model", model, "--out", db,
                   "--quiet")[0] == 0
        conn = sqlite3.connect(db)
        before = conn.execute("SELECT COUNT(*) FROM trace").fetchone()[0]
        server.stats.requests.clear()
        code, out, _ = cli(capsys, "interview", db, "--agents", "1,2", "--question", "How was it?")
        assert code == 0
        assert out.splitlines() == ["agent 1: I am agent 1.", "agent 2: I am agent 2."]
        assert all("tools" not in r and r["messages"][1]["content"].endswith("Question: How was it?")
                   for r in server.requests)
        rows = conn.execute("SELECT user_id, info FROM trace WHERE trace_id > ?", (before,)).fetchall()
        assert [r[0] for r in rows] == [1, 2] and '"response": "I am agent 1."' in rows[0][1]
        assert conn.execute("SELECT COUNT(*) FROM llm_call WHERE purpose = 'interview'").fetchone() == (2,)
        offline = str(tmp_path / "offline.db")
        assert cli(capsys, "run", "--agents", "8", "--duration", "30m", "--out", offline,
                   "--quiet")[0] == 0
        code, _, err = cli(capsys, "interview", offline, "--agents", "1", "--question", "Q?")
        assert code == 2 and "--model PROFILE" in err
        code, out, _ = cli(capsys, "interview", offline, "--agents", "3", "--question", "Q?",
                           "--model", model)
        assert code == 0 and out.strip() == "agent 3: I am agent 3."
    code, _, err = cli(capsys, "interview", str(tmp_path / "nothing.db"), "--agents", "1",
                       "--question", "Q")
    assert code == 2 and f"Run database {tmp_path / 'nothing.db'} does not exist." in err
    (tmp_path / "notes.db").write_text("not SQLite at all")
    code, _, err = cli(capsys, "interview", str(tmp_path / "notes.db"), "--agents", "1",
                       "--question", "Q")
    assert code == 2 and "not an oasis-des run database" in err
