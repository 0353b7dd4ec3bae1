"""A second, independent OpenAI-compatible server for acceptance runs: raw asyncio streams.

tests/llm_server.py is built on `http.server` (a thread per connection) and was written
together with the client it tests. This one shares no code with it or with oasis_des: it
parses HTTP/1.1 itself, keeps connections alive, sleeps its latency on an event loop (so
many requests wait at once without threads) and answers from the request alone, so that
recording and replaying a run gives the same answers.

    python benchmarks/asyncio_llm_server.py --latency 0.2 [--fault-every 7] [--port 0]

It prints its base URL on the first line of stdout. With `--fault-every N`, every N-th
request fails, cycling through ten kinds of fault: HTTP 500, HTTP 429 with Retry-After,
a body that is not JSON, no choices, an unknown tool, arguments that are not JSON, an
answer without a tool call, an over-long answer, a hang past any sane timeout, and a
connection closed without an answer. Token usage is characters / 4 of the messages and
tools, as tests/llm_server.py reports it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
from typing import Any

FAULTS = ("server_error", "rate_limit", "malformed", "no_choices", "unknown_tool", "bad_args",
          "no_tool_call", "too_long", "hang", "drop")


def answer(request: dict[str, Any], fault: str | None) -> bytes:
    """A chat completion for `request`: a tool call chosen from a hash of the feed."""
    messages = request.get("messages") or []
    tools = request.get("tools") or []
    user = str(messages[-1].get("content", "")) if messages else ""
    names = {t["function"]["name"] for t in tools}
    posts = [int(p) for p in re.findall(r"^post (\d+) by", user, re.MULTILINE)]
    h = int.from_bytes(hashlib.sha256(user.encode()).digest()[:8], "little")
    if not tools:  # an interview: plain text
        message: dict[str, Any] = {"role": "assistant", "content": "It was an eventful day."}
    else:
        name, args = "do_nothing", {}
        if posts and h % 3 == 0 and "like_post" in names:
            name, args = "like_post", {"post_id": posts[h % len(posts)]}
        elif posts and h % 3 == 1 and "create_comment" in names:
            name, args = "create_comment", {"post_id": posts[0], "content": "Mostly agree."}
        elif h % 5 == 2 and "create_post" in names:
            name, args = "create_post", {"content": f"Thinking about topic {h % 97} today."}
        arguments = '{"post_id": "unterminated' if fault == "bad_args" else json.dumps(args)
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "teleport" if fault == "unknown_tool" else name,
                         "arguments": arguments}}]}
        if fault == "no_tool_call":
            message = {"role": "assistant", "content": "I would rather not say."}
        elif fault == "too_long":
            message = {"role": "assistant", "content": "word " * 20_000}
    prompt = len(json.dumps(messages)) // 4 + (len(json.dumps(tools)) // 4 if tools else 0)
    choices = [] if fault == "no_choices" else [
        {"index": 0, "message": message, "finish_reason": "stop"}]
    return json.dumps({
        "id": "cmpl", "object": "chat.completion", "created": 0, "model": request.get("model"),
        "choices": choices,
        "usage": {"prompt_tokens": prompt, "completion_tokens": 20,
                  "total_tokens": prompt + 20},
    }).encode()


class Server:
    """Counts requests (to place faults) and answers each after `latency` seconds."""

    def __init__(self, latency: float, fault_every: int) -> None:
        self.latency = latency
        self.fault_every = fault_every
        self.requests = 0

    def fault(self) -> str | None:
        self.requests += 1
        n, every = self.requests, self.fault_every
        return FAULTS[(n // every) % len(FAULTS)] if every and n % every == 0 else None

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():  # the request line; b"" when the client closed
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = line.decode("latin-1").partition(":")
                    if key.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                fault = self.fault()
                await asyncio.sleep(self.latency)
                if fault == "hang":
                    await asyncio.sleep(3600)
                if fault == "drop":
                    return
                status, extra, payload = 200, b"", b""
                if fault == "server_error":
                    status, payload = 500, b'{"error": {"message": "internal error"}}'
                elif fault == "rate_limit":
                    status, extra = 429, b"Retry-After: 0.3\r\n"
                    payload = b'{"error": {"message": "rate limited"}}'
                elif fault == "malformed":
                    payload = b'{"choices": [ this is not json'
                else:
                    payload = answer(json.loads(body), fault)
                writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n%s\r\n" % (status, len(payload), extra)
                             + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def serve(latency: float, fault_every: int, port: int) -> None:
    server = await asyncio.start_server(Server(latency, fault_every).connection, "127.0.0.1", port)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.2, help="seconds before each answer")
    ap.add_argument("--fault-every", type=int, default=0, help="every N-th request fails")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    asyncio.run(serve(args.latency, args.fault_every, args.port))


if __name__ == "__main__":
    main()
