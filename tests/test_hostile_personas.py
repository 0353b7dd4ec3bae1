"""Hostile persona files, in all three formats: each value is refused naming file, row and
field, or loaded and stored verbatim; nothing is written when a file is refused.

(test_personas_errors.py covers malformed files; this battery covers hostile values.)
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_values import (
    BIG_INTS,
    LONE_SURROGATES,
    NASTY_TEXTS,
    NON_FINITE,
    NUL_TEXTS,
    json_values,
    table_dump,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oasis_des import Platform
from oasis_des.agents.activity import MAX_RATE_PER_HOUR
from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.loaders import load_population
from oasis_des.agents.population import Population
from oasis_des.agents.signup import sign_up_population
from oasis_des.cli import main

TWITTER_COLUMNS = (
    "username",
    "name",
    "description",
    "user_char",
    "following_agentid_list",
    "previous_tweets",
    "activity_per_hour",
    "stance",
)
HUGE_DIGITS = "1" * 5000  # beyond Python's 4,300-digit integer parsing


def twitter_file(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TWITTER_COLUMNS)
    for row in rows:
        cells = {
            "username": "u",
            "name": "n",
            "description": "d",
            "user_char": "c",
            "following_agentid_list": "[]",
            "previous_tweets": "[]",
            "activity_per_hour": "",
            "stance": "",
            **row,
        }
        writer.writerow([cells[c] for c in TWITTER_COLUMNS])
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    return path


def reddit_file(path: Path, records: list[dict[str, Any]]) -> Path:
    full = [{"username": "u", "realname": "n", "bio": "b", "persona": "p", **r} for r in records]
    path.write_text(json.dumps(full), encoding="utf-8")  # ASCII escapes carry surrogates
    return path


def jsonl_file(path: Path, records: list[dict[str, Any]]) -> Path:
    lines = [json.dumps({"user_name": "u", "name": "n", **r}) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def writer(fmt: str) -> Callable[[Path, list[dict[str, Any]]], Path]:
    return {
        "csv": lambda p, r: twitter_file(p.with_suffix(".csv"), r),
        "json": lambda p, r: reddit_file(p.with_suffix(".json"), r),
        "jsonl": lambda p, r: jsonl_file(p.with_suffix(".jsonl"), r),
    }[fmt]


# Per format: the field of each text column and what it becomes.
TEXT_FIELDS = {
    "csv": {"username": "user_name", "name": "name", "description": "bio", "user_char": "persona"},
    "json": {"username": "user_name", "realname": "name", "bio": "bio", "persona": "persona"},
    "jsonl": {"user_name": "user_name", "name": "name", "bio": "bio", "persona": "persona"},
}
TEXT_CASES = [(fmt, field) for fmt, fields in TEXT_FIELDS.items() for field in fields]


def loaded_and_stored(path: Path) -> Population:
    """Load, sign up, and check the user table holds the population's texts verbatim."""
    population = load_population(path)
    with Platform(":memory:") as platform:
        sign_up_population(platform, population)
        rows = platform.connection.execute(
            "SELECT user_name, name, bio FROM user ORDER BY user_id"
        ).fetchall()
        posts = platform.connection.execute(
            "SELECT user_id, content FROM post ORDER BY post_id"
        ).fetchall()
    assert rows == list(zip(population.user_name, population.name, population.bio))
    assert posts == [(a, c) for a, c in population.seed_posts]
    return population


def refused(path: Path, *parts: str) -> str:
    with Platform(":memory:") as platform:
        before = table_dump(platform.connection)
        with pytest.raises(PersonaFileError) as info:
            sign_up_population(platform, load_population(path))
        assert table_dump(platform.connection) == before
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message and len(message) < 600
    for part in parts:
        assert part in message, (part, message)
    return message


def cell(fmt: str, field: str, value: Any) -> dict[str, Any]:
    """A record with `value` in `field` (CSV cells are text)."""
    return {field: value if fmt != "csv" or isinstance(value, str) else str(value)}


