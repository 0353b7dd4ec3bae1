"""Persona JSONL lines, validated field by field into columns, then a `Population`.

A million-line file must not cost a million dicts: each line's fields go straight into
columns (numbers into compact arrays), and the numbers' ranges are checked at the end, for
all rows at once. persona_jsonl.py frames the file (lines, JSON, the header) and writes it.
"""

from __future__ import annotations

import array
from pathlib import Path
from typing import Any

import numpy as np

from oasis_des.agents import fields
from oasis_des.agents.activity import HOURS, MAX_RATE_PER_HOUR, flat_activity
from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.fields import Cell
from oasis_des.agents.persona_file import LoadResult, check_follow_ids, drawn_stance, interests_for
from oasis_des.agents.population import Population
from oasis_des.agents.topics import TOPIC_NAMES

# The keys of a persona line (schemas/persona.schema.json); others are kept in its traits.
KNOWN = frozenset(
    (
        "id",
        "user_name",
        "name",
        "bio",
        "persona",
        "stance",
        "activity",
        "interests",
        "following",
        "posts",
        "traits",
    )
)

_NUMBERS = frozenset((int, float))
_FLOAT = frozenset((float,))  # fast paths: integers may be too large for a float


class Columns:
    """Validated persona lines, column by column; numbers go into compact arrays.

    Each field has a fast check for the common case; anything unusual goes through the
    careful check of `fields`, which raises the error naming the cell.
    """

    def __init__(self, path: Path, topics: list[str]) -> None:
        self.path = path
        self.topics = topics
        self.ids: list[int | None] = []
        self.lines = array.array("q")
        self.user_name: list[str] = []
        self.name: list[str] = []
        self.bio: list[str] = []
        self.persona: list[str] = []
        self.traits: list[dict[str, object]] = []
        self.posts: list[tuple[int, str]] = []
        self.stance_rows, self.stance = array.array("q"), array.array("d")
        self.activity_rows, self.activity = array.array("q"), array.array("d")
        self.interest_rows, self.interests = array.array("q"), array.array("d")
        self.src, self.dst = array.array("q"), array.array("q")
        self.extra_keys: set[str] = set()

    def cell(self, row: int, key: str) -> Cell:
        return Cell(self.path, row, int(self.lines[row]), key)

    def add(self, record: dict[str, Any], lineno: int, *, careful: bool) -> None:
        row = len(self.user_name)
        self.lines.append(lineno)
        for key in ("user_name", "name"):
            if key not in record:
                raise PersonaFileError(
                    self.path,
                    f"the key '{key}' (required: user_name, name)",
                    row=row,
                    line=lineno,
                    field=key,
                    show_got=False,
                )
        ident = record.get("id")
        if ident is not None and (type(ident) is not int or ident < 0):
            raise self.cell(row, "id").error("a non-negative integer id", ident)
        self.ids.append(ident)
        for key, column in (
            ("user_name", self.user_name),
            ("name", self.name),
            ("bio", self.bio),
            ("persona", self.persona),
        ):
            value = record.get(key, "")
            if careful or type(value) is not str or (key == "user_name" and not value.strip()):
                value = fields.text(value, self.cell(row, key), required=key == "user_name")
            column.append(value)
        if (value := record.get("stance")) is not None:
            if type(value) is not float:
                value = fields.stance_value(value, self.cell(row, "stance"))
            self.stance_rows.append(row)
            self.stance.append(value)
        if (value := record.get("activity")) is not None:
            self.activity_rows.append(row)
            if type(value) in _NUMBERS:
                value = [value] * HOURS
            if not (
                type(value) is list and len(value) == HOURS and set(map(type, value)) <= _FLOAT
            ):
                value = fields.number_list(
                    value, self.cell(row, "activity"), HOURS, MAX_RATE_PER_HOUR
                )
            self.activity.extend(value)
        if (value := record.get("interests")) is not None:
            self.interest_rows.append(row)
            if (
                type(value) is list
                and len(value) == len(self.topics)
                and set(map(type, value)) <= _FLOAT
            ):
                self.interests.extend(value)
            else:
                self.interests.extend(_interests(value, self.cell(row, "interests"), self.topics))
        if (value := record.get("following")) is not None:
            if not (type(value) is list and set(map(type, value)) <= {int}):
                value = fields.id_list(value, self.cell(row, "following"))
                if value is None:
                    raise self.cell(row, "following").error(
                        "a list of agent ids like [3, 17]", record.get("following")
                    )
            try:
                self.dst.extend(value)
            except OverflowError:
                fields.id_list(value, self.cell(row, "following"))  # raises, naming the id
                raise
            self.src.extend([row] * len(value))
        if (value := record.get("posts")) is not None:
            if careful or not (type(value) is list and set(map(type, value)) <= {str}):
                value = fields.text_list(value, self.cell(row, "posts"))
            self.posts.extend((row, text) for text in value)
        traits = record.get("traits", {})
        if type(traits) is not dict:
            raise self.cell(row, "traits").error('an object of traits like {"age": 31}', traits)
        extra = record.keys() - KNOWN
        if extra:
            traits = dict(traits)
            for key in extra:
                traits[key] = record[key]
            self.extra_keys.update(extra)
        self.traits.append(traits)

    def finish(self, seed: int) -> LoadResult:
        p, n = self.path, len(self.user_name)
        notes: list[str] = []
        if self.extra_keys:
            notes.append(f"extra key(s) kept in traits: {', '.join(sorted(self.extra_keys))}.")
        lines = np.frombuffer(self.lines, dtype=np.int64)
        order = _order(p, self.ids, lines.tolist())
        follows = (
            np.stack(
                [np.frombuffer(self.src, dtype=np.int64), np.frombuffer(self.dst, dtype=np.int64)],
                axis=1,
            )
            if len(self.src)
            else np.zeros((0, 2), dtype=np.int64)
        )
        check_follow_ids(
            p,
            follows,
            follows[:, 0],
            lines,
            n,
            "following",
            "agent id = the line's id, or its position",
        )
        stance = drawn_stance(seed, n)
        given = np.frombuffer(self.stance, dtype=np.float64)
        rows = np.frombuffer(self.stance_rows, dtype=np.int64)
        self._check(
            rows, ~((given >= -1) & (given <= 1)), given, "stance", "a stance between -1 and 1"
        )
        stance[rows] = given
        activity = flat_activity(n)
        given = np.frombuffer(self.activity, dtype=np.float64).reshape(-1, HOURS)
        rows = np.frombuffer(self.activity_rows, dtype=np.int64)
        self._check(
            rows,
            ~(np.isfinite(given) & (given >= 0) & (given <= MAX_RATE_PER_HOUR)).all(axis=1),
            given,
            "activity",
            f"a number of activations per hour from 0 to {MAX_RATE_PER_HOUR:g}, or 24 of them",
        )
        activity[rows] = given
        if len(rows) < n:
            notes.append(
                f"{n - len(rows)} persona(s) without 'activity' get the default flat rate "
                "(1 activation per hour)."
            )
        interests = self._interests(n)
        posts = self.posts
        user_name, name, bio, persona, traits = (
            self.user_name,
            self.name,
            self.bio,
            self.persona,
            self.traits,
        )
        if order is not None:
            # Rows were given out of order: an agent is who its id says, wherever its line is.
            agent_of_row = np.asarray(self.ids, dtype=np.int64)
            if len(follows):
                follows = np.stack([agent_of_row[follows[:, 0]], follows[:, 1]], axis=1)
            posts = sorted(((int(agent_of_row[r]), c) for r, c in posts), key=lambda x: x[0])
            user_name, name, bio, persona, traits = (
                [col[i] for i in order] for col in (user_name, name, bio, persona, traits)
            )
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
            seed_posts=posts,
            interests=interests,
        )
        return LoadResult(population=population, format="jsonl", path=str(p), notes=notes)

    def _interests(self, n: int) -> np.ndarray:
        """Given weights (in the header's topic order) normalised; else from the texts."""
        interests = np.zeros((n, len(TOPIC_NAMES)), dtype=np.float32)
        rows = np.frombuffer(self.interest_rows, dtype=np.int64)
        given = np.zeros((len(rows), len(TOPIC_NAMES)))
        raw = np.frombuffer(self.interests, dtype=np.float64).reshape(len(rows), len(self.topics))
        given[:, [TOPIC_NAMES.index(t) for t in self.topics]] = raw
        total = given.sum(axis=1)
        bad = ~(np.isfinite(given) & (given >= 0)).all(axis=1) | ~(total > 0)
        self._check(
            rows,
            bad,
            raw,
            "interests",
            f"a list of {len(self.topics)} non-negative weights with a positive sum "
            "(one per topic) or an object {topic: weight}",
        )
        interests[rows] = given / total[:, None]
        if len(rows) < n:
            # Interests from the users' own words, only where the file gives none.
            missing = np.setdiff1d(np.arange(n), rows).tolist()
            declared = [_declared(self.traits[r]) for r in missing]
            interests[missing] = interests_for(
                [self.persona[r] for r in missing], [self.bio[r] for r in missing], declared
            )
        return interests

    def _check(
        self, rows: np.ndarray, bad: np.ndarray, values: np.ndarray, field: str, expected: str
    ) -> None:
        """Raise the error of the first row whose numbers failed a vectorised check."""
        if bad.any():
            k = int(np.argmax(bad))
            raise self.cell(int(rows[k]), field).error(expected, values[k].tolist())


