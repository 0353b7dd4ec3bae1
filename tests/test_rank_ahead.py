"""Ranking the next stepped tick's feeds ahead (recsys/ahead.py, peer.py): the feeds are
those ranked when the tick comes, whatever the tick changed, with or without the peer
process, when the peer is lost, and across a checkpoint."""

from __future__ import annotations

import os
import signal
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_helpers import config
from platform_helpers import write

from oasis_des import Platform
from oasis_des.agents.synthetic import generate_population
from oasis_des.engine.simulation import Simulation
from oasis_des.platform.recsys import ahead, ranking
from oasis_des.rng import KeyedStream

WORDS = ("cats kittens dogs puppies football music concert climate energy software "
         "election markets weather travel food coffee").split()


def _count_completed(monkeypatch: pytest.MonkeyPatch) -> list[set[int]]:
    """Patch RankAhead.complete to record whose feeds each call completed."""
    completed: list[set[int]] = []
    original = ahead.RankAhead.complete

    def complete(self: ahead.RankAhead, *args: Any, **kw: Any) -> dict[int, list[int]]:
        feeds = original(self, *args, **kw)
        completed.append(set(feeds))
        return feeds

    monkeypatch.setattr(ahead.RankAhead, "complete", complete)
    return completed


def _start_peer(p: Platform) -> None:
    """Start the ranking peer and wait until it is ready (else the first ticks are
    ranked here while it imports numpy)."""
    peer = p.recommender._ahead._peer
    peer._start()
    assert peer._conn is not None and peer._conn.poll(60)
    assert peer._is_ready()


def _anew(p: Platform, users: list[int], now: float, k: int) -> dict[int, list[int]]:
    """The feeds of `users` ranked now, without what was ranked ahead."""
    rec = p.recommender
    saved, rec._ahead = rec._ahead, None
    try:
        rec.prepare(users, now, k)
        return dict(rec._prepared)
    finally:
        rec._ahead = saved


@pytest.mark.parametrize("slack", [0, 2])
@pytest.mark.parametrize("peer_users", [1, 10**9])  # on the peer process, or here
@pytest.mark.parametrize("seed", range(3))
def test_every_change_of_a_tick_leaves_the_feeds_ranked_anew(
    monkeypatch: pytest.MonkeyPatch, slack: int, peer_users: int, seed: int
) -> None:
    """New posts (by the user, a followee, a muted author or anyone), follows, unfollows,
    mutes, unmutes, a popularity change and posts leaving the window: the completed
    feeds are those ranked anew."""
    monkeypatch.setattr(ahead, "SLACK", slack)
    monkeypatch.setattr(ahead, "PEER_USERS", peer_users)
    completed = _count_completed(monkeypatch)
    rng = np.random.default_rng(seed)
    k = 3
    p = Platform(kind="twitter", max_rec_post_len=k, candidate_window=70)
    n = 1_100
    famous, viewers = 0, list(range(1_060, 1_090))
    with p.batch():
        for u in range(n):
            p.sign_up(u, f"u{u}", f"U{u}", " ".join(rng.choice(WORDS, 3)))
        for u in range(55, 1_055):  # 1,000 followers: popular (from 999 on)
            p.execute(u, "follow", followee_id=famous)
        for v in viewers:
            for a in rng.choice(40, 3, replace=False):
                p.execute(v, "follow", followee_id=int(a))
            p.execute(v, "mute", mutee_id=int(rng.integers(40, 60)))
    for _ in range(80):
        write(p, int(rng.integers(0, 60)), [" ".join(rng.choice(WORDS, 4))])
    at = p.now + 3.0
    if peer_users == 1:
        _start_peer(p)
    p.recommender.rank_ahead(viewers, at, k)
    with p.batch():
        for u in range(1_055, 1_060):  # the famous author's popularity rises
            p.execute(u, "follow", followee_id=famous)
    write(p, famous, ["cats kittens cats"])
    write(p, viewers[0], ["cats dogs"])  # a viewer's own post
    write(p, 45, ["kittens puppies"])  # maybe a muted author's
    followees, _ = p.feed_index.relations(viewers[1])
    write(p, followees[0], ["football music"])  # a followee's post
    for author in rng.integers(0, 60, 6):
        write(p, int(author), [" ".join(rng.choice(WORDS, 4))])
    p.execute(viewers[2], "follow", followee_id=int(rng.integers(40, 60)))
    p.execute(viewers[3], "unfollow", followee_id=p.feed_index.relations(viewers[3])[0][0])
    p.execute(viewers[4], "mute", mutee_id=famous)
    p.execute(viewers[5], "unmute", mutee_id=next(iter(p.feed_index.relations(viewers[5])[1])))
    assert p.feed_index.changed_fans == {famous}
    p.now = at
    p.recommender.prepare(viewers, at, k)
    index = p.feed_index
    found_ahead = {v: sorted(index.in_network(v).tolist()) for v in viewers}
    assert p.recommender._prepared == _anew(p, viewers, at, k)
    index._in_network.clear()  # their network posts, found with the ranking, as anew
    assert found_ahead == {v: sorted(index.in_network(v).tolist()) for v in viewers}
    assert any(found_ahead.values())
    assert not completed[-1] & set(viewers[2:6])  # their follows or mutes changed: anew
    if slack:
        assert len(completed[-1]) >= len(viewers) // 2


