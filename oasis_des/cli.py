"""The `oasis-des` command: parse arguments, call the library, print results."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from oasis_des import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oasis-des",
        description="Reproducible social-media simulation (OASIS-compatible, on SimPy).",
    )
    parser.add_argument("--version", action="version", version=f"oasis-des {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from oasis_des.agents.commands import register as register_personas
    from oasis_des.engine.commands import register as register_run

    register_run(sub)
    register_personas(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"oasis-des: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
