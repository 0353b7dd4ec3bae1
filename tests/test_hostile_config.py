"""Hostile config files: every bad value is a ConfigError naming the file and the key.

Keys are enumerated from the Config dataclasses, so a new key is covered as soon as it exists.
"""

from __future__ import annotations

import re
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, get_origin

import pytest
from hostile_values import LONE_SURROGATES, json_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oasis_des.agents.activity import MAX_RATE_PER_HOUR
from oasis_des.cli import main
from oasis_des.engine.config import (
    MAX_AGENTS,
    MAX_TICKS,
    Config,
    ConfigError,
    build_config,
    load_config,
)


def scalar_keys() -> list[tuple[str, Any]]:
    """(dotted key, annotation) of every plain setting (not lists of tables)."""
    out: list[tuple[str, Any]] = []

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            hint = hints[f.name]
            if is_dataclass(hint):
                walk(hint, f"{prefix}{f.name}.")
            elif get_origin(hint) is not tuple:
                out.append((f"{prefix}{f.name}", hint))

    walk(Config, "")
    return out


KEYS = scalar_keys()
FLOATS = [k for k, t in KEYS if t is float]
INTS = [k for k, t in KEYS if t is int]
STRS = [k for k, t in KEYS if t is str]
BOOLS = [k for k, t in KEYS if t is bool]
CHOICES = [k for k, t in KEYS if get_origin(t) is Literal]


def toml_for(key: str, value: str) -> str:
    section, _, name = key.rpartition(".")
    return f"[{section}]\n{name} = {value}\n" if section else f"{name} = {value}\n"


def refused(tmp_path: Path, key: str, value: str) -> str:
    f = tmp_path / "hostile.toml"
    f.write_text(toml_for(key, value), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    message = str(info.value)
    assert message.startswith(f"{f}: ") and key in message, message
    assert "\n" not in message and len(message) < 500, message[:600]
    return message


def test_the_battery_sees_every_kind_of_key() -> None:
    assert {"time.tick", "time.duration", "activation.rate"} <= set(FLOATS)
    assert {"seed", "population.agents", "server.capacity"} <= set(INTS)
    assert {"output.path", "population.personas", "time.start_time"} <= set(STRS)
    assert BOOLS and CHOICES


@pytest.mark.parametrize("key", FLOATS)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+inf", "-nan"])
def test_non_finite_numbers_are_refused_naming_the_key(
    tmp_path: Path, key: str, value: str
) -> None:
    refused(tmp_path, key, value)


@pytest.mark.parametrize("key", INTS)
@pytest.mark.parametrize(
    "value", ["true", "1.5", "1.0", '"1"', "[1]", "{ a = 1 }", "nan", "1979-05-27"]
)
def test_integers_of_the_wrong_type_are_refused_naming_the_key(
    tmp_path: Path, key: str, value: str
) -> None:
    refused(tmp_path, key, value)


@pytest.mark.parametrize("key", FLOATS + STRS + CHOICES)
@pytest.mark.parametrize("value", ["true", "[]", "{ x = 1 }", "1979-05-27T07:32:00"])
def test_other_wrong_types_are_refused_naming_the_key(tmp_path: Path, key: str, value: str) -> None:
    refused(tmp_path, key, value)


@pytest.mark.parametrize("key", BOOLS)
@pytest.mark.parametrize("value", ["1", "0", '"true"', "nan"])
def test_booleans_must_be_booleans(tmp_path: Path, key: str, value: str) -> None:
    refused(tmp_path, key, value)


@pytest.mark.parametrize("key", STRS)
def test_nul_characters_are_refused_in_every_text(tmp_path: Path, key: str) -> None:
    assert "NUL" in refused(tmp_path, key, '"runs/a\\u0000b.db"')


@pytest.mark.parametrize("key", STRS)
@pytest.mark.parametrize("text", LONE_SURROGATES)
def test_lone_surrogates_are_refused_in_every_text(key: str, text: str) -> None:
    section, _, name = key.rpartition(".")
    raw: dict[str, Any] = {section: {name: text}} if section else {name: text}
    with pytest.raises(ConfigError, match="surrogates"):
        build_config(raw)


@pytest.mark.parametrize("key", CHOICES + ["time.duration", "time.start_time"])
def test_a_ten_megabyte_value_gives_a_short_error(tmp_path: Path, key: str) -> None:
    refused(tmp_path, key, '"' + "x" * 10_000_000 + '"')


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("seed", 2**64, "64-bit"),
        ("seed", -(2**63) - 1, "64-bit"),
        ("population.agents", MAX_AGENTS + 1, "out of range"),
        ("population.agents", -1, "out of range"),
        ("time.tick", 10**400, "not a finite number"),  # beyond the float range
        ("time.duration", "9" * 400, "not a finite number"),
        ("time.duration", "-5m", "out of range"),
        ("time.duration", "99999999999999999999999d", "up to 100 years (52,596,000 min)"),
        ("time.tick", 1e-300, "from 0.01 to"),
        ("time.tick", 0.0099, "from 0.01 to"),
        ("time.start_time", "yesterday", "ISO datetime"),
        ("time.start_time", "", "ISO datetime"),
        ("time.start_time", "2024-01-01T08:00:00+02:00", "without a time zone"),  # naive only
        ("time.start_time", "9999-12-31T21:00:00-05:00", "without a time zone"),
        ("activation.rate", 1e9, "out of range"),
        ("server.per_action", {"refresh": float("nan")}, "server.per_action.'refresh'"),
        ("server.per_action", {"refresh": -1.0}, "out of range"),
        ("server.per_action", {"refresh": "1"}, "out of range"),
        ("server.per_action", {"refresh": True}, "out of range"),
        ("server.per_action", {"'); DROP TABLE x; --": 1.0}, "not an action name"),
        ("platform.settings", {"no_such_setting": 1}, "Unknown platform setting"),
        ("platform.settings", {"show_score": "yes"}, "show_score"),
        ("platform.settings", {"trend_days": float("inf")}, "not a finite number"),
        ("platform.settings", {"report_threshold": 2**70}, "report_threshold"),
    ],
)
def test_values_out_of_their_range_are_refused(key: str, value: Any, expected: str) -> None:
    section, _, name = key.rpartition(".")
    with pytest.raises(ConfigError) as info:
        Config().override(**({section: {name: value}} if section else {name: value}))
    assert expected in str(info.value)
    assert key.split(".")[-1] in str(info.value) or section in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("rate", 1e9), ("rate", -1.0), ("rate", MAX_RATE_PER_HOUR * 1.001), ("tick_probability", 1.0)],
)
def test_activation_group_rates_have_the_bounds_of_activation_rate(
    tmp_path: Path, field: str, value: float
) -> None:
    f = tmp_path / "groups.toml"
    group = '[[activation.groups]]\nagents = "0-9"\n'
    f.write_text(f"{group}rate = 1.0\n{group}{field} = {value!r}\n")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    expected = "0 to 3600" if field == "rate" else "[0, 1)"
    assert f"activation.groups[1].{field} = {value!r} is out of range" in str(info.value)
    assert expected in str(info.value)
    f.write_text(f"{group}rate = {MAX_RATE_PER_HOUR!r}\n")
    assert load_config(f).activation.groups[0].rate == MAX_RATE_PER_HOUR


