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
"""

from __future__ import annotations

import array
import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from oasis_des.agents import fields
from oasis_des.agents.activity import HOURS, flat_activity
from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.fields import Cell
from oasis_des.agents.persona_file import LoadResult, check_follow_ids, drawn_stance, interests_for
from oasis_des.agents.population import Population
from oasis_des.agents.topics import TOPIC_NAMES

FORMAT = "oasis-des-personas"
VERSION = 1
KNOWN = frozenset(
    ("id", "user_name", "name", "bio", "persona", "stance", "activity", "interests",
     "following", "posts", "traits")
)


def read_jsonl(path: str | Path, *, seed: int = 0) -> LoadResult:
    """Read and fully validate a persona JSONL file."""
    p = Path(path)
    notes: list[str] = []
    header: dict[str, Any] | None = None
    ids: list[int | None] = []
    lines: list[int] = []
    user_name, name, bio, persona, traits = [], [], [], [], []
    posts: list[tuple[int, str]] = []
    stance_given: dict[int, float] = {}
    activity_given: dict[int, np.ndarray] = {}
    interests_given: dict[int, np.ndarray] = {}
    src, dst = array.array("q"), array.array("q")
    extra_keys: set[str] = set()
    topics = list(TOPIC_NAMES)
    try:
        handle = p.open("rb")
    except IsADirectoryError:
        raise PersonaFileError(p, "a persona file, not a directory", show_got=False) from None
    with handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise PersonaFileError(p, "UTF-8 text (save the file as UTF-8)", line=lineno, got=raw[exc.start : exc.start + 4]) from None
            if not line.strip():
                continue
            row = len(user_name)
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PersonaFileError(p, f"one JSON object per line ({exc.msg}, column {exc.colno})", row=row, line=lineno, show_got=False) from None
            except RecursionError:
                raise PersonaFileError(p, "a JSON object nested less deeply", row=row, line=lineno, show_got=False) from None
            if not isinstance(record, dict):
                raise PersonaFileError(p, "a JSON object {...} per line", row=row, line=lineno, got=type(record).__name__)
            if header is None and not user_name and "format" in record:
                header = record
                topics = _header_topics(p, lineno, record)
                continue
            cell = lambda key: Cell(p, row, lineno, key)  # noqa: E731
            for key in ("user_name", "name"):
                if key not in record:
                    raise PersonaFileError(p, f"the key '{key}' (required: user_name, name)", row=row, line=lineno, field=key, show_got=False)
            ident = record.get("id")
            if ident is not None and (type(ident) is not int or ident < 0):
                raise cell("id").error("a non-negative integer id", ident)
            ids.append(ident)
            lines.append(lineno)
            user_name.append(fields.text(record["user_name"], cell("user_name"), required=True))
            name.append(fields.text(record["name"], cell("name")))
            bio.append(fields.text(record.get("bio"), cell("bio")))
            persona.append(fields.text(record.get("persona"), cell("persona")))
            if record.get("stance") is not None:
                stance_given[row] = fields.stance_value(record["stance"], cell("stance"))
            if record.get("activity") is not None:
                activity_given[row] = _activity(record["activity"], cell("activity"))
            if record.get("interests") is not None:
                interests_given[row] = _interests(record["interests"], cell("interests"), topics)
            following = fields.id_list(record.get("following"), cell("following"))
            if following is None:
                raise cell("following").error("a list of agent ids like [3, 17]", record.get("following"))
            if following:
                src.extend([row] * len(following))
                dst.extend(following)
            for content in fields.text_list(record.get("posts"), cell("posts")):
                posts.append((row, content))
            t = record.get("traits", {})
            if not isinstance(t, dict):
                raise cell("traits").error("an object of traits like {\"age\": 31}", t)
            t = dict(t)
            for key in record.keys() - KNOWN:
                t[key] = record[key]
                extra_keys.add(key)
            traits.append(t)
    if not user_name:
        raise PersonaFileError(p, "at least one persona line, but the file has none", show_got=False)
    n = len(user_name)
    if extra_keys:
        notes.append(f"extra key(s) kept in traits: {', '.join(sorted(extra_keys))}.")
    order = _order(p, ids, lines)
    follows = np.stack([np.frombuffer(src, dtype=np.int64), np.frombuffer(dst, dtype=np.int64)], axis=1) if len(src) else np.zeros((0, 2), dtype=np.int64)
    line_of = np.asarray(lines, dtype=np.int64)
    check_follow_ids(p, follows, follows[:, 0], line_of, n, "following")
    if order is not None:
        # Rows were given out of order: an agent is who its id says, wherever its line is.
        agent_of_row = np.asarray(ids, dtype=np.int64)
        follows = np.stack([agent_of_row[follows[:, 0]], follows[:, 1]], axis=1) if len(follows) else follows
        posts = [(int(agent_of_row[r]), c) for r, c in posts]
    stance = drawn_stance(seed, n)
    for r, value in stance_given.items():
        stance[r] = value
    activity = flat_activity(n)
    for r, value in activity_given.items():
        activity[r] = value
    if len(activity_given) < n:
        notes.append(f"{n - len(activity_given)} persona(s) without 'activity' get the default flat rate (1 activation per hour).")
    interests = np.zeros((n, len(TOPIC_NAMES)), dtype=np.float32)
    for r, value in interests_given.items():
        interests[r] = value
    if len(interests_given) < n:
        # Interests from the users' own words, only where the file gives none.
        rows = [r for r in range(n) if r not in interests_given]
        declared = [_declared(traits[r]) for r in rows]
        interests[rows] = interests_for([persona[r] for r in rows], [bio[r] for r in rows], declared)
    if order is not None:
        user_name, name, bio, persona, traits = ([col[i] for i in order] for col in (user_name, name, bio, persona, traits))
        stance, activity, interests = stance[order], activity[order], interests[order]
    population = Population(
        user_name=user_name,
        name=name,
        bio=bio,
        persona=persona,
        activity=activity,
        stance=stance,
        traits=traits,
        follows=follows,
        seed_posts=sorted(posts, key=lambda x: x[0]) if order is not None else posts,
        interests=interests,
    )
    return LoadResult(population=population, format="jsonl", path=str(p), notes=notes)


def _declared(traits: dict[str, Any]) -> list[str]:
    topics = traits.get("interested_topics")
    return [str(t) for t in topics] if isinstance(topics, list) else []


def _header_topics(path: Path, lineno: int, header: dict[str, Any]) -> list[str]:
    if header.get("format") != FORMAT:
        raise PersonaFileError(path, f"a header with \"format\": \"{FORMAT}\"", line=lineno, field="format", got=header.get("format"))
    if header.get("version", VERSION) != VERSION:
        raise PersonaFileError(path, f"format version {VERSION}", line=lineno, field="version", got=header.get("version"))
    topics = header.get("topics", list(TOPIC_NAMES))
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise PersonaFileError(path, "a list of topic names", line=lineno, field="topics", got=topics)
    unknown = [t for t in topics if t not in TOPIC_NAMES]
    if unknown:
        raise PersonaFileError(path, f"topic names among {', '.join(TOPIC_NAMES)}", line=lineno, field="topics", got=unknown)
    return topics


def _activity(value: object, cell: Cell) -> np.ndarray:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise cell.error("a non-negative number of activations per hour, or 24 of them", value)
        return np.full(HOURS, float(value))
    return np.asarray(fields.number_list(value, cell, HOURS))


def _interests(value: object, cell: Cell, topics: list[str]) -> np.ndarray:
    expected = f"a list of {len(topics)} non-negative weights (one per topic) or an object {{topic: weight}}"
    out = np.zeros(len(TOPIC_NAMES))
    if isinstance(value, dict):
        for key, weight in value.items():
            if key not in TOPIC_NAMES:
                raise cell.error(f"topic names among {', '.join(TOPIC_NAMES)}", key)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
                raise cell.error(expected, weight)
            out[TOPIC_NAMES.index(key)] = weight
    elif isinstance(value, list) and len(value) == len(topics):
        for topic, weight in zip(topics, value):
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
                raise cell.error(expected, weight)
            out[TOPIC_NAMES.index(topic)] = weight
    else:
        raise cell.error(expected, value)
    if out.sum() <= 0:
        raise cell.error(f"{expected} with a positive sum", value)
    return (out / out.sum()).astype(np.float32)


def _order(path: Path, ids: list[int | None], lines: list[int]) -> np.ndarray | None:
    """None if rows are agents 0..n-1 in order; else the row of each agent id."""
    given = [i for i in ids if i is not None]
    if not given:
        return None
    n = len(ids)
    if len(given) != n:
        row = next(r for r, i in enumerate(ids) if i is None)
        raise PersonaFileError(path, "an 'id' on every persona line or on none", row=row, line=lines[row], field="id", show_got=False)
    seen: dict[int, int] = {}
    for row, ident in enumerate(ids):
        assert ident is not None
        if ident >= n:
            raise PersonaFileError(path, f"ids between 0 and {n - 1} (one per persona)", row=row, line=lines[row], field="id", got=ident)
        if ident in seen:
            raise PersonaFileError(path, f"a unique id (id {ident} is already used on line {lines[seen[ident]]})", row=row, line=lines[row], field="id", got=ident)
        seen[ident] = row
    if all(ident == row for row, ident in enumerate(ids)):
        return None
    return np.asarray([seen[agent] for agent in range(n)], dtype=np.int64)


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
    head = {"format": FORMAT, "version": VERSION, "topics": list(population.topics), **(header or {})}
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
