"""LLM model profiles: the bundled examples load, bad keys and values name file and key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from engine_helpers import small_population

from oasis_des.cli import main
from oasis_des.llm.policy import LLMPolicy
from oasis_des.llm.profile import DEFAULT_ACTIONS, DUMMY_API_KEY, LLMProfile, ProfileError
from oasis_des.policies.profiles import find_profile, load_policy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('kind = "openai"\nmodel = "m"\nbase_urls = ["http://127.0.0.1:9/v1"]\n' + text)
    return path


def parse(path: Path) -> LLMProfile:
    with open(path, "rb") as f:
        return LLMProfile.from_toml(path, tomllib.load(f))


@pytest.mark.parametrize("name", ["openai", "vllm"])
def test_bundled_profiles_load_as_llm_policies(name: str) -> None:
    policy = load_policy(name, small_population(5), kind="twitter", seed=0)
    assert isinstance(policy, LLMPolicy)
    assert policy.profile.name == name and policy.concurrency == policy.profile.concurrency >= 1
    assert policy.profile.price_input_per_mtok >= 0 and policy.profile.timeout_s > 0


def test_keys_used_by_outside_tests_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, 'api_key_env = "MY_KEY"\nconcurrency = 5\ntimeout_s = 2.5\nmax_retries = 0\n'
                 'temperature = 0.2\nmax_tokens = 64\nseed = 7\n'
                 'price_input_per_mtok = 2.0\nprice_output_per_mtok = 8.0\n')
    p = parse(path)
    assert (p.concurrency, p.timeout_s, p.max_retries, p.seed, p.max_tokens) == (5, 2.5, 0, 7, 64)
    assert p.cost(1_000_000, 500_000) == pytest.approx(2.0 + 4.0)
    assert p.allowed_actions("reddit") == DEFAULT_ACTIONS["reddit"]


def test_missing_key_env_gives_the_dummy_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = parse(write(tmp_path, 'api_key_env = "OASIS_TEST_NO_SUCH_KEY"\n'))
    monkeypatch.delenv("OASIS_TEST_NO_SUCH_KEY", raising=False)
    assert p.api_key() == DUMMY_API_KEY
    monkeypatch.setenv("OASIS_TEST_NO_SUCH_KEY", "sk-123")
    assert p.api_key() == "sk-123"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("base_url = 'x'\n", r"unknown key 'base_url'. Did you mean 'base_urls'\?"),
        ("concurrency = 0\n", r"key 'concurrency' = 0 is invalid; expected an integer >= 1"),
        ("timeout_s = 'slow'\n", r"key 'timeout_s' = 'slow' is invalid"),
        ("[prompt]\nmemory_tokns = 3\n", r"unknown key 'prompt.memory_tokns'. Did you mean 'prompt.memory_tokens'"),
        ("[prompt]\nsystem_template = 'nope.txt'\n", r"prompt.system_template': file .*nope.txt does not exist"),
        ("[actions]\ntwitter = ['like_post', 'fly']\n", r"actions.twitter': 'fly' is not an action this model's agents can take"),
        ("[actions]\nmastodon = ['like_post']\n", r"unknown key 'actions.mastodon'"),
    ],
)
def test_bad_profiles_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError, match=message) as info:
        parse(path)
    assert str(path) in str(info.value)


FLOAT_KEYS = ("temperature", "timeout_s", "backoff_s", "backoff_max_s",
              "price_input_per_mtok", "price_output_per_mtok", "price_cached_input_per_mtok")


@pytest.mark.parametrize("key", FLOAT_KEYS)
@pytest.mark.parametrize("value", ["nan", "inf", "1" + "0" * 400], ids=["nan", "inf", "10**400"])
def test_float_keys_refuse_non_finite_values(tmp_path: Path, key: str, value: str) -> None:
    """NaN passes `< minimum` tests; a NaN price used to fail a run only when its usage was
    written as JSON, and `estimate` printed a cost of nan."""
    path = write(tmp_path, f"{key} = {value}\n")
    with pytest.raises(ProfileError, match=rf"key '{key}' = .* is invalid; expected ") as info:
        parse(path)
    assert str(path) in str(info.value)


def test_run_and_estimate_refuse_a_nan_price_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "price_input_per_mtok = nan\n")
    error = (f"oasis-des: error: {path}: key 'price_input_per_mtok' = nan is invalid; "
             "expected USD per million tokens >= 0.\n")
    common = ["--agents", "5", "--duration", "1h", "--model", str(path)]
    assert main(["estimate", *common]) == 2
    assert capsys.readouterr() == ("", error)
    db = tmp_path / "run.db"
    assert main(["run", *common, "--out", str(db), "--quiet"]) == 2
    assert capsys.readouterr() == ("", error) and not db.exists()


def test_model_and_urls_are_required(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('kind = "openai"\nmodel = "m"\n')
    with pytest.raises(ProfileError, match="missing key 'base_urls'"):
        parse(path)


@pytest.mark.parametrize(
    "urls", ['["htp:/127.0.0.1::18701"]', '["127.0.0.1:18701/v1"]', '["http:///v1"]',
             '["http://127.0.0.1:99999/v1"]', '["http://localhost:80/v1", "localhost:81"]'],
)
def test_malformed_base_urls_are_refused_when_the_profile_loads(tmp_path: Path, urls: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f'kind = "openai"\nmodel = "m"\nbase_urls = {urls}\n')
    expected = r"key 'base_urls' = .* expected a list of http:// or https:// URLs"
    with pytest.raises(ProfileError, match=expected):
        parse(path)
    path.write_text('kind = "openai"\nmodel = "m"\n'
                    'base_urls = ["https://api.example.org:8443/v1/"]\n')
    assert parse(path).base_urls == ("https://api.example.org:8443/v1",)


def test_profile_actions_restrict_the_tools(tmp_path: Path) -> None:
    path = write(tmp_path, "[actions]\ntwitter = ['like_post', 'do_nothing']\n")
    policy = load_policy(str(path), small_population(3), kind="twitter", seed=0)
    assert isinstance(policy, LLMPolicy)
    assert [t["function"]["name"] for t in policy.tools.schemas or []] == ["like_post", "do_nothing"]


def test_unknown_policy_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('kind = "anthropic"\n')
    with pytest.raises(ValueError, match="unknown policy kind 'anthropic'.*'openai'"):
        load_policy(str(path), small_population(3), kind="twitter", seed=0)
    assert find_profile("openai").name == "openai.toml"


def test_an_llm_profile_without_its_kind_is_told_to_add_it(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('name = "mine"\nmodel = "m"\nbase_urls = ["http://127.0.0.1:9/v1"]\n')
    with pytest.raises(ValueError, match=r"p.toml: unknown key 'model' for an offline profile "
                                         r".*add kind = \"openai\" for an LLM profile"):
        load_policy(str(path), small_population(3), kind="twitter", seed=0)
    path.write_text('kind = "openai"\n' + path.read_text())
    assert isinstance(load_policy(str(path), small_population(3), kind="twitter", seed=0),
                      LLMPolicy)


def test_cost_prices_cached_prompt_tokens_at_most_the_whole_prompt(tmp_path: Path) -> None:
    profile = parse(write(tmp_path, "price_input_per_mtok = 2.0\nprice_output_per_mtok = 8.0\n"
                                    "price_cached_input_per_mtok = 0.5\n"))
    assert profile.cost(1000, 100, 400) == pytest.approx((600 * 2.0 + 400 * 0.5 + 800) / 1e6)
    assert profile.cost(1000, 100, 5000) == profile.cost(1000, 100, 1000) \
        == pytest.approx((500 + 800) / 1e6)
