"""`oasis-des run`: flags override the config; the database path is printed; --out is protected."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oasis_des.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return capsys_main(capsys, "run", *argv)


def capsys_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_prints_summary_and_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_db = tmp_path / "r.db"
    code, out, err = run_cli(capsys, "--agents", "40", "--duration", "2h", "--out", str(out_db), "--seed", "3")
    assert code == 0
    assert f"database         {out_db}" in out
    assert "digest" in out and "refresh" in out
    assert "activations" in err  # progress lines on stderr (not a terminal: one per tenth)
    conn = sqlite3.connect(out_db)
    assert conn.execute("SELECT COUNT(*) FROM user").fetchone() == (40,)
    assert conn.execute("SELECT MAX(sim_time) FROM trace").fetchone()[0] < 120.0


def test_existing_out_needs_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_db = tmp_path / "r.db"
    assert run_cli(capsys, "--agents", "10", "--duration", "30m", "--out", str(out_db), "--quiet")[0] == 0
    code, _, err = run_cli(capsys, "--agents", "10", "--duration", "30m", "--out", str(out_db), "--quiet")
    assert code == 2 and "already exists" in err and "--overwrite" in err
    assert run_cli(capsys, "--agents", "10", "--duration", "30m", "--out", str(out_db), "--quiet",
                   "--overwrite")[0] == 0


def test_same_seed_same_digest_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    digests = []
    for name in ("a.db", "b.db"):
        _, out, _ = run_cli(capsys, "--agents", "30", "--duration", "1h", "--out", str(tmp_path / name),
                            "--quiet", "--platform", "reddit")
        digests.append(next(line for line in out.splitlines() if line.startswith("digest")))
    assert digests[0] == digests[1]


def test_config_file_and_flag_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[platform]\nkind = "reddit"\n[population]\nagents = 25\n[time]\nduration = "1h"\n')
    out_db = tmp_path / "r.db"
    code, _, _ = run_cli(capsys, str(cfg), "--agents", "12", "--out", str(out_db), "--quiet")
    assert code == 0
    conn = sqlite3.connect(out_db)
    assert conn.execute("SELECT COUNT(*) FROM user").fetchone() == (12,)
    created = conn.execute("SELECT created_at FROM user LIMIT 1").fetchone()[0]
    assert isinstance(created, str) and created.startswith("2024-01-01")  # Reddit timestamps


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[time]\ntik = 3\n")
    code, _, err = run_cli(capsys, str(cfg), "--out", str(tmp_path / "x.db"))
    assert code == 2 and "Unknown config key 'time.tik'. Did you mean 'time.tick'?" in err
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("group", [
    '[[activation.groups]]\nagents = "0-4"\nrate = 2.0\n',
    '[[policy.groups]]\nmodel = "offline"\nagents = "0-4"\n',
    '[[llm.interviews]]\ntime = "5m"\nagents = "4"\nquestion = "Why?"\n',
])
def test_a_group_of_missing_agents_names_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], group: str
) -> None:
    """Agent ids are checked once the population is built; the error still names the file."""
    cfg = tmp_path / "groups.toml"
    cfg.write_text("[population]\nagents = 3\n" + group)
    out = tmp_path / "g.db"
    code, _, err = run_cli(capsys, str(cfg), "--duration", "10m", "--out", str(out))
    section = group.split("]]")[0].strip("[")
    assert code == 2 and err.strip().endswith(
        f"{cfg}: {section}[0].agents: agent 4 does not exist (the population has 3 agents).")
    assert not out.exists()
    code, _, err = run_cli(capsys, str(cfg), "--agents", "5", "--duration", "10m",
                           "--out", str(out), "--quiet")
    assert "does not exist" not in err  # the same file, with a population that has agent 4
    if section != "llm.interviews":  # an estimate does not read the interviews
        code, _, err = capsys_main(capsys, "estimate", str(cfg))
        assert code == 2 and f"{cfg}: {section}[0].agents: agent 4 does not exist" in err


@pytest.mark.parametrize("text, error", [
    ('[activation]\nmodel = "poisson"\n', "activation.model = 'poisson' needs time.mode"),
    ('[[llm.interviews]]\ntime = "5m"\nagents = "1"\nquestion = "Why?"\n',
     "Interview of agent 1 at minute 5: its policy (OfflinePolicy) cannot answer"),
])
def test_a_config_that_does_not_fit_the_run_names_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, error: str
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[population]\nagents = 3\n" + text)
    code, _, err = run_cli(capsys, str(cfg), "--duration", "10m", "--out", str(tmp_path / "c.db"))
    assert code == 2 and err.startswith(f"oasis-des: error: {cfg}: {error}")
    assert not (tmp_path / "c.db").exists()


def test_personas_and_model_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    personas = Path(__file__).parent / "data" / "user_data_36.json"
    if not personas.exists():
        pytest.skip("OASIS Reddit fixture not present")
    out_db = tmp_path / "r.db"
    code, out, err = run_cli(capsys, "--personas", str(personas), "--platform", "reddit",
                             "--duration", "1h", "--model", "offline", "--out", str(out_db),
                             "--quiet", "--agents", "500")
    assert code == 0
    conn = sqlite3.connect(out_db)
    assert conn.execute("SELECT COUNT(*) FROM user").fetchone() == (36,)
    assert f"note: --agents 500 is ignored: the persona file {personas} sets the population" in err
    code, _, err = run_cli(capsys, "--model", "nope", "--out", str(tmp_path / "y.db"), "--quiet")
    assert code == 2 and "Model profile 'nope'" in err
    assert not (tmp_path / "y.db").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "{d}"], "Config file {d} is a directory; expected a TOML file."),
        (["run", "--personas", "{d}", "--out", "{d}/r.db"],
         "{d}: expected a persona file, not a directory."),
        (["personas", "validate", "{d}"], "{d}: expected a persona file, not a directory."),
        (["report", "{d}/r.db", "--out", "{d}"],
         "--out {d} is a directory; expected the HTML file to write."),
        (["resume", "{d}"], "Run database {d} is a directory; expected its database file."),
        (["report", "{d}"], "Run database {d} is a directory; expected its database file."),
        (["interview", "{d}", "--agents", "1", "--question", "Hi?"],
         "Run database {d} is a directory; expected its database file."),
        (["run", "--llm-cache", "{d}", "--out", "{d}/x.db"],
         "LLM cache {d} is a directory; give a file path."),
        (["personas", "generate", "--n", "5", "--mean-following", "nan", "--out", "{d}/p.csv"],
         "--mean-following = nan is out of range; expected a finite number of follows >= 0."),
        (["personas", "generate", "--n", "5", "--seed-posts", "nan", "--out", "{d}/p.csv"],
         "--seed-posts = nan is out of range; expected a share in [0, 1]."),
    ],
)
def test_a_bad_argument_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "r.db").touch()
    assert main([a.format(d=tmp_path) for a in argv]) == 2
    assert capsys.readouterr().err == f"oasis-des: error: {message.format(d=tmp_path)}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.db"]  # nothing written


def test_a_stopped_run_labels_its_digest_with_where_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from oasis_des.engine import commands
    from oasis_des.engine.config import Config
    from oasis_des.engine.results import Progress
    from oasis_des.engine.simulation import Simulation

    sim = Simulation(Config().override(population={"agents": 10},
                                       output={"path": str(tmp_path / "s.db")}))

    class CtrlCAtFiveHours:
        """In place of the progress bar: stops the run as Ctrl-C does, at 5 simulated hours."""

        def __call__(self, p: Progress) -> None:
            if p.sim_time >= 300:
                sim.request_stop()

        def close(self) -> None:
            pass

    monkeypatch.setattr(commands, "ProgressBar", CtrlCAtFiveHours)
    assert commands.drive(sim) == 130
    out = capsys.readouterr().out
    stopped = next(line for line in out.splitlines() if line.startswith("digest"))
    assert stopped.startswith("digest (stopped at 5.") and " of 24h) " in stopped, stopped
    code, out, _ = run_cli(capsys, "--agents", "10", "--duration", "1h", "--out",
                           str(tmp_path / "f.db"), "--quiet")
    assert code == 0
    finished = next(line for line in out.splitlines() if line.startswith("digest"))
    assert finished.startswith("digest" + " " * 11) and len(finished.split()) == 2


def test_ctrl_c_before_the_run_starts_is_one_line_and_status_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the population is built (before the run's own handler): no traceback."""
    from oasis_des.engine import commands

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "Simulation", interrupted)
    assert main(["run", "--agents", "5", "--out", str(tmp_path / "x.db")]) == 130
    assert capsys.readouterr().err.strip() == "oasis-des: interrupted"
