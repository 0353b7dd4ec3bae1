"""Chat completion calls to one or more OpenAI-compatible servers, with retries.

Each base URL gets its own `openai.AsyncOpenAI` client (its own connection pool). A call
goes to the endpoint with the fewest calls in flight (ties: round robin), and a retry may
go to another one. Transport faults are retried up to `max_retries` times, after what a
server's Retry-After header asks when it sends one (it knows when it will have room), else
after an exponential backoff; either is capped by `backoff_max_s`. The backoff starts at
`backoff_s`, or for a fault other than a rate limit at the endpoint's pace (the recent
latency of its answers) when that is shorter: a server answering in 0.1 s is retried after
about 0.1 s, not after five of its answers, and a rate limit keeps the whole backoff.
Waits are real time: they change how long a run takes, never what it computes, and a call
waiting to retry lends its concurrency slot to another call. The client never raises for a
failed call: it returns the fault.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oasis_des.engine.gateway import slot_released
from oasis_des.llm import faults
from oasis_des.llm.faults import LLMFault
from oasis_des.llm.profile import LLMProfile
from oasis_des.llm.quickack import quick_ack_http_client

if TYPE_CHECKING:
    import openai


@dataclass(kw_only=True)
class Endpoint:
    url: str
    in_flight: int = 0
    failures: int = 0  # transport faults in a row
    pace: float | None = None  # recent seconds per answer (moving average), once it answered
    rest_until: float = 0.0  # time.monotonic() before which it gets calls only if all rest


@dataclass(kw_only=True)
class CallOutcome:
    """What a call gave: a response body or a fault, and how it went."""

    body: dict[str, Any] | None
    fault: LLMFault | None
    endpoint: str | None
    latency_s: float
    attempts: int
    retries: Counter[str] = field(default_factory=Counter)  # retried faults by category


class ChatClient:
    """Sends chat completion requests for one profile, over all its base URLs."""

    def __init__(self, profile: LLMProfile) -> None:
        self.profile = profile
        self.endpoints = [Endpoint(url=u) for u in profile.base_urls]
        self._next = 0
        self._clients: dict[str, openai.AsyncOpenAI] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the clients are bound to

    def open(self) -> None:
        """Create the endpoints' clients now rather than in a run's first calls (each loads
        TLS certificates: tens of ms). They bind to the event loop that first uses them."""
        import openai  # imported on first use: runs without LLM agents never load it

        for endpoint in self.endpoints:
            if endpoint.url not in self._clients:
                self._clients[endpoint.url] = openai.AsyncOpenAI(
                    base_url=endpoint.url,
                    api_key=self.profile.api_key(),
                    timeout=self.profile.timeout_s,
                    max_retries=0,  # retries are ours: counted, and honouring Retry-After
                    http_client=quick_ack_http_client(openai),
                )

    def _client(self, endpoint: Endpoint) -> openai.AsyncOpenAI:
        """The endpoint's client, bound to the running event loop."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # clients cannot move between event loops
            if self._loop is not None:
                self._clients = {}
            self._loop = loop
        client = self._clients.get(endpoint.url)
        if client is None:
            self.open()
            client = self._clients[endpoint.url]
        return client

    def _pick(self, avoid: Endpoint | None = None) -> Endpoint:
        """The endpoint with the fewest calls in flight; ties go round robin.

        An endpoint that failed in transport rests (1 s, doubling per failure in a row, at
        most 60 s): while it rests, endpoints that failed fewer times in a row come first.
        Among equals, a retry avoids the endpoint that just failed. So a server that
        answers again after a passing fault keeps its calls, and one that is down gets a
        call only when its rest is over (to see whether it is back).
        """
        n = len(self.endpoints)
        now = time.monotonic()
        order = [self.endpoints[(self._next + i) % n] for i in range(n)]
        best = min(order, key=lambda e: (e.failures if e.rest_until > now else 0, e is avoid,
                                         e.in_flight))
        self._next = (self.endpoints.index(best) + 1) % n
        return best

    def delay(
        self, endpoint: Endpoint, fault: LLMFault, attempt: int, asked: float | None
    ) -> float:
        """Seconds to wait after failed attempt number `attempt` at `endpoint`: what the
        server `asked` (Retry-After), else the backoff, doubling per retry; capped."""
        p = self.profile
        if asked is None:
            first = p.backoff_s
            if fault.category != faults.RATE_LIMIT and endpoint.pace is not None:
                first = min(first, endpoint.pace)
            asked = first * 2 ** (attempt - 1)
        return min(p.backoff_max_s, asked)

    @staticmethod
    def _health(endpoint: Endpoint, fault: LLMFault | None) -> None:
        if fault is None or fault.category not in faults.RETRIED:
            endpoint.failures, endpoint.rest_until = 0, 0.0
            return
        endpoint.failures += 1
        endpoint.rest_until = time.monotonic() + min(60.0, 2.0 ** (endpoint.failures - 1))

    async def complete(self, request: dict[str, Any]) -> CallOutcome:
        """Send `request` (chat.completions.create keywords), retrying transport faults."""
        p = self.profile
        retries: Counter[str] = Counter()
        started = time.perf_counter()
        attempt = 0
        failed: Endpoint | None = None
        while True:
            attempt += 1
            endpoint = self._pick(avoid=failed)
            endpoint.in_flight += 1
            sent = time.perf_counter()
            try:
                body = await self._send(endpoint, request)
                self._health(endpoint, None)
                took = time.perf_counter() - sent
                endpoint.pace = took if endpoint.pace is None else 0.8 * endpoint.pace + 0.2 * took
                return CallOutcome(body=body, fault=None, endpoint=endpoint.url,
                                   latency_s=time.perf_counter() - started, attempts=attempt,
                                   retries=retries)
            except _Retryable as exc:
                fault, wait = exc.fault, exc.retry_after
            except LLMFault as exc:
                fault, wait = exc, None
            finally:
                endpoint.in_flight -= 1
            self._health(endpoint, fault)
            failed = endpoint
            if fault.category not in faults.RETRIED or attempt > p.max_retries:
                return CallOutcome(body=None, fault=fault, endpoint=endpoint.url,
                                   latency_s=time.perf_counter() - started, attempts=attempt,
                                   retries=retries)
            retries[fault.category] += 1
            async with slot_released():  # another call may use the concurrency meanwhile
                await asyncio.sleep(self.delay(endpoint, fault, attempt, wait))

    async def _send(self, endpoint: Endpoint, request: dict[str, Any]) -> dict[str, Any]:
        """One HTTP attempt: the parsed body, or raise a fault (retryable or not)."""
        import openai

        attempts = self.profile.max_retries + 1
        try:
            # The client's generic `post` sends the request as it is and returns the body's
            # bytes: `chat.completions.create` would check and transform every typed
            # parameter (tools, messages) and wrap the response, 0.2-0.3 ms of the client's
            # 1.5 ms of CPU per call, for a request we built and a body we parse ourselves.
            content = await self._client(endpoint).post(
                "/chat/completions", cast_to=bytes, body=request
            )
        except openai.APITimeoutError:
            raise _Retryable(faults.TIMEOUT, f"no answer within {self.profile.timeout_s} s "
                             f"({attempts} attempts allowed)") from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            wait = _retry_after(exc.response.headers)
            if status == 429:
                raise _Retryable(faults.RATE_LIMIT, "HTTP 429", wait) from None
            if status >= 500 or status == 408:
                raise _Retryable(faults.SERVER_ERROR, f"HTTP {status}", wait) from None
            raise LLMFault(faults.HTTP_ERROR, f"HTTP {status}") from None
        except openai.APIConnectionError:
            raise _Retryable(faults.CONNECTION, f"connection failed ({attempts} attempts "
                             "allowed)") from None
        try:
            body = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(faults.MALFORMED_RESPONSE, "the response body is not JSON") from None
        if not isinstance(body, dict):
            raise _Retryable(faults.MALFORMED_RESPONSE, "the response body is not a JSON object")
        return body

    async def aclose(self) -> None:
        """Close the connection pools (in the event loop that opened them)."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.close()


class _Retryable(Exception):
    def __init__(self, category: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.fault = LLMFault(category, detail)
        self.retry_after = retry_after


def _retry_after(headers: Any) -> float | None:
    """Seconds a server asks us to wait (retry-after-ms or retry-after in seconds)."""
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue  # an HTTP date: fall back to our own backoff
        if seconds >= 0:
            return seconds
    return None
