"""Copying the write-ahead log on a background thread keeps every committed row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oasis_des.platform import store as store_module
from oasis_des.platform.store import Store


def _write(store: Store, rows: range) -> None:
    conn = store.connection
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO run_meta (key, value) VALUES (?, ?)",
                     [(f"k{i}", "x" * 5000) for i in rows])
    conn.execute("COMMIT")
    store.committed()


def test_rows_committed_while_the_copier_runs_are_all_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "run.db"
    store = Store(db)
    store.copy_wal_in_background()
    assert store.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    for start in range(0, 3000, 500):
        _write(store, range(start, start + 500))
    store.close()
    assert not Path(f"{db}-wal").exists()  # the last connection copied the rest
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM run_meta WHERE key LIKE 'k%'").fetchone() == (3000,)


def test_the_log_starts_over_every_few_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every third commit the writer copies the rest of the log itself, so the log file
    never holds much more than three of the twelve stretches written (~2.5 MB each, in
    4 KiB pages so that a stretch's frames are about its rows)."""
    monkeypatch.setattr(store_module, "_WAL_MAX_STRETCHES", 3)
    monkeypatch.setattr(store_module, "PAGE_SIZE", 4096)
    db = tmp_path / "run.db"
    store = Store(db)
    store.copy_wal_in_background()
    for start in range(0, 6000, 500):
        _write(store, range(start, start + 500))
    assert Path(f"{db}-wal").stat().st_size < 4.5 * 500 * 5000
    store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM run_meta WHERE key LIKE 'k%'").fetchone() == (6000,)


def test_a_failed_copier_hands_checkpoints_back_to_the_writer(tmp_path: Path) -> None:
    store = Store(tmp_path / "run.db")
    store.copy_wal_in_background()
    store._wal.failed = True  # as after a full disk on the copier's connection
    _write(store, range(10))
    assert store._wal is None
    assert store.connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    store.close()


def test_in_memory_databases_have_no_copier() -> None:
    store = Store(":memory:")
    store.copy_wal_in_background()
    _write(store, range(3))
    assert store._wal is None
    store.close()


def test_a_run_never_closed_leaves_its_rows_in_the_database_file_alone(tmp_path: Path) -> None:
    """A script that ends without close(): at exit the run copies its log into the file
    and releases its lock, so the file copied elsewhere holds every row."""
    import subprocess
    import sys

    db = tmp_path / "run.db"
    script = (
        "from oasis_des.engine.config import Config\n"
        "from oasis_des.engine.simulation import Simulation\n"
        "config = Config().override(seed=3, population={'agents': 60},\n"
        "    time={'duration': '2h'}, output={'path': %r})\n"
        "print(Simulation(config).run().total_actions)\n" % str(db)
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.db"]
    alone = tmp_path / "copy.db"
    alone.write_bytes(db.read_bytes())  # the file without its companions
    with sqlite3.connect(alone) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM trace").fetchone()[0]
    assert rows == int(done.stdout.split()[-1]) and rows > 60


def _has_trace_index(db: Path) -> bool:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' "
                            "AND name = 'trace_user_idx'").fetchone() is not None


def test_the_trace_index_is_built_when_the_run_ends_or_closes(tmp_path: Path) -> None:
    """A run writes `trace` without its user index (store.py: RUN_DEFERRED_INDEXES) and
    builds it at the end: a finished run has it before close(), a run advanced part of the
    way gets it at close(), and a database closed without either gets it at next open."""
    from oasis_des.engine.config import Config
    from oasis_des.engine.simulation import Simulation

    def config(name: str) -> Config:
        return Config().override(seed=3, population={"agents": 60}, time={"duration": "2h"},
                                 output={"path": str(tmp_path / name)})

    whole = Simulation(config("whole.db"))
    whole.run()
    assert _has_trace_index(tmp_path / "whole.db")
    whole.close()

    part = Simulation(config("part.db"))
    part.run(until=30.0)
    assert not _has_trace_index(tmp_path / "part.db")  # the run goes on: no index yet
    part.close()
    assert _has_trace_index(tmp_path / "part.db")

    broken = Store(tmp_path / "broken.db")  # as if its process died during a run
    broken.defer_indexes()
    broken.connection.close()
    assert not _has_trace_index(tmp_path / "broken.db")
    Store(tmp_path / "broken.db").close()
    assert _has_trace_index(tmp_path / "broken.db")
    with sqlite3.connect(tmp_path / "whole.db") as conn:  # and queries by user use it
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT info FROM trace WHERE user_id = 1")
        assert "trace_user_idx" in " ".join(str(r) for r in plan.fetchall())


def test_new_databases_get_large_pages_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE t (x)")
    for path, size in ((tmp_path / "new.db", store_module.PAGE_SIZE), (old, 4096)):
        store = Store(path)
        assert store.connection.execute("PRAGMA page_size").fetchone() == (size,)
        store.close()
