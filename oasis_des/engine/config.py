"""Run configuration: a TOML file read into frozen dataclasses and validated.

Every setting has a default that works offline, so an empty config is a valid run.
Errors name the key, the value and what is allowed (and the closest valid key for typos).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args, get_origin


class ConfigError(ValueError):
    """A configuration value or key is invalid."""


@dataclass(frozen=True, kw_only=True)
class PlatformConfig:
    kind: Literal["twitter", "reddit"] = "twitter"
    # Overrides of PlatformSettings (recommender, show_score, ...), checked by the platform.
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PopulationConfig:
    agents: int = 1000  # size of the synthetic population when `personas` is empty
    personas: str = ""  # a persona file (OASIS Twitter CSV, Reddit JSON, or JSONL)
    trace_sign_ups: bool = True  # write a sign_up trace row per agent (OASIS does; 1M runs may not)


@dataclass(frozen=True, kw_only=True)
class TimeConfig:
    mode: Literal["stepped", "continuous"] = "stepped"
    duration: float = 1440.0  # simulated minutes (strings like "24h", "90m", "2d" accepted)
    tick: float = 3.0  # minutes per step in stepped mode (OASIS's experiments use 3)
    start_time: str = "2024-01-01T08:00:00"  # datetime of minute 0; its hour starts the profile
    k: float = 60.0  # time magnification: one real second is k/60 simulated minutes
    think_seconds: float = 30.0  # mean think time in real seconds (exponential)
    min_think_seconds: float = 1.0  # lower bound of a think time, in real seconds
    commit_every: float = 0.0  # minutes between commits; 0 = one tick (stepped) or 1 minute


@dataclass(frozen=True, kw_only=True)
class ActivationConfig:
    # stepped: "profile"; continuous: "poisson", "profile", "bursty" or "csv"
    model: Literal["profile", "poisson", "bursty", "csv"] = "profile"
    rate: float = 0.0  # activations per agent per hour for poisson/bursty; 0 = the agent's mean
    burst_alpha: float = 1.5  # Pareto tail index of bursty inter-event times (> 1)
    csv: str = ""  # file of agent_id,time (minutes) rows for the csv model


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    capacity: int = 1  # how many actions the platform serves at once
    service_minutes: float = 0.0  # service time of an action
    per_action: dict[str, float] = field(default_factory=dict)  # overrides by action name


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    max_batch: int = 0  # flush a batch at this many requests; 0 = unlimited
    max_concurrency: int = 16  # concurrent calls of an async policy


@dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    model: str = "offline"  # a profile name in models/ or a path to a profile file


@dataclass(frozen=True, kw_only=True)
class OutputConfig:
    path: str = "runs/oasis_des.db"
    overwrite: bool = False


@dataclass(frozen=True, kw_only=True)
class ScriptConfig:
    file: str = ""  # scripted actions: CSV or JSONL of time, agent_id, action, args


@dataclass(frozen=True, kw_only=True)
class Config:
    seed: int = 0
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    time: TimeConfig = field(default_factory=TimeConfig)
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    script: ScriptConfig = field(default_factory=ScriptConfig)

    def override(self, **sections: dict[str, Any]) -> "Config":
        """A copy with some keys of some sections replaced, validated like a file."""
        return _build(type(self), dict(sections), "", base=self)


# Ranges checked after types: key -> (predicate, what is allowed).
_RANGES: dict[str, tuple[Any, str]] = {
    "population.agents": (lambda v: v >= 1, "an integer >= 1"),
    "time.duration": (lambda v: v > 0, "a duration > 0 (minutes, or e.g. '24h')"),
    "time.tick": (lambda v: v > 0, "a number of minutes > 0"),
    "time.k": (lambda v: v > 0, "a number > 0"),
    "time.think_seconds": (lambda v: v >= 0, "a number of seconds >= 0"),
    "time.min_think_seconds": (lambda v: v > 0, "a number of seconds > 0"),
    "time.commit_every": (lambda v: v >= 0, "a number of minutes >= 0"),
    "activation.rate": (lambda v: v >= 0, "activations per hour >= 0"),
    "activation.burst_alpha": (lambda v: v > 1, "a number > 1"),
    "server.capacity": (lambda v: v >= 1, "an integer >= 1"),
    "server.service_minutes": (lambda v: v >= 0, "a number of minutes >= 0"),
    "gateway.max_batch": (lambda v: v >= 0, "an integer >= 0 (0 = unlimited)"),
    "gateway.max_concurrency": (lambda v: v >= 1, "an integer >= 1"),
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)?\s*$")


def parse_duration(value: Any, key: str = "time.duration") -> float:
    """Minutes from a number or a string such as '90m', '24h', '2d'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(
            f"{key} = {value!r} is not a duration; use minutes (90) or '90m', '24h', '2d'."
        )
    number, unit = float(match.group(1)), match.group(2) or "m"
    return number * {"m": 1.0, "min": 1.0, "h": 60.0, "d": 1440.0}[unit]


def load_config(path: str | Path | None = None) -> Config:
    """The config of a TOML file, or the built-in default scenario when `path` is None."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
    try:
        return _build(Config, raw, "")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _build(cls: type, raw: Any, prefix: str, base: Any = None) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{prefix.rstrip('.')}] must be a table, got {raw!r}.")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        full = f"{prefix}{key}"
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
            raise ConfigError(f"Unknown config key '{full}'.{hint}")
        hint_type = hints[key]
        if is_dataclass(hint_type):
            current = getattr(base, key) if base is not None else None
            values[key] = _build(hint_type, value, f"{full}.", base=current)
        else:
            values[key] = _check(full, value, hint_type)
    if base is not None:
        return replace(base, **values)
    for name, f in known.items():
        if name not in values and f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"Missing config key '{prefix}{name}'.")
    return cls(**values)


def _check(key: str, value: Any, annotation: Any) -> Any:
    if key == "time.duration":
        value = parse_duration(value, key)
    origin = get_origin(annotation)
    if origin is Literal:
        allowed = get_args(annotation)
        if value not in allowed:
            raise ConfigError(
                f"{key} = {value!r} is not allowed; use one of {', '.join(map(repr, allowed))}."
            )
        return value
    expected = origin or annotation
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if not ok:
        name = getattr(expected, "__name__", str(expected))
        raise ConfigError(f"{key} = {value!r} has the wrong type; expected {name}.")
    if key in _RANGES:
        predicate, allowed_text = _RANGES[key]
        if not predicate(value):
            raise ConfigError(f"{key} = {value!r} is out of range; expected {allowed_text}.")
    return value

