"""OASIS's Reddit persona JSON: a list of user objects, agent id = list index.

Keys: `username` (user_name), `realname` (name), `bio`, `persona` (required, as OASIS
reads them) and `age`, `gender`, `mbti`, `country`, `profession`, `interested_topics`
(optional, kept in traits). OASIS's Reddit files carry no follow graph and no seed posts;
any other key is kept in traits under its own name.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

from oasis_des.agents import fields
from oasis_des.agents.activity import flat_activity
from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.fields import Cell
from oasis_des.agents.persona_file import LoadResult, drawn_stance, interests_for
from oasis_des.agents.population import Population

REQUIRED = ("username", "realname", "bio", "persona")
TEXT_TRAITS = ("gender", "mbti", "country", "profession")
KNOWN = frozenset((*REQUIRED, *TEXT_TRAITS, "age", "interested_topics"))


def read_reddit_json(path: str | Path, *, seed: int = 0) -> LoadResult:
    """Read and fully validate an OASIS Reddit JSON persona file."""
    text = fields.read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PersonaFileError(
            path, f"valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno, show_got=False
        ) from None
    except RecursionError:
        raise PersonaFileError(path, "valid JSON nested less deeply", show_got=False) from None
    except ValueError:  # an integer of more than 4,300 digits
        raise PersonaFileError(path, "numbers of at most 4300 digits", show_got=False) from None
    if not isinstance(data, list):
        raise PersonaFileError(
            path, "a JSON list of user objects (OASIS Reddit format)", got=type(data).__name__
        )
    if not data:
        raise PersonaFileError(
            path, "at least one user object, but the list is empty", show_got=False
        )
    notes: list[str] = []
    user_name, name, bio, persona, traits, declared = [], [], [], [], [], []
    extra_keys: set[str] = set()
    for i, record in enumerate(data):
        if not isinstance(record, dict):
            raise PersonaFileError(path, "a user object {...}", row=i, got=type(record).__name__)
        for key in REQUIRED:
            if key not in record:
                raise PersonaFileError(
                    path,
                    f"the key '{key}' (required: {', '.join(REQUIRED)})",
                    row=i,
                    field=key,
                    show_got=False,
                )
        cell = partial(Cell, path, i, None)
        user_name.append(fields.text(record["username"], cell("username"), required=True))
        name.append(fields.text(record["realname"], cell("realname")))
        bio.append(fields.text(record["bio"], cell("bio")))
        persona.append(fields.text(record["persona"], cell("persona")))
        t, topics = _traits(record, cell)
        traits.append(t)
        declared.append(topics + ([t["profession"]] if t.get("profession") else []))
        extra_keys.update(k for k in record if k not in KNOWN)
    if extra_keys:
        notes.append(f"extra key(s) kept in traits: {', '.join(sorted(extra_keys))}.")
    notes.append(
        "Reddit personas have no follow graph, seed posts or activity profile: "
        "every user gets the default flat rate (1 activation per hour)."
    )
    n = len(data)
    population = Population(
        user_name=user_name,
        name=name,
        bio=bio,
        persona=persona,
        activity=flat_activity(n),
        stance=drawn_stance(seed, n),
        traits=traits,
        interests=interests_for(persona, bio, declared),
    )
    return LoadResult(
        population=population, format="oasis-reddit-json", path=str(path), notes=notes
    )


def _traits(record: dict[str, Any], cell: Any) -> tuple[dict[str, object], list[str]]:
    traits: dict[str, object] = {}
    if "age" in record:
        traits["age"] = fields.integer(record["age"], cell("age"), minimum=0)
    for key in TEXT_TRAITS:
        if key in record and record[key] is not None:
            traits[key] = fields.text(record[key], cell(key))
    topics: list[str] = []
    if record.get("interested_topics") is not None:
        value = record["interested_topics"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise cell("interested_topics").error(
                'a list of topic names like ["Economics", "Business"]', value
            )
        topics = list(value)
        traits["interested_topics"] = topics
    for key, value in record.items():
        if key not in KNOWN:
            traits[key] = value
    return traits, topics


def write_reddit_json(population: Population, path: str | Path) -> None:
    """Write OASIS's Reddit format (follows, seed posts and activity are not part of it)."""
    out = []
    for i in range(len(population)):
        t = population.traits[i]
        record: dict[str, object] = {
            "realname": population.name[i],
            "username": population.user_name[i],
            "bio": population.bio[i],
            "persona": population.persona[i],
        }
        for key in ("age", "gender", "mbti", "country", "profession", "interested_topics"):
            if t.get(key) is not None:
                record[key] = t[key]
        out.append(record)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")
