"""The `oasis-des` command: parse arguments, call the library, print results."""

from __future__ import annotations

import argparse
import sqlite3
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
    from oasis_des.analysis.commands import register as register_report
    from oasis_des.engine.commands import register as register_run
    from oasis_des.llm.commands import register as register_llm
    from oasis_des.sweep.commands import register as register_sweep

    register_run(sub)
    register_personas(sub)
    register_llm(sub)
    register_report(sub)
    register_sweep(sub)
    return parser


# Flags whose value may start with '-' (a negative duration, "-1h"): argparse takes such a
# value for an option and says only "expected one argument", so it is attached to its flag
# ("--duration=-1h") and reaches the flag's own check, which says what is allowed.
SIGNED_VALUE_FLAGS = ("--duration",)
_DIGITS = frozenset("0123456789.")


def attach_signed_values(argv: Sequence[str]) -> list[str]:
    """`argv` with each value like '-1h' (a '-', then a digit or '.') joined to its flag of
    SIGNED_VALUE_FLAGS; '--duration --quiet' stays argparse's "expected one argument"."""
    out: list[str] = []
    for token in argv:
        if out and out[-1] in SIGNED_VALUE_FLAGS and token[:1] == "-" and token[1:2] in _DIGITS:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(attach_signed_values(sys.argv[1:] if argv is None else argv))
    from oasis_des.engine.gateway import PolicyAbort

    try:
        return int(args.handler(args) or 0)
    except (ValueError, OSError, sqlite3.Error, PolicyAbort) as exc:
        print(f"oasis-des: error: {error_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before a run started (a run's own Ctrl-C checkpoints)
        print("\noasis-des: interrupted", file=sys.stderr)
        return 130


def error_message(exc: BaseException, limit: int = 2000) -> str:
    """One line for the user: the error's own message (database errors say "database"),
    cut to `limit` characters so that a hostile value cannot flood the terminal."""
    text = str(exc)
    if isinstance(exc, sqlite3.Error) and "database" not in text.lower():
        text = f"database error: {text}"
    text = " ".join(text.split("\n"))
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


if __name__ == "__main__":
    sys.exit(main())
