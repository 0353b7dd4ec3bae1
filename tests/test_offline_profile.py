"""Offline model profiles: keys left out take the shipped values; unknown keys and bad values
are one-line errors naming the file and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from oasis_des.cli import main
from oasis_des.policies.offline import OfflineParams
from oasis_des.policies.profile_keys import ProfileError
from oasis_des.policies.profiles import find_profile

SHIPPED = find_profile("offline")


def variant(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped profile with one line changed."""
    text = SHIPPED.read_text()
    assert text.count(old) == 1
    path = tmp_path / "variant.toml"
    path.write_text(text.replace(old, new))
    return path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "partial.toml"
    path.write_text(text)
    return path


def test_a_profile_may_leave_out_any_key(tmp_path: Path) -> None:
    shipped = OfflineParams.from_toml(SHIPPED)
    assert OfflineParams.from_toml(write(tmp_path, "")) == shipped
    changed = OfflineParams.from_toml(write(tmp_path, "[weights]\nrelevance = 2.5\n"
                                                      "[actions]\nreddit = ['do_nothing']\n"))
    assert changed == dataclasses.replace(
        shipped, weights={**shipped.weights, "relevance": 2.5},
        actions={**shipped.actions, "reddit": ("do_nothing",)})


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("temperature = 1.0", "temprature = 1.0",
         r"unknown key 'choice.temprature'. Did you mean 'choice.temperature'\?$"),
        ('"mute", "report_post", "search_posts", "trend", "do_nothing"]\n',  # appended at the end
         '"mute", "report_post", "search_posts", "trend", "do_nothing"]\nbogus_key = 1\n',
         r"unknown key 'actions.bogus_key'.$"),
        ("[choice]\n", "temprature = 2\n[choice]\n",
         r"unknown key 'temprature'. Did you mean 'choice.temperature'\?$"),
        ("[weights]", "[wieghts]", r"unknown key 'wieghts'. Did you mean 'weights'\?$"),
    ],
)
def test_unknown_keys_suggest_the_closest(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(ProfileError, match=message) as info:
        OfflineParams.from_toml(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("do_nothing = 1.5", 'do_nothing = "high"',
         r"key 'base.do_nothing' = 'high' is invalid; expected a finite number"),
        ("like_post = -1.0", "like_post = -inf", r"key 'base.like_post' = -inf is invalid"),
        ("temperature = 1.0", "temperature = nan",
         r"key 'choice.temperature' = nan is invalid; expected a finite number > 0"),
        ("temperature = 1.0", "temperature = 0", r"key 'choice.temperature' = 0 is invalid"),
        ("agreement = 3.0", "agreement = -3.0",
         r"key 'weights.agreement' = -3.0 is invalid; expected a finite number >= 0"),
        ("relevance = 2.0", "relevance = inf", r"key 'weights.relevance' = inf is invalid"),
        ("openness = [0.2, 0.6]", "openness = [0.6, 0.2]",
         r"key 'traits.openness' = \[0.6, 0.2\] is invalid; expected \[low, high\] with 0 <= low"),
        ("assimilation = [0.02, 0.1]", "assimilation = [0.02, 1.5]",
         r"key 'traits.assimilation' = \[0.02, 1.5\] is invalid; .* <= high <= 1"),
        ("verbosity = [0.0, 1.0]", "verbosity = 1.0", r"key 'traits.verbosity' = 1.0 is invalid"),
        ("conformity = 0.5", "conformity = -0.5", r"key 'traits.conformity' = -0.5 is invalid"),
        ("interest_noise = 0.3", "interest_noise = nan", r"key 'traits.interest_noise' = nan"),
        ("backfire = false", 'backfire = "no"',
         r"key 'opinion.backfire' = 'no' is invalid; expected true or false"),
        ('kind = "offline"', 'kind = "openai"', r"key 'kind' = 'openai' is invalid"),
        ("[choice]\ntemperature = 1.0", "choice = 1.0", r"\[choice\] must be a table"),
        ('reddit = ["create_post"', 'reddit = ["create_pots"',
         r"'actions.reddit': 'create_pots' is not an action .* Did you mean 'create_post'\?"),
    ],
)
def test_bad_values_name_file_key_and_what_is_allowed(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(ProfileError, match=message) as info:
        OfflineParams.from_toml(path)
    assert str(info.value).startswith(f"{path}: ")


def test_a_run_with_a_bad_profile_is_a_one_line_error_and_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = variant(tmp_path, "temperature = 1.0", "temprature = 1.0")
    db = tmp_path / "run.db"
    argv = ["run", "--agents", "5", "--duration", "1h", "--model", str(path), "--out", str(db)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (f"oasis-des: error: {path}: unknown key "
                                       "'choice.temprature'. Did you mean 'choice.temperature'?\n")
    assert not db.exists()
