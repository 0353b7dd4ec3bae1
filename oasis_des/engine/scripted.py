"""Scripted actions (OASIS's ManualAction): an action for an agent at a simulated time.

Used to seed posts, cast initial votes or stage interventions; from Python or from a file
(CSV with columns time, agent_id, action, args as JSON; or JSONL with those keys).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oasis_des.platform.actions import (
    ACTION_SPECS,
    INT64_MAX,
    MAX_TEXT_CHARS,
    ArgumentError,
    parse_action,
    shorten,
)

_COLUMNS = ("time", "agent_id", "action", "args")


@dataclass(frozen=True, kw_only=True, order=True)
class ScriptedAction:
    """`agent_id` does `action` with `args` at simulated minute `time`."""

    time: float
    agent_id: int
    action: str
    args: dict[str, Any] = field(default_factory=dict, compare=False)


def read_script(path: str | Path, agents: int | None = None) -> list[ScriptedAction]:
    """Scripted actions from a .csv or .jsonl file, validated row by row (arguments too,
    and agent ids against a population of `agents`, so that errors name the row)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Script file {path} does not exist.")
    if path.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path}: script files must end in .csv or .jsonl.")
    if not path.is_file():
        raise ValueError(f"{path}: a script file, not a directory.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text (save the file as UTF-8).") from None
    if path.suffix == ".jsonl":
        # split("\n"), not splitlines(): JSON strings may hold U+2028 and other separators.
        lines = enumerate(text.split("\n"), start=1)
        rows = [(no, _json(path, no, line)) for no, line in lines if line.strip()]
    else:
        rows = _csv_rows(path, io.StringIO(text, newline=""))
    return [_parse_row(path, no, row, agents) for no, row in rows]


def _json(path: Path, no: int, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}, line {no}: not valid JSON ({exc.msg}).") from None
    except RecursionError:
        raise ValueError(f"{path}, line {no}: JSON nested too deeply.") from None
    except ValueError:  # an integer of more than 4,300 digits
        raise ValueError(f"{path}, line {no}: a number has more than 4300 digits.") from None


def _csv_rows(path: Path, f: Any) -> list[tuple[int, dict[str, Any]]]:
    """(line, row) of each data row; cells may hold whole texts (up to MAX_TEXT_CHARS)."""
    reader = csv.DictReader(f)
    limit = csv.field_size_limit(2 * MAX_TEXT_CHARS)  # JSON escapes make args longer
    try:
        rows = [(no, r) for no, r in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: not well-formed CSV ({exc}).") from None
    finally:
        csv.field_size_limit(limit)
    if reader.fieldnames and not set(_COLUMNS[:3]) & set(reader.fieldnames):
        raise ValueError(
            f"{path}, line 1: expected a header naming the columns {', '.join(_COLUMNS)}."
        )
    for no, row in rows:
        if None in row:
            raise ValueError(
                f"{path}, row {no}: more fields than the header has columns "
                "(quote fields that contain commas)."
            )
    return rows


def _parse_row(path: Path, no: int, row: Any, agents: int | None) -> ScriptedAction:
    where = f"{path}, row {no}"
    if not isinstance(row, dict):
        keys = ", ".join(_COLUMNS)
        raise ValueError(f"{where}: expected an object with keys {keys}.")  # noqa: TRY004
    for key in ("time", "agent_id", "action"):
        if row.get(key) in (None, ""):
            raise ValueError(f"{where}: missing field '{key}'.")
    time = _minutes(row["time"])
    if time is None:
        raise ValueError(f"{where}, field time: expected minutes >= 0, got {shorten(row['time'])}.")
    agent = _agent(row["agent_id"])
    if agent is None:
        raise ValueError(
            f"{where}, field agent_id: expected an agent id (an integer >= 0), "
            f"got {shorten(row['agent_id'])}."
        )
    if agents is not None and agent >= agents:
        raise ValueError(
            f"{where}, field agent_id: agent {agent} is not in the population "
            f"(agents 0 to {agents - 1})."
        )
    try:
        kind = parse_action(row["action"])
    except ArgumentError as exc:
        raise ValueError(f"{where}, field action: {exc}") from None
    args = row.get("args") or {}
    if isinstance(args, str):
        try:
            # strict=False: a cell typed by hand may hold line breaks and tabs inside texts.
            args = json.loads(args, strict=False) if args.strip() else {}
        except (ValueError, RecursionError):  # not JSON, too deep, a 4,300-digit number
            raise ValueError(f"{where}, field args: expected a JSON object, got {shorten(args)}.") \
                from None
    if not isinstance(args, dict):
        raise ValueError(f"{where}, field args: expected a JSON object, got {shorten(args)}.")
    try:
        ACTION_SPECS[kind].validate(args)
    except ArgumentError as exc:
        raise ValueError(f"{where}, field args: {exc}") from None
    return ScriptedAction(time=time, agent_id=agent, action=kind.value, args=args)


def _minutes(value: Any) -> float | None:
    """A finite time >= 0 from a number or its text; None otherwise (booleans too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        minutes = float(value)
    except (ValueError, OverflowError):
        return None
    return minutes if 0 <= minutes < math.inf else None


def _agent(value: Any) -> int | None:
    """An agent id from an integer or a digit string; None otherwise (floats, booleans)."""
    text = value.strip() if isinstance(value, str) else ""
    if type(value) is int:
        number = value
    elif text.isascii() and text.isdigit() and len(text) <= 20:  # more digits: not 64-bit
        number = int(text)
    else:
        return None
    return number if 0 <= number <= INT64_MAX else None
