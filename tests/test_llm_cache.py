"""The record/replay cache: keys, modes, persistence; usage totals survive checkpoints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from oasis_des.llm.cache import ReplayMiss, ResponseCache, Stored, canonical, request_key
from oasis_des.llm.session import LLMSession
from oasis_des.llm.usage import CallRecord, UsageLog
from oasis_des.platform.store import StorageError

MESSAGES = [{"role": "user", "content": "hi"}]
STATIC = canonical(["decide", {"model": "m", "temperature": 0.5}])


def test_key_covers_request_agent_call_and_messages() -> None:
    key = request_key(STATIC, 1, 0, MESSAGES)
    assert key == request_key(STATIC, 1, 0, [dict(m) for m in MESSAGES])
    assert key != request_key(STATIC, 2, 0, MESSAGES)
    assert key != request_key(STATIC, 1, 1, MESSAGES)  # the same question asked again
    assert key != request_key(canonical(["decide", {"model": "m", "temperature": 0.6}]), 1, 0, MESSAGES)
    assert key != request_key(canonical(["interview", {"model": "m", "temperature": 0.5}]), 1, 0, MESSAGES)
    assert key != request_key(STATIC, 1, 0, [{"role": "user", "content": "hi!"}])


def test_record_then_replay_then_auto(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    rec = ResponseCache(path, "record")
    ok, failed = request_key(STATIC, 1, 0, MESSAGES), request_key(STATIC, 2, 0, MESSAGES)
    rec.put(ok, "m", Stored(body={"text": "first"}))
    assert rec.get(ok) is None  # record never reads
    rec.put(failed, "m", Stored(body=None, error_category="timeout", error_detail="no answer"))
    rec.close()

    replay = ResponseCache(path, "replay")
    assert replay.get(ok) == Stored(body={"text": "first"})
    assert replay.get(failed) == Stored(body=None, error_category="timeout", error_detail="no answer")
    missing = request_key(STATIC, 1, 1, MESSAGES)
    assert replay.get(missing) is None and replay.hits == 2
    miss = replay.miss(missing, "agent 1")
    assert isinstance(miss, ReplayMiss) and str(path) in str(miss) and "record" in str(miss)
    replay.put(missing, "m", Stored(body={}))  # replay never writes
    replay.close()

    auto = ResponseCache(path, "auto")
    assert auto.get(ok) is not None
    assert auto.get(failed) is None  # transport failures are asked again
    assert auto.get(missing) is None
    auto.close()


def test_modes_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist; replay needs a cache"):
        ResponseCache(tmp_path / "none.sqlite", "replay")
    with pytest.raises(ValueError, match="needs a cache file"):
        LLMSession.open("", "replay")
    assert LLMSession.open("", "auto").cache is None
    assert LLMSession.open(str(tmp_path / "c.sqlite"), "off").cache is None
    session = LLMSession.open(str(tmp_path / "c.sqlite"), "record")
    assert session.cache is not None and session.cache.writes and not session.cache.reads
    session.close()


def record(agent: int, t: float, *, hit: bool = False, error: str | None = None) -> CallRecord:
    return CallRecord(agent_id=agent, sim_time=t, activation=0, purpose="decide", model="m",
                      endpoint=None if hit else "http://x", prompt_tokens=100, completion_tokens=10,
                      cost=0.5, latency_s=0.0 if hit else 0.2, cache_hit=hit,
                      attempts=0 if hit else 1, error=error)


@pytest.mark.parametrize("mode", ["record", "replay", "auto"])
def test_a_cache_that_is_not_a_database_is_a_storage_error_naming_it(
    tmp_path: Path, mode: str
) -> None:
    """Not a raw sqlite3 error, which a run would report under its own database's name."""
    path = tmp_path / "answers.sqlite"
    path.write_bytes(b"these are notes, not answers" * 100)
    with pytest.raises(StorageError, match="answers.sqlite is not an SQLite database"):
        ResponseCache(path, mode)  # type: ignore[arg-type]
    assert path.read_bytes().startswith(b"these are notes")


def test_usage_totals_rows_in_time_order_and_state(tmp_path: Path) -> None:
    import sqlite3

    from oasis_des.platform.store import schema_sql

    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(schema_sql())
    log = UsageLog()
    log.add(record(5, 2.0), {"rate_limit": 2})
    log.add(record(3, 1.0, hit=True))
    log.add(record(1, 2.0, error="timeout"))
    log.add(record(0, 4.0))
    # A commit while a call observed at minute 3 is in flight writes what sorts before it;
    # the rest waits, in the checkpoint's state if need be.
    log.write(conn, before=3.0)
    assert conn.execute("SELECT agent_id, sim_time FROM llm_call ORDER BY call_id").fetchall() == \
        [(3, 1.0), (1, 2.0), (5, 2.0)]
    assert log.totals().calls == 3
    resumed = UsageLog()
    resumed.restore(json.loads(json.dumps(log.state())))
    log.add(record(2, 3.0))
    resumed.add(record(2, 3.0))
    for each in (log, resumed):
        each.write(conn)
        assert each.totals().calls == 5
    assert conn.execute("SELECT agent_id FROM llm_call ORDER BY call_id").fetchall()[3:] == \
        [(2,), (0,), (2,), (0,)]
    log = UsageLog()
    log.add(record(5, 2.0), {"rate_limit": 2})
    log.add(record(3, 1.0, hit=True))
    log.add(record(1, 2.0, error="no_tool_call"))  # answered: its tokens count
    log.add(replace(record(4, 2.0, error="timeout"), prompt_tokens=0, completion_tokens=0,
                    cost=0.0))  # no answer, no tokens
    log.write(conn)
    u = log.totals()
    assert (u.calls, u.cache_hits, u.prompt_tokens, u.completion_tokens) == (4, 1, 300, 30)
    assert (u.cost_usd, u.cached_cost_usd) == (1.0, 0.5)
    assert u.errors == {"no_tool_call": 1, "timeout": 1} and u.retries == {"rate_limit": 2}
    assert u.answered == 3 and u.prompt_tokens_per_call == 100  # not 300 / 4
    again = UsageLog()
    again.restore(json.loads(json.dumps(log.state())))
    assert again.totals() == u


def test_a_new_cache_file_appears_with_the_first_stored_answer(tmp_path: Path) -> None:
    """A run refused before it starts (a bad flag, an existing output) leaves no cache."""
    path = tmp_path / "sub" / "new.sqlite"
    cache = ResponseCache(path, "auto")
    assert cache.get("k") is None and not path.exists() and not path.parent.exists()
    cache.put("k", "m", Stored(body={"ok": 1}, error_category=None, error_detail=None))
    assert path.exists()
    cache.close()
    assert ResponseCache(path, "replay").get("k") == Stored(body={"ok": 1}, error_category=None,
                                                           error_detail=None)
    empty = tmp_path / "empty.sqlite"  # a run that made no call can be replayed too
    ResponseCache(empty, "record").close()
    assert ResponseCache(empty, "replay").get("k") is None
    with pytest.raises(IsADirectoryError, match=f"LLM cache {tmp_path} is a directory"):
        ResponseCache(tmp_path, "auto")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match=f"Cannot create LLM cache {blocker / 'c.sqlite'}"):
        ResponseCache(blocker / "c.sqlite", "record")
