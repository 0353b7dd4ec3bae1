"""`oasis-des personas ...` subcommands."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the `personas` command group to the CLI."""
    parser = sub.add_parser("personas", help="Generate, validate and inspect persona files.")
    parser.set_defaults(handler=lambda args: parser.print_help())
