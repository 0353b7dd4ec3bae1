"""LLM agents against a local OpenAI-compatible server with a fixed latency: how much of the
profile's concurrency a run uses (wall time vs decisions x latency / concurrency, stepped
and continuous), prompt tokens per decision, and replay speed from the record/replay cache.

    python benchmarks/llm_throughput.py [--agents 200] [--latency 0.1] [--concurrency 16]
        [--platform reddit] [--fail-every 20]

The server is tests/llm_server.py in its own process (as an independent server would be),
answering with its "realistic" script; its token counts are characters / 4 of the
request's messages and tools (a real tokenizer gives similar counts for English and JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import Contention, machine_info, print_machine, table, write_results

from oasis_des.agents.synthetic import generate_population
from oasis_des.engine.config import Config
from oasis_des.engine.gateway import Gateway
from oasis_des.engine.simulation import RunResult, Simulation
from oasis_des.llm.client import ChatClient
from oasis_des.llm.profile import DEFAULT_ACTIONS, LLMProfile
from oasis_des.llm.tools import ToolSet

SERVER = Path(__file__).resolve().parents[1] / "tests" / "llm_server.py"


@contextmanager
def server(latency: float, fail_every: int = 0, nagle: bool = False) -> Iterator[str]:
    """The test server in a subprocess; yields its base URL."""
    proc = subprocess.Popen([sys.executable, str(SERVER), "--script", "realistic",
                             "--latency", str(latency), "--fail-every", str(fail_every),
                             *(["--nagle"] if nagle else [])],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait()

@contextmanager
def timed_deciding() -> Iterator[list[float]]:
    """Wall and CPU seconds spent in the gateway (where decisions are made: the prompt, the
    cache lookup, parsing the answer) while the block runs, as a two-item list."""
    spent = [0.0, 0.0]
    originals = {name: getattr(Gateway, name) for name in ("submit", "flush", "drain")}

    def timed(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return method(*args)
            finally:
                spent[0] += time.perf_counter() - t0
                spent[1] += time.thread_time() - c0
        return run

    for name, method in originals.items():
        setattr(Gateway, name, timed(method))
    try:
        yield spent
    finally:
        for name, method in originals.items():
            setattr(Gateway, name, method)


def transport_ceiling(url: str, latency: float, concurrency: int, calls: int) -> float:
    """The share of the concurrency a client that does nothing else gets from the server on
    this machine now: `calls` requests of a decision's size through the policy's client, at
    most `concurrency` at once (the server's own work and the transport are the rest)."""
    profile = LLMProfile(path=Path("bench.toml"), name="bench", model="bench",
                         base_urls=(url,), concurrency=concurrency, timeout_s=30.0)
    tools = ToolSet(DEFAULT_ACTIONS["twitter"], tool_calling=True, max_chars=4000).schemas
    user = "Your feed:\n" + "\n".join(f"post {i} by user {i}: " + "text " * 40 for i in range(5))
    request = {"model": "bench", "max_tokens": 256, "tools": tools,
               "messages": [{"role": "system", "content": "persona " * 60},
                            {"role": "user", "content": user}]}

    async def measure() -> float:
        client = ChatClient(profile)
        slots = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with slots:
                await client.complete(request)

        await asyncio.gather(*(one() for _ in range(concurrency)))  # open the connections
        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        wall = time.perf_counter() - t0
        await client.aclose()
        return calls * latency / concurrency / wall

    return asyncio.run(measure())


def calls_per_tick(db: str, tick: float) -> list[int]:
    """LLM calls made in each tick (of `tick` minutes) of a stepped run."""
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT CAST(sim_time / ? AS INTEGER), COUNT(*) FROM llm_call GROUP BY 1",
                        (tick,)).fetchall()
    conn.close()
    return [n for _, n in rows]


