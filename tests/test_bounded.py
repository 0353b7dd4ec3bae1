"""Bounded caches forget their oldest entries, an eighth of the bound at a time."""

from __future__ import annotations

from oasis_des.platform.bounded import trim_oldest


def test_within_the_bound_nothing_is_dropped():
    cache = {i: i for i in range(16)}
    trim_oldest(cache, 16)
    assert list(cache) == list(range(16))


def test_beyond_the_bound_the_oldest_are_dropped_with_room_to_spare():
    cache = {i: i for i in range(17)}
    cache[3] = cache.pop(3)  # re-inserted: now the newest
    trim_oldest(cache, 16)
    assert list(cache) == [*range(4, 17), 3][-14:]  # 16 - 16 // 8 entries kept
    assert len(cache) == 14


def test_small_bounds_drop_only_the_excess():
    cache = {i: i for i in range(5)}
    trim_oldest(cache, 3)
    assert list(cache) == [2, 3, 4]