@pytest.mark.parametrize("text", [t for t in NASTY_TEXTS if t.strip()], ids=repr)
@pytest.mark.parametrize(("fmt", "field"), TEXT_CASES)
def test_nasty_texts_are_stored_verbatim(tmp_path: Path, fmt: str, field: str, text: str) -> None:
    path = writer(fmt)(tmp_path / "p", [cell(fmt, field, text), {}])
    population = loaded_and_stored(path)
    assert getattr(population, TEXT_FIELDS[fmt][field])[0] == text


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_ten_megabyte_texts_are_stored_verbatim(tmp_path: Path, fmt: str) -> None:
    text = "long bio 😀 " * 900_000  # 10 MB of UTF-8
    field = list(TEXT_FIELDS[fmt])[2]  # the bio
    population = loaded_and_stored(writer(fmt)(tmp_path / "p", [cell(fmt, field, text)]))
    assert population.bio[0] == text


@pytest.mark.parametrize("text", NUL_TEXTS + LONE_SURROGATES, ids=repr)
@pytest.mark.parametrize(("fmt", "field"), TEXT_CASES)
def test_nul_and_lone_surrogates_are_refused_naming_row_and_field(
    tmp_path: Path, fmt: str, field: str, text: str
) -> None:
    if fmt == "csv" and text in LONE_SURROGATES:
        return  # a CSV file is UTF-8 text: it cannot hold one (covered by the UTF-8 check)
    path = writer(fmt)(tmp_path / "p", [{}, cell(fmt, field, text)])
    refused(path, "row 1", f"field '{field}'")


@pytest.mark.parametrize(
    ("fmt", "field", "posts"),
    [
        ("csv", "previous_tweets", "['a\\x00b']"),
        ("csv", "previous_tweets", "['\\ud800']"),  # a Python escape inside the cell
        ("jsonl", "posts", ["ok", "a\x00b"]),
        ("jsonl", "posts", ["\udc00"]),
    ],
)
def test_seed_posts_with_nul_or_lone_surrogates_are_refused(
    tmp_path: Path, fmt: str, field: str, posts: Any
) -> None:
    refused(writer(fmt)(tmp_path / "p", [{field: posts}]), "row 0", f"field '{field}'")


def test_hostile_seed_posts_are_stored_verbatim(tmp_path: Path) -> None:
    texts = [t for t in NASTY_TEXTS if "\r" not in t]  # (CSV lists are Python literals)
    population = loaded_and_stored(
        twitter_file(tmp_path / "p.csv", [{"previous_tweets": repr(texts)}])
    )
    assert [c for _, c in population.seed_posts] == texts
    population = loaded_and_stored(jsonl_file(tmp_path / "p.jsonl", [{"posts": list(NASTY_TEXTS)}]))
    assert [c for _, c in population.seed_posts] == list(NASTY_TEXTS)


NUMBER_CASES = [
    # (format, field, value)
    *[
        (fmt, "stance", v)
        for fmt in ("csv", "jsonl")
        for v in (  # (CSV "nan" = empty, as pandas)
            math.inf,
            -math.inf,
            *BIG_INTS,
            1.5,
            -1.0000001,
            True,
            [0.5],
            "half",
        )
    ],
    ("jsonl", "stance", math.nan),
    *[
        ("jsonl", "activity", v)
        for v in (
            *NON_FINITE,
            *BIG_INTS,
            -1,
            MAX_RATE_PER_HOUR * 2,
            True,
            [1] * 23,
            [math.nan] * 24,
            [10**400] * 24,
            "often",
        )
    ],
    *[
        ("csv", "activity_per_hour", v)
        for v in (
            str([math.inf] * 24),
            str([10**400] * 24),
            str([-1] * 24),
            str([1e9] * 24),
            "[1, 2]",
        )
    ],
    *[
        ("jsonl", "interests", v)
        for v in (
            [math.nan] * 16,
            [10**400] * 16,
            [-1] * 16,
            [0] * 16,
            {"politics": math.inf},
            {"politics": 10**400},
            {"no such topic": 1},
            "politics",
        )
    ],
    *[
        (fmt, field, v)
        for fmt, field in (("csv", "following_agentid_list"), ("jsonl", "following"))
        for v in ([2**63], [-(2**63) - 1], [10**400], [1.0], [True], ["1"], [-1], [7])
    ],
    *[("jsonl", "id", v) for v in (-1, 1.0, True, "0", 2**64, 10**400)],
    *[("json", "age", v) for v in (-1, 1.5, "old", HUGE_DIGITS)],
]


