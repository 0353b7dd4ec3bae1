"""Running a sweep: each RunSpec in its own process (local pool or Ray), a summary row each.

Workers are started with the "spawn" method on every OS: a forked child would inherit the
parent's SQLite handles and igraph state, and spawn is what macOS and Windows use anyway.
`run_one` is a module-level function of picklable arguments for that reason; it never
raises, so one failed run is a row with an error, not a lost sweep.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time as wallclock
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal, TextIO

from oasis_des.analysis.summary import key_metrics
from oasis_des.analysis.tables import Table
from oasis_des.engine.config import ConfigConflict
from oasis_des.platform.recsys import peer
from oasis_des.sweep.grid import RunSpec

Backend = Literal["local", "ray"]
RUN_COLUMNS = ("activations", "actions", "digest", "wall_seconds")


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Run one cell and measure its database; errors become the row's `error`."""
    from oasis_des.engine.simulation import Simulation

    params = {k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v
              for k, v in spec.params.items()}  # tables and lists as JSON in the CSV
    row: dict[str, Any] = {"index": spec.index, "run": spec.name, **params, "seed": spec.seed}
    try:
        sim = Simulation(spec.config)
        try:
            result = sim.run()
        finally:
            sim.close()
        row.update(
            activations=result.activations, actions=result.run_actions, digest=result.digest,
            wall_seconds=round(result.wall_seconds, 3),
        )
        row.update(key_metrics(result.db_path))
        row.update(db=result.db_path, error="")
    except Exception as exc:  # noqa: BLE001 - reported in the summary, the sweep goes on
        blame = f"{spec.source}: " if isinstance(exc, ConfigConflict) and spec.source else ""
        row.update(db=spec.config.output.path, error=f"{type(exc).__name__}: {blame}{exc}")
    return row


def run_one_of_many(spec: RunSpec) -> dict[str, Any]:
    """`run_one` in a process that shares the machine with other runs: each has a CPU,
    so a run's ranking stays in its process (no ranking peer; the results are the same)."""
    os.environ[peer.ENV_SWITCH] = "0"
    return run_one(spec)


def run_sweep(
    specs: Sequence[RunSpec],
    *,
    jobs: int = 1,
    backend: Backend = "local",
    ray_address: str | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> Table:
    """Run every spec; returns the summary table in spec order.

    `progress(done, failed, total)` is called after each finished run.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}.")
    runner = {"local": _run_local, "ray": _run_ray}.get(backend)
    if runner is None:
        raise ValueError(f"backend = {backend!r} is not allowed; use 'local' or 'ray'.")
    rows: list[dict[str, Any]] = []
    failed = 0
    for row in runner(specs, jobs, ray_address):
        rows.append(row)
        failed += bool(row["error"])
        if progress is not None:
            progress(len(rows), failed, len(specs))
    rows.sort(key=lambda r: r["index"])
    params = list(dict.fromkeys(k for s in specs for k in s.params))
    metrics = [k for r in rows for k in r if k not in {"index", "run", "seed", "db", "error",
                                                       *params, *RUN_COLUMNS}]
    columns = ["run", *params, "seed", *RUN_COLUMNS, *dict.fromkeys(metrics), "db", "error"]
    return Table.from_records(rows, columns)


def _run_local(specs: Sequence[RunSpec], jobs: int, _: str | None) -> Iterator[dict[str, Any]]:
    if jobs == 1:
        yield from map(run_one, specs)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(specs)), mp_context=context) as pool:
        futures = [pool.submit(run_one_of_many, s) for s in specs]
        for future in as_completed(futures):
            yield future.result()


def _run_ray(
    specs: Sequence[RunSpec], jobs: int, address: str | None
) -> Iterator[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise ImportError("--backend ray needs Ray: pip install 'oasis_des[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        # A local Ray gets `jobs` CPUs; on a cluster, Ray places one run per CPU it has.
        ray.init(address=address, num_cpus=None if address else jobs,
                 include_dashboard=False, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(run_one_of_many)
        pending = [remote.remote(s) for s in specs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        if started_here:
            ray.shutdown()


class SweepProgress:
    """`[#####     ] 3/8 runs (1 failed), 12 s` on stderr; redrawn on a terminal."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.live = self.stream.isatty()
        self.started = wallclock.perf_counter()

    def __call__(self, done: int, failed: int, total: int) -> None:
        bar = "#" * int(self.width * done / total) if total else ""
        fail = f" ({failed} failed)" if failed else ""
        line = (f"[{bar:<{self.width}}] {done}/{total} runs{fail}, "
                f"{wallclock.perf_counter() - self.started:.0f} s")
        self.stream.write(f"\r{line}   " if self.live else f"{line}\n")
        if self.live and done == total:
            self.stream.write("\n")
        self.stream.flush()


def write_summary(table: Table, out_dir: str | Path) -> Path:
    """summary.csv in the sweep's folder."""
    path = Path(out_dir) / "summary.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path)
    return path
