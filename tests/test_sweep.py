"""`oasis-des sweep`: grids of dotted config keys × seeds, parallel runs, summary CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from oasis_des.cli import main
from oasis_des.engine.config import Config, ConfigError
from oasis_des.sweep import build_grid, parse_seeds, parse_set, run_one, run_sweep
from oasis_des.sweep.grid import apply

# A few seconds per run at most: 12 agents for half an hour.
TINY = Config().override(population={"agents": 12}, time={"duration": 30.0})


def test_parse_set_reads_toml_values_and_plain_words() -> None:
    axis = parse_set("platform.settings.recommender=random,reddit")
    assert axis.key == "platform.settings.recommender" and axis.values == ("random", "reddit")
    assert parse_set("time.tick=1, 3.5").values == (1, 3.5)
    assert parse_set("population.trace_sign_ups=true,false").values == (True, False)
    assert parse_set('policy.model="a,b",offline').values == ("a,b", "offline")
    assert parse_set("time.duration=90m,2h").values == ("90m", "2h")
    dates = "time.start_time=2024-01-02T08:00:00,2024-01-02,08:00:00"
    assert parse_set(dates).values == ("2024-01-02T08:00:00", "2024-01-02", "08:00:00")
    for bad, message in (("time.tick", "expected key=value"), ("seed=1,2", "--seeds"),
                         ("time.tick=1,,3", "empty value"), ("time.tick=1,1", "repeated")):
        with pytest.raises(ConfigError, match=message):
            parse_set(bad)


def test_parse_seeds() -> None:
    assert parse_seeds("3", base=10) == [10, 11, 12]
    assert parse_seeds("4,1,9", base=10) == [4, 1, 9]
    for bad in ("0", "x", "1,1"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad, base=0)


def test_apply_dotted_keys_and_merge_tables() -> None:
    base = TINY.override(platform={"settings": {"show_score": True}})
    cfg = apply(base, "platform.settings.recommender", "reddit")
    assert cfg.platform.settings == {"show_score": True, "recommender": "reddit"}
    assert apply(base, "time.tick", 1).time.tick == 1.0
    assert apply(base, "time.duration", "2h").time.duration == 120.0
    assert apply(base, "server.per_action.refresh", 0.5).server.per_action == {"refresh": 0.5}
    with pytest.raises(ConfigError, match="Unknown config key 'time.tik'. Did you mean 'time.tick'"):
        apply(base, "time.tik", 1)
    with pytest.raises(ConfigError, match="'platform' is a section; set one of its keys"):
        apply(base, "platform", "x")
    with pytest.raises(ConfigError, match="activation.model = 'sometimes' is not allowed"):
        apply(base, "activation.model", "sometimes")


def test_grid_checks_every_cell_before_running(tmp_path: Path) -> None:
    axes = [parse_set("platform.settings.recommender=random,reddit"), parse_set("time.tick=1,3")]
    specs = build_grid(TINY, axes, [5, 6], tmp_path, overwrite=False)
    assert len(specs) == 8
    assert len({s.config.output.path for s in specs}) == 8
    first = specs[0]
    assert first.name == "recommender=random_tick=1_seed=5"
    assert first.params == {"platform.settings.recommender": "random", "time.tick": 1}
    assert first.config.seed == 5 and first.config.time.tick == 1.0
    assert first.config.output.path == str(tmp_path / "runs" / f"{first.name}.db")
    with pytest.raises(ConfigError, match="Unknown platform setting 'recomender'"):
        build_grid(TINY, [parse_set("platform.settings.recomender=random")], [0], tmp_path,
                   overwrite=False)
    with pytest.raises(ConfigError, match="Unknown recommender 'hot'"):
        build_grid(TINY, [parse_set("platform.settings.recommender=hot")], [0], tmp_path,
                   overwrite=False)
    with pytest.raises(ConfigError, match=r"^sweep cell model=poisson: activation.model = "
                                          r"'poisson' needs time.mode = 'continuous'"):
        build_grid(TINY, [parse_set("activation.model=profile,poisson")], [0], tmp_path,
                   overwrite=False)
    with pytest.raises(ConfigError, match="a key is given twice"):
        build_grid(TINY, [parse_set("time.tick=1"), parse_set("time.tick=3")], [0], tmp_path,
                   overwrite=False)


def test_a_config_file_is_judged_with_each_cells_values_in_place(tmp_path: Path) -> None:
    """As `run` with its flags: a file value that every cell replaces is never checked alone,
    the file's other keys stay (also inside a table), and errors name --set or the file."""
    cfg = tmp_path / "base.toml"
    cfg.write_text('seed = 7\n[population]\nagents = 12\n[time]\ntick = 0\nduration = "30m"\n'
                   '[platform.settings]\ncomments_per_post = 5\n')
    axes = [parse_set("time.tick=1,3"), parse_set("platform.settings.recommender=random")]
    specs = build_grid(cfg, axes, "2", tmp_path / "a", overwrite=False)
    assert [(s.config.time.tick, s.seed) for s in specs] == [(1.0, 7), (1.0, 8), (3.0, 7), (3.0, 8)]
    assert specs[0].config.platform.settings == {"comments_per_post": 5, "recommender": "random"}
    assert specs[0].config.population.agents == 12 and specs[0].config.time.duration == 30.0
    with pytest.raises(ConfigError, match=r"^--set time.tick: time.tick = -1"):
        build_grid(cfg, [parse_set("time.tick=1,-1")], [0], tmp_path / "b", overwrite=False)
    with pytest.raises(ConfigError, match=rf"^{cfg}: time.tick = 0"):  # not replaced: the file's
        build_grid(cfg, [parse_set("population.agents=5")], [0], tmp_path / "c", overwrite=False)
    # a value valid only with the file's (a late start and the file's 30 minutes, not the
    # default day) is judged with the file's values
    late = [parse_set('time.start_time="9999-12-31T20:00:00"'), parse_set("time.tick=1")]
    cell = build_grid(cfg, late, [0], tmp_path / "d", overwrite=False)[0].config
    assert cell.time.start_time == "9999-12-31T20:00:00" and cell.time.duration == 30.0
    later = [parse_set('time.start_time="9999-12-31T23:50:00"'), parse_set("time.tick=1")]
    with pytest.raises(ConfigError, match=rf"^{cfg}: .* plus time.duration = 30 minutes"):
        build_grid(cfg, later, [0], tmp_path / "d2", overwrite=False)  # the combination's
    # a whole table replaces the file's; a table's entry is merged into it
    whole = build_grid(cfg, [parse_set("platform.settings={show_score=true}"),
                             parse_set("time.tick=1")], [0], tmp_path / "e", overwrite=False)
    assert whole[0].config.platform.settings == {"show_score": True}
    with pytest.raises(ConfigError, match="'platform' is a section; set one of its keys"):
        build_grid(cfg, [parse_set("platform={kind='reddit'}")], [0], tmp_path / "f",
                   overwrite=False)
    with pytest.raises(ConfigError, match=r"^--set time.tik: Unknown config key 'time.tik'"):
        build_grid(cfg, [parse_set("time.tik=1")], [0], tmp_path / "g", overwrite=False)
    default = build_grid(None, [parse_set("time.duration=30m"),
                                parse_set('time.start_time="9999-12-31T20:00:00"')], [0],
                         tmp_path / "h", overwrite=False)  # the built-in scenario, as a whole
    assert default[0].config.time.duration == 30.0


