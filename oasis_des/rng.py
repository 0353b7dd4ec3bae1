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


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective avalanche of 64-bit words."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def keyed_uniforms(seed: int, purpose: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniforms in (0, 1), one per element of the broadcast `keys`, as a pure function.

    Vectorised counter-based draws: the value for (seed, purpose, k1, k2, ...) never depends
    on which other draws are made in the same call, so a batch of decisions draws exactly
    what each decision would draw alone (batching cannot change results).
    """
    with np.errstate(over="ignore"):
        h = np.asarray(_mix(np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) ^ np.uint64(purpose_code(purpose))))
        for key in keys:
            k = np.asarray(key).astype(np.uint64)
            h = _mix(h * _GOLDEN + k + np.uint64(1))
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
