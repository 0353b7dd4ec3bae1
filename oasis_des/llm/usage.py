"""Usage accounting: one record per LLM call, run totals, and the run's `llm_call` table.

Records are kept in memory until the engine commits, then written sorted by (simulated
time, agent, activation, purpose), so row ids never depend on which HTTP answer came back
first. Calls finish in any order while others are still running, so a commit writes only
the records older than the oldest request still undecided (`before`): every later record
sorts after them, and the rows come out in one global order whenever the commits fall.
Totals count written records, so they too are the same in every run. Columns that depend on the wall clock or the transport (endpoint,
latency, cache hit, attempts) are left out of the run digest (engine/digest.py).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from operator import attrgetter
from typing import Any

from oasis_des.llm import faults


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One LLM call (a decision or an interview answer); a row of `llm_call`."""

    agent_id: int
    sim_time: float
    activation: int
    purpose: str  # "decide" or "interview"
    model: str
    endpoint: str | None  # base URL that answered; None for cache hits
    prompt_tokens: int
    completion_tokens: int
    cost: float  # USD at the profile's prices
    latency_s: float
    cache_hit: bool
    attempts: int  # HTTP attempts (0 for cache hits)
    error: str | None  # final fault category, None when a decision came out
    cached_prompt_tokens: int = 0  # of prompt_tokens, read from the server's prompt cache


_COLUMNS = tuple(f.name for f in fields(CallRecord))
_ROW = attrgetter(*_COLUMNS)  # dataclasses.astuple deep-copies: many times slower
_ORDER = attrgetter("sim_time", "agent_id", "activation", "purpose")
_INSERT = f"INSERT INTO llm_call ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


@dataclass(frozen=True, kw_only=True)
class LLMUsage:
    """LLM totals of a run (`RunResult.llm`)."""

    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # price of the tokens of calls sent to a server
    cached_cost_usd: float  # price of the tokens answered from the cache (not paid again)
    errors: dict[str, int] = field(default_factory=dict)  # failed calls by fault category
    retries: dict[str, int] = field(default_factory=dict)  # retried transient faults
    latency_s: float = 0.0  # summed wall time of calls sent to a server
    cached_prompt_tokens: int = 0  # prompt tokens the servers read from their prompt caches

    @property
    def answered(self) -> int:
        """Calls that got an answer (from a server or the cache): the others failed in
        transport and report no tokens."""
        return self.calls - sum(n for c, n in self.errors.items() if c in faults.UNANSWERED)

    @property
    def prompt_tokens_per_call(self) -> float:
        """Mean prompt tokens of the calls that got an answer."""
        return self.prompt_tokens / self.answered if self.answered else 0.0


class UsageLog:
    """Collects call records and running totals for one run."""

    def __init__(self) -> None:
        self._pending: list[CallRecord] = []
        self._calls = 0
        self._hits = 0
        self._prompt = 0
        self._completion = 0
        self._server_cached = 0
        self._cost = 0.0
        self._cached_cost = 0.0
        self._latency = 0.0
        self._errors: Counter[str] = Counter()
        self._retries: Counter[str] = Counter()

    def add(self, record: CallRecord, retries: dict[str, int] | None = None) -> None:
        """Keep a finished call until it is written (retries are counted at once: they
        depend on the transport, like latency)."""
        self._pending.append(record)
        if retries:
            self._retries.update(retries)

    def _count(self, record: CallRecord) -> None:
        self._calls += 1
        self._prompt += record.prompt_tokens
        self._completion += record.completion_tokens
        self._server_cached += record.cached_prompt_tokens
        if record.cache_hit:
            self._hits += 1
            self._cached_cost += record.cost
        else:
            self._cost += record.cost
            self._latency += record.latency_s
        if record.error is not None:
            self._errors[record.error] += 1

    @property
    def calls(self) -> int:
        return self._calls

    def write(self, conn: sqlite3.Connection, before: float = float("inf")) -> None:
        """Append the records of calls observed before simulated minute `before` to
        `llm_call`, in simulated-time order."""
        rows = sorted((r for r in self._pending if r.sim_time < before), key=_ORDER)
        if not rows:
            return
        self._pending = [r for r in self._pending if r.sim_time >= before]
        for record in rows:
            self._count(record)
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        conn.executemany(_INSERT, [_ROW(r) for r in rows])
        if own:
            conn.execute("COMMIT")

    def state(self) -> dict[str, Any]:
        """The totals and the records not yet written, as JSON, for checkpoints."""
        return {**asdict(self.totals()), "pending": [asdict(r) for r in self._pending]}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a `state()`."""
        state = dict(state)
        self._pending = [CallRecord(**r) for r in state.pop("pending", ())]
        u = LLMUsage(**state)
        self._calls, self._hits = u.calls, u.cache_hits
        self._prompt, self._completion = u.prompt_tokens, u.completion_tokens
        self._server_cached = u.cached_prompt_tokens
        self._cost, self._cached_cost, self._latency = u.cost_usd, u.cached_cost_usd, u.latency_s
        self._errors, self._retries = Counter(u.errors), Counter(u.retries)

    def totals(self) -> LLMUsage:
        return LLMUsage(
            calls=self._calls,
            cache_hits=self._hits,
            prompt_tokens=self._prompt,
            completion_tokens=self._completion,
            cost_usd=self._cost,
            cached_cost_usd=self._cached_cost,
            errors=dict(sorted(self._errors.items())),
            retries=dict(sorted(self._retries.items())),
            latency_s=self._latency,
            cached_prompt_tokens=self._server_cached,
        )
