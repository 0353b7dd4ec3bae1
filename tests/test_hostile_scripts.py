"""Hostile scripted-action files (CSV, JSONL) and activation CSVs: each row is refused with
an error naming file, row and field, or run with its texts stored verbatim."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import config, small_population
from hostile_values import BIG_INTS, NASTY_TEXTS, NON_FINITE, NUL_TEXTS, json_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oasis_des.cli import main
from oasis_des.engine.schedule import read_activation_csv
from oasis_des.engine.scripted import read_script
from oasis_des.engine.simulation import Simulation
from oasis_des.platform.actions import MAX_TEXT_CHARS, encodable

VALID = {"time": 1, "agent_id": 0, "action": "create_post", "args": {"content": "hi"}}


def jsonl(path: Path, *rows: Any) -> Path:
    path = path.with_suffix(".jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def csv_file(path: Path, *rows: dict[str, Any]) -> Path:
    path = path.with_suffix(".csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "agent_id", "action", "args"])
    for r in rows:
        args = r.get("args", "")
        writer.writerow(
            [
                r.get("time", ""),
                r.get("agent_id", ""),
                r.get("action", ""),
                args if isinstance(args, str) else json.dumps(args),
            ]
        )
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    return path


def refused(path: Path, *parts: str) -> str:
    with pytest.raises(ValueError) as info:
        read_script(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message and len(message) < 600, message
    for part in parts:
        assert part in message, (part, message)
    return message


BAD_ROWS = [
    *[("time", v) for v in (*NON_FINITE, -1, True, [1], {}, "soon", "1e400", 10**400)],
    *[
        ("agent_id", v)
        for v in (*BIG_INTS, -1, 1.5, 1.0, True, "1.0", "0x1", "", None, [0], "9" * 5000)
    ],
    *[
        ("action", v)
        for v in ("fly", "", None, 5, ["like_post"], "create_post\x00", "'); DROP TABLE post; --")
    ],
    *[
        ("args", v)
        for v in (
            [1],
            "[1]",
            5,
            "{bad",
            "[" * 5000 + "]" * 5000,
            '{"content": ' + "1" * 5000 + "}",
            {"content": 5},
            {"content": None},
            {"content": "\ud800"},
            {"content": "x" * (MAX_TEXT_CHARS + 1)},
            {"bogus": 1},
            {"content": "ok", "\ud800": 1},
        )
    ],
]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize(
    ("field", "value"), BAD_ROWS, ids=[f"{f}-{str(v)[:16]!r}" for f, v in BAD_ROWS]
)
def test_bad_rows_are_refused_naming_row_and_field(
    tmp_path: Path, fmt: str, field: str, value: Any
) -> None:
    if fmt == "jsonl":
        refused(jsonl(tmp_path / "s", VALID, {**VALID, field: value}), "row 2", field)
        return
    cell = value if isinstance(value, str) else json.dumps(value) if field == "args" else str(value)
    if not encodable(cell):
        return  # a CSV file is UTF-8 text: it cannot hold a lone surrogate
    refused(csv_file(tmp_path / "s", VALID, {**VALID, field: cell}), "row 3", field)


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        (b'{"time": 1, "agent_id": 0, "action": "do_nothing"}\n\xff\xfe\n', ("line 2", "UTF-8")),
        (b"[1, 2]\n", ("row 1", "object")),
        (
            b'{"time": 1, "agent_id": 0, "action": "like_post", "args": {"post_id": '
            + b"1" * 5000
            + b"}}\n",
            ("line 1",),
        ),
        (b'{"time": 1, "agent_id": 0, "action": "do_nothing"}\n{"time": \n', ("line 2", "JSON")),
    ],
)
def test_broken_jsonl_lines_are_refused_naming_the_line(
    tmp_path: Path, content: bytes, parts: tuple[str, ...]
) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(content)
    refused(path, *parts)


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        (b"1,0,do_nothing,\n", ("line 1", "header")),  # no header: not silently empty
        (b"time,agent_id,action,args\n1,0,do_nothing,,extra\n", ("row 2", "more fields")),
        (b"time,agent_id,action,args\n1,0,do_nothing,\xff\n", ("line 2", "UTF-8")),
        (
            b'time,agent_id,action,args\n1,0,create_post,"{""content"": ""unclosed\n',
            ("row 2", "args"),
        ),
    ],
)
def test_broken_csv_files_are_refused_naming_the_line(
    tmp_path: Path, content: bytes, parts: tuple[str, ...]
) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(content)
    refused(path, *parts)


def test_a_directory_is_not_a_script(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    refused(tmp_path / "dir.csv", "not a directory")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_hostile_texts_in_scripts_reach_the_database_verbatim(tmp_path: Path, fmt: str) -> None:
    texts = [*NASTY_TEXTS, *NUL_TEXTS, "line one\nline two", "x" * 2_000_000]
    rows = [
        {"time": i, "agent_id": i % 5, "action": "create_post", "args": {"content": t}}
        for i, t in enumerate(texts)
    ]
    path = (jsonl if fmt == "jsonl" else csv_file)(tmp_path / "script", *rows)
    cfg = config(
        output={"path": str(tmp_path / "run.db")},
        time={"duration": 60.0},
        script={"file": str(path)},
    )
    sim = Simulation(cfg, population=small_population(5, rate=0.0))
    result = sim.run()
    sim.close()
    with sqlite3.connect(result.db_path) as conn:
        stored = [r[0] for r in conn.execute("SELECT content FROM post ORDER BY post_id")]
    assert stored == texts


# -- activation times ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "parts"),
    [
        ("0,nan", ("row 3", "field time")),
        ("0,inf", ("row 3", "field time")),
        ("0,-inf", ("row 3", "field time")),
        ("0,1e400", ("row 3", "field time")),
        ("0,-1", ("row 3", "field time")),
        ("0,soon", ("row 3", "field time")),
        ("0,1\x00", ("row 3", "field time")),
        ("-1,1", ("row 3", "field agent_id")),
        ("5,1", ("row 3", "field agent_id")),
        ("99999999999999999999999,1", ("row 3", "field agent_id")),
        ("9" * 5000 + ",1", ("row 3", "field agent_id")),
        ("1.0,1", ("row 3", "field agent_id")),
        ("True,1", ("row 3", "field agent_id")),
        ("😀,1", ("row 3", "field agent_id")),
        ("0", ("row 3", "agent_id,time")),
        ("0," + "1" * 200_000, ("row 3", "CSV")),  # beyond csv's field size limit
    ],
)
def test_bad_activation_rows_are_refused_naming_row_and_field(
    tmp_path: Path, row: str, parts: tuple[str, ...]
) -> None:
    path = tmp_path / "times.csv"
    path.write_text(f"agent_id,time\n0,1\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_activation_csv(path, 5)
    message = str(info.value)
    assert message.startswith(str(path)) and len(message) < 600
    for part in parts:
        assert part in message, (part, message)


def test_activation_files_that_are_not_text_or_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "times.csv"
    path.write_bytes(b"agent_id,time\n0,1\n1,\xff2\n")
    with pytest.raises(ValueError, match="line 3: not UTF-8"):
        read_activation_csv(path, 5)
    with pytest.raises(ValueError, match="not a directory"):
        read_activation_csv(tmp_path, 5)


# -- properties ---------------------------------------------------------------------------
rows = (
    st.fixed_dictionaries(
        {},
        optional={
            "time": st.one_of(st.floats(0, 1e6), json_values),
            "agent_id": st.one_of(st.integers(0, 4), json_values),
            "action": st.one_of(
                st.sampled_from(["create_post", "like_post", "do_nothing"]), json_values
            ),
            "args": st.one_of(st.just({"content": "x"}), json_values),
            "extra": json_values,
        },
    )
    | json_values
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=st.lists(rows, min_size=1, max_size=4))
def test_any_json_lines_are_read_or_refused(tmp_path: Path, lines: list) -> None:
    path = jsonl(tmp_path / "fuzz", *lines)
    try:
        actions = read_script(path)
    except ValueError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert [a.time for a in actions] == [float(r["time"]) for r in lines]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=80))
def test_any_text_as_an_activation_file_is_read_or_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "times.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        times = read_activation_csv(path, 3)
    except ValueError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert all(0 <= t < float("inf") and 0 <= a < 3 for t, a in times)


def test_the_cli_refuses_a_hostile_script_before_creating_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = jsonl(tmp_path / "s", VALID, {**VALID, "args": {"content": "\ud800"}})
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[script]\nfile = "{script}"\n[population]\nagents = 5\n')
    out = tmp_path / "run.db"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith(f"oasis-des: error: {script}, row 2, field args") and "Traceback" not in err
    )
    assert not out.exists()


@pytest.mark.parametrize("write", [jsonl, csv_file])
def test_a_script_row_for_an_agent_outside_the_population_is_named_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write: Any
) -> None:
    script = write(tmp_path / "s", VALID, {**VALID, "agent_id": 5})
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[script]\nfile = "{script}"\n[population]\nagents = 5\n')
    out = tmp_path / "run.db"
    assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 2
    row = 3 if script.suffix == ".csv" else 2
    assert capsys.readouterr().err == (
        f"oasis-des: error: {script}, row {row}, field agent_id: agent 5 is not in the "
        "population (agents 0 to 4).\n"
    )
    assert not out.exists()
    assert len(read_script(script, agents=6)) == 2  # in a larger population it fits
