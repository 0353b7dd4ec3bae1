"""Normalised RMSE against a real series, and reading OASIS's real-propagation files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from oasis_des.analysis import Table, compare_to_real, load_real_propagation, normalised_rmse
from oasis_des.analysis.propagation import Series

REAL = (Path(__file__).parent.parent / "experiments" / "information_spread"
        / "False_Business_0.real_propagation.json")


def s(minutes: list[int], values: list[float]) -> Series:
    return Series(np.asarray(minutes), np.asarray(values, dtype=float))


def test_nrmse_by_hand() -> None:
    sim = s([0, 1, 2, 3], [1, 2, 3, 3])
    real = s([0, 1, 2, 7], [1, 3, 5, 9])  # minute 7 lies beyond the simulation: not compared
    rmse = math.sqrt((0 + 1 + 4) / 3)
    assert normalised_rmse(sim, real) == pytest.approx(rmse / 5)
    assert normalised_rmse(sim, real, norm="range") == pytest.approx(rmse / 4)
    assert normalised_rmse(sim, real, norm="mean") == pytest.approx(rmse / 3)
    assert normalised_rmse(real, real) == 0.0
    with pytest.raises(ValueError, match="norm = 'median' is not allowed"):
        normalised_rmse(sim, real, norm="median")  # type: ignore[arg-type]


def test_simulated_steps_carry_forward_to_real_minutes() -> None:
    sim = s([0, 4], [1, 3])  # 1 until minute 3, then 3
    real = s([0, 2, 4, 6], [1, 2, 3, 4])
    # minute 6 is after the simulated series ends and is left out; compared: 0, 2, 4.
    assert normalised_rmse(sim, real) == pytest.approx(math.sqrt(1 / 3) / 3)


def test_real_file_of_oasis_loads() -> None:
    real = load_real_propagation(REAL)
    assert set(real) == {"scale", "depth", "max_breadth"}
    scale = real["scale"]
    assert scale.minutes[0] == 0 and scale.values[0] == 1  # the root alone at minute 0
    assert real["max_breadth"].values[0] == 0 and real["depth"].values[0] == 0
    raw = json.loads(REAL.read_text())
    assert scale.values[-1] == raw["scale"]["value"][-1]
    assert len(real["depth"].minutes) == len(raw["depth"]["minute"])


def test_compare_to_real_reports_every_measure() -> None:
    real = load_real_propagation(REAL)
    # A perfect copy of the real scale series for 100 minutes, depth and breadth all zero.
    minutes = list(range(101))
    scale = real["scale"].at(np.asarray(minutes))
    sim = Table(("minute", "scale", "depth", "max_breadth", "structural_virality"),
                [(m, float(v), 0, 0, 0.0) for m, v in zip(minutes, scale)])
    table = compare_to_real(sim, real)
    rows = {r["metric"]: r for r in table.records()}
    assert rows["scale"]["nrmse"] == 0.0 and rows["scale"]["minutes_compared"] == 101
    depth = real["depth"].at(np.arange(101))
    expected = math.sqrt(np.mean(depth**2)) / depth.max()
    assert rows["depth"]["nrmse"] == pytest.approx(expected)
    assert rows["max_breadth"]["simulated_final"] == 0.0
    assert rows["max_breadth"]["real_final"] == real["max_breadth"].values[100]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "field scale: expected"),
        ('{"scale": {"minute": [0, 1], "value": [1]}}', "field scale: minute and value"),
        (('{"scale": {"minute": [1, 0], "value": [1, 2]}, "depth": {"minute": [0], "value": [0]},'
         ' "max_breadth": {"minute": [0], "value": [0]}}'), "scale.minute: minutes must increase"),
        ('{"scale": {"minute": [0], "value": ["x"]}}', "field scale: minutes and values must be numbers"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_real_files_name_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "real.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as info:
        load_real_propagation(path)
    assert str(path) in str(info.value)


def test_missing_real_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_real_propagation(tmp_path / "nope.json")
