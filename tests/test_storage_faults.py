"""Storage faults: a full disk, a locked, read-only or foreign database, an occupied output
path. Each gives a clear error naming the file (exit code 2 on the command line, no
traceback) and leaves every database intact: a run stopped by a fault resumes to the
digest of an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import config, small_population
from hostile_values import table_dump

from oasis_des.cli import build_parser, main
from oasis_des.engine import checkpoint
from oasis_des.engine.commands import config_from_args
from oasis_des.engine.runlock import RunLock
from oasis_des.engine.simulation import Simulation
from oasis_des.platform import store
from oasis_des.platform.store import StorageError

DURATION = 240.0


def build(db: Path, **kw: Any) -> Simulation:
    cfg = config(output={"path": str(db)}, time={"duration": DURATION})
    return Simulation(cfg, population=small_population(40), **kw)


@pytest.fixture(scope="module")
def expected_digest(tmp_path_factory: pytest.TempPathFactory) -> str:
    sim = build(tmp_path_factory.mktemp("whole") / "whole.db")
    try:
        return sim.run().digest
    finally:
        sim.close()


def stopped_run(db: Path, until: float = 50.0) -> None:
    sim = build(db)
    sim.run(until=until)
    sim.close()


def resumed_digest(db: Path) -> str:
    sim = Simulation.resume(db, population=small_population(40))
    try:
        return sim.run().digest
    finally:
        sim.close()


def assert_intact_at_its_checkpoint(db: Path) -> float:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        saved = checkpoint.load(conn)
        last = conn.execute("SELECT MAX(sim_time) FROM trace").fetchone()[0]
    assert saved is not None and saved["resumable"]
    assert last is None or last <= saved["now"]  # nothing after the checkpoint was kept
    return float(saved["now"])


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_clean_error(code: int, err: str, *parts: str) -> None:
    assert code == 2, err
    assert err.startswith("oasis-des: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for part in parts:
        assert part in err, (part, err)


@pytest.fixture
def page_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Cap the pages of every database a Store opens (`limit["pages"]` more than it has):
    SQLite then fails writes with SQLITE_FULL, as on a full disk. New databases get 4 KiB
    pages, so that a small run needs several."""
    limit = {"pages": 0, "at_connect": 0}
    monkeypatch.setattr(store, "PAGE_SIZE", 4096)
    connect = store.Store._connect

    def limited(self: store.Store) -> sqlite3.Connection:
        conn = connect(self)
        limit["at_connect"] = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {limit['at_connect'] + limit['pages']}")
        return conn

    monkeypatch.setattr(store.Store, "_connect", limited)
    yield limit


# -- a full disk --------------------------------------------------------------------------
def test_disk_full_mid_run_keeps_the_last_checkpoint_and_resume_ends_as_uninterrupted(
    tmp_path: Path, expected_digest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "full.db"
    monkeypatch.setattr(store, "PAGE_SIZE", 4096)  # small pages: the run needs more than 3
    sim = build(db)
    conn = sim.platform.connection
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0] + 3}")
    with pytest.raises(StorageError, match="full") as info:
        sim.run()
    sim.close()
    assert f"Database {db}:" in str(info.value)
    assert str(info.value).endswith(f"continue it with `oasis-des resume {db}`.")
    assert 0 < assert_intact_at_its_checkpoint(db) < DURATION
    assert resumed_digest(db) == expected_digest  # space is back: no page limit now


def test_disk_full_while_signing_up_restarts_on_resume(
    tmp_path: Path, page_limit: dict[str, int]
) -> None:
    cfg = config(output={"path": str(tmp_path / "whole.db")}, time={"duration": 60.0})
    page_limit["pages"] = 10**9
    sim = Simulation(cfg, population=small_population(300))
    expected = sim.run().digest
    sim.close()
    db = tmp_path / "full.db"
    page_limit["pages"] = 5  # the run's config fits; 300 users with their trace rows do not
    with pytest.raises(sqlite3.OperationalError, match="full"):
        Simulation(cfg.override(output={"path": str(db)}), population=small_population(300))
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM user").fetchone() == (0,)  # all or nothing
        assert conn.execute("SELECT COUNT(*) FROM run_meta WHERE key = 'config'").fetchone() == (1,)
    page_limit["pages"] = 10**9
    sim = Simulation.resume(db, population=small_population(300))
    assert sim.run().digest == expected
    sim.close()


