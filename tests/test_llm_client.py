"""Transport faults are retried with backoff (honouring Retry-After) and never raise."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llm_server import LLMServer, Reply

from oasis_des.llm import faults
from oasis_des.llm.client import CallOutcome, ChatClient
from oasis_des.llm.profile import LLMProfile

REQUEST = {"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}


def profile(*urls: str, **keys: Any) -> LLMProfile:
    base = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.01, "backoff_max_s": 0.5}
    return LLMProfile(path=Path("test.toml"), name="t", model="m", base_urls=urls, **{**base, **keys})


def call(client: ChatClient, n: int = 1) -> list[CallOutcome]:
    async def go() -> list[CallOutcome]:
        try:
            return list(await asyncio.gather(*(client.complete(REQUEST) for _ in range(n))))
        finally:
            await client.aclose()

    return asyncio.run(go())


def first_fails(bad: Reply, times: int = 1) -> Callable[[dict[str, Any]], Reply]:
    """A script whose first `times` requests get `bad`, then proper answers."""
    seen = Counter[str]()

    def script(request: dict[str, Any]) -> Reply:
        seen["n"] += 1
        return bad if seen["n"] <= times else Reply(tool="do_nothing", args={})

    return script


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rate_limit_waits_for_retry_after_then_succeeds() -> None:
    with LLMServer(first_fails(Reply(status=429, retry_after=0.3))) as server:
        [out] = call(ChatClient(profile(server.url)))
        assert out.fault is None and out.body is not None and out.attempts == 2
        assert out.retries == {faults.RATE_LIMIT: 1} and out.endpoint == server.url
        assert server.stats.arrived[1] - server.stats.arrived[0] >= 0.3  # waited as asked


def test_retry_after_is_capped_by_backoff_max() -> None:
    with LLMServer(first_fails(Reply(status=503, retry_after=3600))) as server:
        [out] = call(ChatClient(profile(server.url, backoff_max_s=0.05)))
        assert out.fault is None and out.retries == {faults.SERVER_ERROR: 1}


def test_server_errors_and_malformed_bodies_are_retried() -> None:
    with LLMServer(first_fails(Reply(status=500), times=2)) as server:
        [out] = call(ChatClient(profile(server.url)))
        assert out.fault is None and out.attempts == 3 and out.retries == {faults.SERVER_ERROR: 2}
    with LLMServer(first_fails(Reply(raw=b'{"choices": [{"mess'))) as server:
        [out] = call(ChatClient(profile(server.url)))
        assert out.fault is None and out.retries == {faults.MALFORMED_RESPONSE: 1}


def test_persistent_faults_end_as_typed_outcomes_after_bounded_retries() -> None:
    cases = [
        (Reply(delay=1.0), {"timeout_s": 0.2, "max_retries": 1}, faults.TIMEOUT, 2),
        (Reply(drop=True), {}, faults.CONNECTION, 3),
        (Reply(status=500), {"max_retries": 0}, faults.SERVER_ERROR, 1),
        (Reply(raw=b"[1, 2]"), {}, faults.MALFORMED_RESPONSE, 3),
        (Reply(status=400), {}, faults.HTTP_ERROR, 1),  # not retried
    ]
    for reply, keys, category, attempts in cases:
        with LLMServer(lambda request, r=reply: r) as server:
            [out] = call(ChatClient(profile(server.url, **keys)))
            assert out.body is None and out.fault is not None, category
            assert (out.fault.category, out.attempts) == (category, attempts)
            assert len(server.requests) == attempts
            assert server.url not in str(out.fault)  # details never hold endpoints


def test_connection_refused() -> None:
    [out] = call(ChatClient(profile(f"http://127.0.0.1:{free_port()}/v1", max_retries=1)))
    assert out.fault is not None and out.fault.category == faults.CONNECTION and out.attempts == 2


def test_calls_are_spread_over_base_urls_and_retries_avoid_a_dead_one() -> None:
    with LLMServer(latency=0.02) as a, LLMServer(latency=0.02) as b:
        client = ChatClient(profile(a.url, b.url))
        outs = call(client, n=20)
        assert all(o.fault is None for o in outs)
        assert len(a.requests) == len(b.requests) == 10  # fewest in flight, ties round robin
        dead = f"http://127.0.0.1:{free_port()}/v1"
        client = ChatClient(profile(dead, a.url, max_retries=3))
        outs = call(client, n=6)
        assert all(o.fault is None for o in outs)
        assert {o.endpoint for o in outs} == {a.url}
        assert sum(o.retries.get(faults.CONNECTION, 0) for o in outs) >= 1


def test_a_retry_after_a_passing_fault_stays_off_a_server_that_is_down() -> None:
    """A live server failing every other request and a dead one: after the dead one has
    failed, a retry after the live one's 500 goes back to the live one (it failed fewer
    times in a row), not to the dead one because it is not the one that just failed."""
    seen = Counter[str]()

    def flaky(request: dict[str, Any]) -> Reply:
        seen["n"] += 1
        return Reply(status=500) if seen["n"] % 2 == 0 else Reply(tool="do_nothing", args={})

    with LLMServer(flaky) as live:
        dead = f"http://127.0.0.1:{free_port()}/v1"
        client = ChatClient(profile(dead, live.url, max_retries=3, backoff_s=0.001))

        async def one_at_a_time() -> list[CallOutcome]:
            try:
                return [await client.complete(REQUEST) for _ in range(12)]
            finally:
                await client.aclose()

        outs = asyncio.run(one_at_a_time())
    assert all(o.fault is None and o.endpoint == live.url for o in outs)
    assert sum(o.retries.get(faults.SERVER_ERROR, 0) for o in outs) >= 5
    assert sum(o.retries.get(faults.CONNECTION, 0) for o in outs) <= 2


def in_turn(*replies: Reply) -> Callable[[dict[str, Any]], Reply]:
    """A script answering its requests with `replies` in turn, then proper answers."""
    seen = Counter[str]()

    def script(request: dict[str, Any]) -> Reply:
        seen["n"] += 1
        if seen["n"] <= len(replies):
            return replies[seen["n"] - 1]
        return Reply(tool="do_nothing", args={})

    return script


def test_a_server_error_is_retried_at_the_pace_of_a_fast_endpoint_a_rate_limit_is_not() -> None:
    """After answers in milliseconds, a 500 is retried milliseconds later, not after the
    5 s backoff; a 429 without Retry-After waits the whole backoff."""
    ok = Reply(tool="do_nothing", args={})
    with LLMServer(in_turn(ok, Reply(status=500), ok, Reply(status=429))) as server:
        client = ChatClient(profile(server.url, backoff_s=0.4, backoff_max_s=30.0))

        async def go() -> list[CallOutcome]:
            try:
                return [await client.complete(REQUEST) for _ in range(3)]
            finally:
                await client.aclose()

        _, first, second = asyncio.run(go())
        arrived = server.stats.arrived
        assert first.retries == {faults.SERVER_ERROR: 1} and first.fault is None
        assert arrived[2] - arrived[1] < 0.2  # the endpoint's pace: a few ms
        assert second.retries == {faults.RATE_LIMIT: 1} and second.fault is None
        assert arrived[4] - arrived[3] >= 0.4


def test_the_retry_delay_follows_the_endpoint_pace_for_all_but_rate_limits() -> None:
    client = ChatClient(profile("http://127.0.0.1:1", backoff_s=0.5, backoff_max_s=3.0))
    endpoint = client.endpoints[0]
    server_error = faults.LLMFault(faults.SERVER_ERROR, "HTTP 500")
    rate_limit = faults.LLMFault(faults.RATE_LIMIT, "HTTP 429")
    assert [client.delay(endpoint, server_error, n, None) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    endpoint.pace = 0.1
    assert [client.delay(endpoint, server_error, n, None) for n in (1, 2, 3)] == [0.1, 0.2, 0.4]
    assert client.delay(endpoint, rate_limit, 1, None) == 0.5
    endpoint.pace = 2.0  # a slow server: the backoff is the shorter
    assert client.delay(endpoint, server_error, 1, None) == 0.5
    assert client.delay(endpoint, server_error, 1, 1.25) == 1.25  # Retry-After, as asked
    assert client.delay(endpoint, rate_limit, 4, None) == 3.0  # capped
