"""LLM agents as a user would run them: the `oasis-des run` command against an independent
OpenAI-compatible server (asyncio_llm_server.py), stepped and continuous, recorded then
replayed, with and without injected faults.

    python benchmarks/llm_acceptance.py [--agents 200] [--latency 0.2] [--concurrency 8]
        [--duration 1h] [--rate 2] [--fault-every 7]

Each agent is woken `--rate` times an hour (an activation group of all agents). For every
run it reports the share of the profile's concurrency used (calls x latency / concurrency
/ the run's wall time), and for stepped runs the tick bound: a tick's calls must all be
answered before the next tick observes (DESIGN: decisions resolve inside their tick), so a
tick of n calls takes at least ceil(n / concurrency) latencies, and the share that bound
allows. The faulty runs must survive every fault and count it; every replay must end on
the recorded digest.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _common import Contention, machine_info, print_machine, table, write_results
from llm_throughput import calls_per_tick

SERVER = Path(__file__).resolve().parent / "asyncio_llm_server.py"
TICK_MINUTES = 3.0  # the default tick


@contextmanager
def server(latency: float, fault_every: int) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(latency),
                             "--fault-every", str(fault_every)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait()


def cli_run(config: Path, profile: Path, out: Path, cache: Path, mode: str) -> dict[str, Any]:
    """`oasis-des run` in a subprocess; the numbers of its summary."""
    done = subprocess.run(
        [sys.executable, "-m", "oasis_des.cli", "run", str(config), "--model", str(profile),
         "--out", str(out), "--overwrite", "--llm-cache", str(cache), "--llm-cache-mode", mode,
         "--quiet"], capture_output=True, text=True,
        env={**os.environ, "ACCEPTANCE_KEY": "unused"})
    if done.returncode != 0:
        raise SystemExit(f"oasis-des run failed:\n{done.stdout}\n{done.stderr}")
    text = done.stdout
    wall = float(re.search(r" in ([\d.]+) s wall", text).group(1))  # type: ignore[union-attr]
    digest = re.search(r"^digest\s+(\w+)", text, re.MULTILINE).group(1)  # type: ignore[union-attr]
    lines = {k: (re.search(rf"^llm {k}\s+(.*)$", text, re.MULTILINE) or [None, ""])[1]
             for k in ("failures", "retries")}
    conn = sqlite3.connect(out)
    calls, tokens = conn.execute("SELECT COUNT(*), AVG(prompt_tokens) FROM llm_call "
                                 "WHERE purpose = 'decide' AND error IS NULL").fetchone()
    total = conn.execute("SELECT COUNT(*) FROM llm_call").fetchone()[0]
    conn.close()
    return {"wall_s": wall, "digest": digest, "calls": total, "answered": calls,
            "prompt_tokens_per_answer": tokens, **lines}


def write_config(path: Path, mode: str, args: argparse.Namespace) -> None:
    path.write_text(
        f'seed = 1\n[population]\nagents = {args.agents}\n'
        f'[time]\nmode = "{mode}"\nduration = "{args.duration}"\ntick = {TICK_MINUTES}\n'
        f'[activation]\nmodel = "{"profile" if mode == "stepped" else "poisson"}"\n'
        f'[[activation.groups]]\nagents = "0-{args.agents - 1}"\nrate = {args.rate}\n')


def write_profile(path: Path, url: str, concurrency: int, timeout: float) -> None:
    path.write_text(f'kind = "openai"\nbase_urls = ["{url}"]\nmodel = "acceptance"\n'
                    f'api_key_env = "ACCEPTANCE_KEY"\nconcurrency = {concurrency}\n'
                    f"timeout_s = {timeout}\nmax_retries = 3\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.2, help="server seconds per answer")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--duration", default="1h")
    ap.add_argument("--rate", type=float, default=2.0, help="wakes per agent per hour")
    ap.add_argument("--fault-every", type=int, default=7,
                    help="in the faulty runs, every N-th request fails (ten kinds in turn)")
    args = ap.parse_args()
    info = machine_info()
    print_machine(info)
    rows, results = [], {}
    contention = Contention()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for faulty in (False, True):
            latency = 0.05 if faulty else args.latency
            with server(latency, args.fault_every if faulty else 0) as url:
                profile = d / f"profile{int(faulty)}.toml"
                write_profile(profile, url, args.concurrency, 2.0 if faulty else 30.0)
                for mode in ("stepped", "continuous"):
                    name = f"{mode}{' + faults' if faulty else ''}"
                    config = d / f"{mode}.toml"
                    write_config(config, mode, args)
                    cache = d / f"{mode}{int(faulty)}.sqlite"
                    recorded = cli_run(config, profile, d / "rec.db", cache, "record")
                    bound = None
                    if mode == "stepped":
                        bound = latency * sum(-(-n // args.concurrency)
                                              for n in calls_per_tick(str(d / "rec.db"),
                                                                      TICK_MINUTES))
                    t0 = time.perf_counter()
                    replayed = cli_run(config, profile, d / "rep.db", cache, "replay")
                    replay_process_s = time.perf_counter() - t0
                    ideal = recorded["calls"] * latency / args.concurrency
                    entry = {**recorded, "ideal_s": ideal,
                             "concurrency_used": ideal / recorded["wall_s"],
                             "tick_bound_s": bound,
                             "tick_bound_share": None if bound is None else ideal / bound,
                             "replay_digest_equal": replayed["digest"] == recorded["digest"],
                             "replay_wall_s": replayed["wall_s"],
                             "replay_process_s": replay_process_s}
                    results[name] = entry
                    rows.append((name, recorded["calls"], recorded["wall_s"], ideal,
                                 f"{entry['concurrency_used']:.0%}" if not faulty else "-",
                                 "-" if bound is None or faulty else f"{ideal / bound:.0%}",
                                 recorded["prompt_tokens_per_answer"],
                                 "yes" if entry["replay_digest_equal"] else "NO",
                                 replayed["wall_s"]))
                    for key in ("failures", "retries"):
                        if recorded[key]:
                            print(f"{name:<20} {key}: {recorded[key]}")
    print(table(["run", "calls", "wall s", "ideal s", "used", "tick bound allows",
                 "prompt tok", "replay = record", "replay wall s"], rows))
    stalled = contention.stalled()
    print(f"CPU contention: {'-' if stalled is None else f'{stalled:.0%}'}")
    path = write_results(f"llm_acceptance_{args.agents}",
                         {"machine": info, "args": vars(args), "results": results,
                          "cpu_contention": stalled})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
