"""Independent, named random streams.

Every random draw in a run comes from a stream keyed by (seed, purpose, *keys), built
with numpy's SeedSequence, so adding an agent or a component never shifts another
stream's draws and no module-level random state exists.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

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
    if all(type(k) is int for k in keys):
        return np.float64(keyed_uniform(seed, purpose, *keys))  # type: ignore[arg-type]
    return _to_uniform(keyed_states(seed, purpose, *keys))


def keyed_states(seed: int, purpose: str, *keys: np.ndarray | int) -> np.ndarray:
    """The hash states after (seed, purpose, *keys), broadcast: `uniforms_after(states, k)`
    equals keyed_uniforms(seed, purpose, *keys, k), so draws that share leading keys (every
    agent's draw of each tick) can hash those keys once."""
    with np.errstate(over="ignore"):
        h = np.asarray(_mix(np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) ^ np.uint64(purpose_code(purpose))))
        for key in keys:
            h = _mix(h * _GOLDEN + np.asarray(key).astype(np.uint64) + np.uint64(1))
    return h


def uniforms_after(states: np.ndarray, key: np.ndarray | int) -> np.ndarray:
    """The uniforms keyed by one more key after `states` (see `keyed_states`)."""
    with np.errstate(over="ignore"):
        return _to_uniform(_mix(states * _GOLDEN + np.asarray(key).astype(np.uint64) + np.uint64(1)))


def _to_uniform(h: np.ndarray) -> np.ndarray:
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


_MASK = 0xFFFFFFFFFFFFFFFF


def _mix_int(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@lru_cache(maxsize=256)
def _purpose_state(seed: int, purpose: str) -> int:
    """The hash state before any key (memoised: a run uses a handful of purposes)."""
    return _mix_int((int(seed) & _MASK) ^ purpose_code(purpose))


def _keyed_state(seed: int, purpose: str, keys: tuple[int, ...]) -> int:
    h = _purpose_state(seed, purpose)
    for k in keys:
        h = _mix_int((h * 0x9E3779B97F4A7C15 + (k & _MASK) + 1) & _MASK)
    return h


def _uniform(state: int, key: int) -> float:
    """The uniform of the state after one more key."""
    h = _mix_int((state * 0x9E3779B97F4A7C15 + (key & _MASK) + 1) & _MASK)
    return ((h >> 11) + 0.5) / float(1 << 53)


def keyed_uniform(seed: int, purpose: str, *keys: int) -> float:
    """The scalar case of `keyed_uniforms` in plain integers (same value, no numpy overhead)."""
    if not keys:
        return ((_purpose_state(seed, purpose) >> 11) + 0.5) / float(1 << 53)
    return _uniform(_keyed_state(seed, purpose, keys[:-1]), keys[-1])


class KeyedStream:
    """A cheap sequential stream over `keyed_uniform`: draw i is keyed (..., i).

    Creating a numpy Generator costs tens of microseconds; a feed refresh needs a handful of
    draws, so per-call streams use this instead (same guarantees: a pure function of keys).
    The hash of (seed, purpose, keys) is computed once; each draw mixes in one key.
    """

    __slots__ = ("_state", "_i")

    def __init__(self, seed: int, purpose: str, *keys: int) -> None:
        self._state, self._i = _keyed_state(seed, purpose, keys), 0

    def random(self) -> float:
        """The next uniform in (0, 1)."""
        self._i += 1
        return _uniform(self._state, self._i)

    def at(self, key: int) -> float:
        """keyed_uniform(seed, purpose, *keys, key), leaving the sequence where it is."""
        return _uniform(self._state, key)

    def integers(self, low: int, high: int) -> int:
        """The next integer uniform in [low, high)."""
        return low + min(int(self.random() * (high - low)), high - low - 1)

    def sample(self, population: list[int], k: int) -> list[int]:
        """k distinct elements in their original order (partial Fisher-Yates)."""
        if k >= len(population):
            return list(population)
        idx = list(range(len(population)))
        for j in range(k):
            r = self.integers(j, len(idx))
            idx[j], idx[r] = idx[r], idx[j]
        return [population[i] for i in sorted(idx[:k])]
