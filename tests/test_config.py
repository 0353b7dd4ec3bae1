"""Run configuration: defaults, TOML files, and errors that name key, value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from oasis_des.engine.config import Config, ConfigError, load_config, parse_duration


def test_default_scenario_is_offline_twitter_day_of_1000_agents() -> None:
    c = load_config(None)
    assert c.platform.kind == "twitter"
    assert c.population.agents == 1000
    assert c.time.duration == 1440.0
    assert c.policy.model == "offline"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90.0), ("90m", 90.0), ("24h", 1440.0), ("2d", 2880.0), (15, 15.0), ("1e3", 1000.0),
     ("1.5E1h", 900.0), (".5d", 720.0), ("-1h", -60.0)],  # negatives are refused by each key
)
def test_durations(text: object, minutes: float) -> None:
    assert parse_duration(text) == minutes


def test_bad_duration_names_key() -> None:
    with pytest.raises(ConfigError, match=r"time.duration = 'soon'"):
        parse_duration("soon")


def test_file_is_read_and_validated(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('seed = 7\n[time]\nmode = "continuous"\nduration = "2h"\n[platform]\nkind = "reddit"\n')
    c = load_config(f)
    assert (c.seed, c.time.mode, c.time.duration, c.platform.kind) == (7, "continuous", 120.0, "reddit")
    assert c.time.tick == 3.0  # untouched keys keep their defaults


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[time]\ntik = 3\n", r"Unknown config key 'time.tik'. Did you mean 'time.tick'\?"),
        ("sed = 1\n", r"Unknown config key 'sed'. Did you mean 'seed'\?"),
        ("[time]\ntick = -1\n", r"time.tick = -1.0 is out of range; expected a number of minutes from 0.01"),
        ("[time]\nmode = 'warp'\n", r"time.mode = 'warp' is not allowed; use one of 'stepped', 'continuous'"),
        ("seed = 'x'\n", r"seed = 'x' has the wrong type; expected int"),
        ("[population]\nagents = 0\n", r"population.agents = 0 is out of range"),
        ("[gateway]\nmax_batch = true\n", r"gateway.max_batch = True has the wrong type"),
        ("time = 3\n", r"\[time\] must be a table"),
        ("[time\n", r"not valid TOML"),
    ],
)
def test_errors_name_file_key_value_and_allowed(tmp_path: Path, toml: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(f)
    assert str(f) in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("/nonexistent/x.toml")


def test_override_validates_like_a_file() -> None:
    c = Config().override(population={"agents": 5}, seed=3)
    assert (c.population.agents, c.seed, c.population.personas) == (5, 3, "")
    with pytest.raises(ConfigError, match="population.agentz"):
        Config().override(population={"agentz": 5})


def test_config_is_frozen() -> None:
    c = Config()
    with pytest.raises(AttributeError):
        c.seed = 3  # type: ignore[misc]
