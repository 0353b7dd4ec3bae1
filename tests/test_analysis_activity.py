"""Actions per time bin, the action mix and inter-event times on a hand-built trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from analysis_helpers import act, platform_db

from oasis_des.analysis import (
    action_mix,
    actions_per_bin,
    agent_activity,
    gap_distribution,
    inter_event_times,
)


@pytest.fixture
def busy(tmp_path: Path):
    p = platform_db(tmp_path / "run.db", users=3)  # three sign-ups at minute 0: not activity
    act(p, 0, 0, "create_post", content="hello")
    act(p, 5, 1, "refresh")
    act(p, 10, 0, "like_post", post_id=1)
    act(p, 65, 1, "repost", post_id=1)
    act(p, 70, 0, "do_nothing")
    act(p, 190, 2, "do_nothing")
    yield p
    p.close()


def test_actions_per_bin_fills_empty_bins(busy) -> None:
    table = actions_per_bin(busy.connection, bin_minutes=60)
    assert table.columns == ("start", "total", "create_post", "do_nothing", "like_post",
                             "refresh", "repost")
    assert table.rows == [
        (0, 3, 1, 0, 1, 1, 0),
        (60, 2, 0, 1, 0, 0, 1),
        (120, 0, 0, 0, 0, 0, 0),
        (180, 1, 0, 1, 0, 0, 0),
    ]
    with_signups = actions_per_bin(busy.connection, bin_minutes=60, exclude=())
    assert with_signups.column("sign_up")[0] == 3


def test_action_mix(busy) -> None:
    mix = action_mix(busy.connection)
    assert mix.rows[0] == ("do_nothing", 2, pytest.approx(2 / 6))
    assert sum(mix.column("count")) == 6
    assert sum(mix.column("share")) == pytest.approx(1.0)


def test_inter_event_times_leave_out_refreshes(busy) -> None:
    # user 0 acts at 0, 10, 70; user 1 decides once (65; its refresh is not a decision).
    assert sorted(inter_event_times(busy.connection).tolist()) == [10, 60]
    table = {r["user_id"]: r for r in agent_activity(busy.connection).records()}
    assert table[0]["events"] == 3
    assert table[0]["mean_gap"] == 35 and table[0]["std_gap"] == 25
    assert table[0]["burstiness"] == pytest.approx((25 - 35) / (25 + 35))
    assert table[1]["events"] == 1 and np.isnan(table[1]["mean_gap"])
    everything = inter_event_times(busy.connection, exclude=("sign_up",))
    assert sorted(everything.tolist()) == [10, 60, 60]  # user 1: refresh at 5, repost at 65


def test_gap_distribution_is_a_density() -> None:
    gaps = np.array([0.0, 1.5, 2.0, 15.0, 150.0])
    table = gap_distribution(gaps, per_decade=1)
    assert table.column("gap_low") == pytest.approx([1, 10, 100])
    assert table.column("count") == [2, 1, 1]  # zero gaps are left out (no log bin)
    widths = np.diff([1, 10, 100, 1000])
    assert float(np.sum(np.asarray(table.column("density")) * widths)) == pytest.approx(1.0)
    assert len(gap_distribution(np.zeros(0))) == 0
