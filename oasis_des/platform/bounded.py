"""Bounded caches: plain dicts that forget their oldest entries.

Dicts keep insertion order, so the oldest entry is the first. But finding it scans past
every entry deleted before it, until the dict is next resized: evicting one entry at a
time from a full cache of 100,000 cost ~50 µs per eviction, which at a million agents
(where the caches stay full) added up to a large share of a run. Trimming an eighth of
the entries at once makes eviction O(1) amortised.
"""

from __future__ import annotations

from itertools import islice
from typing import Any


def trim_oldest(cache: dict[Any, Any], max_entries: int) -> None:
    """If `cache` holds more than `max_entries`, drop its oldest entries, leaving 7/8 of
    `max_entries` (at least one fewer than the bound)."""
    excess = len(cache) - max_entries
    if excess > 0:
        for key in list(islice(cache, excess + max_entries // 8)):
            del cache[key]