@pytest.mark.parametrize(
    "text",
    [
        "[time\n",  # broken TOML
        'seed = "\\ud800"\n',  # TOML cannot hold a lone surrogate
        "a = 1\na = 2\n",  # a repeated key
        "[[time]]\n",  # an array of tables where a table belongs
        "time = { tick = nan }\n",
        '["😀\u202e"]\nx = 1\n',  # an unknown section with an unusual name
        "\x00",
        "",  # empty: the defaults
    ],
)
def test_odd_files_give_a_config_or_one_error(tmp_path: Path, text: str) -> None:
    f = tmp_path / "odd.toml"
    f.write_text(text, encoding="utf-8")
    try:
        config = load_config(f)
    except ConfigError as exc:
        assert str(exc).startswith(str(f))
    else:
        assert config == Config()


section_names = st.sampled_from([f.name for f in fields(Config)] + ["bogus", "😀", ""])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.dictionaries(
        section_names,
        st.dictionaries(
            st.sampled_from([k.rpartition(".")[2] for k, _ in KEYS] + ["x", "\x00"]),
            json_values,
            max_size=3,
        )
        | json_values,
        max_size=4,
    )
)
def test_any_nested_values_give_a_config_or_a_config_error(raw: dict[str, Any]) -> None:
    try:
        config = build_config(raw)
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).encode("utf-8")
    else:
        assert isinstance(config, Config)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=60))
def test_any_text_as_a_config_file_gives_a_config_or_a_config_error(
    tmp_path: Path, text: str
) -> None:
    f = tmp_path / "fuzz.toml"
    f.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(f)
    except ConfigError as exc:
        assert str(exc).startswith(str(f))


