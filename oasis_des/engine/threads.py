"""How many threads numpy's BLAS may use while a run advances.

The event loop runs on one thread, so BLAS threads only help the few large matrix products
(ranking a tick's feeds). After each product OpenBLAS keeps its idle threads spinning for a
while, which takes the other core from whatever else runs (the WAL copier, a local LLM
server, other runs): on 2 busy cores, 10,000 agents ran twice as fast with one thread.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from threadpoolctl import threadpool_limits


def blas_threads(limit: int) -> AbstractContextManager[object]:
    """A context in which BLAS libraries use at most `limit` threads (0: their default)."""
    if limit <= 0:
        return nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")