def test_disk_full_on_the_command_line_then_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], page_limit: dict[str, int]
) -> None:
    run = ("run", "--agents", "100", "--duration", "12h", "--seed", "5", "--quiet")
    page_limit["pages"] = 10**9
    code, out, _ = cli(capsys, *run, "--out", str(tmp_path / "whole.db"))
    assert code == 0
    digest = next(line for line in out.splitlines() if line.startswith("digest"))
    # Pages the set-up takes (users, sign-up rows): the run itself shall run out of space.
    args = build_parser().parse_args([*run, "--out", str(tmp_path / "setup.db")])
    sim = Simulation(config_from_args(args))
    setup_pages = sim.platform.connection.execute("PRAGMA page_count").fetchone()[0]
    sim.close()
    page_limit["pages"] = setup_pages - page_limit["at_connect"] + 10
    db = tmp_path / "full.db"
    code, _, err = cli(capsys, *run, "--out", str(db))
    assert_clean_error(code, err, "full", f"oasis-des resume {db}")
    assert 0 < assert_intact_at_its_checkpoint(db) < 720.0
    page_limit["pages"] = 10**9  # space again
    code, out, err = cli(capsys, "resume", str(db), "--quiet")
    assert code == 0, err
    assert digest in out.splitlines()


# -- a locked database --------------------------------------------------------------------
@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "BUSY_TIMEOUT_SECONDS", 0.2)


def test_a_locked_database_is_reported_after_the_busy_timeout_and_left_intact(
    tmp_path: Path,
    expected_digest: str,
    capsys: pytest.CaptureFixture[str],
    short_busy_timeout: None,
) -> None:
    db = tmp_path / "locked.db"
    stopped_run(db)
    with sqlite3.connect(db) as conn:
        before = table_dump(conn)
    other = sqlite3.connect(db, isolation_level=None)  # another program, writing
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT INTO run_meta (key, value) VALUES ('note', '\"mine\"')")
    with pytest.raises(StorageError, match="locked") as info:
        Simulation.resume(db, population=small_population(40))
    assert str(db) in str(info.value) and "0.2 s" in str(info.value)
    code, _, err = cli(capsys, "resume", str(db), "--quiet")
    assert_clean_error(code, err, str(db), "locked")
    other.execute("ROLLBACK")
    other.close()
    with sqlite3.connect(db) as conn:
        assert table_dump(conn) == before
    assert resumed_digest(db) == expected_digest


