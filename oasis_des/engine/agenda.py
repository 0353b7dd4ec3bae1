"""The agenda: every future event of a run, as data, so that a checkpoint can hold it.

SimPy processes are generators, which cannot be saved. The engine therefore schedules
plain entries instead: (time, kind, payload), each a SimPy timeout whose callback hands the
payload to the handler registered for `kind`. Saving the agenda saves the run's future.

SimPy runs simultaneous timeouts in the order they were created. Entries carry their
creation number, and `restore` re-creates saved entries in (time, number) order, so a
restored run fires them in exactly the order the original run would have. Entries fire at
exactly their time (see `_delay`), whenever they were scheduled, so a restored run's clock
reads the same floats as the original's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import simpy

Handler = Callable[[Any], None]


@dataclass(frozen=True, kw_only=True)
class Kind:
    """What to do when an entry of this kind fires, and how to save its payload as JSON."""

    fire: Handler
    save: Callable[[Any], Any] = lambda payload: payload
    load: Callable[[Any], Any] = lambda saved: saved


class Agenda:
    """Pending entries of one SimPy environment."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._kinds: dict[str, Kind] = {}
        self._pending: dict[int, tuple[float, str, Any]] = {}
        self._next = 0

    def register(self, name: str, kind: Kind) -> None:
        self._kinds[name] = kind

    def at(self, time: float, kind: str, payload: Any = None) -> None:
        """Fire `kind` with `payload` at simulated minute `time` (not before now)."""
        number = self._next
        self._next += 1
        time = max(time, self.env.now)
        self._pending[number] = (time, kind, payload)
        event = self.env.timeout(_delay(self.env.now, time))
        event.callbacks.append(lambda _event: self._fire(number))

    def _fire(self, number: int) -> None:
        _, kind, payload = self._pending.pop(number)
        self._kinds[kind].fire(payload)

    def __len__(self) -> int:
        return len(self._pending)

    def save(self) -> list[list[Any]]:
        """The pending entries, in the order they will fire: [[time, kind, payload], ...]."""
        return [
            [time, kind, self._kinds[kind].save(payload)]
            for _, (time, kind, payload) in sorted(
                self._pending.items(), key=lambda item: (item[1][0], item[0])
            )
        ]

    def restore(self, saved: list[list[Any]]) -> None:
        """Schedule saved entries again (on a fresh agenda whose clock is at the save time)."""
        for time, kind, payload in saved:
            if kind not in self._kinds:
                raise ValueError(f"Checkpoint holds an event of unknown kind {kind!r}.")
            self.at(float(time), kind, self._kinds[kind].load(payload))


def _delay(now: float, time: float) -> float:
    """The delay d for which SimPy's `now + d` is exactly `time` (or 0 if time is past).

    `time - now` alone can miss by a rounding step, and then a run resumed at another
    `now` would fire the same entry at a neighbouring float.
    """
    if time <= now:
        return 0.0
    d = time - now
    while now + d < time:
        d = math.nextafter(d, math.inf)
    while now + d > time:
        d = math.nextafter(d, -math.inf)
    return d
