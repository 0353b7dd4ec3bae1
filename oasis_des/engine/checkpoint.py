"""Checkpoints: everything a run needs to continue, kept in the run's own database.

The engine writes one at every commit, in the same transaction as the rows of the stretch
it closes, so the database always holds a state and the tables that belong to it: killing
the process at any moment loses only the uncommitted stretch, which a resumed run redoes
exactly. A checkpoint is JSON plus numpy arrays (per-agent state of large populations),
each array stored as its own `.npy` blob (integer arrays zlib-compressed).
"""

from __future__ import annotations

import io
import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from oasis_des.engine.config import Config, ConfigError, build_config
from oasis_des.platform.store import storage_error

_STATE = "state"
_ARRAY = "__array__"
_PACKED = ".z"  # zlib-compressed


def save(conn: sqlite3.Connection, state: dict[str, Any]) -> None:
    """Replace the checkpoint with `state` (JSON-able values and numpy arrays, nested)."""
    arrays: dict[str, bytes] = {}

    def stash(value: Any) -> Any:
        """An array's reference (the JSON encoder asks for what it cannot write itself, so
        the large plain parts, e.g. the agenda's entries, are never walked in Python)."""
        if not isinstance(value, np.ndarray):
            raise TypeError(f"A checkpoint cannot hold a {type(value).__name__}.")
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        data = buffer.getvalue()
        # Per-agent counters are mostly zeros and shrink ~80x; opinions (floats) don't.
        packed = value.dtype.kind in "iub"
        name = f"array{len(arrays)}{_PACKED if packed else ''}"
        arrays[name] = zlib.compress(data, 1) if packed else data
        return {_ARRAY: name}

    text = json.dumps(state, ensure_ascii=False, allow_nan=False, default=stash)
    conn.execute("DELETE FROM checkpoint")
    conn.executemany(
        "INSERT INTO checkpoint (name, data) VALUES (?, ?)",
        [(_STATE, text), *arrays.items()],
    )


def load(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """The saved state, or None when the database holds no checkpoint."""
    parts = dict(conn.execute("SELECT name, data FROM checkpoint").fetchall())
    if _STATE not in parts:
        return None

    def unpack(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {_ARRAY}:
                name = value[_ARRAY]
                data = parts[name]
                if name.endswith(_PACKED):
                    data = zlib.decompress(data)
                return np.load(io.BytesIO(data), allow_pickle=False)
            return {k: unpack(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unpack(v) for v in value]
        return value

    return unpack(json.loads(parts[_STATE]))


def existing_run_file(db_path: str | Path) -> Path:
    """`db_path` if it is a file; else an error saying it is a directory or missing."""
    path = Path(db_path)
    if path.is_dir():
        raise IsADirectoryError(f"Run database {path} is a directory; expected its database file.")
    if not path.is_file():
        raise FileNotFoundError(f"Run database {path} does not exist.")
    return path


def read_checkpoint(db_path: str | Path) -> tuple[Config, dict[str, Any] | None]:
    """The config of a run database and its checkpoint (None: the run never committed)."""
    path = existing_run_file(db_path)
    try:  # read-only: a foreign file is left exactly as it was
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM run_meta WHERE key = 'config'").fetchone()
            saved = load(conn) if row is not None else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")):
            raise storage_error(str(path), exc) from None
        raise ValueError(f"{path} is not an oasis-des run database ({exc}).") from None
    if row is None:
        raise ValueError(f"{path} is not an oasis-des run database (it holds no run config).")
    try:
        config = build_config(json.loads(row[0]))
    except ConfigError as exc:
        raise ValueError(f"{path}: its run config is invalid ({exc}).") from None
    config = config.override(output={"path": str(path), "overwrite": False})
    if saved is not None and not saved.get("resumable", False):
        raise ValueError(
            f"{path} stopped at minute {saved.get('now', 0):g} while the platform server was "
            "busy (service times are set), where no checkpoint can be taken; it cannot be resumed."
        )
    return config, saved