def test_the_cli_reports_a_hostile_config_without_a_traceback_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    out = tmp_path / "run.db"
    for text in (
        "[time]\nduration = inf\n",
        "[server]\nper_action = { refresh = nan }\n",
        '[platform]\nsettings = { recommender = "\\u0000" }\n',
        "[population]\nagents = 10000000000\n",
    ):
        cfg.write_text(text)
        assert main(["run", str(cfg), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("oasis-des: error: ") and "Traceback" not in err
        assert err.count("\n") == 1
        assert not out.exists()


@pytest.mark.parametrize("settings", [
    'recommender = "no_such_package.recsys:Mine"',
    'recommender = "embedding"\nembedder = "no_such_package:Embedder"',
])
def test_a_platform_setting_the_platform_refuses_leaves_no_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: str
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[platform.settings]\n{settings}\n")
    out = tmp_path / "run.db"
    assert main(["run", str(cfg), "--agents", "10", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("oasis-des: error: ") and err.count("\n") == 1
    assert "Cannot load " in err and "no_such_package" in err
    assert not out.exists()


@pytest.mark.parametrize("kind", ["reddit", "twitter"])
def test_a_run_that_would_end_after_year_9999_is_refused_naming_both_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    cfg = tmp_path / "ovf.toml"
    cfg.write_text(f'[platform]\nkind = "{kind}"\n[time]\nduration = "2h"\n'
                   'start_time = "9999-12-31T23:59:00"\n')
    out = tmp_path / "ovf.db"
    assert main(["run", str(cfg), "--agents", "20", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "time.start_time = '9999-12-31T23:59:00'" in err and "time.duration = 120" in err
    assert not out.exists()
    assert Config().override(time={"start_time": "9999-12-31T21:59:00", "duration": 120.0})


def test_flags_replace_config_values_before_they_are_checked(tmp_path: Path) -> None:
    # The file alone would end after the year 9999; the --duration flag makes it fit.
    cfg = tmp_path / "late.toml"
    cfg.write_text('[time]\nduration = "2h"\nstart_time = "9999-12-31T23:00:00"\n'
                   '[population]\nagents = 0\n')
    with pytest.raises(ConfigError):
        load_config(cfg)
    out = tmp_path / "late.db"
    assert main(["run", str(cfg), "--agents", "5", "--duration", "10m", "--out", str(out),
                 "--quiet"]) == 0
    config = load_config(cfg, {"time": {"duration": 10.0}, "population": {"agents": 5}})
    assert (config.time.duration, config.time.start_time) == (10.0, "9999-12-31T23:00:00")
    assert config.population.agents == 5
    with pytest.raises(ConfigError) as info:  # a flag's own error does not name the file
        load_config(cfg, {"population": {"agents": 0}})
    assert str(info.value).startswith("population.agents = 0 is out of range")
    # A flag replaces keys of a section, not a section the file gives as no table.
    for text, flags in [('time = "garbage"\n', {"time": {"duration": 10.0}}),
                        ("population = [1, 2]\n", {"population": {"agents": 5}}),
                        ("output = 7\n", {"output": {"path": str(tmp_path / "o.db")}})]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=rf"^{re.escape(str(bad))}: \[\w+\] must be a table"):
            load_config(bad, flags)


def test_a_stepped_run_has_at_most_max_ticks() -> None:
    longest = MAX_TICKS * 0.5
    assert Config().override(time={"tick": 0.5, "duration": longest}).time.duration == longest
    with pytest.raises(ConfigError) as info:
        Config().override(time={"tick": 0.5, "duration": longest + 1})
    assert "time.duration = 5e+07 minutes at time.tick = 0.5 is 1e+08 ticks" in str(info.value)
    assert f"at most {MAX_TICKS:,}" in str(info.value)
    continuous = Config().override(time={"mode": "continuous", "tick": 0.5, "duration": 5e7})
    assert continuous.time.duration == 5e7  # no ticks to step through


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("-1h", "--duration = '-1h' is out of range; expected a duration > 0"),
        ("-.5", "--duration = '-.5' is out of range; expected a duration > 0"),
        ("99999999999999999999999d", "--duration = '99999999999999999999999d' is out of range"),
    ],
)
def test_the_duration_flag_gives_its_range_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, message: str
) -> None:
    out = tmp_path / "run.db"
    assert main(["run", "--duration", flag, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"oasis-des: error: {message}") and err.count("\n") == 1
    assert "up to 100 years" in err and not out.exists()


def test_the_duration_flag_takes_what_the_config_takes(tmp_path: Path) -> None:
    out = tmp_path / "run.db"
    assert main(["run", "--agents", "5", "--duration", "1e1", "--out", str(out), "--quiet"]) == 0


def test_a_binary_config_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "binary.toml"
    f.write_bytes(b"seed = 1\n\xff\xfe\x00")
    with pytest.raises(ConfigError) as info:
        load_config(f)
    assert str(info.value) == f"{f}: not a TOML file (byte 0xff at offset 9 is not UTF-8)."
