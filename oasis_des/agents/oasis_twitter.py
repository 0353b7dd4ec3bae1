"""OASIS's Twitter persona CSV: one row per user, agent id = row index.

Columns OASIS reads: `username` (user_name), `name`, `description` (bio), `user_char`
(persona), `following_agentid_list` (list literal of agent ids: follow rows) and
`previous_tweets` (list literal of texts: posts at time 0). Files in the wild add more:
`activity_level_frequency` (24 hourly counts: the activity profile, see `activity`),
`activity_level`, `follower_agentid_list`, `is_super_user`, `following_count`,
`follower(s)_count`, `created_at`, `tweets_id`, `following_list`, a `user_id` (the
original Twitter id) and unnamed pandas index columns. Index columns are dropped; every
other extra column is kept, per user, in `traits` under its own name.
"""

from __future__ import annotations

import array
import csv
import io
import re
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np

from oasis_des.agents import fields
from oasis_des.agents.activity import (
    DEFAULT_RATE_PER_HOUR,
    HOURS,
    MAX_RATE_PER_HOUR,
    activity_from_frequency,
    flat_activity,
)
from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.fields import Cell
from oasis_des.agents.persona_file import LoadResult, check_follow_ids, drawn_stance, interests_for
from oasis_des.agents.population import Population

REQUIRED = ("username", "name", "description", "user_char")
FOLLOWING = "following_agentid_list"
POSTS = "previous_tweets"
FREQUENCY = "activity_level_frequency"
# Our own extension columns (written by `write_twitter_csv`, optional on reading).
PER_HOUR = "activity_per_hour"
STANCE = "stance"
KNOWN = frozenset((*REQUIRED, FOLLOWING, POSTS, FREQUENCY, PER_HOUR, STANCE))
_INDEX_COLUMN = re.compile(r"^(Unnamed: \d+(\.\d+)?|index)?$")
# Extra columns with a known type: parsed into traits when they parse, kept raw otherwise.
_DEFAULT, _FREQUENCY, _PER_HOUR = 0, 1, 2
_INT_TRAITS = ("user_id", "following_count", "follower_count", "followers_count", "age")
_LIST_TRAITS = ("activity_level", "follower_agentid_list", "interested_topics")