def run(config: Config, rate: float) -> RunResult:
    pop = generate_population(config.population.agents, seed=config.seed, kind=config.platform.kind)
    pop.activity[:] = rate
    sim = Simulation(config, population=pop)
    try:
        return sim.run()
    finally:
        sim.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.1, help="server seconds per answer")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--duration", default="1h")
    ap.add_argument("--rate", type=float, default=2.0, help="activations per agent per hour")
    ap.add_argument("--platform", choices=("twitter", "reddit"), default="twitter")
    ap.add_argument("--fail-every", type=int, default=0,
                    help="the server fails one request in N at its first attempt (500 or 429)")
    ap.add_argument("--nagle", action="store_true",
                    help="the server keeps Nagle's algorithm on (as Python's http.server does)")
    args = ap.parse_args()
    info = machine_info()
    print_machine(info)
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as tmp, \
            server(args.latency, args.fail_every, args.nagle) as url:
        ceiling = None  # (with injected faults the retries' backoff would dominate it)
        if not args.fail_every:
            ceiling = transport_ceiling(url, args.latency, args.concurrency,
                                        30 * args.concurrency)
            print(f"transport ceiling (a client doing nothing else): {ceiling:.0%} of the "
                  "concurrency")
        profile = Path(tmp) / "bench.toml"
        profile.write_text(
            f'kind = "openai"\nmodel = "bench"\nbase_urls = ["{url}"]\n'
            f"concurrency = {args.concurrency}\ntimeout_s = 30.0\nmax_retries = 2\n"
            "price_input_per_mtok = 0.15\nprice_output_per_mtok = 0.6\n"
        )
        for mode in ("stepped", "continuous"):
            cache = str(Path(tmp) / f"{mode}.sqlite")
            config = Config().override(
                seed=1, population={"agents": args.agents}, platform={"kind": args.platform},
                time={"mode": mode, "duration": args.duration, "think_seconds": 60.0},
                activation={"model": "profile" if mode == "stepped" else "poisson"},
                policy={"model": str(profile)},
                llm={"cache": cache, "cache_mode": "record"},
                output={"path": str(Path(tmp) / f"{mode}.db")},
            )
            contention = Contention()
            recorded = run(config, args.rate)
            assert recorded.llm is not None
            decisions = recorded.llm.calls
            ideal = decisions * args.latency / args.concurrency
            # Failed attempts take the server's latency too.
            attempts = decisions + sum(recorded.llm.retries.values())
            # Stepped mode: a tick's decisions come from what the tick before did, so each
            # tick takes at least ceil(its calls / concurrency) rounds of latency.
            bound = ideal if mode == "continuous" else args.latency * sum(
                -(-n // args.concurrency) for n in calls_per_tick(recorded.db_path, config.time.tick))
            # Replay: the whole run, and the time spent deciding alone; best of three, as
            # timeit does (other processes on a shared machine only ever slow a run down).
            replays = []
            for i in range(3):
                with timed_deciding() as decide_time:
                    replayed = run(config.override(
                        llm={"cache_mode": "replay"},
                        output={"path": str(Path(tmp) / f"{mode}-r{i}.db")}), args.rate)
                assert replayed.digest == recorded.digest
                replays.append((replayed.wall_seconds, list(decide_time)))
            replay_wall = min(w for w, _ in replays)
            decide_wall = min(d[0] for _, d in replays)
            decide_cpu = min(d[1] for _, d in replays)
            entry = {
                "decisions": decisions,
                "mean_batch": recorded.gateway.mean_batch,
                "wall_s": recorded.wall_seconds,
                "ideal_s": ideal,
                "concurrency_used": ideal / recorded.wall_seconds,
                "transport_ceiling": ceiling,
                "retried_attempts": attempts - decisions,
                "concurrency_used_counting_retries": ideal * attempts / decisions
                / recorded.wall_seconds,
                "tick_bound_s": bound,
                "concurrency_used_of_tick_bound": bound / recorded.wall_seconds,
                "peak_in_flight": recorded.gateway.max_in_flight,
                "prompt_tokens_per_decision": recorded.llm.prompt_tokens_per_call,
                "completion_tokens_per_decision": recorded.llm.completion_tokens / decisions,
                "cost_usd": recorded.llm.cost_usd,
                "replay_wall_s": replay_wall,
                "replay_run_decisions_per_s": decisions / replay_wall,
                "replay_decide_decisions_per_s": decisions / decide_wall,
                "replay_decide_decisions_per_s_each": [decisions / d[0] for _, d in replays],
                "replay_decide_cpu_decisions_per_s": decisions / decide_cpu,
                "cpu_contention": contention.stalled(),
            }
            results[mode] = entry
            rows.append([mode, decisions, round(entry["mean_batch"], 1), entry["wall_s"],
                         entry["ideal_s"], f"{entry['concurrency_used']:.0%}",
                         f"{entry['concurrency_used_of_tick_bound']:.0%}",
                         entry["peak_in_flight"], entry["prompt_tokens_per_decision"],
                         entry["replay_run_decisions_per_s"],
                         entry["replay_decide_decisions_per_s"],
                         entry["replay_decide_cpu_decisions_per_s"],
                         f"{entry['cpu_contention']:.0%}" if entry["cpu_contention"] is not None
                         else "-"])
    print(table(["mode", "decisions", "batch", "wall s", "ideal s", "used", "of tick bound",
                 "peak", "prompt tok", "replay run/s", "replay decide/s", "(CPU)",
                 "contention"], rows, "lrrrrrrrrrrrr"))
    suffix = (f"_{args.platform}" if args.platform != "twitter" else "") + \
        (f"_faults{args.fail_every}" if args.fail_every else "") + \
        ("_nagle" if args.nagle else "") + \
        (f"_latency{args.latency:g}" if args.latency != 0.1 else "") + \
        (f"_openblas{blas}" if (blas := os.environ.get("OPENBLAS_NUM_THREADS")) else "")
    path = write_results(f"llm_throughput_{args.agents}{suffix}", {
        "machine": info,
        "params": {**vars(args), "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")},
        "results": results,
    })
    print(f"results: {path}")


if __name__ == "__main__":
    main()
