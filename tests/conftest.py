"""Fixtures: small Twitter and Reddit platforms with a few signed-up users."""

from __future__ import annotations

from typing import Iterator

import pytest

from oasis_des import Platform

USERS = (
    (0, "alice", "Alice", "Likes cats."),
    (1, "bob", "Bob", "Writes about dogs."),
    (2, "carol", "Carol", "Reads everything."),
)


def make_platform(kind: str, users: int = 3, **settings: object) -> Platform:
    p = Platform(db_path=":memory:", kind=kind, **settings)
    for agent_id, user_name, name, bio in USERS[:users]:
        result = p.sign_up(agent_id=agent_id, user_name=user_name, name=name, bio=bio)
        assert result == {"success": True, "user_id": agent_id}
    return p


@pytest.fixture
def reddit() -> Iterator[Platform]:
    p = make_platform("reddit")
    yield p
    p.close()


@pytest.fixture
def twitter() -> Iterator[Platform]:
    p = make_platform("twitter")
    yield p
    p.close()


@pytest.fixture(params=["twitter", "reddit"])
def platform(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """Both kinds, three users (0 alice, 1 bob, 2 carol)."""
    p = make_platform(request.param)
    yield p
    p.close()


@pytest.fixture(params=["twitter", "reddit"])
def strict(request: pytest.FixtureRequest) -> Iterator[Platform]:
    """Both kinds with allow_self_rating=False."""
    p = make_platform(request.param, allow_self_rating=False)
    yield p
    p.close()
