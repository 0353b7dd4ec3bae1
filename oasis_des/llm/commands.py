"""`oasis-des estimate` (tokens and cost before a run) and `oasis-des interview` (after one)."""

from __future__ import annotations

import argparse

from oasis_des.agents.selection import parse_agents


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    e = sub.add_parser(
        "estimate",
        help="Predict the LLM tokens and cost of a run before running it.",
        description="Expected activations of the LLM agents times the size of their prompts, "
        "measured by building real prompts for a sample of agents; priced with each profile's "
        "prices per million tokens. Takes the same config and flags as `run`.",
    )
    e.add_argument("config", nargs="?", help="TOML config file (default: built-in scenario)")
    e.add_argument("--seed", type=int, help="master random seed")
    e.add_argument("--agents", type=int, help="size of the synthetic population")
    e.add_argument("--duration", help="simulated duration: minutes, or e.g. 90m, 24h, 2d")
    e.add_argument("--platform", choices=("twitter", "reddit"), help="platform kind")
    e.add_argument("--personas", help="persona file (OASIS Twitter CSV, Reddit JSON, or JSONL)")
    e.add_argument("--model", help="model profile name in models/ or path to a profile file")
    e.set_defaults(handler=_estimate, out=None, overwrite=False, llm_cache=None,
                   llm_cache_mode=None)

    i = sub.add_parser(
        "interview",
        help="Ask agents of a finished run a question; the answers go into its trace.",
        description="Each agent answers in character, from its persona and its last actions "
        "in the run. Answers are printed and appended to the run's trace as `interview` rows "
        "(and to llm_call); nothing else in the database changes.",
    )
    i.add_argument("database", help="the run's SQLite database")
    i.add_argument("--agents", required=True, help="agent ids, e.g. '1,2' or '0-9'")
    i.add_argument("--question", required=True, help="the question")
    i.add_argument("--model", help="LLM profile (default: each agent's profile in the run)")
    i.add_argument("--llm-cache", help="record/replay cache file of LLM answers (SQLite)")
    i.add_argument("--llm-cache-mode", choices=("record", "replay", "auto", "off"), default="auto")
    i.set_defaults(handler=_interview)


def _estimate(args: argparse.Namespace) -> int:
    from oasis_des.engine.commands import config_from_args, naming_the_config
    from oasis_des.llm.estimate import estimate, render

    with naming_the_config(args):
        print(render(estimate(config_from_args(args))))
    return 0


def _interview(args: argparse.Namespace) -> int:
    from oasis_des.llm.interview import interview_database
    from oasis_des.llm.session import LLMSession

    agents = [a for first, last in parse_agents(args.agents, "--agents")
              for a in range(first, last + 1)]
    session = LLMSession.open(args.llm_cache or "", args.llm_cache_mode)
    try:
        answers = interview_database(args.database, agents, args.question, model=args.model,
                                     session=session)
    finally:
        session.close()
    for a in answers:
        print(f"agent {a.agent_id}: {a.response if a.error is None else '(no answer: ' + a.error + ')'}")
    return 0 if all(a.error is None for a in answers) else 1
