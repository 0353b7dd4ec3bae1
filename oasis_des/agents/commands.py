"""`oasis-des personas ...` subcommands: generate and validate persona files."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

# Populations from this size on report progress on stderr.
PROGRESS_FROM = 100_000


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `personas` command group to the CLI."""
    parser = sub.add_parser("personas", help="Generate, validate and inspect persona files.")
    parser.set_defaults(handler=lambda args: parser.print_help())
    commands = parser.add_subparsers(dest="personas_command", metavar="SUBCOMMAND")

    gen = commands.add_parser(
        "generate",
        help="Write a synthetic population (JSONL; OASIS CSV if FILE ends in .csv, "
        "OASIS Reddit JSON if .json).",
        description="Generate a seeded synthetic population with a follow graph. The format "
        "follows the extension of FILE: .csv = OASIS Twitter CSV, .json = OASIS Reddit JSON "
        "(no follows), anything else = oasis_des persona JSONL.",
    )
    gen.add_argument("--n", type=int, required=True, help="number of users")
    gen.add_argument("--out", required=True, metavar="FILE", help="file to write")
    gen.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    gen.add_argument(
        "--platform",
        choices=("twitter", "reddit"),
        default="twitter",
        help="style of handles (default twitter)",
    )
    gen.add_argument(
        "--mean-following",
        type=float,
        default=None,
        metavar="F",
        help="mean number of users each user follows (default 10; 0 = no graph)",
    )
    gen.add_argument(
        "--seed-posts",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of users who start with one post (default 0)",
    )
    gen.add_argument("--issue", default=None, help="wording of the focal issue in persona texts")
    gen.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    gen.set_defaults(handler=_generate)

    val = commands.add_parser(
        "validate",
        help="Load a persona file, print counts and degree statistics (or the error).",
        description="Validate a persona file (.csv OASIS Twitter, .json OASIS Reddit, .jsonl "
        "oasis_des) without writing anything; exit status 2 and one error line if it is bad.",
    )
    val.add_argument("file", metavar="FILE")
    val.add_argument(
        "--seed", type=int, default=0, help="seed for what the file leaves out (stances)"
    )
    val.add_argument("--json", action="store_true", help="print the summary as JSON")
    val.set_defaults(handler=_validate)


def _progress(enabled: bool):
    start = time.perf_counter()

    def say(message: str) -> None:
        if enabled:
            print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr, flush=True)

    return say


def _generate(args: argparse.Namespace) -> int:
    from oasis_des.agents.oasis_reddit import write_reddit_json
    from oasis_des.agents.oasis_twitter import write_twitter_csv
    from oasis_des.agents.persona_jsonl import write_jsonl
    from oasis_des.agents.synthetic import generate_population

    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}.")
    # Checked here so that the error names the flag, not the settings class behind it.
    for flag, value, ok, allowed in (
        ("--mean-following", args.mean_following, 0 <= (args.mean_following or 0) < math.inf,
         "a finite number of follows >= 0"),
        ("--seed-posts", args.seed_posts, 0 <= args.seed_posts <= 1, "a share in [0, 1]"),
    ):
        if not ok:
            raise ValueError(f"{flag} = {value!r} is out of range; expected {allowed}.")
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it.")
    out.parent.mkdir(parents=True, exist_ok=True)
    say = _progress(args.n >= PROGRESS_FROM)
    overrides: dict[str, object] = {"seed_post_share": args.seed_posts}
    if args.mean_following is not None:
        overrides["mean_following"] = args.mean_following
    if args.issue is not None:
        overrides["issue"] = args.issue
    population = generate_population(
        args.n, seed=args.seed, kind=args.platform, progress=say, **overrides
    )

    def written(done: int, total: int) -> None:
        say(f"written {done:,}/{total:,} personas")

    suffix = out.suffix.lower()
    say(f"writing {out}")
    if suffix == ".csv":
        fmt = "OASIS Twitter CSV"
        write_twitter_csv(population, out, progress=written)
    elif suffix == ".json":
        fmt = "OASIS Reddit JSON (follows and seed posts are not part of it)"
        write_reddit_json(population, out)
    else:
        fmt = "persona JSONL"
        header = {
            "generator": {"n": args.n, "seed": args.seed, "platform": args.platform, **overrides}
        }
        write_jsonl(population, out, header=header, progress=written)
    print(
        f"wrote {len(population):,} personas, {len(population.follows):,} follows, "
        f"{len(population.seed_posts):,} seed posts to {out} ({fmt})"
    )
    return 0


def _validate(args: argparse.Namespace) -> int:
    from oasis_des.agents.loaders import read_personas
    from oasis_des.agents.signup import clean_follows
    from oasis_des.agents.social_graph import degree_stats

    result = read_personas(args.file, seed=args.seed)
    pop = result.population
    n = len(pop)
    follows, n_self, n_dup = clean_follows(pop.follows, n)
    stats = degree_stats(follows, n)
    summary = {
        "file": result.path,
        "format": result.format,
        "personas": n,
        "follows_in_file": int(len(pop.follows)),
        "self_follows_dropped": n_self,
        "duplicate_follows_dropped": n_dup,
        "follows": int(len(follows)),
        "seed_posts": len(pop.seed_posts),
        "degree": stats.as_dict(),
        "notes": result.notes,
    }
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return 0
    print(f"{result.path}: valid {result.format} persona file")
    print(f"  personas     {n:,}")
    print(
        f"  follows      {len(follows):,}"
        + (
            f" (of {len(pop.follows):,} in the file: dropped {n_self:,} self-follows, "
            f"{n_dup:,} duplicates)"
            if n_self or n_dup
            else ""
        )
    )
    print(f"  seed posts   {len(pop.seed_posts):,}")
    print(
        f"  degrees      mean {stats.mean_degree:.2f}; following median {stats.median_out:g}, "
        f"max {stats.max_out:,}; followers median {stats.median_in:g}, max {stats.max_in:,}"
    )
    print(
        f"  reciprocity  {stats.reciprocity:.3f}; isolated users {stats.isolated:,}; "
        f"top 1% hold {stats.top1_share_of_followers:.1%} of followers"
    )
    for note in result.notes:
        print(f"  note: {note}")
    return 0
