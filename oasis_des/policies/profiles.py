"""Model profiles: TOML files in `models/` that say which policy decides and how."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from oasis_des.agents.population import Population
from oasis_des.policies.base import AsyncPolicy, BatchPolicy
from oasis_des.policies.offline import OfflineParams, OfflinePolicy
from oasis_des.resources import data_dir

if TYPE_CHECKING:
    from oasis_des.llm.session import LLMSession


# Keys of LLM profiles that offline profiles never have.
_LLM_ONLY = ("model", "base_urls", "api_key_env", "base_url")

def find_profile(model: str) -> Path:
    """A profile path: `model` itself if it is a file, else `models/<model>.toml`."""
    given = Path(model)
    if given.is_file():
        return given
    bundled = data_dir("models") / f"{model}.toml"
    if bundled.is_file():
        return bundled
    names = sorted(p.stem for p in data_dir("models").glob("*.toml"))
    raise FileNotFoundError(
        f"Model profile {model!r} is neither a file nor one of: {', '.join(names)}."
    )


def load_policy(
    model: str,
    population: Population,
    *,
    kind: str,
    seed: int,
    session: LLMSession | None = None,
) -> BatchPolicy | AsyncPolicy:
    """The policy a profile describes, for `population` on a `kind` platform.

    LLM policies of one run share `session` (record/replay cache, usage log).
    """
    path = find_profile(model)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc}).") from None
    policy_kind = raw.get("kind", "offline")
    llm_keys = [key for key in _LLM_ONLY if key in raw]
    if "kind" not in raw and llm_keys:  # an LLM profile that forgot its kind
        raise ValueError(
            f"{path}: unknown key '{llm_keys[0]}' for an offline profile (a profile without "
            "`kind` is the offline model); add kind = \"openai\" for an LLM profile."
        )
    if policy_kind == "offline":
        return OfflinePolicy(population, OfflineParams.from_toml(path), kind=kind, seed=seed)
    if policy_kind == "openai":
        from oasis_des.llm.policy import LLMPolicy
        from oasis_des.llm.profile import LLMProfile
        from oasis_des.llm.session import LLMSession

        return LLMPolicy(LLMProfile.from_toml(path, raw), population, kind=kind,
                         session=session if session is not None else LLMSession())
    raise ValueError(
        f"{path}: unknown policy kind {policy_kind!r} (supported: 'offline', 'openai')."
    )
