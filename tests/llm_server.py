"""A local OpenAI-compatible chat completions server for tests (no network, no API key).

`LLMServer(script)` listens on 127.0.0.1 on a free port in a background thread and answers
POST /v1/chat/completions with whatever `script(request)` returns: a tool call, text, or
a fault (HTTP 429 with Retry-After, 500, a malformed body, a hang past the client's
timeout, a dropped connection, empty choices). It counts requests and the peak number of
requests in flight, so tests can check concurrency without timing anything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


@dataclass(kw_only=True)
class Reply:
    """What the server answers to one request."""

    tool: str | None = None  # a tool call of this name...
    args: dict[str, Any] | str | None = None  # ...with these arguments (str: sent as is)
    content: str | None = None  # text of the message
    status: int = 200
    retry_after: float | None = None  # Retry-After header (seconds)
    raw: bytes | None = None  # a body sent as is (e.g. malformed JSON)
    delay: float = 0.0  # seconds before answering (beyond the server's latency)
    drop: bool = False  # close the connection without answering
    no_choices: bool = False
    finish_reason: str | None = None
    usage: bool = True  # report token usage
    cached_tokens: int | None = None  # prompt tokens reported as read from a prompt cache


Script = Callable[[dict[str, Any]], Reply]


def do_nothing(request: dict[str, Any]) -> Reply:
    return Reply(tool="do_nothing", args={})


def like_first_post(request: dict[str, Any]) -> Reply:
    """Like the first post of the feed, else write a post: a deterministic little agent."""
    user = request["messages"][-1]["content"]
    match = re.search(r"^post (\d+) by user", user, re.MULTILINE)
    if match:
        return Reply(tool="like_post", args={"post_id": int(match.group(1))})
    agent = re.search(r"user (\d+)\)", request["messages"][0]["content"])
    return Reply(tool="create_post", args={"content": f"hello from {agent.group(1) if agent else '?'}"})


_WORDS = ("prices", "energy", "policy", "team", "match", "school", "coffee", "research", "city",
          "vote", "market", "music", "weather", "health", "startup", "data", "friends", "news")


def _text(seed: bytes, chars: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        digest = hashlib.sha256(seed + len(words).to_bytes(2, "big")).digest()
        words.append(_WORDS[digest[0] % len(_WORDS)])
    return " ".join(words)[:chars].capitalize() + "."


def realistic(request: dict[str, Any]) -> Reply:
    """Posts of 150-250 characters, comments of 80-140, likes, reposts and idling, chosen by
    a hash of the request (benchmarks: prompts grow as in a real run)."""
    user = request["messages"][-1]["content"]
    h = hashlib.sha256(user.encode()).digest()
    first = re.search(r"^post (\d+) by", user, re.MULTILINE)
    roll = h[0] % 100
    if first is None or roll < 30:
        return Reply(tool="create_post", args={"content": _text(h, 150 + h[1] % 100)})
    post_id = int(first.group(1))
    if roll < 60:
        return Reply(tool="like_post", args={"post_id": post_id})
    if roll < 75:
        return Reply(tool="create_comment", args={"post_id": post_id,
                                                   "content": _text(h[2:], 80 + h[3] % 60)})
    if roll < 85:
        return Reply(tool="repost", args={"post_id": post_id})
    return Reply(tool="do_nothing", args={})


def flaky(script: Script, every: int) -> Script:
    """`script`, but one request in `every` (chosen by a hash of it) fails at its first
    attempt, with HTTP 500 or with 429 and Retry-After 0.1 s; its retry gets the answer."""
    failed: set[bytes] = set()
    lock = threading.Lock()

    def answer(request: dict[str, Any]) -> Reply:
        h = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).digest()
        if int.from_bytes(h[:4], "big") % every == 0:
            with lock:
                first = h not in failed
                failed.add(h)
            if first:
                return Reply(status=500) if h[4] % 2 else Reply(status=429, retry_after=0.1)
        return script(request)

    return answer


SCRIPTS: dict[str, Callable[[dict[str, Any]], Reply]] = {
    "do_nothing": do_nothing, "like_first_post": like_first_post, "realistic": realistic,
}


def tokens(text: str) -> int:
    return (len(text) + 3) // 4


@dataclass
class Stats:
    requests: list[dict[str, Any]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # time.monotonic() of each request
    in_flight: int = 0
    peak: int = 0


class LLMServer:
    """A scripted chat completions server in a thread; use as a context manager."""

    def __init__(
        self, script: Script = like_first_post, *, latency: float = 0.0, nagle: bool = False,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.script = script
        self.latency = latency
        self.stats = Stats()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers
            # Headers and body are separate writes: with Nagle's algorithm on (`nagle`, as
            # http.server's default) the body waits for the ACK of the headers, which a
            # client that delays its ACKs sends ~40 ms late (see oasis_des/llm/quickack.py).
            disable_nagle_algorithm = not nagle

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server._answer(self, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._scheme = "http"
        if tls is not None:  # (certificate, key): HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.stats.requests

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        if handler.path.rstrip("/") != "/v1/chat/completions":
            self._send(handler, 404, b'{"error": {"message": "not found"}}')
            return
        try:
            request = json.loads(body)
        except ValueError:  # the client gave up while sending (a cancelled call)
            return
        with self._lock:
            self.stats.requests.append(request)
            self.stats.arrived.append(time.monotonic())
            self.stats.in_flight += 1
            self.stats.peak = max(self.stats.peak, self.stats.in_flight)
        try:
            reply = self.script(request)
            if self.latency or reply.delay:
                time.sleep(self.latency + reply.delay)
            if reply.drop:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            headers = {}
            if reply.retry_after is not None:
                headers["Retry-After"] = str(reply.retry_after)
            if reply.raw is not None:
                self._send(handler, reply.status, reply.raw, headers)
            elif reply.status != 200:
                error = {"error": {"message": f"status {reply.status}", "type": "test"}}
                self._send(handler, reply.status, json.dumps(error).encode(), headers)
            else:
                self._send(handler, 200, json.dumps(self._completion(request, reply)).encode())
        finally:
            with self._lock:
                self.stats.in_flight -= 1

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes,
              headers: dict[str, str] | None = None) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:  # the client gave up (timeout) and closed the connection
            handler.close_connection = True

    @staticmethod
    def _completion(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        completion = reply.content or ""
        if reply.tool is not None:
            arguments = reply.args if isinstance(reply.args, str) else json.dumps(reply.args or {})
            message["tool_calls"] = [{"id": "call_0", "type": "function",
                                      "function": {"name": reply.tool, "arguments": arguments}}]
            completion += reply.tool + arguments
        finish = reply.finish_reason or ("tool_calls" if reply.tool else "stop")
        out: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", ""),
            "choices": [] if reply.no_choices else [
                {"index": 0, "message": message, "finish_reason": finish}
            ],
        }
        if reply.usage:
            prompt = json.dumps(request.get("messages", [])) + json.dumps(request.get("tools", []))
            out["usage"] = {"prompt_tokens": tokens(prompt), "completion_tokens": tokens(completion),
                            "total_tokens": tokens(prompt) + tokens(completion)}
            if reply.cached_tokens is not None:
                out["usage"]["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
        return out


if __name__ == "__main__":
    # A server in its own process (benchmarks): prints its URL, serves until killed.
    ap = argparse.ArgumentParser(description="Local OpenAI-compatible test server.")
    ap.add_argument("--script", choices=sorted(SCRIPTS), default="like_first_post")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    ap.add_argument("--fail-every", type=int, default=0,
                    help="fail one request in N at its first attempt (500 or 429)")
    ap.add_argument("--nagle", action="store_true",
                    help="keep Nagle's algorithm on, as Python's http.server does")
    cli = ap.parse_args()
    script = SCRIPTS[cli.script]
    if cli.fail_every:
        script = flaky(script, cli.fail_every)
    running = LLMServer(script, latency=cli.latency, nagle=cli.nagle).start()
    print(running.url, flush=True)
    running._thread.join()
