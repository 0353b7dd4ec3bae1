"""The agenda: every future event of a run, as data, so that a checkpoint can hold it.

SimPy processes are generators, which cannot be saved. The engine therefore schedules
plain entries instead: (time, kind, payload), each a SimPy timeout whose callback hands the
payload to the handler registered for `kind`. Saving the agenda saves the run's future.

SimPy runs simultaneous timeouts in the order they were created. Entries carry their
creation number, and `restore` re-creates saved entries in (time, number) order, so a
restored run fires them in exactly the order the original run would have. Entries fire at
exactly their time (see `Environment`), whenever they were scheduled, so a restored run's
clock reads the same floats as the original's.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappush
from typing import Any, Callable

import simpy
from simpy.events import NORMAL, Event, EventPriority

Handler = Callable[[Any], None]


class Environment(simpy.Environment):
    """A SimPy environment whose timeouts can fire at an exact time.

    SimPy fires a timeout at `now + delay`, and for some (now, time) no float delay gives
    exactly `time`: past twice `now`, the sums can land on every other float only (a
    continuous run's agent waking 160 minutes after minute 81 fired an ulp early). A run
    restored from a checkpoint schedules the saved entries from another `now`, so without
    this they could fire at neighbouring floats and the tables would differ.
    """

    _at: float | None = None  # the exact time of the timeout being created

    def timeout_at(self, time: float) -> simpy.Timeout:
        """A timeout firing at exactly `time` (which must not be before now)."""
        self._at = time
        try:
            return self.timeout(time - self.now)
        finally:
            self._at = None

    def schedule(self, event: Event, priority: EventPriority = NORMAL, delay: float = 0) -> None:
        if self._at is None:
            super().schedule(event, priority, delay)
        else:  # SimPy's own queue entry, with the exact time in place of now + delay
            heappush(self._queue, (self._at, priority, next(self._eid), event))


@dataclass(frozen=True, kw_only=True)
class Kind:
    """What to do when an entry of this kind fires, and how to save its payload as JSON."""

    fire: Handler
    save: Callable[[Any], Any] = lambda payload: payload
    load: Callable[[Any], Any] = lambda saved: saved


class Agenda:
    """Pending entries of one SimPy environment."""

    def __init__(self, env: Environment) -> None:
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
        event = self.env.timeout_at(time)
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