def test_a_database_locked_mid_run_stops_the_run_resumably(
    tmp_path: Path, expected_digest: str, short_busy_timeout: None
) -> None:
    db = tmp_path / "locked.db"
    sim = build(db)
    sim.run(until=50.0)
    other = sqlite3.connect(db, isolation_level=None)  # another program takes the write lock
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StorageError, match="locked") as info:
        sim.run()
    other.execute("ROLLBACK")
    other.close()
    sim.close()
    assert str(db) in str(info.value) and f"oasis-des resume {db}" in str(info.value)
    assert assert_intact_at_its_checkpoint(db) == 50.0
    assert resumed_digest(db) == expected_digest


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_run_database_is_written_by_one_process_at_a_time(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    cli = [sys.executable, "-m", "oasis_des.cli"]
    pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    running = subprocess.Popen(
        [*cli, "run", "--agents", "1500", "--duration", "48h", "--quiet", "--out", str(db)], **pipes
    )
    try:
        while not db.exists():
            assert running.poll() is None, running.communicate()
            time.sleep(0.01)
        others = [  # a second process resuming it, a third replacing it
            subprocess.Popen([*cli, "resume", str(db), "--quiet"], **pipes),
            subprocess.Popen([*cli, "run", "--agents", "10", "--duration", "1h", "--quiet",
                              "--overwrite", "--out", str(db)], **pipes),
        ]
        for other in others:
            _, err = other.communicate(timeout=120)
            assert_clean_error(other.returncode, err, f"Database {db} is in use by another process")
        assert running.poll() is None and db.exists()  # undisturbed
    finally:
        running.kill()
        running.communicate()
    RunLock(db).release()  # the killed process's lock went with it
    assert not Path(f"{db}-lock").exists()


# -- read-only files and directories ------------------------------------------------------
def unprivileged() -> list[str]:
    """A command prefix under which file permissions apply (root ignores them): nothing for
    other users; for root, `setpriv` without the capabilities that override permissions."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    if (
        shutil.which("setpriv") is None
        or subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode != 0
    ):
        pytest.skip("running as root, and permissions cannot be enforced (no setpriv)")
    return prefix


def cli_process(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*unprivileged(), sys.executable, "-m", "oasis_des.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def test_a_read_only_output_directory_is_a_clear_error(read_only_dir: Path) -> None:
    read_only_dir.chmod(0o555)
    out = read_only_dir / "run.db"
    done = cli_process("run", "--agents", "20", "--duration", "1h", "--out", str(out), "--quiet")
    assert_clean_error(done.returncode, done.stderr, str(out))
    assert not out.exists()


def test_a_read_only_database_is_refused_and_left_intact(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    stopped_run(db)
    with sqlite3.connect(db) as conn:
        before = table_dump(conn)
    db.chmod(0o444)
    done = cli_process("resume", str(db), "--quiet")
    db.chmod(0o644)
    assert_clean_error(done.returncode, done.stderr, str(db), "read-only")
    with sqlite3.connect(db) as conn:
        assert table_dump(conn) == before


# -- foreign files and occupied paths -----------------------------------------------------
def foreign_files(folder: Path) -> dict[str, Path]:
    """Files that are not run databases, each with its original bytes checked later."""
    text = folder / "notes.db"
    text.write_text("just some notes, not SQLite\n" * 100)
    empty = folder / "empty.db"
    empty.touch()
    other = folder / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES ('precious')")
    conn.close()
    personas = folder / "personas.json"
    personas.write_text('[{"username": "a", "realname": "A", "bio": "", "persona": ""}]')
    return {"text": text, "empty": empty, "sqlite": other, "json": personas}


@pytest.mark.parametrize("kind", ["text", "empty", "sqlite", "json"])
def test_a_foreign_file_given_to_resume_is_refused_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = foreign_files(tmp_path)[kind]
    original = path.read_bytes()
    code, _, err = cli(capsys, "resume", str(path), "--quiet")
    assert_clean_error(code, err, str(path), "not an")
    assert path.read_bytes() == original
    assert not list(tmp_path.glob("*-wal")) and not list(tmp_path.glob("*-shm"))


@pytest.mark.parametrize("kind", ["text", "sqlite"])
def test_a_foreign_file_at_the_output_path_is_kept_unless_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = foreign_files(tmp_path)[kind]
    original = path.read_bytes()
    run = ("run", "--agents", "10", "--duration", "30m", "--quiet", "--out", str(path))
    code, _, err = cli(capsys, *run)
    assert_clean_error(code, err, str(path), "already exists", "--overwrite")
    assert path.read_bytes() == original
    code, _, err = cli(capsys, *run, "--overwrite")
    assert code == 0, err
    with sqlite3.connect(path) as conn:  # replaced by the run
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "t" not in names and conn.execute("SELECT COUNT(*) FROM user").fetchone() == (10,)


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_directory_at_the_output_path_is_never_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], overwrite: bool
) -> None:
    folder = tmp_path / "run.db"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    run = ["run", "--agents", "10", "--duration", "30m", "--quiet", "--out", str(folder)]
    code, _, err = cli(capsys, *run, *(["--overwrite"] if overwrite else []))
    assert_clean_error(code, err, str(folder))
    assert (folder / "keep.txt").read_text() == "keep"


@pytest.mark.parametrize("name", ["file.txt/run.db", "x" * 300 + ".db"])
def test_an_output_path_that_cannot_be_created_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (tmp_path / "file.txt").write_text("a file, not a directory")
    out = tmp_path / name
    code, _, err = cli(
        capsys, "run", "--agents", "10", "--duration", "30m", "--quiet", "--out", str(out)
    )
    assert_clean_error(code, err, "Cannot create output database")
    assert (tmp_path / "file.txt").read_text() == "a file, not a directory"


@pytest.mark.parametrize("name", ["run #1.db", "what?.db", "100% done.db", "😀 \u202eñ.db"])
def test_runs_at_paths_with_uri_characters_resume(
    tmp_path: Path, expected_digest: str, name: str
) -> None:
    db = tmp_path / name
    stopped_run(db)
    assert resumed_digest(db) == expected_digest
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".db") == [name]
