"""One million agents on one machine (issue target: <= 20 min wall, <= 10 GB peak on 2 cores).

OASIS's 1M set-up: a synthetic population with a heavy-tailed follow graph (~10 follows per
user), stepped mode with 3-minute ticks for one simulated day, the `twitter` recommender, the
offline behaviour model, and OASIS's activation levels: a core of 1% of users active with
probability 0.1 per tick, everyone else 0.01 times an hour. With `--mixed`, the core decides
with the LLM policy against the local OpenAI-compatible test server (tests/llm_server.py).

    python benchmarks/million.py [--agents 1000000] [--duration 24h] [--mixed]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from _common import Contention, machine_info, print_machine, table, write_results
from oasis_des.agents.synthetic import generate_population
from oasis_des.engine.config import Config, parse_duration
from oasis_des.engine.simulation import Progress, Simulation


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def children_peak_gib() -> float:
    """The largest peak resident memory of this process's children alive now (the ranking
    peer), from /proc (getrusage would count the parent's pages a child had at fork)."""
    peaks = [0.0]
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:  # it ended meanwhile
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 2**20)  # kB
    return max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--duration", default="24h")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--commit-every", type=float, default=60.0,
                    help="simulated minutes between commits (each with a checkpoint)")
    ap.add_argument("--mixed", action="store_true",
                    help="the 1%% core decides with the LLM policy (local test server)")
    args = ap.parse_args()
    info = machine_info()
    print_machine(info)
    n, core = args.agents, max(1, args.agents // 100)
    sections: dict = {
        "seed": args.seed,
        "population": {"agents": n, "trace_sign_ups": False},
        "time": {"mode": "stepped", "tick": 3.0, "commit_every": args.commit_every,
                 "duration": parse_duration(args.duration, "--duration")},
        "activation": {"groups": [{"agents": f"0-{core - 1}", "tick_probability": 0.1},
                                  {"fraction": 1.0 - core / n, "rate": 0.01}]},
    }
    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.mixed:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from llm_server import LLMServer, realistic  # type: ignore[import-not-found]

            server = LLMServer(realistic).start()
            profile = Path(tmp) / "core.toml"
            profile.write_text(
                f'kind = "openai"\nbase_urls = ["{server.url}"]\nmodel = "scripted"\n'
                'api_key_env = "OASIS_DES_BENCH_KEY"\nconcurrency = 64\ntimeout_s = 30\n'
                "max_retries = 2\n", encoding="utf-8")
            sections["policy"] = {"groups": [{"agents": f"0-{core - 1}", "model": str(profile)}]}
        sections["output"] = {"path": str(Path(tmp) / "million.db")}
        config = Config().override(**sections)
        t0 = time.perf_counter()
        population = generate_population(n, seed=args.seed, kind="twitter")
        t1 = time.perf_counter()
        sim = Simulation(config, population=population)
        t2 = time.perf_counter()
        contention = Contention()
        last = [0.0]
        peer_peak = [0.0]

        def progress(p: Progress) -> None:
            peer_peak[0] = max(peer_peak[0], children_peak_gib())  # at each commit
            if p.wall_seconds - last[0] >= 30:
                last[0] = p.wall_seconds
                print(f"  {p.sim_time / 60:5.1f} h  activations {p.activations:,}  "
                      f"wall {p.wall_seconds:,.0f} s  peak {peak_gib():.2f} GiB", flush=True)

        result = sim.run(progress=progress)
        stalled = contention.stalled()
        edges = sim.platform.graph.ecount()
        sim.close()
    if server is not None:
        server.stop()
    total = t2 - t0 + result.wall_seconds
    rows = [
        ("agents", n),
        ("follow edges", edges),
        ("generate population (s)", t1 - t0),
        ("build + sign up (s)", t2 - t1),
        ("run wall (s)", result.wall_seconds),
        ("total wall incl. load (s)", total),
        ("activations", result.activations),
        ("actions (run)", result.run_actions),
        ("activations/s", result.activations / result.wall_seconds),
        ("actions/s", result.run_actions / result.wall_seconds),
        ("peak memory (GiB)", peak_gib()),
        # Sampled at each commit; at most the sum: the two peaks need not coincide.
        ("ranking peer's peak memory (GiB)", peer_peak[0]),
        ("peak memory, both processes (GiB, at most)", peak_gib() + peer_peak[0]),
        ("LLM calls", result.llm.calls if result.llm is not None else 0),
        ("CPU contention (share of time)", stalled),
    ]
    print(table(("measure", "value"), rows))
    write_results(f"million_{n}{'_mixed' if args.mixed else ''}", {
        "machine": info, "args": vars(args), "results": dict(rows),
        "target": "<= 1200 s total wall, <= 10 GiB peak",
    })


if __name__ == "__main__":
    main()