def read_twitter_csv(path: str | Path, *, seed: int = 0) -> LoadResult:
    """Read and fully validate an OASIS Twitter CSV (nothing is written anywhere)."""
    text = fields.read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    notes: list[str] = []
    # Follow lists of popular users exceed csv's default 128 KiB field limit.
    limit = csv.field_size_limit(fields.MAX_LITERAL_CHARS)
    try:
        header = next(reader)
        columns = _columns(path, [h.strip().lstrip("\ufeff") for h in header], notes)
        rows = list(_data_rows(path, reader, len(header)))
    except csv.Error as exc:
        raise PersonaFileError(
            path, f"well-formed CSV ({exc})", line=reader.line_num, show_got=False
        ) from None
    finally:
        csv.field_size_limit(limit)
    if not rows:
        raise PersonaFileError(path, "at least one persona row after the header", show_got=False)
    n = len(rows)
    lines = np.array([line for line, _ in rows], dtype=np.int64)

    def column(name: str) -> int | None:
        return columns.get(name)

    user_name, name, bio, persona = [], [], [], []
    follow_src, follow_dst = array.array("q"), array.array("q")
    seed_posts: list[tuple[int, str]] = []
    frequency = np.zeros((n, HOURS)) if column(FREQUENCY) is not None else None
    per_hour = np.zeros((n, HOURS)) if column(PER_HOUR) is not None else None
    source = np.zeros(n, dtype=np.int8)  # where each row's activity comes from
    stance = drawn_stance(seed, n)
    extras = [(c, i) for c, i in columns.items() if c not in KNOWN]
    traits: list[dict[str, object]] = []
    bare_ints = 0

    for r, (line, row) in enumerate(rows):
        cell = partial(Cell, path, r, line)
        user_name.append(fields.text(row[columns["username"]], cell("username"), required=True))
        name.append(fields.text(row[columns["name"]], cell("name")))
        bio.append(fields.text(row[columns["description"]], cell("description")))
        persona.append(fields.text(row[columns["user_char"]], cell("user_char")))
        if (i := column(FOLLOWING)) is not None:
            ids = fields.id_list(row[i], cell(FOLLOWING))
            if ids is None:
                bare_ints += 1
            elif ids:
                follow_src.extend([r] * len(ids))
                follow_dst.extend(ids)
        if (i := column(POSTS)) is not None:
            for content in fields.text_list(row[i], cell(POSTS), notes):
                seed_posts.append((r, content))
        if per_hour is not None and not fields.is_missing(row[columns[PER_HOUR]]):
            per_hour[r] = fields.number_list(
                row[columns[PER_HOUR]], cell(PER_HOUR), HOURS, MAX_RATE_PER_HOUR
            )
            source[r] = _PER_HOUR
        elif frequency is not None and not fields.is_missing(row[columns[FREQUENCY]]):
            frequency[r] = fields.number_list(row[columns[FREQUENCY]], cell(FREQUENCY), HOURS)
            source[r] = _FREQUENCY
        if (i := column(STANCE)) is not None and not fields.is_missing(row[i]):
            stance[r] = fields.stance_value(row[i], cell(STANCE))
        traits.append(
            {c: _trait(c, row[i], notes, r) for c, i in extras if not fields.is_missing(row[i])}
            if extras
            else {}
        )

    follows = (
        np.stack(
            [np.frombuffer(follow_src, dtype=np.int64), np.frombuffer(follow_dst, dtype=np.int64)],
            axis=1,
        )
        if len(follow_src)
        else np.zeros((0, 2), dtype=np.int64)
    )
    check_follow_ids(path, follows, follows[:, 0], lines, n, FOLLOWING, "agent id = row index")
    if bare_ints:
        notes.append(
            f"{bare_ints} row(s) give '{FOLLOWING}' as a bare integer instead of a list; "
            "ignored, as OASIS does."
        )
    activity = _activity(frequency, per_hour, source, notes)
    population = Population(
        user_name=user_name,
        name=name,
        bio=bio,
        persona=persona,
        activity=activity,
        stance=stance,
        traits=traits,
        follows=follows,
        seed_posts=seed_posts,
        interests=interests_for(persona, bio),
    )
    return LoadResult(
        population=population, format="oasis-twitter-csv", path=str(path), notes=notes
    )


