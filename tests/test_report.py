"""`oasis-des report`: a self-contained HTML page with every plot, the key numbers and the config."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from analysis_helpers import act, platform_db
from engine_helpers import config, small_population

from oasis_des.analysis.report import build_report, write_report
from oasis_des.cli import main
from oasis_des.engine.simulation import Simulation

VOID = {"meta", "br", "img", "input", "link", "hr"}


class _Balance(HTMLParser):
    """Checks that every opened element is closed, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


@pytest.fixture(scope="module")
def run_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report")
    sim = Simulation(config(path, time={"duration": 240.0}, seed=3),
                     population=small_population(80, rate=2.0))
    result = sim.run()
    sim.close()
    assert result.actions.get("repost", 0) > 0, "the scenario must produce cascades"
    return Path(result.db_path)


def test_report_is_valid_html_with_every_plot(run_db: Path, tmp_path: Path) -> None:
    out = write_report(run_db, tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    checker = _Balance()
    checker.feed(html)
    assert checker.errors == [] and checker.stack == []
    svgs = re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    assert len(svgs) == 8
    for svg in svgs:
        ET.fromstring(svg)  # each plot is well-formed XML
    titles = re.findall(r'font-weight="bold">([^<]+)</text>', html)
    for expected in ("Actions per 10 minutes", "Actions by type", "Cascade sizes",
                     "Stance distribution per 10 minutes", "Polarisation measures",
                     "Degree distribution (degree &gt; 0)", "Time between an agent&#x27;s decisions"):
        assert expected in titles
    assert any(t.startswith("Largest cascade") for t in titles)
    for section in ("Key numbers", "Activity over time", "Action mix", "Cascades",
                    "Opinions over time", "Follow graph", "Inter-event times", "Configuration"):
        assert f"<h2>{section}</h2>" in html
    assert "<td>agents</td><td>80</td>" in html
    assert "&quot;duration&quot;: 240.0" in html  # the config, as JSON
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing external


def test_report_of_a_quiet_database_says_what_is_missing(tmp_path: Path) -> None:
    p = platform_db(tmp_path / "quiet.db", users=2)
    act(p, 5, 0, "do_nothing")
    html = build_report(p.connection)
    p.close()
    assert "No reposts or quotes in this run." in html
    assert "No posts, quotes or comments to read stances from." in html
    assert "No follows." in html


def test_cli_report_and_run_hint(run_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run_db), "--out", str(tmp_path / "x.html")]) == 0
    assert str(tmp_path / "x.html") in capsys.readouterr().out
    assert (tmp_path / "x.html").read_text().startswith("<!DOCTYPE html>")
    out_db = tmp_path / "r.db"
    assert main(["run", "--agents", "10", "--duration", "30m", "--out", str(out_db), "--quiet"]) == 0
    assert f"report: oasis-des report {out_db}" in capsys.readouterr().out
    assert main(["report", str(out_db)]) == 0
    assert (tmp_path / "r.html").exists()  # default: next to the database


def test_cli_report_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope.db")]) == 2
    assert "does not exist" in capsys.readouterr().err
