"""Tiny run databases built action by action through the Platform API, at chosen times."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oasis_des import Platform


def platform_db(path: Path, kind: str = "twitter", users: int = 8) -> Platform:
    """A file-backed platform with `users` signed-up users (ids 0..users-1) at minute 0."""
    p = Platform(db_path=path, kind=kind)
    for i in range(users):
        assert p.sign_up(i, f"user{i}", f"User {i}", "bio")["success"]
    return p


def act(p: Platform, time: float, user: int, action: str, **args: Any) -> dict[str, Any]:
    """`user` does `action` at simulated minute `time`; the action must succeed."""
    p.now = time
    result = p.execute(user, action, **args)
    assert result["success"] is True, result
    return result
