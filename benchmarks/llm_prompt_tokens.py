"""Prompt tokens per LLM decision in the default scenario: 1,000 synthetic agents, stepped,
activity from the personas, every agent on an LLM profile, against the test server's
"realistic" script (posts of 150-250 characters, comments, likes, reposts).

    python benchmarks/llm_prompt_tokens.py [--agents 1000] [--durations 6h 24h]
        [--platforms twitter reddit]

Tokens are the project's counter (characters / 4 of the compact JSON of the messages, plus
the tools'): the server reports no usage, so the policy records that count for each call.
Reported over the whole run and over its second half, when feeds and memories are full.
"""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import Contention, machine_info, print_machine, table, write_results

from oasis_des.engine.config import Config, parse_duration
from oasis_des.engine.simulation import Simulation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from llm_server import LLMServer, Reply, realistic  # noqa: E402


def without_usage(request: dict[str, Any]) -> Reply:
    """The realistic answer, without a `usage` field (the policy then counts chars / 4)."""
    return dataclasses.replace(realistic(request), usage=False)


def measure(kind: str, agents: int, duration: str, url: str, tmp: Path) -> dict[str, Any]:
    profile = tmp / "tokens.toml"
    profile.write_text(f'kind = "openai"\nmodel = "tokens"\nbase_urls = ["{url}"]\n'
                       "concurrency = 16\n")
    minutes = parse_duration(duration)
    db = tmp / f"{kind}-{duration}.db"
    config = Config().override(population={"agents": agents}, platform={"kind": kind},
                               time={"duration": duration}, policy={"model": str(profile)},
                               output={"path": str(db)})
    sim = Simulation(config)
    try:
        result = sim.run()
    finally:
        sim.close()
    conn = sqlite3.connect(db)
    (calls, mean), (late_calls, late) = (conn.execute(
        "SELECT COUNT(*), AVG(prompt_tokens) FROM llm_call WHERE purpose = 'decide' "
        "AND sim_time >= ?", (start,)).fetchone() for start in (0.0, minutes / 2))
    conn.close()
    assert result.llm is not None
    return {"decisions": calls, "prompt_tokens_per_decision": mean,
            "second_half_decisions": late_calls, "second_half_prompt_tokens_per_decision": late,
            "tools_tokens": getattr(sim.policy, "request_tokens", None)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--durations", nargs="+", default=["6h", "24h"])
    ap.add_argument("--platforms", nargs="+", default=["twitter", "reddit"])
    args = ap.parse_args()
    info = machine_info()
    print_machine(info)
    rows, results = [], {}
    contention = Contention()
    with tempfile.TemporaryDirectory() as tmp, LLMServer(without_usage) as server:
        for kind in args.platforms:
            for duration in args.durations:
                entry = measure(kind, args.agents, duration, server.url, Path(tmp))
                results[f"{kind}_{duration}"] = entry
                rows.append([kind, duration, entry["decisions"],
                             entry["prompt_tokens_per_decision"],
                             entry["second_half_prompt_tokens_per_decision"],
                             entry["tools_tokens"]])
    print(table(["platform", "duration", "decisions", "prompt tok", "second half", "tools"],
                rows, "llrrrr"))
    path = write_results(f"llm_prompt_tokens_{args.agents}", {
        "machine": info, "params": vars(args), "results": results,
        "cpu_contention": contention.stalled(),
    })
    print(f"results: {path}")


if __name__ == "__main__":
    main()
