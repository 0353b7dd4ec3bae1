"""Each experiment's quick mode runs from inside its folder and writes its tables and figures."""

from __future__ import annotations

import csv
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def quick(name: str, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, "run.py", "--quick", "--out", str(out)],
        check=False, cwd=EXPERIMENTS / name, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_information_spread_quick(tmp_path: Path) -> None:
    stdout = quick("information_spread", tmp_path)
    assert "nrmse_mean" in stdout
    summary = {r["metric"]: r for r in rows(tmp_path / "tables" / "nrmse.csv")}
    assert set(summary) == {"scale", "depth", "max_breadth"}
    for r in summary.values():
        assert r["seeds"] == "2" and float(r["nrmse_mean"]) >= 0
    per_minute = rows(tmp_path / "tables" / "per_minute.csv")
    assert {r["seed"] for r in per_minute} == {"0", "1"}
    assert max(int(r["minute"]) for r in per_minute) == 120
    for metric in ("scale", "depth", "max_breadth"):
        ET.parse(tmp_path / "figures" / f"{metric}.svg")


def test_herd_effect_quick(tmp_path: Path) -> None:
    stdout = quick("herd_effect", tmp_path)
    assert "mean_change" in stdout
    summary = {r["group"]: r for r in rows(tmp_path / "tables" / "summary.csv")}
    assert list(summary) == ["up", "control", "down"]
    sizes = {g: int(r["n"]) for g, r in summary.items()}
    assert sum(sizes.values()) == 2 * 220  # every pair, for both seeds
    finals = rows(tmp_path / "tables" / "final_scores.csv")
    assert all(r["initial_score"] == {"up": "1", "down": "-1", "control": "0"}[r["group"]]
               for r in finals)
    for name in ("score_distribution", "change_over_time"):
        ET.parse(tmp_path / "figures" / f"{name}.svg")



def test_polarization_quick(tmp_path: Path) -> None:
    stdout = quick("polarization", tmp_path)
    assert "cross_share" in stdout
    cells = {(m, r) for m in ("bounded_confidence", "backfire")
             for r in ("random", "twitter", "embedding")}
    summary = rows(tmp_path / "tables" / "summary.csv")
    assert {(r["model"], r["recommender"]) for r in summary} == cells
    assert all(0 <= float(r["cross_share"]) <= 1 for r in summary)
    assert "backfire = true" in (tmp_path / "backfire.toml").read_text()
    latent = rows(tmp_path / "tables" / "latent_over_time.csv")
    assert {r["hour"] for r in latent} == {"0.0", "1.0", "2.0", "3.0"}
    # Every run starts from the same population, so the opinions at hour 0 agree.
    assert len({(r["variance"], r["extremity"]) for r in latent if r["hour"] == "0.0"}) == 1
    runs = rows(tmp_path / "tables" / "runs.csv")
    assert len({r["digest"] for r in runs}) == len(cells)
    for name in ("latent_variance", "written_bimodality", "cross_exposure"):
        ET.parse(tmp_path / "figures" / f"{name}.svg")


def test_activation_timing_quick(tmp_path: Path) -> None:
    stdout = quick("activation_timing", tmp_path)
    assert "mean_virality" in stdout
    summary = {r["condition"]: r for r in rows(tmp_path / "tables" / "summary.csv")}
    assert list(summary) == ["tick 1 min", "tick 3 min", "tick 15 min", "tick 60 min",
                             "profile Poisson", "flat Poisson", "bursty"]
    assert all(r["seeds"] == "2" for r in summary.values())
    # An agent acts at most once per tick: hour-long ticks lose activations.
    assert float(summary["tick 60 min"]["activations"]) < float(summary["tick 1 min"]["activations"])
    found = rows(tmp_path / "tables" / "cascades.csv")
    assert found and all(int(r["scale"]) >= 2 and int(r["depth"]) >= 1 for r in found)
    hourly = rows(tmp_path / "tables" / "hourly.csv")
    assert {(r["condition"], r["hour"]) for r in hourly} == {
        (c, f"{h:.1f}") for c in summary for h in range(4)}
    for name in ("cascade_sizes", "cascade_depths", "activations", "stance_variance"):
        ET.parse(tmp_path / "figures" / f"{name}.svg")


def test_scale_quick(tmp_path: Path) -> None:
    stdout = quick("scale", tmp_path)
    assert "per simulated hour" in stdout
    table = rows(tmp_path / "tables" / "scale.csv")
    assert [int(r["agents"]) for r in table] == [1000, 10000]
    for r in table:
        assert int(r["activations"]) > 0 and float(r["run_s"]) > 0
        assert float(r["peak_rss_mib"]) >= float(r["peak_rss_mib_setup"]) > 0
    assert int(table[1]["follows"]) > int(table[0]["follows"])
    assert not list((tmp_path / "runs").iterdir())  # databases are removed unless --keep-runs
    for name in ("wall_time", "peak_memory"):
        ET.parse(tmp_path / "figures" / f"{name}.svg")
