"""Bad persona files: one clear error naming file, row, field and expectation; nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oasis_des import Platform
from oasis_des.agents import signup
from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.loaders import load_population
from oasis_des.agents.population import Population
from oasis_des.agents.signup import sign_up_population

HEADER = ",user_id,name,username,following_agentid_list,previous_tweets,user_char,description"


def csv_rows(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


OK0 = "0,10,A,a,[1],[],pa,ba"
OK1 = "1,11,B,b,[],\"['t']\",pb,bb"

# (file name, content, substrings the message must contain)
CASES: list[tuple[str, str | bytes, tuple[str, ...]]] = [
    ("empty.csv", "", ("empty",)),
    ("blank.csv", "  \n\n", ("empty",)),
    ("header_only.csv", HEADER + "\n", ("at least one persona row",)),
    (
        "no_username.csv",
        csv_rows(
            "0,1,A,[],[],p,b",
            header=",user_id,name,following_agentid_list,previous_tweets,user_char,description",
        ),
        ("line 1", "field 'username'", "a column named 'username'"),
    ),
    (
        "dup_column.csv",
        csv_rows(
            "0,1,A,a,a2,[],[],p,b",
            header=",user_id,name,username,username,following_agentid_list,previous_tweets,user_char,description",
        ),
        ("line 1", "field 'username'", "each column name once"),
    ),
    (
        "open_list.csv",
        csv_rows(OK0, '1,11,B,b,"[0, 2",[],pb,bb'),
        ("row 1 (line 3)", "field 'following_agentid_list'", "a list of agent ids", "'[0, 2'"),
    ),
    (
        "text_ids.csv",
        csv_rows(OK0, "1,11,B,b,\"['x']\",[],pb,bb"),
        ("row 1 (line 3)", "field 'following_agentid_list'", "integers only"),
    ),
    ("float_ids.csv", csv_rows(OK0, '1,11,B,b,"[0.5]",[],pb,bb'), ("row 1", "integers only")),
    (
        "id_range.csv",
        csv_rows(OK0, "1,11,B,b,[5],[],pb,bb"),
        ("row 1 (line 3)", "field 'following_agentid_list'", "between 0 and 1", "got 5"),
    ),
    (
        "negative_id.csv",
        csv_rows("0,10,A,a,[-1],[],pa,ba", OK1),
        ("row 0 (line 2)", "between 0 and 1", "got -1"),
    ),
    (
        "code.csv",
        csv_rows(OK0, "1,11,B,b,\"__import__('os').system('touch PWNED')\",[],pb,bb"),
        ("row 1", "field 'following_agentid_list'"),
    ),
    (
        "nested.csv",
        csv_rows(OK0, "1,11,B,b," + "[" * 5000 + "]" * 5000 + ",[],pb,bb"),
        ("row 1", "field 'following_agentid_list'"),
    ),
    (
        "tweets.csv",
        csv_rows(OK0, '1,11,B,b,[],"[\'unterminated]",pb,bb'),
        ("row 1 (line 3)", "field 'previous_tweets'", "a list of texts"),
    ),
    (
        "tweets_not_list.csv",
        csv_rows(OK0, "1,11,B,b,[],hello,pb,bb"),
        ("row 1", "field 'previous_tweets'"),
    ),
    ("tweets_dict.csv", csv_rows(OK0, "1,11,B,b,[],\"[{'a': 1}]\",pb,bb"), ("row 1", "texts only")),
    (
        "width.csv",
        csv_rows(OK0, "1,11,B,b,[],[],pb,bb,extra"),
        ("row 1 (line 3)", "8 comma-separated fields", "got 9"),
    ),
    (
        "no_handle.csv",
        csv_rows(OK0, "1,11,B,  ,[],[],pb,bb"),
        ("row 1 (line 3)", "field 'username'", "non-empty"),
    ),
    (
        "freq_len.csv",
        csv_rows('0,10,A,a,[],[],pa,ba,"[1, 2, 3]"', header=HEADER + ",activity_level_frequency"),
        ("row 0 (line 2)", "field 'activity_level_frequency'", "24 non-negative numbers"),
    ),
    (
        "freq_neg.csv",
        csv_rows(
            '0,10,A,a,[],[],pa,ba,"' + str([1] * 23 + [-1]) + '"',
            header=HEADER + ",activity_level_frequency",
        ),
        ("row 0", "field 'activity_level_frequency'", "got -1"),
    ),
    (
        "stance.csv",
        csv_rows("0,10,A,a,[],[],pa,ba,2", header=HEADER + ",stance"),
        ("row 0", "field 'stance'", "between -1 and 1"),
    ),
    (
        "latin1.csv",
        (HEADER + "\n0,10,Zo\xe9,a,[],[],pa,ba\n").encode("latin-1"),
        ("line 2", "UTF-8"),
    ),
    (
        "nul.csv",
        csv_rows(OK0, "1,11,B,b,[],[],p\x00b,bb"),
        ("row 1", "field 'user_char'", "without NUL"),
    ),
    (
        "quote.csv",
        csv_rows(OK0, '1,11,B,b,[],[],"pb,bb', OK1),
        ("row 1 (line 3)", "comma-separated fields"),
    ),
    # OASIS Reddit JSON
    ("bad.json", '[{"username": "a",}]', ("line 1", "valid JSON")),
    ("string.json", '"users"', ("a JSON list of users",)),
    ("empty_list.json", "[]", ("at least one user object",)),
    ("not_object.json", "[1]", ("row 0", "a user object")),
    (
        "no_key.json",
        json.dumps([{"username": "a", "realname": "A", "bio": "b"}]),
        ("row 0", "field 'persona'", "the key 'persona'"),
    ),
    (
        "age.json",
        json.dumps([{"username": "a", "realname": "A", "bio": "", "persona": "", "age": "forty"}]),
        ("row 0", "field 'age'", "an integer", "'forty'"),
    ),
    (
        "topics.json",
        json.dumps(
            [{"username": "a", "realname": "A", "bio": "", "persona": "", "interested_topics": 5}]
        ),
        ("row 0", "field 'interested_topics'", "a list of topic names"),
    ),
    (
        "handle_type.json",
        json.dumps([{"username": 12, "realname": "A", "bio": "", "persona": ""}]),
        ("row 0", "field 'username'", "a text"),
    ),
    # oasis_des JSONL
    (
        "bad_line.jsonl",
        '{"user_name": "a", "name": "A"}\n{"user_name": "b",\n',
        ("row 1 (line 2)", "one JSON object per line"),
    ),
    ("list_line.jsonl", '["a"]\n', ("row 0 (line 1)", "a JSON object")),
    ("missing.jsonl", '{"name": "A"}\n', ("row 0 (line 1)", "field 'user_name'")),
    (
        "dup_id.jsonl",
        '{"id": 0, "user_name": "a", "name": "A"}\n{"id": 0, "user_name": "b", "name": "B"}\n',
        ("row 1 (line 2)", "field 'id'", "already used on line 1"),
    ),
    (
        "id_range.jsonl",
        '{"id": 0, "user_name": "a", "name": "A"}\n{"id": 7, "user_name": "b", "name": "B"}\n',
        ("row 1 (line 2)", "field 'id'", "between 0 and 1"),
    ),
    (
        "some_ids.jsonl",
        '{"id": 0, "user_name": "a", "name": "A"}\n{"user_name": "b", "name": "B"}\n',
        ("row 1 (line 2)", "field 'id'", "on every persona line or on none"),
    ),
    (
        "follow_range.jsonl",
        '{"user_name": "a", "name": "A", "following": [3]}\n',
        ("row 0 (line 1)", "field 'following'", "got 3"),
    ),
    (
        "follow_float.jsonl",
        '{"user_name": "a", "name": "A", "following": [1.5]}\n',
        ("row 0", "field 'following'", "integers only"),
    ),
    (
        "activity.jsonl",
        '{"user_name": "a", "name": "A", "activity": [1, 2, 3]}\n',
        ("row 0", "field 'activity'", "24"),
    ),
    (
        "stance.jsonl",
        '{"user_name": "a", "name": "A", "stance": "high"}\n',
        ("row 0", "field 'stance'"),
    ),
    (
        "topic.jsonl",
        '{"user_name": "a", "name": "A", "interests": {"astrology": 1}}\n',
        ("row 0", "field 'interests'", "'astrology'"),
    ),
    (
        "header.jsonl",
        '{"format": "something-else"}\n{"user_name": "a", "name": "A"}\n',
        ("line 1", "field 'format'"),
    ),
    (
        "traits.jsonl",
        '{"user_name": "a", "name": "A", "traits": [1]}\n',
        ("row 0", "field 'traits'", "an object"),
    ),
    (
        "surrogate.jsonl",
        '{"user_name": "a", "name": "A", "bio": "x\\ud800y"}\n',
        ("row 0 (line 1)", "field 'bio'", "unpaired surrogates"),
    ),
    (
        "huge_id.jsonl",
        '{"user_name": "a", "name": "A", "following": [99999999999999999999999]}\n',
        ("row 0", "field 'following'", "23-digit"),
    ),
    (
        "neg_activity.jsonl",
        '{"user_name": "a", "name": "A"}\n{"user_name": "b", "name": "B", "activity": -1}\n',
        ("row 1 (line 2)", "field 'activity'", "non-negative"),
    ),
    (
        "nan_activity.jsonl",
        '{"user_name": "a", "name": "A", "activity": NaN}\n',
        ("row 0 (line 1)", "field 'activity'"),
    ),
    (
        "stance_num.jsonl",
        '{"user_name": "a", "name": "A"}\n\n{"user_name": "b", "name": "B", "stance": 5}\n',
        ("row 1 (line 3)", "field 'stance'", "between -1 and 1", "got 5"),
    ),
    (
        "zero_interests.jsonl",
        '{"user_name": "a", "name": "A", "interests": ' + str([0] * 16) + "}\n",
        ("row 0 (line 1)", "field 'interests'", "positive sum"),
    ),
    ("only_header.jsonl", '{"format": "oasis-des-personas"}\n', ("at least one persona line",)),
]


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_gives_one_clear_error_and_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str | bytes,
    expected: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with Platform(tmp_path / "run.db", "twitter") as platform:
        with pytest.raises(PersonaFileError) as caught:
            sign_up_population(platform, load_population(path))
        message = str(caught.value)
        assert message.startswith(str(path)), message
        assert "expected" in message and message.endswith(".")
        for part in expected:
            assert part in message, f"{part!r} not in {message!r}"
        assert "\n" not in message
        assert_no_persona_rows(platform)
    assert not (tmp_path / "PWNED").exists()
    assert isinstance(caught.value, ValueError)  # the CLI reports ValueErrors as errors


def assert_no_persona_rows(platform: Platform) -> None:
    for table in ("user", "follow", "post", "trace"):
        assert platform.connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, (
            table
        )


def test_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such persona file"):
        load_population(tmp_path / "nope.csv")


def test_a_directory_is_not_a_persona_file(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(PersonaFileError, match="not a directory"):
        load_population(tmp_path / "dir.csv")


def small(n: int = 3, follows: list[tuple[int, int]] | None = None) -> Population:
    return Population(
        user_name=[f"u{i}" for i in range(n)],
        name=[f"U {i}" for i in range(n)],
        bio=[""] * n,
        persona=[""] * n,
        activity=np.ones((n, 24)),
        stance=np.zeros(n),
        follows=np.array(follows or [(0, 1)], dtype=np.int64),
        seed_posts=[(0, "hi")],
    )


def test_inconsistent_population_is_refused_before_writing(tmp_path: Path) -> None:
    with Platform(tmp_path / "run.db") as platform:
        with pytest.raises(ValueError, match="between agents 0..2"):
            sign_up_population(platform, small(follows=[(0, 3)]))
        bad_post = small()
        bad_post.seed_posts = [(9, "x")]
        with pytest.raises(ValueError, match="seed posts"):
            sign_up_population(platform, bad_post)
        assert_no_persona_rows(platform)


def test_taken_ids_are_refused(tmp_path: Path) -> None:
    with Platform(tmp_path / "run.db") as platform:
        platform.sign_up(1, "x", "X", "")
        with pytest.raises(ValueError, match="user 1 already exists"):
            sign_up_population(platform, small())
        assert platform.connection.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 1


def test_failure_half_way_rolls_everything_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(signup, "_insert_follows", explode)
    with Platform(tmp_path / "run.db") as platform:
        pragmas = ("foreign_keys", "cache_size", "temp_store")
        before = [platform.connection.execute(f"PRAGMA {x}").fetchone() for x in pragmas]
        with pytest.raises(RuntimeError, match="disk full"):
            sign_up_population(platform, small(), trace_sign_ups=True)
        assert_no_persona_rows(platform)
        assert [platform.connection.execute(f"PRAGMA {x}").fetchone() for x in pragmas] == before
        assert before[0] == (1,)
        assert platform.graph.ecount() == 0
        # and the platform still works
        assert platform.sign_up(0, "a", "A", "")["success"]