def test_a_stepped_run_is_the_same_ranked_ahead_here_on_the_peer_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    completed = _count_completed(monkeypatch)

    def digest(name: str, peer: bool = False) -> str:
        cfg = config(output={"path": str(tmp_path / f"{name}.db")}, time={"duration": 240.0})
        sim = Simulation(cfg, population=generate_population(300, seed=5))
        try:
            if peer:
                _start_peer(sim.platform)
            return sim.run().digest  # type: ignore[return-value]
        finally:
            sim.close()

    monkeypatch.setattr(ahead, "PEER_USERS", 10**9)
    here = digest("here")
    assert any(completed)
    monkeypatch.setattr(ahead, "PEER_USERS", 1)
    answered = _count_answers(monkeypatch)
    assert digest("peer", peer=True) == here
    assert len(answered) > 40  # the peer ranked (nearly) every tick
    with monkeypatch.context() as m:
        m.setattr(Platform, "rank_ahead", lambda self, agent_ids, at: None)
        assert digest("anew") == here


def _count_answers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Patch RankingPeer.answer to record the answers that came from the peer."""
    from oasis_des.platform.recsys import peer

    answers: list[int] = []
    original = peer.RankingPeer.answer

    def answer(self: peer.RankingPeer) -> peer.Answer | None:
        answered = original(self)
        if answered is not None:
            answers.append(len(answered.keys))
        return answered

    monkeypatch.setattr(peer.RankingPeer, "answer", answer)
    return answers


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_a_lost_or_stuck_peer_changes_no_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The peer killed mid-run, or stopped (it never answers): a warning, and the run
    ranks here, to the same digest."""
    from oasis_des.platform.recsys import peer

    monkeypatch.setattr(ahead, "PEER_USERS", 1)
    monkeypatch.setattr(peer, "ANSWER_TIMEOUT", 0.5)
    answered = _count_answers(monkeypatch)
    hit: list[int] = []
    original = peer.RankingPeer.submit

    def submit(self: peer.RankingPeer, job: peer.RankJob) -> None:
        original(self, job)
        if len(answered) >= 3 and self._process is not None and not hit:
            hit.append(self._process.pid)
            if how == "killed":
                self._process.kill()
            else:
                os.kill(self._process.pid, signal.SIGSTOP)

    def digest(name: str) -> str:
        cfg = config(output={"path": str(tmp_path / f"{name}.db")}, time={"duration": 240.0})
        sim = Simulation(cfg, population=generate_population(300, seed=5))
        try:
            _start_peer(sim.platform)
            return sim.run().digest  # type: ignore[return-value]
        finally:
            sim.close()

    expected = digest("whole")
    monkeypatch.setattr(peer.RankingPeer, "submit", submit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert digest(how) == expected
    assert hit
    assert any("ranking peer process stopped" in str(w.message) for w in caught)


def test_the_peer_ends_with_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ahead, "PEER_USERS", 1)
    cfg = config(output={"path": str(tmp_path / "run.db")}, time={"duration": 60.0})
    sim = Simulation(cfg, population=generate_population(300, seed=5))
    _start_peer(sim.platform)
    process = sim.platform.recommender._ahead._peer._process
    sim.run(until=30.0)
    assert process.poll() is None  # still there mid-run
    sim.run()
    assert process.wait(timeout=10) == 0  # gone when the run is done, the platform open
    assert sim.platform.recommender.recommend(0, sim.env.now, 2, KeyedStream(0, "t", 0)) \
        is not None
    sim.close()


