"""`oasis-des report RUN.db`: write the HTML report of a run."""

from __future__ import annotations

import argparse
from pathlib import Path

from oasis_des.analysis.report import write_report


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="Write a self-contained HTML report of a run database.",
        description="Write a self-contained HTML report (plots, key numbers, config) of a run.",
    )
    p.add_argument("db", help="run database (SQLite) written by `oasis-des run`")
    p.add_argument("--out", help="HTML file to write (default: the database's name with .html)")
    p.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    if args.out is not None and Path(args.out).is_dir():  # before the analysis, which takes a while
        raise IsADirectoryError(
            f"--out {args.out} is a directory; expected the HTML file to write."
        )
    print(f"report           {write_report(args.db, args.out)}")
    return 0
