"""The LLM client acknowledges answers at once (servers that send headers and body apart
would otherwise wait ~40 ms per call for a delayed ACK)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from llm_server import LLMServer, Reply

from oasis_des.llm.client import ChatClient
from oasis_des.llm.profile import LLMProfile
from oasis_des.llm.quickack import QuickAckBackend, QuickAckStream

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="TCP_QUICKACK is Linux's")


class Socket:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.log.append(("setsockopt", level, option, value))


class Stream:
    """A network stream that records what is done to it."""

    def __init__(self, log: list[Any], name: str = "plain") -> None:
        self.log, self.name = log, name
        self.socket = Socket(log)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.log.append(("read", self.name, max_bytes))
        return b"x"

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.log.append(("write", self.name, buffer))

    async def aclose(self) -> None:
        self.log.append(("close", self.name))

    async def start_tls(self, *args: Any, **kwargs: Any) -> Stream:
        return Stream(self.log, "tls")

    def get_extra_info(self, info: str) -> Any:
        return self.socket if info == "socket" else info


@linux
def test_each_read_is_preceded_by_a_quick_ack() -> None:
    log: list[Any] = []
    stream = QuickAckStream(Stream(log))

    async def go() -> None:
        await stream.read(10)
        await stream.write(b"req")
        await stream.read(20)
        tls = await stream.start_tls(None)
        await tls.read(30)
        await tls.aclose()

    asyncio.run(go())
    ack = ("setsockopt", socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    assert log == [ack, ("read", "plain", 10), ("write", "plain", b"req"),
                   ack, ("read", "plain", 20), ack, ("read", "tls", 30), ("close", "tls")]
    assert stream.get_extra_info("server_addr") == "server_addr"


DATA = Path(__file__).parent / "data"


@linux
@pytest.mark.parametrize("tls", [False, True])
def test_calls_go_through_quick_ack_connections(tls: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a server that keeps Nagle's algorithm on, as Python's http.server does, over
    HTTP and HTTPS (the stream the TLS handshake gives acknowledges at once too)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(DATA / "tls_test_cert.pem"))  # trust the test's
    keys = (DATA / "tls_test_cert.pem", DATA / "tls_test_key.pem") if tls else None
    with LLMServer(lambda request: Reply(tool="do_nothing", args={}), nagle=True,
                   tls=keys) as server:
        assert server.url.startswith("https://" if tls else "http://")
        client = ChatClient(LLMProfile(path=Path("t.toml"), name="t", model="m",
                                       base_urls=(server.url,), timeout_s=5.0))
        connections: list[QuickAckStream] = []
        original = QuickAckBackend.connect_tcp

        async def connect(self: QuickAckBackend, *args: Any, **kwargs: Any) -> QuickAckStream:
            stream = await original(self, *args, **kwargs)
            connections.append(stream)
            return stream

        async def go() -> list[Any]:
            try:
                return [await client.complete({"model": "m", "messages": []}) for _ in range(3)]
            finally:
                await client.aclose()

        QuickAckBackend.connect_tcp = connect  # type: ignore[method-assign]
        try:
            outcomes = asyncio.run(go())
        finally:
            QuickAckBackend.connect_tcp = original  # type: ignore[method-assign]
    assert [o.fault for o in outcomes] == [None, None, None]
    assert len(connections) == 1  # kept alive: the case where ACKs are delayed
    assert len(server.requests) == 3
