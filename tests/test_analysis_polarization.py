"""Polarisation measures by hand, and stances read from what agents wrote, per time bin."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from analysis_helpers import act, platform_db

from oasis_des.analysis import (
    bimodality_coefficient,
    extremity,
    polarization_over_time,
    stance_histogram,
    stance_variance,
    written_stances,
)
from oasis_des.policies.features import features

PRO, PRO2, CON = "I support the new policy", "I agree, well done", "I oppose this law"


def test_measures_by_hand() -> None:
    x = [-1, -1, -1, 1, 1, 1]
    assert stance_variance(x) == 1.0
    assert extremity([-0.5, 0.25, 0.0, 1.0]) == pytest.approx(0.4375)
    # n = 6, skewness 0, excess kurtosis -2: (0 + 1) / (k + 3·25/12), k = (7·(-2) + 6)·5/12.
    assert bimodality_coefficient(x) == pytest.approx(12 / 35)
    assert math.isnan(bimodality_coefficient([0.1, 0.2, 0.3]))  # fewer than 4 values
    assert math.isnan(bimodality_coefficient([0.5] * 5))  # no spread
    assert math.isnan(stance_variance([])) and math.isnan(extremity([]))


def test_bimodality_coefficient_tells_shapes_apart() -> None:
    uniform = np.linspace(-1, 1, 20001)
    assert bimodality_coefficient(uniform) == pytest.approx(5 / 9, abs=1e-3)  # the 5/9 threshold
    two_camps = np.repeat([-0.8, 0.8], 5000)
    assert bimodality_coefficient(two_camps) == pytest.approx(1.0, abs=1e-3)
    one_camp = np.concatenate([np.zeros(9000), np.linspace(-0.3, 0.3, 1000)])
    assert bimodality_coefficient(one_camp) < 5 / 9


@pytest.fixture
def writing(tmp_path: Path):
    p = platform_db(tmp_path / "run.db")
    act(p, 0, 0, "create_post", content=PRO)                            # post 1
    act(p, 10, 1, "create_post", content=CON)                           # post 2
    act(p, 20, 0, "create_comment", post_id=2, content=PRO2)
    act(p, 30, 2, "repost", post_id=1)                                  # not writing: ignored
    act(p, 70, 3, "quote_post", post_id=2, quote_content=PRO)           # the quote's own words
    act(p, 80, 2, "create_comment", post_id=1, content=CON)
    yield p
    p.close()


def test_written_stances_read_posts_quotes_and_comments(writing) -> None:
    table = written_stances(writing.connection)
    assert table.column("action") == ["create_post", "create_post", "create_comment",
                                      "quote_post", "create_comment"]
    assert table.column("user_id") == [0, 1, 0, 3, 2]
    assert table.column("stance") == [features(t)[1] for t in (PRO, CON, PRO2, PRO, CON)]
    assert table.column("stance")[:3] == [0.5, -0.5, pytest.approx(2 / 3)]
    only_posts = written_stances(writing.connection, actions=("create_post",))
    assert len(only_posts) == 2
    with pytest.raises(ValueError, match="Unknown writing actions"):
        written_stances(writing.connection, actions=("like_post",))


def test_over_time_by_writer_and_by_text(writing) -> None:
    pro, pro2, con = features(PRO)[1], features(PRO2)[1], features(CON)[1]
    by_user = polarization_over_time(writing.connection, bin_minutes=60).records()
    assert [r["start"] for r in by_user] == [0, 60]
    first = by_user[0]  # user 0: mean of pro and pro2; user 1: con
    writers = np.array([(pro + pro2) / 2, con])
    assert first["n"] == 2
    assert first["mean"] == pytest.approx(writers.mean())
    assert first["variance"] == pytest.approx(writers.var())
    assert first["extremity"] == pytest.approx(np.abs(writers).mean())
    assert math.isnan(first["bimodality"])
    second = by_user[1]
    assert second["n"] == 2 and second["mean"] == pytest.approx((pro + con) / 2)
    by_text = polarization_over_time(writing.connection, bin_minutes=60, unit="text").records()
    assert by_text[0]["n"] == 3
    assert by_text[0]["variance"] == pytest.approx(np.var([pro, con, pro2]))
    with pytest.raises(ValueError, match="bin_minutes must be > 0"):
        polarization_over_time(writing.connection, bin_minutes=0)


def test_histogram_per_bin_sums_to_its_writers(writing) -> None:
    hist = stance_histogram(writing.connection, bin_minutes=60)
    for start, n in ((0, 2), (60, 2)):
        assert sum(r[3] for r in hist.rows if r[0] == start) == n
    middle = [r for r in hist.rows if r[0] == 0 and r[1] < 0 < r[2]]
    assert len(middle) == 1 and middle[0][3] == 0  # nobody neutral
    low = [r for r in hist.rows if r[0] == 60 and r[1] <= -0.5 < r[2]]
    assert low[0][3] == 1  # user 2's con comment