def _declared(traits: dict[str, Any]) -> list[str]:
    topics = traits.get("interested_topics")
    return [str(t) for t in topics] if isinstance(topics, list) else []


def _interests(value: object, cell: Cell, topics: list[str]) -> list[float]:
    """Weights in `topics` order from a list or a {topic: weight} object (values checked later)."""
    expected = (
        f"a list of {len(topics)} non-negative weights (one per topic) "
        "or an object {topic: weight}"
    )
    if isinstance(value, dict):
        out = [0.0] * len(topics)
        for key, weight in value.items():
            if key not in topics:
                raise cell.error(f"topic names among {', '.join(topics)}", key)
            if (number := fields.real(weight)) is None:
                raise cell.error(expected, weight)
            out[topics.index(key)] = number
        return out
    if isinstance(value, list) and len(value) == len(topics):
        weights = [fields.real(w) for w in value]
        for weight, number in zip(value, weights):
            if number is None:
                raise cell.error(expected, weight)
        return weights  # type: ignore[return-value]
    raise cell.error(expected, value)


def _order(path: Path, ids: list[int | None], lines: list[int]) -> np.ndarray | None:
    """None if rows are agents 0..n-1 in order; else the row of each agent id."""
    given = [i for i in ids if i is not None]
    if not given:
        return None
    n = len(ids)

    def id_cell(row: int) -> Cell:
        return Cell(path, row, lines[row], "id")

    if len(given) != n:
        row = next(r for r, i in enumerate(ids) if i is None)
        raise id_cell(row).error("an 'id' on every persona line or on none", show_got=False)
    seen: dict[int, int] = {}
    for row, ident in enumerate(ids):
        assert ident is not None
        if ident >= n:
            raise id_cell(row).error(f"ids between 0 and {n - 1} (one per persona)", ident)
        if ident in seen:
            raise id_cell(row).error(
                f"a unique id (id {ident} is already used on line {lines[seen[ident]]})", ident
            )
        seen[ident] = row
    if all(ident == row for row, ident in enumerate(ids)):
        return None
    return np.asarray([seen[agent] for agent in range(n)], dtype=np.int64)