def test_a_run_resumed_between_two_ticks_completes_what_was_ranked_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint holds the ranking begun ahead; the resumed run completes it."""
    monkeypatch.setattr(ahead, "PEER_USERS", 1)
    completed = _count_completed(monkeypatch)

    def build(name: str) -> Simulation:
        cfg = config(output={"path": str(tmp_path / f"{name}.db")}, time={"duration": 240.0})
        return Simulation(cfg, population=generate_population(300, seed=5))

    sim = build("whole")
    expected = sim.run().digest
    sim.close()
    sim = build("parts")
    _start_peer(sim.platform)
    sim.run(until=100.0)
    assert sim.platform.recommender.state() is not None  # tick 34's ranking, begun ahead
    sim.close()
    del completed[:]
    sim = Simulation.resume(tmp_path / "parts.db",
                            population=generate_population(300, seed=5))
    result = sim.run()
    sim.close()
    assert completed[0]  # the first tick after the resume completed the saved ranking
    assert result.digest == expected


@pytest.mark.parametrize("peer_users", [1, 10**9])
def test_a_repost_made_after_the_ranking_began_ties_its_source_and_comes_first(
    monkeypatch: pytest.MonkeyPatch, peer_users: int
) -> None:
    """A post ranked ahead and its repost, made in the same tick after the ranking began,
    have the same vector and weight: the newer comes first, as when ranked anew (their
    scores from two matrix products could differ in the last bit)."""
    monkeypatch.setattr(ahead, "PEER_USERS", peer_users)
    p = Platform(kind="twitter", max_rec_post_len=2)
    viewers = list(range(10, 40))
    with p.batch():
        for u in range(40):
            p.sign_up(u, f"u{u}", f"U{u}", "cats kittens and puppies" if u >= 10 else "")
    rng = np.random.default_rng(0)
    for author in range(1, 10):  # other posts, to make the products wide
        write(p, author, [" ".join(rng.choice(WORDS, 4)) for _ in range(30)])
    source = write(p, 1, ["cats kittens and puppies everywhere"])[0]
    if peer_users == 1:
        _start_peer(p)
    p.recommender.rank_ahead(viewers, p.now + 1.0, 2)
    repost = p.execute(2, "repost", post_id=source)["post_id"]
    p.now += 1.0
    p.recommender.prepare(viewers, p.now, 2)
    feeds = p.recommender._prepared
    assert feeds == _anew(p, viewers, p.now, 2)
    assert all(feeds[v] == [repost, source] for v in viewers)


def test_windows_scanned_coarse_are_ranked_when_the_tick_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past EXACT_ROWS posts a window is scanned with coarse vectors and its best
    candidates re-ranked: a ranking begun on the smaller window of the tick before, or
    completed with posts scored exactly, would keep other posts. Such ticks are ranked
    when they come, also the one where the window crosses the limit."""
    monkeypatch.setattr(ranking, "EXACT_ROWS", 60)
    monkeypatch.setattr(ranking, "RESCORE", 1)
    completed = _count_completed(monkeypatch)

    def digest(name: str) -> str:
        cfg = config(output={"path": str(tmp_path / f"{name}.db")}, time={"duration": 480.0})
        sim = Simulation(cfg, population=generate_population(300, seed=5))
        try:
            return sim.run().digest  # type: ignore[return-value]
        finally:
            sim.close()

    ahead_digest = digest("ahead")
    assert any(completed)  # the first ticks, before the window passed 60 posts
    with monkeypatch.context() as m:
        m.setattr(Platform, "rank_ahead", lambda self, agent_ids, at: None)
        assert digest("anew") == ahead_digest