def _columns(path: str | Path, header: list[str], notes: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    dropped = []
    for i, h in enumerate(header):
        if _INDEX_COLUMN.match(h):
            dropped.append(h or "(unnamed)")
            continue
        if h in columns:
            raise PersonaFileError(path, "each column name once", line=1, field=h, show_got=False)
        columns[h] = i
    for required in REQUIRED:
        if required not in columns:
            raise PersonaFileError(
                path,
                f"a column named '{required}' (OASIS Twitter CSV columns: "
                f"{', '.join(REQUIRED)}, {FOLLOWING}, {POSTS}); the header has "
                f"{', '.join(repr(h) for h in header)}",
                line=1,
                field=required,
                show_got=False,
            )
    if dropped:
        notes.append(f"index column(s) {', '.join(dropped)} ignored: agent id = row index.")
    extra = [c for c in columns if c not in KNOWN]
    if extra:
        notes.append(f"extra column(s) kept in traits: {', '.join(extra)}.")
    for counter in ("following_count", "follower_count", "followers_count"):
        if counter in columns:
            notes.append(
                f"'{counter}' kept as a trait only: follower counters come from the follow rows."
            )
    return columns


def _data_rows(path: str | Path, reader: Any, width: int):
    """(first line, cells) of each non-blank data row; a wrong cell count is an error."""
    last = reader.line_num
    index = 0
    for row in reader:
        line = last + 1
        last = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            raise PersonaFileError(
                path,
                f"{width} comma-separated fields as in the header (quote fields that "
                "contain commas or line breaks)",
                row=index,
                line=line,
                got=len(row),
            )
        yield line, row
        index += 1


def _trait(column: str, raw: str, notes: list[str], row: int) -> object:
    """A kept extra column: typed when its meaning is known and it parses, else the raw text."""
    cell = Cell("", row, None, column)
    try:
        if column in _INT_TRAITS:
            return fields.integer(raw, cell)
        if column in _LIST_TRAITS:
            value = fields.literal(raw, cell, "a list")
            return list(value) if isinstance(value, (list, tuple)) else raw
        if column == "is_super_user":
            low = raw.strip().lower()
            return {"true": True, "1": True, "false": False, "0": False}.get(low, raw)
    except PersonaFileError:
        notes.append(
            f"row {row}: extra column '{column}' kept as text ({raw[:40]!r} did not parse)."
        )
    return raw


def _activity(
    frequency: np.ndarray | None, per_hour: np.ndarray | None, source: np.ndarray, notes: list[str]
) -> np.ndarray:
    """Our own per-hour rates where given, else OASIS's rule on the counts, else flat."""
    activity = flat_activity(len(source))
    if frequency is not None and (rows := source == _FREQUENCY).any():
        activity[rows] = activity_from_frequency(frequency[rows])
        notes.append(
            f"'{FREQUENCY}' converted with OASIS's rule (share of the file's busiest hour, "
            "+0.1 below 0.6, per 3-minute step) into activations per hour."
        )
    if per_hour is not None:
        rows = source == _PER_HOUR
        activity[rows] = per_hour[rows]
    if default := int((source == _DEFAULT).sum()):
        notes.append(
            f"{default} row(s) without an activity profile get the default flat rate "
            f"({DEFAULT_RATE_PER_HOUR:g} activation per hour)."
        )
    return activity


def write_twitter_csv(
    population: Population,
    path: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write an OASIS Twitter CSV (plus our `activity_per_hour`, `stance` and trait columns).

    `activity_level_frequency` holds the expected activations in each hour over 30 days,
    rounded: OASIS reads it with its own normalisation; we read `activity_per_hour` back.
    """
    n = len(population)
    trait_columns = ("age", "gender", "mbti", "country", "profession", "interested_topics")
    header = [
        "",
        "user_id",
        "name",
        "username",
        FOLLOWING,
        POSTS,
        "user_char",
        "description",
        FREQUENCY,
        PER_HOUR,
        STANCE,
        *trait_columns,
    ]
    following = _following_lists(population)
    posts: dict[int, list[str]] = {}
    for agent, content in population.seed_posts:
        posts.setdefault(agent, []).append(content)
    counts = np.rint(population.activity * 30.0).astype(np.int64)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(n):
            t = population.traits[i]
            w.writerow(
                [
                    i,
                    i,
                    population.name[i],
                    population.user_name[i],
                    str(following(i)),
                    repr(posts.get(i, [])),
                    population.persona[i],
                    population.bio[i],
                    str(counts[i].tolist()),
                    str(np.round(population.activity[i], 5).tolist()),
                    round(float(population.stance[i]), 5),
                    *(_cell(t.get(c)) for c in trait_columns),
                ]
            )
            if progress is not None and (i + 1) % 100_000 == 0:
                progress(i + 1, n)


def _cell(value: object) -> object:
    if value is None:
        return ""
    return str(value) if isinstance(value, (list, tuple)) else value


def _following_lists(population: Population) -> Callable[[int], list[int]]:
    """followee ids of agent i, in file order, without materialising n lists."""
    follows = population.follows
    order = np.argsort(follows[:, 0], kind="stable")
    src = follows[order, 0]
    dst = follows[order, 1]
    starts = np.searchsorted(src, np.arange(len(population) + 1))

    def following(i: int) -> list[int]:
        return dst[starts[i] : starts[i + 1]].tolist()

    return following
