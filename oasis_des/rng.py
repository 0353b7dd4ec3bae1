"""Independent, named random streams.

Every random draw in a run comes from a stream keyed by (seed, purpose, *keys), built
with numpy's SeedSequence, so adding an agent or a component never shifts another
stream's draws and no module-level random state exists.
"""

from __future__ import annotations

import zlib

import numpy as np


def purpose_code(purpose: str) -> int:
    """A stable integer for a purpose name (Python's hash() is salted per process)."""
    return zlib.crc32(purpose.encode("utf-8"))


def stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """The generator for one purpose and key tuple, e.g. stream(seed, "refresh", agent, n)."""
    entropy = [int(seed) & 0xFFFFFFFFFFFFFFFF, purpose_code(purpose), *(int(k) for k in keys)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
