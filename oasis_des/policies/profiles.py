"""Model profiles: TOML files in `models/` that say which policy decides and how."""

from __future__ import annotations

import tomllib
from pathlib import Path

from oasis_des.agents.population import Population
from oasis_des.policies.base import AsyncPolicy, BatchPolicy
from oasis_des.policies.offline import OfflineParams, OfflinePolicy
from oasis_des.resources import data_dir


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


def load_policy(model: str, population: Population, *, kind: str, seed: int) -> BatchPolicy | AsyncPolicy:
    """The policy a profile describes, for `population` on a `kind` platform."""
    path = find_profile(model)
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    policy_kind = raw.get("kind", "offline")
    if policy_kind == "offline":
        return OfflinePolicy(population, OfflineParams.from_toml(path), kind=kind, seed=seed)
    raise ValueError(f"{path}: unknown policy kind {policy_kind!r} (supported: 'offline').")
