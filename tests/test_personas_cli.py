"""`oasis-des personas generate|validate` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oasis_des.agents.loaders import read_personas
from oasis_des.cli import main

DATA = Path(__file__).parent / "data"


def test_generate_jsonl_is_seeded_and_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert (
        main(
            [
                "personas",
                "generate",
                "--n",
                "300",
                "--out",
                str(a),
                "--seed",
                "7",
                "--seed-posts",
                "0.05",
            ]
        )
        == 0
    )
    assert "wrote 300 personas" in capsys.readouterr().out
    assert (
        main(
            [
                "personas",
                "generate",
                "--n",
                "300",
                "--out",
                str(b),
                "--seed",
                "7",
                "--seed-posts",
                "0.05",
            ]
        )
        == 0
    )
    assert a.read_bytes() == b.read_bytes()
    header = json.loads(a.read_text(encoding="utf-8").splitlines()[0])
    assert header["format"] == "oasis-des-personas" and header["generator"]["seed"] == 7
    result = read_personas(a)
    assert result.format == "jsonl" and len(result.population) == 300
    assert len(result.population.follows) > 2000 and result.population.seed_posts


@pytest.mark.parametrize(
    ("name", "fmt"), [("t.csv", "oasis-twitter-csv"), ("r.json", "oasis-reddit-json")]
)
def test_generate_oasis_formats(
    tmp_path: Path, name: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / name
    assert (
        main(["personas", "generate", "--n", "50", "--out", str(out), "--platform", "reddit"]) == 0
    )
    result = read_personas(out)
    assert result.format == fmt and len(result.population) == 50
    assert "-" in "".join(result.population.user_name)  # reddit-style handles


def test_generate_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.jsonl"
    out.write_text("keep me", encoding="utf-8")
    assert main(["personas", "generate", "--n", "5", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "keep me"
    assert (
        main(
            [
                "personas",
                "generate",
                "--n",
                "5",
                "--out",
                str(out),
                "--overwrite",
                "--mean-following",
                "0",
            ]
        )
        == 0
    )
    assert len(read_personas(out).population.follows) == 0
    assert main(["personas", "generate", "--n", "0", "--out", str(tmp_path / "x.jsonl")]) == 2


def test_validate_prints_counts_and_degrees(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["personas", "validate", str(DATA / "False_Business_0.csv")]) == 0
    out = capsys.readouterr().out
    assert "valid oasis-twitter-csv" in out
    assert "personas     111" in out and "follows      85" in out and "seed posts   1" in out
    assert "max 73" in out and "reciprocity" in out
    assert main(["personas", "validate", "--json", str(DATA / "user_data_36.json")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["personas"] == 36 and summary["format"] == "oasis-reddit-json"
    assert summary["degree"]["follows"] == 0


def test_validate_reports_dropped_follows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"user_name": "a", "name": "A", "following": [0, 1, 1]}\n'
        '{"user_name": "b", "name": "B"}\n',
        encoding="utf-8",
    )
    assert main(["personas", "validate", str(path)]) == 0
    assert "dropped 1 self-follows, 1 duplicates" in capsys.readouterr().out


def test_validate_bad_file_exits_2_with_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "username,name,description,user_char,following_agentid_list\na,A,,,[7]\n", encoding="utf-8"
    )
    assert main(["personas", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, row 0 (line 2), field 'following_agentid_list'" in err and "got 7" in err
    assert main(["personas", "validate", str(tmp_path / "missing.csv")]) == 2
    assert "no such persona file" in capsys.readouterr().err


def test_personas_without_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["personas"]) == 0
    out = capsys.readouterr().out
    assert "generate" in out and "validate" in out
