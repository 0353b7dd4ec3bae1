"""`oasis-des run`: run a scenario and print where its database is."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from oasis_des.engine.config import (
    Config, ConfigConflict, ConfigError, check_range, load_config, parse_duration,
)
from oasis_des.engine.results import Progress, RunResult
from oasis_des.engine.simulation import Simulation
from oasis_des.llm.usage import LLMUsage


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "run",
        help="Run a simulation (default: 1,000 synthetic users, Twitter, one simulated day).",
        description="Run a simulation. Flags override the config file; with no config the "
        "built-in default scenario runs offline.",
    )
    p.add_argument("config", nargs="?", help="TOML config file (default: built-in scenario)")
    p.add_argument("--seed", type=int, help="master random seed")
    p.add_argument("--agents", type=int, help="size of the synthetic population")
    p.add_argument("--duration", help="simulated duration: minutes, or e.g. 90m, 24h, 2d")
    p.add_argument("--out", help="output SQLite database path")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.add_argument("--platform", choices=("twitter", "reddit"), help="platform kind")
    p.add_argument("--personas", help="persona file (OASIS Twitter CSV, Reddit JSON, or JSONL)")
    p.add_argument("--model", help="model profile name in models/ or path to a profile file")
    p.add_argument("--llm-cache", help="record/replay cache file of LLM answers (SQLite)")
    p.add_argument("--llm-cache-mode", choices=("record", "replay", "auto", "off"),
                   help="record: always call and store; replay: only stored answers (a miss "
                   "stops the run); auto (default): stored if present, else call and store")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run)

    r = sub.add_parser(
        "resume",
        help="Continue a stopped or killed run from its last checkpoint.",
        description="Continue a run from the checkpoint in its database; it ends exactly as "
        "an uninterrupted run would (same digest).",
    )
    r.add_argument("database", help="the run's SQLite database")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(handler=_resume)


def config_from_args(args: argparse.Namespace) -> Config:
    """The config file (or the default scenario) with command-line flags applied."""
    sections: dict[str, Any] = {}
    if args.seed is not None:
        sections["seed"] = args.seed
    if args.agents is not None:
        sections.setdefault("population", {})["agents"] = args.agents
    if args.personas is not None:
        sections.setdefault("population", {})["personas"] = args.personas
    if args.duration is not None:
        minutes = parse_duration(args.duration, "--duration")
        check_range("time.duration", minutes, name="--duration", written=args.duration)
        sections.setdefault("time", {})["duration"] = minutes
    if args.out is not None:
        sections.setdefault("output", {})["path"] = args.out
    if args.overwrite:
        sections.setdefault("output", {})["overwrite"] = True
    if args.platform is not None:
        sections.setdefault("platform", {})["kind"] = args.platform
    if args.model is not None:
        sections.setdefault("policy", {})["model"] = args.model
    if args.llm_cache is not None:
        sections.setdefault("llm", {})["cache"] = args.llm_cache
    if args.llm_cache_mode is not None:
        sections.setdefault("llm", {})["cache_mode"] = args.llm_cache_mode
    config = load_config(args.config, sections)
    if args.agents is not None and config.population.personas:
        print(f"note: --agents {args.agents} is ignored: the persona file "
              f"{config.population.personas} sets the population", file=sys.stderr)
    return config


class ProgressBar:
    """Simulated time, activations and actions/s on stderr.

    On a terminal one line is redrawn at most five times a second; otherwise (logs, CI) a
    line is printed at every tenth of the run.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        # sys.stderr when the bar is made, not when this module was imported (tests swap it).
        self.stream = stream = stream if stream is not None else sys.stderr
        self.width = width
        self.live = stream.isatty()
        self._last_wall = -1.0
        self._last_tenth = -1

    def __call__(self, p: Progress) -> None:
        done = min(1.0, p.sim_time / p.duration) if p.duration else 1.0
        if self.live:
            if p.wall_seconds - self._last_wall < 0.2:
                return
            self._last_wall = p.wall_seconds
        elif int(done * 10) == self._last_tenth:
            return
        self._last_tenth = int(done * 10)
        bar = "#" * int(done * self.width)
        rate = p.actions / p.wall_seconds if p.wall_seconds > 0 else 0.0
        line = (
            f"[{bar:<{self.width}}] {p.sim_time / 60:6.1f}h/{p.duration / 60:.1f}h  "
            f"activations {p.activations:,}  actions/s {rate:,.0f}"
        )
        self.stream.write(f"\r{line}   " if self.live else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()


def summary(result: RunResult, duration: float) -> str:
    """The end-of-run table. A stopped run's digest is labelled with where it stopped: it is
    the digest of a partial run, which scripts and readers must not take for the run's own."""
    if result.sim_time < duration:
        digest_label = f"digest (stopped at {result.sim_time / 60:.1f}h of {duration / 60:g}h)"
    else:
        digest_label = "digest          "
    lines = [f"{'action':<22}{'done':>10}{'failed':>10}"]
    for name in sorted(set(result.actions) | set(result.failures)):
        lines.append(
            f"{name:<22}{result.actions.get(name, 0):>10,}{result.failures.get(name, 0):>10,}"
        )
    g = result.gateway
    lines += [
        "",
        f"simulated time   {result.sim_time / 60:.2f} h",
        f"activations      {result.activations:,} ({result.skipped_activations:,} skipped: agent busy)",
        f"actions          {result.run_actions:,} in {result.wall_seconds:.2f} s wall "
        f"({result.run_actions / max(result.wall_seconds, 1e-9):,.0f}/s; "
        f"{result.setup_actions:,} sign-up and seed rows before)",
        f"decision batches {g.batches:,} (mean {g.mean_batch:.1f}, max {g.max_batch})",
        *([llm_summary(result.llm)] if result.llm is not None else []),
        f"{digest_label} {result.digest}",
        f"database         {result.db_path}",
    ]
    return "\n".join(lines)


def llm_summary(u: LLMUsage) -> str:
    """LLM calls, tokens, cost and faults in a few lines."""
    lines = [(
        f"llm calls        {u.calls:,} ({u.cache_hits:,} from the cache); tokens "
        f"{u.prompt_tokens:,} in ({u.prompt_tokens_per_call:,.0f}/answered call"
        + (f"; {u.cached_prompt_tokens:,} from the server's prompt cache"
           if u.cached_prompt_tokens else "")
        + f"), {u.completion_tokens:,} out; cost ${u.cost_usd:.4f} "
        f"(cached ${u.cached_cost_usd:.4f})"
    )]
    if u.errors:
        lines.append("llm failures     " + ", ".join(f"{k} {v:,}" for k, v in u.errors.items()))
    if u.retries:
        lines.append("llm retries      " + ", ".join(f"{k} {v:,}" for k, v in u.retries.items()))
    return "\n".join(lines)


@contextmanager
def naming_the_config(args: argparse.Namespace) -> Iterator[None]:
    """What is checked only once the run is built (e.g. agent ids of the config's groups,
    against a population a persona file may size) names the config file too."""
    try:
        yield
    except ConfigConflict as exc:
        if args.config is None:
            raise
        raise ConfigError(f"{args.config}: {exc}") from None


def _run(args: argparse.Namespace) -> int:
    with naming_the_config(args):
        sim = Simulation(config_from_args(args))
    return drive(sim, quiet=args.quiet)


def _resume(args: argparse.Namespace) -> int:
    sim = Simulation.resume(args.database)
    print(f"resuming {sim.db_path} at minute {sim.env.now:g} of {sim.duration:g}", file=sys.stderr)
    return drive(sim, quiet=args.quiet)


def drive(sim: Simulation, *, quiet: bool = False) -> int:
    """Run `sim` to its end with a progress bar, then print the summary.

    The first Ctrl-C commits and stops the run after the event in progress; a second one stops
    at once, losing only the stretch since the last commit. Either way the database can
    be resumed.
    """
    bar = None if quiet else ProgressBar()

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sim.request_stop()
        print("\nstopping after the current event, with a checkpoint (Ctrl-C again to stop now)...", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        result = sim.run(progress=bar)
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: oasis-des resume {sim.db_path}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
        sim.close()
    print(summary(result, sim.duration))
    if result.sim_time < sim.duration:
        print(f"stopped at minute {result.sim_time:g}; continue with: "
              f"oasis-des resume {result.db_path}")
        return 130
    if result.db_path != ":memory:":
        print(f"report: oasis-des report {result.db_path}")
    return 0
