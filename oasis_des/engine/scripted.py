"""Scripted actions (OASIS's ManualAction): an action for an agent at a simulated time.

Used to seed posts, cast initial votes or stage interventions; from Python or from a file
(CSV with columns time, agent_id, action, args as JSON; or JSONL with those keys).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oasis_des.platform.actions import ArgumentError, parse_action


@dataclass(frozen=True, kw_only=True, order=True)
class ScriptedAction:
    """`agent_id` does `action` with `args` at simulated minute `time`."""

    time: float
    agent_id: int
    action: str
    args: dict[str, Any] = field(default_factory=dict, compare=False)


def read_script(path: str | Path) -> list[ScriptedAction]:
    """Scripted actions from a .csv or .jsonl file, validated row by row."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Script file {path} does not exist.")
    rows: list[tuple[int, dict[str, Any]]] = []
    with open(path, newline="", encoding="utf-8") as f:
        if path.suffix == ".jsonl":
            for no, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        rows.append((no, json.loads(line)))
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{path}, line {no}: not valid JSON ({exc.msg}).") from None
        elif path.suffix == ".csv":
            rows = [(no, r) for no, r in enumerate(csv.DictReader(f), start=2)]
        else:
            raise ValueError(f"{path}: script files must end in .csv or .jsonl.")
    return [_parse_row(path, no, row) for no, row in rows]


def _parse_row(path: Path, no: int, row: dict[str, Any]) -> ScriptedAction:
    where = f"{path}, row {no}"
    for key in ("time", "agent_id", "action"):
        if row.get(key) in (None, ""):
            raise ValueError(f"{where}: missing field '{key}'.")
    try:
        time = float(row["time"])
    except (TypeError, ValueError):
        raise ValueError(f"{where}, field time: expected minutes, got {row['time']!r}.") from None
    try:
        agent = int(row["agent_id"])
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}, field agent_id: expected an integer, got {row['agent_id']!r}."
        ) from None
    try:
        action = parse_action(str(row["action"])).value
    except ArgumentError as exc:
        raise ValueError(f"{where}, field action: {exc}") from None
    args = row.get("args") or {}
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            raise ValueError(f"{where}, field args: expected a JSON object, got {args!r}.") from None
    if not isinstance(args, dict):
        raise ValueError(f"{where}, field args: expected a JSON object, got {args!r}.")
    if time < 0:
        raise ValueError(f"{where}, field time: {time} is negative.")
    return ScriptedAction(time=time, agent_id=agent, action=action, args=args)
