"""How often Python's garbage collector runs while a run advances.

Each activation allocates hundreds of short-lived containers (post views, observations,
SimPy events) that reference counting frees at once. The collector, though, counts
allocations, not garbage: at its default threshold (700) it ran ~1,400 times in a day of
10,000 agents and took ~1 s, about 5 % of the run, mostly tracing objects about to be freed
anyway. A larger young-generation threshold keeps collection (of the few reference cycles)
but runs it rarely.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

# Allocations (net of frees) between young-generation collections during a run.
YOUNG_THRESHOLD = 50_000


@contextmanager
def rare_collections(young: int = YOUNG_THRESHOLD) -> Iterator[None]:
    """A context in which the young generation is collected after `young` allocations (or
    the process's own threshold, if larger); the thresholds are restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
