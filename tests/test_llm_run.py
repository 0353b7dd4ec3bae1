"""Whole runs with LLM agents against the local test server: usage, replay, faults, groups."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import config, small_population
from llm_server import LLMServer, Reply, like_first_post

from oasis_des.engine.checkpoint import read_checkpoint
from oasis_des.engine.commands import llm_summary
from oasis_des.engine.gateway import PolicyAbort
from oasis_des.engine.results import RunResult
from oasis_des.engine.simulation import Simulation
from oasis_des.llm import faults
from oasis_des.llm.cache import ReplayMiss
from oasis_des.llm.policy import _tokens


def agent_of(request: dict[str, Any]) -> int:
    return int(re.search(r"user (\d+)\)", request["messages"][0]["content"]).group(1))  # type: ignore[union-attr]


def agent_script(request: dict[str, Any]) -> Reply:
    """Decisions like the first feed post (or post); interviews answer with the agent id."""
    if "tools" not in request:
        return Reply(content=f"I am agent {agent_of(request)}.")
    return like_first_post(request)


def profile(tmp_path: Path, *urls: str, **keys: Any) -> str:
    path = tmp_path / "llm.toml"
    values = {"concurrency": 8, "timeout_s": 5.0, "max_retries": 2, "backoff_s": 0.01,
              "price_input_per_mtok": 1.0, "price_output_per_mtok": 4.0, **keys}
    lines = ['kind = "openai"', 'model = "test-model"', f"base_urls = {list(urls)!r}".replace("'", '"')]
    lines += [f"{k} = {v!r}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(tmp_path: Path | None, model: str, *, agents: int = 20, rate: float = 2.0,
        duration: str = "1h", **sections: Any) -> RunResult:
    sections.setdefault("time", {"duration": duration})
    sim = Simulation(config(tmp_path, policy={"model": model, **sections.pop("policy", {})},
                            **sections), population=small_population(agents, rate=rate))
    try:
        return sim.run()
    finally:
        sim.close()


def calls(db: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT agent_id, sim_time, purpose, prompt_tokens, completion_tokens, "
                        "error, cache_hit, endpoint FROM llm_call ORDER BY call_id").fetchall()
    conn.close()
    return rows


def test_llm_run_decides_through_tools_and_accounts_usage(tmp_path: Path) -> None:
    with LLMServer(agent_script) as server:
        result = run(tmp_path, profile(tmp_path, server.url), seed=3)
    assert result.llm is not None and result.llm.calls == len(server.requests) > 10
    assert result.actions.get("like_post", 0) + result.actions.get("create_post", 0) > 10
    request = server.requests[0]
    assert [t["function"]["name"] for t in request["tools"]][:3] == ["create_post", "like_post", "repost"]
    assert request["model"] == "test-model" and request["messages"][0]["role"] == "system"
    rows = calls(result.db_path)
    assert len(rows) == result.llm.calls and all(r[2] == "decide" and r[5] is None for r in rows)
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)  # simulated-time order
    assert sum(r[3] for r in rows) == result.llm.prompt_tokens > 0
    assert result.llm.cost_usd == pytest.approx(
        (result.llm.prompt_tokens * 1.0 + result.llm.completion_tokens * 4.0) / 1e6)
    assert {r[7] for r in rows} == {server.url} and result.llm.cache_hits == 0


def test_prompt_tokens_from_the_servers_prompt_cache_are_counted_and_priced(
    tmp_path: Path,
) -> None:
    def cached_script(request: dict[str, Any]) -> Reply:
        reply = agent_script(request)
        reply.cached_tokens = 40  # e.g. the tools, read from the server's prompt cache
        return reply

    with LLMServer(cached_script) as server:
        priced = run(tmp_path / "a", profile(tmp_path, server.url,
                                             price_cached_input_per_mtok=0.25), seed=3)
        unpriced = run(tmp_path / "b", profile(tmp_path, server.url), seed=3)
    for result in (priced, unpriced):
        u = result.llm
        assert u is not None and u.calls > 10 and u.cached_prompt_tokens == 40 * u.calls
        conn = sqlite3.connect(result.db_path)
        assert conn.execute("SELECT DISTINCT cached_prompt_tokens FROM llm_call").fetchall() \
            == [(40,)]
        conn.close()
        assert "from the server's prompt cache" in llm_summary(u)
    u, v = priced.llm, unpriced.llm
    assert u is not None and v is not None and u.prompt_tokens == v.prompt_tokens
    cached = u.cached_prompt_tokens
    assert u.cost_usd == pytest.approx(
        ((u.prompt_tokens - cached) * 1.0 + cached * 0.25 + u.completion_tokens * 4.0) / 1e6)
    assert v.cost_usd == pytest.approx(  # no cached price: cached tokens cost the input price
        (v.prompt_tokens * 1.0 + v.completion_tokens * 4.0) / 1e6)


@pytest.mark.parametrize(
    ("usage", "cached"),
    [
        ({"prompt_tokens_details": {"cached_tokens": 64}}, 64),  # OpenAI, vLLM
        ({"prompt_cache_hit_tokens": 32, "prompt_cache_miss_tokens": 68}, 32),  # DeepSeek
        ({"prompt_tokens_details": {"cached_tokens": None}}, 0),
        ({"prompt_tokens_details": {"cached_tokens": 500}}, 100),  # never above the prompt
        ({"prompt_tokens_details": {"cached_tokens": -5}}, 0),
        ({"prompt_tokens_details": "64"}, 0),
        ({}, 0),
    ],
)
def test_server_cached_tokens_are_read_from_either_usage_form(
    usage: dict[str, Any], cached: int
) -> None:
    body = {"usage": {"prompt_tokens": 100, "completion_tokens": 7, **usage}}
    assert _tokens(body, [], 0) == (100, 7, cached)


@pytest.mark.parametrize("bad", [-10, 2**63, 10**30, 3.5, "100", None, True])
def test_a_token_count_that_is_no_count_falls_back_to_characters(bad: Any) -> None:
    """A negative or absurd count (2**63 does not fit SQLite's INTEGER and used to stop the
    run at its next commit) is taken as no report: chars / 4 of the request and answer."""
    messages = [{"role": "user", "content": "x" * 400}]
    body = {"choices": [{"message": {"content": "ok"}}]}
    estimated = _tokens(body, messages, 10)
    assert estimated[0] > 100 and estimated[2] == 0
    for usage in ({"prompt_tokens": bad, "completion_tokens": 7},
                  {"prompt_tokens": 50, "completion_tokens": bad}):
        reported = {**body, "usage": {**usage, "prompt_tokens_details": {"cached_tokens": 5}}}
        assert _tokens(reported, messages, 10) == estimated


def test_record_then_replay_without_the_server_gives_the_same_digest(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache.sqlite")
    with LLMServer(agent_script, latency=0.002) as server:
        model = profile(tmp_path, server.url)
        recorded = run(tmp_path / "a", model, seed=4, llm={"cache": cache, "cache_mode": "record"})
    # the server is gone: every answer must come from the cache
    replayed = run(tmp_path / "b", model, seed=4, llm={"cache": cache, "cache_mode": "replay"})
    one_by_one = run(tmp_path / "c", model, seed=4, gateway={"max_batch": 1},
                     llm={"cache": cache, "cache_mode": "replay"})
    assert recorded.digest == replayed.digest == one_by_one.digest
    assert replayed.llm is not None and recorded.llm is not None
    assert replayed.llm.cache_hits == replayed.llm.calls == recorded.llm.calls
    assert replayed.llm.prompt_tokens == recorded.llm.prompt_tokens
    assert [r[:6] for r in calls(replayed.db_path)] == [r[:6] for r in calls(recorded.db_path)]
    assert {r[6:] for r in calls(replayed.db_path)} == {(1, None)}
    assert replayed.gateway.max_in_flight == 0  # answered at once, without the event loop
    with pytest.raises(ReplayMiss, match=r"has no answer for agent \d+ \(decide at minute") as info:
        run(tmp_path / "d", model, seed=5, llm={"cache": cache, "cache_mode": "replay"})
    assert isinstance(info.value, PolicyAbort) and "--llm-cache-mode record" in str(info.value)


def fault_script(request: dict[str, Any]) -> Reply:
    """Each agent has its own fault (agent 0 only at its first attempt)."""
    agent = agent_of(request)
    n = sum(1 for r in fault_script.seen if agent_of(r) == agent)  # type: ignore[attr-defined]
    fault_script.seen.append(request)  # type: ignore[attr-defined]
    return {
        0: Reply(status=429, retry_after=0.01) if n == 0 else Reply(tool="do_nothing", args={}),
        1: Reply(status=500),
        2: Reply(raw=b'{"choices": [oops'),
        3: Reply(tool="launch_rocket", args={}),
        4: Reply(tool="like_post", args={"post_id": "many"}),
        5: Reply(content="I would rather not."),
        6: Reply(no_choices=True),
        7: Reply(content="la " * 3000),
        8: Reply(drop=True),
        9: Reply(delay=0.5),
        10: Reply(tool="like_post", args='{"post_id": 1', finish_reason="length"),
    }.get(agent, Reply(tool="do_nothing", args={}))


def test_every_fault_is_survived_counted_and_replayed(tmp_path: Path) -> None:
    fault_script.seen = []  # type: ignore[attr-defined]
    cache = str(tmp_path / "cache.sqlite")
    with LLMServer(fault_script) as server:
        model = profile(tmp_path, server.url, timeout_s=0.15, max_retries=1)
        result = run(tmp_path / "a", model, agents=12, rate=6.0, seed=1,
                     llm={"cache": cache, "cache_mode": "record"})
    assert result.llm is not None
    expected = {faults.SERVER_ERROR, faults.MALFORMED_RESPONSE, faults.UNKNOWN_TOOL,
                faults.BAD_ARGUMENTS, faults.NO_TOOL_CALL, faults.EMPTY_CHOICES, faults.TOO_LONG,
                faults.CONNECTION, faults.TIMEOUT}
    assert set(result.llm.errors) == expected
    assert result.llm.retries.get(faults.RATE_LIMIT) == 1
    assert {faults.SERVER_ERROR, faults.TIMEOUT, faults.CONNECTION} <= set(result.llm.retries)
    conn = sqlite3.connect(result.db_path)
    errors = [e for (e,) in conn.execute("SELECT error FROM failed_action WHERE action = 'decide'")]
    assert len(errors) == sum(result.llm.errors.values())
    assert all(e.startswith("llm ") and "127.0.0.1" not in e for e in errors)
    by_agent = dict(conn.execute("SELECT agent_id, error FROM llm_call WHERE error IS NOT NULL"))
    assert by_agent[3] == faults.UNKNOWN_TOOL and by_agent[9] == faults.TIMEOUT
    assert by_agent[10] == faults.TOO_LONG and 0 not in by_agent
    replayed = run(tmp_path / "b", model, agents=12, rate=6.0, seed=1,
                   llm={"cache": cache, "cache_mode": "replay"})
    assert replayed.digest == result.digest and replayed.llm is not None
    assert replayed.llm.errors == result.llm.errors and replayed.llm.retries == {}


@pytest.mark.parametrize("mode", ["stepped", "continuous"])
def test_the_profile_concurrency_is_used(tmp_path: Path, mode: str) -> None:
    time = {"duration": "6m", "mode": mode, "think_seconds": 120.0}
    with LLMServer(agent_script, latency=0.03) as server:
        result = run(tmp_path, profile(tmp_path, server.url, concurrency=6), agents=60, rate=60.0,
                     time=time, activation={"model": "profile" if mode == "stepped" else "poisson"})
    assert server.stats.peak == 6 and result.gateway.max_in_flight == 6


def test_groups_mix_offline_and_llm_agents(tmp_path: Path) -> None:
    with LLMServer(agent_script) as server:
        model = profile(tmp_path, server.url)
        mixed = run(None, "offline", agents=30, rate=3.0, seed=2,
                    policy={"groups": [{"model": model, "agents": "0-4,20"}]})
        asked = {agent_of(r) for r in server.requests}
        assert asked == {0, 1, 2, 3, 4, 20}
        assert mixed.llm is not None and mixed.llm.calls == len(server.requests)
        assert mixed.activations > mixed.llm.calls  # the others decided offline
        one = run(None, "offline", agents=30, rate=3.0, seed=2, gateway={"max_batch": 1},
                  policy={"groups": [{"model": model, "agents": "0-4,20"}]})
        assert one.digest == mixed.digest
        server.stats.requests.clear()
        run(None, model, agents=40, rate=3.0, seed=2,
            policy={"groups": [{"model": "offline", "fraction": 0.5}]})
        llm_agents = {agent_of(r) for r in server.requests}
        assert 8 <= len(llm_agents) <= 32  # about half of 40 stay with the LLM


def test_interviews_are_answered_in_the_trace_and_kept_out_of_memory(tmp_path: Path) -> None:
    script = tmp_path / "script.jsonl"
    script.write_text('{"time": 45, "agent_id": 3, "action": "interview", "args": {"prompt": "Mood?"}}\n'
                      '{"time": 46, "agent_id": 4, "action": "interview", '
                      '"args": {"prompt": "Q", "response": "given"}}\n')
    interviews = {"interviews": [{"time": "30m", "agents": "0-2", "question": "What do you think?"}]}
    with LLMServer(agent_script) as server:
        model = profile(tmp_path, server.url)
        result = run(tmp_path, model, agents=10, seed=6, llm=interviews, script={"file": str(script)})
        conn = sqlite3.connect(result.db_path)
        rows = conn.execute("SELECT user_id, sim_time, info FROM trace WHERE action = 'interview' "
                            "ORDER BY user_id").fetchall()
        assert [(r[0], round(r[1], 4)) for r in rows] == [(0, 30.0167), (1, 30.0167), (2, 30.0167),
                                                         (3, 45.0167), (4, 46.0)]
        assert '"response": "I am agent 0."' in rows[0][2] and '"prompt": "Mood?"' in rows[3][2]
        assert '"response": "given"' in rows[4][2]  # a scripted answer stays as it is
        assert conn.execute("SELECT COUNT(*) FROM llm_call WHERE purpose = 'interview'").fetchone() == (4,)
        assert not any("was asked" in r["messages"][1]["content"] for r in server.requests)
        server.stats.requests.clear()
        run(tmp_path / "m", model, agents=10, rate=6.0, seed=6,
            llm={**interviews, "remember_interviews": True})
        later = [r for r in server.requests if "tools" in r and agent_of(r) <= 2]
        assert any('was asked "What do you think?"' in r["messages"][1]["content"] for r in later)
    with pytest.raises(ValueError, match="agent 0 at minute 30: its policy \\(OfflinePolicy\\) cannot"):
        run(None, "offline", agents=10, llm=interviews)
    kept = tmp_path / "kept.db"  # an existing run database it was asked to overwrite
    kept.write_bytes(b"earlier results")
    with pytest.raises(ValueError, match="cannot answer questions"):
        run(None, "offline", agents=10, llm=interviews,
            output={"path": str(kept), "overwrite": True})
    assert kept.read_bytes() == b"earlier results"  # refused before the output was touched


def test_a_resumed_llm_run_replays_as_the_uninterrupted_one(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache.sqlite")

    def build(name: str, model: str, mode: str) -> Simulation:
        llm = {"cache": cache, "cache_mode": mode,
               "interviews": [{"time": 40, "agents": "0-1", "question": "Still there?"}]}
        cfg = config(tmp_path / name, seed=7, time={"duration": "90m"}, policy={"model": model},
                     llm=llm)
        return Simulation(cfg, population=small_population(12, rate=4.0))

    with LLMServer(agent_script) as server:
        model = profile(tmp_path, server.url)
        whole = build("whole", model, "record")
        expected = whole.run()
        whole.close()
    # The server is gone: memory and interview state must come back from the checkpoint,
    # or the resumed run asks something never recorded.
    first = build("parts", model, "replay")
    first.run(until=35.0)
    first.close()
    resumed = Simulation.resume(first.db_path, population=small_population(12, rate=4.0))
    result = resumed.run()
    resumed.close()
    assert result.digest == expected.digest
    assert expected.llm is not None and expected.actions.get("interview") == 2


def test_calls_in_flight_at_a_commit_are_asked_again_on_resume(tmp_path: Path) -> None:
    """Commits do not wait for calls in flight: the checkpoint keeps their observations (an
    interview's too), a resumed run asks them again, and the run ends as if never stopped."""
    def build(name: str, model: str) -> Simulation:
        cfg = config(tmp_path / name, seed=8, policy={"model": model},
                     time={"duration": "80m", "mode": "continuous", "think_seconds": 20.0},
                     activation={"model": "poisson"},
                     llm={"interviews": [{"time": 39.99, "agents": "0-1", "question": "Why?"}]})
        return Simulation(cfg, population=small_population(30, rate=6.0))

    with LLMServer(agent_script, latency=0.01) as server:
        model = profile(tmp_path, server.url)
        whole = build("whole", model)
        expected = whole.run()
        whole.close()
        first = build("parts", model)
        first.run(until=40.0)
        first.close()
        _, saved = read_checkpoint(first.db_path)
        assert saved is not None
        asked = [entry for entry in saved["agenda"] if entry[1] in ("decide", "answer")
                 and "ask" in entry[2][-1]]
        assert [entry[2][0] for entry in asked if entry[1] == "answer"] == [0, 1]
        resumed = Simulation.resume(first.db_path, population=small_population(30, rate=6.0))
        result = resumed.run()
        resumed.close()
    assert result.digest == expected.digest and expected.actions.get("interview") == 2
    assert result.llm is not None and expected.llm is not None
    assert result.llm.calls == expected.llm.calls
