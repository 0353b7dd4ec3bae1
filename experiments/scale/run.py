"""Scale: how do wall time and memory grow with the number of agents?

For each population size, one run in a fresh process (so that sizes do not share memory
or caches): generate the synthetic population, build the platform and sign everyone up,
then simulate one hour. Each phase is timed; peak memory is the process's maximum
resident set size (`resource.getrusage(...).ru_maxrss`), read after setup and at the end.

    python run.py --out out            # 1,000 ... 1,000,000 agents (~4 min, 3 GiB)
    python run.py --out out --quick    # 1,000 and 10,000 agents: seconds
    python run.py --out out --sizes 1000,100000 --hours 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from oasis_des.analysis import Table
from oasis_des.analysis.svg import Line, line_chart
from oasis_des.engine.config import load_config
from oasis_des.sweep.experiment import result_folders

HERE = Path(__file__).resolve().parent
SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
COLUMNS = ("agents", "follows", "sim_hours", "generate_s", "setup_s", "run_s",
           "run_s_per_sim_hour", "run_cpu_s", "activations", "actions", "us_per_activation",
           "peak_rss_mib_setup", "peak_rss_mib", "db_mib")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="out", help="folder for runs, tables and figures")
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 agents only")
    parser.add_argument("--sizes", help="comma-separated agent counts (default: 1,000 to 1,000,000)")
    parser.add_argument("--hours", type=float, help="simulated hours per run (default: config)")
    parser.add_argument("--keep-runs", action="store_true", help="keep each run's database")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    out = Path(args.out)
    config = load_config(HERE / "config.toml")
    hours = args.hours or config.time.duration / 60
    if args.measure:
        print(json.dumps(measure(args.measure, hours, out)))
        return 0
    sizes = _sizes(args.sizes) if args.sizes else QUICK_SIZES if args.quick else SIZES
    (out / "runs").mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:  # one at a time: timings must not compete for the CPUs
        child = [sys.executable, str(Path(__file__).resolve()), "--measure", str(n),
                 "--hours", str(hours), "--out", str(out)]
        done = subprocess.run(child, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{n:,} agents failed:\n{done.stderr}", file=sys.stderr)
            return 1
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if not args.keep_runs:
            for path in (out / "runs").glob(f"agents={n}.db*"):
                path.unlink()
        rows.append(tuple(row[c] for c in COLUMNS))
        print(f"{n:>9,} agents: setup {row['setup_s']:.1f} s, {row['run_s_per_sim_hour']:.1f} s "
              f"per simulated hour, peak {row['peak_rss_mib']:,.0f} MiB", flush=True)
    table = Table(COLUMNS, rows)

    tables, figures = result_folders(out)
    table.to_csv(tables / "scale.csv")
    (figures / "wall_time.svg").write_text(_figure(
        table, ("generate_s", "setup_s", "run_s_per_sim_hour"),
        ("generate population", "build + sign up", "run, per sim. hour"),
        "Wall time by population size", "seconds", reference=True))
    (figures / "peak_memory.svg").write_text(_figure(
        table, ("peak_rss_mib_setup", "peak_rss_mib"), ("after setup", "after the run"),
        "Peak memory (max RSS of the run's process)", "MiB"))
    print(table)
    print(f"tables and figures in {out}")
    return 0


def measure(n: int, hours: float, out: Path) -> dict[str, Any]:
    """One size, in this (fresh) process: phases timed, peak RSS after setup and at the end."""
    from oasis_des.agents.synthetic import generate_population
    from oasis_des.engine.simulation import Simulation

    config = load_config(HERE / "config.toml")
    db = out / "runs" / f"agents={n}.db"
    config = config.override(population={"agents": n}, time={"duration": hours * 60},
                             output={"path": str(db), "overwrite": True})
    start = time.perf_counter()
    population = generate_population(n, seed=config.seed, kind=config.platform.kind)
    generated = time.perf_counter()
    sim = Simulation(config, population=population)
    built = time.perf_counter()
    setup_rss = _peak_mib()
    cpu = time.process_time()
    try:
        result = sim.run()
    finally:
        sim.close()
    return {
        "agents": n, "follows": len(population.follows), "sim_hours": hours,
        "generate_s": generated - start, "setup_s": built - generated,
        "run_s": result.wall_seconds, "run_s_per_sim_hour": result.wall_seconds / hours,
        "run_cpu_s": time.process_time() - cpu, "activations": result.activations,
        "actions": result.run_actions,
        "us_per_activation": 1e6 * result.wall_seconds / max(result.activations, 1),
        "peak_rss_mib_setup": setup_rss, "peak_rss_mib": _peak_mib(),
        "db_mib": sum(p.stat().st_size for p in db.parent.glob(f"{db.name}*")) / 2**20,
    }


def _peak_mib() -> float:
    """This process's peak resident set size (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise SystemExit(f"--sizes {text!r}: expected comma-separated integers.") from None
    if any(n < 2 for n in sizes):
        raise SystemExit(f"--sizes {text!r}: every size must be at least 2 agents.")
    return sizes


def _figure(table: Table, columns: tuple[str, ...], labels: tuple[str, ...], title: str,
            ylabel: str, reference: bool = False) -> str:
    """Log-log lines against the number of agents; `reference` adds a dashed line
    proportional to the agents through the last series' first point (linear scaling)."""
    agents = [float(a) for a in table.column("agents")]
    lines = [Line(label, agents, [float(v) for v in table.column(c)])
             for c, label in zip(columns, labels)]
    if reference:
        first = float(table.column(columns[-1])[0])
        lines.append(Line("linear scaling", agents,
                          [first * a / agents[0] for a in agents], dashed=True))
    return line_chart(lines, title=title, xlabel="agents", ylabel=ylabel, log_x=True, log_y=True)


if __name__ == "__main__":
    sys.exit(main())
