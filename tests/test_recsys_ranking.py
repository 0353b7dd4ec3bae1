"""The threshold scan behind `twitter` and `embedding`: the exact top k, one user or many."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine_helpers import config
from oasis_des.agents.synthetic import generate_population
from oasis_des.engine.simulation import Simulation
from oasis_des.platform.platform import Platform
from oasis_des.platform.recsys import ranking, topk


def brute_force(vectors, weights, query, hidden, keep, twins=None):
    """The `keep` best rows by (score, row), highest first, never `hidden` (a row with a
    twin has its twin's similarity)."""
    similarity = vectors @ query
    if twins is not None:
        similarity = similarity[twins]
    scores = (np.maximum(similarity, 0.0) + ranking.SIM_FLOOR) * weights
    rows = [r for r in range(len(vectors)) if r not in set(hidden.tolist())]
    return sorted(rows, key=lambda r: (scores[r], r), reverse=True)[:keep]


@pytest.mark.parametrize("seed", range(6))
def test_threshold_scan_finds_the_exact_top_for_each_query_alone_or_together(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "FIRST_CHUNK", 16)  # many chunks, early and late stops
    monkeypatch.setattr(ranking, "SUB_CHUNK", 7)  # chunks scored in blocks
    monkeypatch.setattr(ranking, "SCORE_BUDGET", 0)
    gather = 8 * (seed % 2)  # both ways of scoring: whole window (settled) or chunks
    # blocks merged by their entrants only, or whole
    monkeypatch.setattr(topk.Entrants, "DENSE_SHARE", (1.0, -1.0)[seed // 3])
    rng = np.random.default_rng(seed)
    n, dim, users = int(rng.integers(1, 900)), 8, 7
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # heavy-tailed weights with ties (equal recency and popularity are common)
    weights = np.round(rng.pareto(1.5, n) + 0.01, 1).astype(np.float32)
    # a third of the rows repeat an earlier row's vector, as reposts do their source's
    twins = np.arange(n)
    for row in np.flatnonzero(rng.random(n) < 0.33):
        if row:
            twins[row] = twins[int(rng.integers(0, row))]
            vectors[row] = vectors[twins[row]]
    twins = twins if seed % 3 else np.arange(n)  # and windows without reposts
    queries = rng.normal(size=(users, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)  # as profiles are
    queries[0] = 0.0  # a user with no interests: by weight, ties to the newer post
    hidden = [rng.choice(n, int(rng.integers(0, n // 2 + 1)), replace=False) for _ in range(users)]
    order = np.argpartition(-weights, ranking._chunk_starts(n))
    scratch = np.full(n, -1, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)

    def scan(queries: np.ndarray, hidden: list[np.ndarray], keep: int, k: int,
             gather: int = gather) -> list:
        monkeypatch.setattr(ranking, "GATHER_USERS", gather)
        best = ranking._threshold_scan(vectors, weights, order, queries, hidden, keep, k,
                                       scratch, rank, twins)
        return [ranking.post_ids(line, 0).tolist() for line in best.keys]  # rows, best first

    for keep, k in ((3, 3), (12, 12), (12, 2)):
        together = scan(queries, hidden, keep, k)
        for u in range(users):
            alone = scan(queries[u : u + 1], [hidden[u]], keep, k)[0]
            assert together[u] == alone
            # settled at once from the whole window's scores: what the chunks keep
            chunked, settled = (scan(queries[u : u + 1], [hidden[u]], keep, k, g)[0]
                                for g in (0, 1))
            assert settled == chunked == alone
            expected = brute_force(vectors, weights, queries[u], hidden[u], keep, twins)
            assert together[u][:k] == expected[:k]
        assert (scratch == -1).all()


@pytest.mark.parametrize("recommender, exact_rows", [
    ("twitter", 4096), ("twitter", 8), ("embedding", 4096), ("embedding", 8),
])
def test_ranking_a_ticks_users_together_changes_no_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recommender: str, exact_rows: int
) -> None:
    """Stepped runs rank each tick's refreshing users together: the run must be the one
    ranking them one at a time gives (also with coarse vectors and re-ranking)."""
    monkeypatch.setattr(ranking, "EXACT_ROWS", exact_rows)

    def digest(name: str) -> str:
        cfg = config(output={"path": str(tmp_path / f"{name}.db")}, time={"duration": 360.0},
                     platform={"settings": {"recommender": recommender}})
        sim = Simulation(cfg, population=generate_population(150, seed=3))
        try:
            return sim.run().digest
        finally:
            sim.close()

    together = digest("together")
    with monkeypatch.context() as m:
        m.setattr(Platform, "prepare_refreshes", lambda self, agent_ids: None)
        alone = digest("alone")
    assert together == alone


@pytest.mark.parametrize("seed", range(20))
def test_the_few_best_are_those_a_partition_keeps(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    scores = rng.integers(-1, 4, n).astype(np.float32) / 2  # many ties; -0.5, -1: hidden
    scores[scores < 0] = -1.0
    rows = rng.permutation(1000)[:n]  # rows in any order (ties go to the larger)
    for keep in range(1, 9):
        few = topk.best_of(scores, rows, keep)
        monkeypatch.setattr(topk, "FEW", 0)  # the partition
        partitioned = topk.best_of(scores, rows, keep)
        monkeypatch.setattr(topk, "FEW", 8)
        pick = sorted(zip(few[1].tolist(), few[0].tolist()))
        assert pick == sorted(zip(partitioned[1].tolist(), partitioned[0].tolist()))
        shown = [(s, r) for s, r in zip(scores.tolist(), rows.tolist()) if s >= 0]
        assert pick == sorted(sorted(shown, reverse=True)[:keep])


@pytest.mark.parametrize("seed", range(10))
def test_the_top_keys_of_a_wide_block_are_those_a_partition_keeps(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    users, width = int(rng.integers(1, 40)), int(rng.integers(65, 300))
    keys = rng.choice(2**40, size=(users, width), replace=False).astype(np.uint64)
    keys[rng.random((users, width)) < 0.9] = 0  # mostly no post: some lines have < keep
    for keep in (1, 2, 5, 8):
        wide = topk.top_keys(keys.copy(), keep)  # maxima, one at a time
        monkeypatch.setattr(topk, "FEW", 0)
        partitioned = topk.top_keys(keys.copy(), keep)
        monkeypatch.setattr(topk, "FEW", 8)
        assert (wide == partitioned).all()
        assert (wide == np.sort(keys, axis=1)[:, -keep:]).all()
