"""oasis_des's own persona format: JSON Lines, one user per line (see personas/README.md).

OASIS's formats split across platforms and leave out what a behaviour model needs (stance,
interests, activity). JSONL holds everything a `Population` holds, streams line by line
(a million users without loading one giant JSON document), and an optional first line
describes the file:

    {"format": "oasis-des-personas", "version": 1, "topics": [...], ...}
    {"id": 0, "user_name": "ana_k", "name": "Ana K", "bio": "...", "persona": "...",
     "stance": 0.4, "activity": [24 numbers] or one number, "interests": [T numbers] or
     {"topic": weight}, "following": [3, 17], "posts": ["..."], "traits": {"age": 31}}

Only `user_name` and `name` are required. The JSON Schema is schemas/persona.schema.json.
This module reads the lines and the header; persona_records.py validates each line's fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np

from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.persona_file import LoadResult
from oasis_des.agents.persona_records import KNOWN, Columns
from oasis_des.agents.population import Population
from oasis_des.agents.topics import TOPIC_NAMES

__all__ = ["FORMAT", "KNOWN", "VERSION", "read_jsonl", "write_jsonl"]

FORMAT = "oasis-des-personas"
VERSION = 1


def read_jsonl(path: str | Path, *, seed: int = 0) -> LoadResult:
    """Read and fully validate a persona JSONL file."""
    p = Path(path)
    header: dict[str, Any] | None = None
    columns: Columns | None = None
    try:
        handle = p.open("rb")
    except IsADirectoryError:
        raise PersonaFileError(p, "a persona file, not a directory", show_got=False) from None
    with handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise PersonaFileError(
                    p,
                    "UTF-8 text (save the file as UTF-8)",
                    line=lineno,
                    got=raw[exc.start : exc.start + 4],
                ) from None
            if not line.strip():
                continue
            row = len(columns.user_name) if columns is not None else 0
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PersonaFileError(
                    p,
                    f"one JSON object per line ({exc.msg}, column {exc.colno})",
                    row=row,
                    line=lineno,
                    show_got=False,
                ) from None
            except RecursionError:
                raise PersonaFileError(
                    p, "a JSON object nested less deeply", row=row, line=lineno, show_got=False
                ) from None
            except ValueError:  # an integer of more than 4,300 digits
                raise PersonaFileError(
                    p, "numbers of at most 4300 digits", row=row, line=lineno, show_got=False
                ) from None
            if not isinstance(record, dict):
                raise PersonaFileError(
                    p,
                    "a JSON object {...} per line",
                    row=row,
                    line=lineno,
                    got=type(record).__name__,
                )
            if columns is None:
                if header is None and "format" in record:
                    header = record
                    columns = Columns(p, _header_topics(p, lineno, record))
                    continue
                columns = Columns(p, list(TOPIC_NAMES))
            # Without "\u" escapes a JSON line cannot hold NUL or unpaired surrogates.
            columns.add(record, lineno, careful="\\u" in line)
    if columns is None or not columns.user_name:
        raise PersonaFileError(
            p, "at least one persona line, but the file has none", show_got=False
        )
    return columns.finish(seed)

def _header_topics(path: Path, lineno: int, header: dict[str, Any]) -> list[str]:
    if header.get("format") != FORMAT:
        raise PersonaFileError(
            path,
            f'a header with "format": "{FORMAT}"',
            line=lineno,
            field="format",
            got=header.get("format"),
        )
    if header.get("version", VERSION) != VERSION:
        raise PersonaFileError(
            path,
            f"format version {VERSION}",
            line=lineno,
            field="version",
            got=header.get("version"),
        )
    topics = header.get("topics", list(TOPIC_NAMES))
    if (
        not isinstance(topics, list)
        or not all(isinstance(t, str) for t in topics)
        or len(set(topics)) != len(topics)
    ):
        raise PersonaFileError(
            path, "a list of distinct topic names", line=lineno, field="topics", got=topics
        )
    unknown = [t for t in topics if t not in TOPIC_NAMES]
    if unknown:
        raise PersonaFileError(
            path,
            f"topic names among {', '.join(TOPIC_NAMES)}",
            line=lineno,
            field="topics",
            got=unknown,
        )
    return topics


def write_jsonl(
    population: Population,
    path: str | Path,
    *,
    header: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write a population as persona JSONL (numbers rounded to 5 decimals)."""
    n = len(population)
    follows = population.follows
    order = np.argsort(follows[:, 0], kind="stable")
    dst = follows[order, 1]
    starts = np.searchsorted(follows[order, 0], np.arange(n + 1))
    posts: dict[int, list[str]] = {}
    for agent, content in population.seed_posts:
        posts.setdefault(agent, []).append(content)
    activity = np.round(population.activity, 5)
    flat = (activity == activity[:, :1]).all(axis=1)
    interests = np.round(np.asarray(population.interests, dtype=np.float64), 5)
    stance = np.round(population.stance.astype(np.float64), 5)
    head = {
        "format": FORMAT,
        "version": VERSION,
        "topics": list(population.topics),
        **(header or {}),
    }
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    with open(path, "w", encoding="utf-8") as f:
        f.write(dumps(head) + "\n")
        for i in range(n):
            record: dict[str, Any] = {
                "id": i,
                "user_name": population.user_name[i],
                "name": population.name[i],
                "bio": population.bio[i],
                "persona": population.persona[i],
                "stance": float(stance[i]),
                "activity": float(activity[i, 0]) if flat[i] else activity[i].tolist(),
                "interests": interests[i].tolist(),
            }
            if starts[i + 1] > starts[i]:
                record["following"] = dst[starts[i] : starts[i + 1]].tolist()
            if i in posts:
                record["posts"] = posts[i]
            t = population.traits[i]
            if t:
                record["traits"] = t
            f.write(dumps(record) + "\n")
            if progress is not None and (i + 1) % 100_000 == 0:
                progress(i + 1, n)
