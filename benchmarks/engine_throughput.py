"""End-to-end engine throughput: offline agents, one simulated day (issue target: >= 5,000
activations/s at 10,000 agents on 2 cores), with a bare SimPy loop processing the same
number of events in the same run as the baseline (the ratio is the engine's overhead).

    python benchmarks/engine_throughput.py [--agents 10000] [--duration 24h] [--mode stepped]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import simpy

from _common import Contention, machine_info, print_machine, table, write_results
from oasis_des.agents.synthetic import generate_population
from oasis_des.engine.config import Config, parse_duration
from oasis_des.engine.digest import table_digest
from oasis_des.engine.simulation import Simulation


def bare_simpy(events: int, processes: int) -> float:
    """Seconds for SimPy alone to process `events` timeouts spread over `processes`."""
    env = simpy.Environment()
    per = max(1, events // max(processes, 1))

    def proc(offset: float):  # type: ignore[no-untyped-def]
        for _ in range(per):
            yield env.timeout(1.0 + offset)

    for i in range(processes):
        env.process(proc(i / processes))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=10_000)
    ap.add_argument("--duration", default="24h")
    ap.add_argument("--mode", choices=("stepped", "continuous"), default="stepped")
    ap.add_argument("--platform", choices=("twitter", "reddit"), default="twitter")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--comments-per-post", type=int, default=0,
                    help="platform setting: comments shown per post (0 = all, as OASIS)")
    args = ap.parse_args()
    info = machine_info()
    print_machine(info)

    with tempfile.TemporaryDirectory() as tmp:
        config = Config().override(
            seed=args.seed,
            platform={"kind": args.platform,
                      "settings": {"comments_per_post": args.comments_per_post}},
            population={"agents": args.agents},
            time={"mode": args.mode, "duration": parse_duration(args.duration, "--duration")},
            activation={"model": "profile"},
            output={"path": str(Path(tmp) / "bench.db")},
        )
        t0 = time.perf_counter()
        population = generate_population(args.agents, seed=args.seed, kind=args.platform)
        t1 = time.perf_counter()
        sim = Simulation(config, population=population)
        t2 = time.perf_counter()
        contention = Contention()
        cpu = time.thread_time()
        result = sim.run()
        cpu = time.thread_time() - cpu  # the run loop's thread (not the WAL copier's)
        stalled = contention.stalled()
        digest_cpu = time.thread_time()  # run() ends with the digest: its CPU is not the run's
        table_digest(sim.platform.connection)
        cpu -= time.thread_time() - digest_cpu
        events = sim.events
        sim.close()
    bare = bare_simpy(events, processes=max(1, result.activations // 10))
    rate = result.activations / result.wall_seconds
    rows = [
        ("generate population (s)", t1 - t0),
        ("build + sign up (s)", t2 - t1),
        ("run wall (s)", result.wall_seconds),
        ("activations", result.activations),
        ("actions (trace rows)", result.total_actions),
        ("activations/s", rate),
        ("run CPU, main thread (s)", cpu),
        ("activations per CPU second (main thread)", result.activations / cpu),
        ("actions/s", result.total_actions / result.wall_seconds),
        ("SimPy events", events),
        ("bare SimPy, same events (s)", bare),
        ("overhead ratio (run / bare)", result.wall_seconds / bare),
        ("mean decision batch", result.gateway.mean_batch),
        ("CPU contention (share of time)", float("nan") if stalled is None else stalled),
    ]
    print(f"\nengine: {args.agents:,} agents, {args.platform}, {args.mode}, {args.duration}, "
          f"comments per post: {args.comments_per_post or 'all'}")
    print(table(("measure", "value"), rows))
    write_results(
        f"engine_throughput_{args.agents}_{args.mode}_c{args.comments_per_post}",
        {"machine": info, "args": vars(args), "results": dict((k, v) for k, v in rows),
         "digest": result.digest},
    )


if __name__ == "__main__":
    main()