def test_a_row_names_the_file_its_failure_comes_from_and_shows_tables_as_json(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "groups.toml"
    cfg.write_text('[population]\nagents = 3\n[time]\nduration = "30m"\n'
                   '[[policy.groups]]\nmodel = "offline"\nagents = "0-4"\n')
    spec = build_grid(cfg, [parse_set("server.per_action={refresh=0.5,like_post=1}")], [0],
                      tmp_path, overwrite=False)[0]
    row = run_one(spec)
    assert row["error"] == (f"UnknownAgentError: {cfg}: policy.groups[0].agents: agent 4 does "
                            "not exist (the population has 3 agents).")
    assert row["server.per_action"] == '{"like_post": 1, "refresh": 0.5}'


def test_two_by_two_grid_in_parallel_processes(tmp_path: Path) -> None:
    axes = [parse_set("platform.kind=twitter,reddit"), parse_set("time.tick=1,3")]
    specs = build_grid(TINY, axes, [0], tmp_path, overwrite=False)
    seen: list[tuple[int, int, int]] = []
    table = run_sweep(specs, jobs=2, progress=lambda *a: seen.append(a))
    assert seen[-1] == (4, 0, 4) and len(seen) == 4
    rows = table.records()
    assert [r["run"] for r in rows] == [s.name for s in specs]  # spec order, not finish order
    assert all(r["error"] == "" and Path(r["db"]).exists() for r in rows)
    assert len({r["digest"] for r in rows}) == 4
    for key in ("activations", "actions", "wall_seconds", "cascades", "stance_variance",
                "reciprocity"):
        assert key in table.columns
    # A run in a worker process replays exactly in this one.
    again = run_one(build_grid(TINY, axes, [0], tmp_path / "again", overwrite=False)[3])
    assert again["digest"] == rows[3]["digest"]


def test_a_failing_run_is_a_row_not_a_crash(tmp_path: Path) -> None:
    specs = build_grid(TINY, [parse_set("time.tick=1,3")], [0], tmp_path, overwrite=False)
    broken = build_grid(TINY.override(population={"personas": str(tmp_path / "missing.csv")}),
                        [], [0], tmp_path / "b", overwrite=False)
    table = run_sweep([specs[0], broken[0]], jobs=1)
    errors = table.column("error")
    assert errors[0] == "" and "missing.csv" in errors[1]
    assert table.column("digest")[1] is None


def test_cli_sweep_writes_summary_and_protects_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[population]\nagents = 10\n[time]\nduration = "20m"\n')
    out = tmp_path / "sweep"
    argv = ["sweep", str(cfg), "--seeds", "2", "--set", "time.tick=1,3", "--jobs", "1",
            "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"summary          {out / 'summary.csv'}" in captured.out
    assert "4/4 runs" in captured.err
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["time.tick"], r["seed"]) for r in rows] == [("1", "0"), ("1", "1"), ("3", "0"), ("3", "1")]
    assert main(argv) == 2
    assert "already exist" in capsys.readouterr().err
    assert main([*argv, "--overwrite", "--quiet"]) == 0
    capsys.readouterr()
    other = ["sweep", str(cfg), "--set", "time.tick=2", "--jobs", "1", "--out", str(out)]
    assert main(other) == 2  # new runs, but another sweep's summary.csv is in the folder
    assert f"{out / 'summary.csv'} already exists" in capsys.readouterr().err
    kept = csv.DictReader((out / "summary.csv").read_text().splitlines())
    assert next(kept)["time.tick"] == "1"  # the first sweep's, untouched
    assert main(["sweep", str(cfg), "--set", "time.tik=1"]) == 2
    assert "Did you mean 'time.tick'" in capsys.readouterr().err
    assert main([*other, "--jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "oasis-des: error: --jobs must be >= 1, got 0.\n"  # and nothing before it


def test_ray_backend_gives_the_same_runs(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    specs = build_grid(TINY, [parse_set("time.tick=1,3")], [0], tmp_path, overwrite=False)
    local = run_sweep(specs, jobs=1).column("digest")
    specs = build_grid(TINY, [parse_set("time.tick=1,3")], [0], tmp_path / "ray", overwrite=False)
    assert run_sweep(specs, jobs=2, backend="ray").column("digest") == local


def test_runs_of_a_parallel_sweep_rank_in_their_own_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Parallel runs each have a CPU: none starts a ranking peer (a second process)."""
    from oasis_des.platform.recsys import peer
    from oasis_des.sweep import runner

    monkeypatch.delenv(peer.ENV_SWITCH, raising=False)
    monkeypatch.setattr(peer.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert peer.peer_allowed()
    seen: list[bool] = []
    monkeypatch.setattr(runner, "run_one", lambda spec: seen.append(peer.peer_allowed()) or {})
    runner.run_one_of_many(None)  # type: ignore[arg-type]
    assert seen == [False]