@pytest.mark.parametrize(
    ("fmt", "field", "value"),
    NUMBER_CASES,
    ids=[f"{f}-{k}-{str(v)[:20]}" for f, k, v in NUMBER_CASES],
)
def test_hostile_numbers_are_refused_naming_the_field(
    tmp_path: Path, fmt: str, field: str, value: Any
) -> None:
    others = [] if field == "id" else [{}]  # ids: on every line or none
    path = writer(fmt)(tmp_path / "p", [cell(fmt, field, value), *others])
    refused(path, "row 0", f"field '{field}'")


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_numbers_with_more_digits_than_python_parses_are_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"p.{fmt}"
    key = "age" if fmt == "json" else "stance"
    record = (
        '{"username": "u", "realname": "n", "bio": "b", "persona": "p", "user_name": "u", '
        f'"name": "n", "{key}": {HUGE_DIGITS}}}'
    )
    path.write_text(f"[{record}]" if fmt == "json" else record + "\n")
    refused(path, "4300 digits")


def test_sql_like_handles_are_data(tmp_path: Path) -> None:
    handles = ["'); DROP TABLE user; --", "x' OR '1'='1", "u"]
    population = loaded_and_stored(
        jsonl_file(tmp_path / "p.jsonl", [{"user_name": h} for h in handles])
    )
    assert population.user_name == handles


# -- properties ---------------------------------------------------------------------------
JSONL_FIELDS = (
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
    "extra",
)
REDDIT_FIELDS = (
    "username",
    "realname",
    "bio",
    "persona",
    "age",
    "gender",
    "mbti",
    "interested_topics",
    "extra",
)


def load_or_refuse(path: Path) -> None:
    try:
        loaded_and_stored(path)
    except PersonaFileError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


records = st.fixed_dictionaries({}, optional={f: json_values for f in JSONL_FIELDS})


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(records, min_size=1, max_size=3))
def test_any_json_values_in_a_jsonl_file_load_or_are_refused(tmp_path: Path, rows: list) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    load_or_refuse(path)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.fixed_dictionaries({}, optional={f: json_values for f in REDDIT_FIELDS}),
        min_size=1,
        max_size=3,
    )
)
def test_any_json_values_in_a_reddit_file_load_or_are_refused(tmp_path: Path, rows: list) -> None:
    load_or_refuse(reddit_file(tmp_path / "p.json", rows))


cells = st.one_of(st.text(max_size=30), json_values.map(repr), json_values.map(json.dumps))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.fixed_dictionaries({}, optional={c: cells for c in TWITTER_COLUMNS}),
        min_size=1,
        max_size=3,
    )
)
def test_any_cells_in_a_twitter_csv_load_or_are_refused(tmp_path: Path, rows: list) -> None:
    load_or_refuse(twitter_file(tmp_path / "p.csv", rows))


def test_the_cli_refuses_a_hostile_persona_file_before_creating_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    personas = jsonl_file(tmp_path / "p.jsonl", [{}, {"stance": math.inf}])
    out = tmp_path / "run.db"
    assert main(["run", "--personas", str(personas), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"oasis-des: error: {personas}, row 1") and "field 'stance'" in err
    assert "Traceback" not in err and not out.exists()
