"""Generate and load a synthetic population: 1,000,000 users with about 10,000,000 follows.

Two phases, timed separately, in one process (the population generated is the one loaded):

* generate: `generate_population(n, seed)`: attributes, names, handles, bios, activity,
            the preferential-attachment follow graph with homophily and reciprocity
* load:     `sign_up_population` into a new file database (WAL, synchronous=NORMAL):
            users with counters, follows, indexes, commit, and the platform's igraph graph

Peak RSS is `resource.getrusage(RUSAGE_SELF).ru_maxrss`, read after each phase: the value
after "load" is the peak of the whole generate + load (the population stays in memory).
Checks at the end: follow rows = generated follows, counters sum to the follow count, the
platform graph has as many edges as the follow table.

    python benchmarks/personas_scale.py                 # 1,000,000 users
    python benchmarks/personas_scale.py --n 100000      # smaller
    python benchmarks/personas_scale.py --file          # also write + read the JSONL file
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Contention, machine_info, print_machine, table, write_results  # noqa: E402

from oasis_des import Platform  # noqa: E402
from oasis_des.agents.loaders import read_personas  # noqa: E402
from oasis_des.agents.persona_jsonl import write_jsonl  # noqa: E402
from oasis_des.agents.signup import sign_up_population  # noqa: E402
from oasis_des.agents.synthetic import generate_population  # noqa: E402


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=1_000_000, help="number of users (default 1,000,000)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--file", action="store_true", help="also write and read back the JSONL file"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if not args.quiet:
            print(f"  [{time.perf_counter() - t0:6.1f} s] {msg}", file=sys.stderr, flush=True)

    rows = []
    contention = Contention()
    start = time.perf_counter()
    population = generate_population(args.n, seed=args.seed, progress=say)
    generate_s = time.perf_counter() - start
    generate_gb = peak_gb()
    rows.append(("generate", generate_s, generate_gb, contention.stalled()))

    with tempfile.TemporaryDirectory() as tmp:
        contention = Contention()
        start = time.perf_counter()
        platform = Platform(Path(tmp) / "personas.db", "twitter")
        report = sign_up_population(platform, population, progress=say)
        graph_edges = platform.graph.ecount()
        load_s = time.perf_counter() - start
        load_gb = peak_gb()
        rows.append(("load", load_s, load_gb, contention.stalled()))
        conn = platform.connection
        follow_rows = conn.execute("SELECT COUNT(*) FROM follow").fetchone()[0]
        counters = conn.execute(
            "SELECT SUM(num_followers), SUM(num_followings) FROM user"
        ).fetchone()
        platform.close()
        db_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        assert follow_rows == len(population.follows) == report.follows == graph_edges
        assert counters == (follow_rows, follow_rows)
        if args.file:
            path = Path(tmp) / "personas.jsonl"
            start = time.perf_counter()
            write_jsonl(population, path)
            rows.append(("write JSONL", time.perf_counter() - start, peak_gb(), None))
            start = time.perf_counter()
            loaded = read_personas(path).population
            rows.append(("read JSONL", time.perf_counter() - start, peak_gb(), None))
            assert len(loaded) == args.n and len(loaded.follows) == follow_rows

    print(f"{args.n:,} users, {follow_rows:,} follows, database {db_mb:,.0f} MB")
    print(
        table(
            ["phase", "wall s", "peak RSS GiB (process so far)", "CPU contention"],
            [(name, s, gb, "-" if c is None else f"{c:.0%}") for name, s, gb, c in rows],
        )
    )
    print(f"generate + load: {generate_s + load_s:.1f} s, peak {load_gb:.2f} GiB")
    suffix = "" if args.n == 1_000_000 else f"_{args.n}"
    write_results(
        f"personas_scale{suffix}",
        {
            "machine": info,
            "n": args.n,
            "follows": follow_rows,
            "database_mb": db_mb,
            "phases": [
                {"phase": name, "wall_s": s, "peak_rss_gib": gb, "cpu_contention": c}
                for name, s, gb, c in rows
            ],
            "generate_plus_load_s": generate_s + load_s,
            "peak_rss_gib": load_gb,
        },
    )


if __name__ == "__main__":
    main()
