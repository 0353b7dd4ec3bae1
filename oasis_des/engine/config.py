"""Run configuration: a TOML file read into frozen dataclasses and validated.

Every setting has a default that works offline, so an empty config is a valid run.
Errors name the key, the value and what is allowed (and the closest valid key for typos).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from oasis_des.agents.activity import MAX_RATE_PER_HOUR
from oasis_des.platform.actions import encodable, shorten


class ConfigError(ValueError):
    """A configuration value or key is invalid."""


class ConfigCombination(ConfigError):
    """Values each valid alone that are not valid together (a start time and a duration
    that end after year 9999)."""


class ConfigConflict(ConfigError):
    """A config that is valid as a file but does not fit what the run is built from (its
    population, its policies): found only while the run is built, so the command that read
    the config adds the file's name (`commands.naming_the_config`)."""


@dataclass(frozen=True, kw_only=True)
class PlatformConfig:
    kind: Literal["twitter", "reddit"] = "twitter"
    # Overrides of PlatformSettings (recommender, show_score, ...), checked by the platform.
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from oasis_des.platform.recsys import recommender_factory
        from oasis_des.platform.recsys.embedders import embedder_factory
        from oasis_des.platform.settings import PlatformSettings

        for name, value in self.settings.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"platform.settings.{name} = {value!r} is not a finite number.")
            if type(value) is int and not -(2**63) <= value < 2**63:  # SQL parameters
                raise ConfigError(f"platform.settings.{name} = {value} is not a 64-bit integer.")
            if isinstance(value, str):
                _check_text(f"platform.settings.{name}", value)
        try:  # checked here, so that a bad setting never leaves an output file behind
            settings = PlatformSettings.for_kind(self.kind, **self.settings)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"platform.settings: {exc}") from None
        # A dotted path is imported and inspected, not called (recsys/plugins.py).
        for key, check in (("recommender", recommender_factory), ("embedder", embedder_factory)):
            try:
                check(getattr(settings, key))
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"platform.settings.{key}: {exc}") from None


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
    # Minutes between commits (each with a checkpoint); 0 = every tick (stepped) or minute.
    # A checkpoint costs about as much as a tick of 10,000 agents, and Ctrl-C does not wait
    # for it (a stop commits at the next event), so the default is half an hour.
    commit_every: float = 30.0

    def __post_init__(self) -> None:
        # Reddit rows (and LLM prompts) carry start_time + now as a datetime, which ends at
        # year 9999: refused here rather than as an OverflowError in the middle of the run.
        try:
            datetime.fromisoformat(self.start_time) + timedelta(minutes=self.duration)
        except OverflowError:
            raise ConfigCombination(
                f"time.start_time = {shorten(self.start_time)} plus time.duration = "
                f"{self.duration:g} minutes is after {datetime.max:%Y-%m-%d %H:%M}; expected "
                "a start_time at least the duration before the end of year 9999."
            ) from None
        ticks = self.duration / self.tick
        if self.mode == "stepped" and ticks > MAX_TICKS:
            raise ConfigCombination(
                f"time.duration = {self.duration:g} minutes at time.tick = {self.tick:g} is "
                f"{ticks:.3g} ticks; expected at most {MAX_TICKS:,} (a longer tick or a "
                "shorter duration)."
            )


@dataclass(frozen=True, kw_only=True)
class ActivationGroup:
    """Agents whose activity the config sets instead of their persona (e.g. OASIS's 1M runs:
    1% core users active with probability 0.1 per tick, everyone else 0.01 times an hour)."""

    agents: str = ""  # agent id ranges, e.g. "0-9999"
    fraction: float = 0.0  # or: a seeded random share of all agents, in (0, 1]
    rate: float = 0.0  # activations per hour, the same at every hour of the day
    tick_probability: float = 0.0  # or: the probability of activating at each tick


@dataclass(frozen=True, kw_only=True)
class ActivationConfig:
    # stepped: "profile"; continuous: "poisson", "profile", "bursty" or "csv"
    model: Literal["profile", "poisson", "bursty", "csv"] = "profile"
    rate: float = 0.0  # activations per agent per hour for poisson/bursty; 0 = the agent's mean
    burst_alpha: float = 1.5  # Pareto tail index of bursty inter-event times (> 1)
    csv: str = ""  # file of agent_id,time (minutes) rows for the csv model
    groups: tuple[ActivationGroup, ...] = ()  # [[activation.groups]]: the first match decides

    def __post_init__(self) -> None:
        _check_groups(self.groups, "activation.groups")
        for i, group in enumerate(self.groups):
            key = f"activation.groups[{i}]"
            rate_ok, rates = _RANGES["activation.rate"]  # a group's rate has the same bounds
            if not rate_ok(group.rate):
                raise ConfigError(
                    f"{key}.rate = {shorten(group.rate)} is out of range; expected {rates}."
                )
            if not 0 <= group.tick_probability < 1:
                raise ConfigError(
                    f"{key}.tick_probability = {shorten(group.tick_probability)} is out of "
                    "range; expected a probability in [0, 1)."
                )
            if (group.rate > 0) == (group.tick_probability > 0):
                raise ConfigError(f"{key} needs exactly one of 'rate' (per hour) or 'tick_probability'.")


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    capacity: int = 1  # how many actions the platform serves at once
    service_minutes: float = 0.0  # service time of an action
    per_action: dict[str, float] = field(default_factory=dict)  # overrides by action name

    def __post_init__(self) -> None:
        from oasis_des.platform.actions import ArgumentError, parse_action

        for name, minutes in self.per_action.items():
            key = f"server.per_action.{shorten(name)}"
            try:
                parse_action(name)
            except ArgumentError:
                raise ConfigError(f"{key}: not an action name (e.g. refresh).") from None
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not (
                0 <= minutes < math.inf
            ):
                raise ConfigError(
                    f"{key} = {shorten(minutes)} is out of range; expected minutes >= 0."
                )


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    max_batch: int = 0  # flush a batch at this many requests; 0 = unlimited
    max_concurrency: int = 16  # concurrent calls of an async policy


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    # Threads numpy's BLAS may use during a run (0 = the library's default); see threads.py.
    blas_threads: int = 1


@dataclass(frozen=True, kw_only=True)
class PolicyGroup:
    """Agents that use another profile than `policy.model` (policies/router.py)."""

    model: str  # a profile name in models/ or a path to a profile file
    agents: str = ""  # agent id ranges, e.g. "0-99,150"
    fraction: float = 0.0  # or: a seeded random share of all agents, in (0, 1]


@dataclass(frozen=True, kw_only=True)
class PolicyConfig:
    model: str = "offline"  # a profile name in models/ or a path to a profile file
    groups: tuple[PolicyGroup, ...] = ()  # [[policy.groups]]: the first match decides

    def __post_init__(self) -> None:
        _check_groups(self.groups, "policy.groups")


@dataclass(frozen=True, kw_only=True)
class InterviewConfig:
    """Questions asked of LLM agents at a simulated time (llm/interview.py)."""

    time: float  # simulated minutes (or e.g. "2h")
    agents: str  # agent id ranges, e.g. "0-4,9"
    question: str


@dataclass(frozen=True, kw_only=True)
class LLMConfig:
    cache: str = ""  # record/replay cache file of LLM answers (SQLite); "" = none
    cache_mode: Literal["off", "record", "replay", "auto"] = "auto"
    remember_interviews: bool = False  # interview answers enter the agent's memory
    interviews: tuple[InterviewConfig, ...] = ()  # [[llm.interviews]]

    def __post_init__(self) -> None:
        from oasis_des.agents.selection import parse_agents

        for i, item in enumerate(self.interviews):
            try:
                parse_agents(item.agents, f"llm.interviews[{i}].agents")
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if item.time < 0:
                raise ConfigError(f"llm.interviews[{i}].time = {item.time!r} is negative.")


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
    engine: EngineConfig = field(default_factory=EngineConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    script: ScriptConfig = field(default_factory=ScriptConfig)

    def override(self, **sections: dict[str, Any]) -> "Config":
        """A copy with some keys of some sections replaced, validated like a file."""
        return _build(type(self), dict(sections), "", base=self)


# Far beyond any run that fits in memory; a typo (1e10 agents) gets an error, not a MemoryError.
MAX_AGENTS = 100_000_000

# Time bounds, so that no value makes a run that cannot end (docs/limits.md). A stepped tick
# of an idle population costs ~30 us, so 10^8 ticks are an hour of overhead alone; a Twitter
# created_at counts ticks of at least 0.01 minutes (5e9 in 100 years, well within 64 bits).
MIN_TICK_MINUTES = 0.01
MAX_DURATION_MINUTES = 36_525 * 1440  # 100 years of 365.25 days
MAX_TICKS = 100_000_000

# Ranges checked after types: key -> (predicate, what is allowed).
_RANGES: dict[str, tuple[Any, str]] = {
    "seed": (lambda v: -(2**63) <= v < 2**64, "a 64-bit integer"),
    "population.agents": (lambda v: 1 <= v <= MAX_AGENTS, f"an integer from 1 to {MAX_AGENTS:,}"),
    "time.duration": (
        lambda v: 0 < v <= MAX_DURATION_MINUTES,
        f"a duration > 0 (minutes, or e.g. '24h') up to 100 years ({MAX_DURATION_MINUTES:,} min)",
    ),
    "time.tick": (
        lambda v: MIN_TICK_MINUTES <= v <= MAX_DURATION_MINUTES,
        f"a number of minutes from {MIN_TICK_MINUTES:g} to {MAX_DURATION_MINUTES:,}",
    ),
    "time.start_time": (lambda v: _is_datetime(v),
                        "an ISO datetime without a time zone, like '2024-01-01T08:00:00'"),
    "time.k": (lambda v: v > 0, "a number > 0"),
    "time.think_seconds": (lambda v: v >= 0, "a number of seconds >= 0"),
    "time.min_think_seconds": (lambda v: v > 0, "a number of seconds > 0"),
    "time.commit_every": (lambda v: v >= 0, "a number of minutes >= 0"),
    "activation.rate": (
        lambda v: 0 <= v <= MAX_RATE_PER_HOUR,
        f"activations per hour from 0 to {MAX_RATE_PER_HOUR:g}",
    ),
    "activation.burst_alpha": (lambda v: v > 1, "a number > 1"),
    "server.capacity": (lambda v: v >= 1, "an integer >= 1"),
    "server.service_minutes": (lambda v: v >= 0, "a number of minutes >= 0"),
    "gateway.max_batch": (lambda v: v >= 0, "an integer >= 0 (0 = unlimited)"),
    "gateway.max_concurrency": (lambda v: v >= 1, "an integer >= 1"),
    "engine.blas_threads": (lambda v: 0 <= v <= 1024, "an integer from 0 (BLAS's own default) to 1024"),
}

# A number as TOML writes it (sign, exponent: "1e3" as on the command line), then a unit.
_DURATION = re.compile(
    r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(m|min|h|d)?\s*$"
)


def parse_duration(value: Any, key: str = "time.duration") -> float:
    """Minutes from a number or a string such as '90m', '24h', '2d' (inf if too large)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(
            f"{key} = {shorten(value)} is not a duration; use minutes (90) or '90m', '24h', '2d'."
        )
    number, unit = float(match.group(1)), match.group(2) or "m"
    return number * {"m": 1.0, "min": 1.0, "h": 60.0, "d": 1440.0}[unit]


class WholeTable(dict):  # type: ignore[type-arg]
    """An override that replaces a table of the file instead of merging into it (a sweep's
    `--set server.per_action={refresh=0.5}`)."""


def _merged(file: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The file's tables with the overrides' keys in place of theirs, at any depth (a
    sweep's `platform.settings.recommender` replaces one entry of the file's settings)."""
    out = dict(file)
    for key, value in overrides.items():
        have = out.get(key)
        whole = isinstance(value, WholeTable)
        if isinstance(value, dict) and isinstance(have, dict) and not whole:
            out[key] = _merged(have, value)
        elif not isinstance(value, dict) or have is None or whole:
            out[key] = value
        # else: keys of a table the file gives as a plain value: left for the check to refuse
    return out


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None,
    *, overrides_first: bool = True,
) -> Config:
    """The config of a TOML file, or the built-in default scenario when `path` is None.

    `overrides` (sections of keys, as command-line flags give them) replace the file's keys
    before the file is checked: a value of the file that an override replaces is never
    judged, alone or against the others (e.g. a start time that only a shorter duration
    allows). The overrides are first checked on their own against the defaults, so that an
    error in one is not blamed on the file; `overrides_first=False` leaves that to the
    caller (a sweep's values may be valid only with the file's).
    """
    if path is None:
        return Config().override(**overrides) if overrides else Config()
    if overrides and overrides_first:
        Config().override(**overrides)  # their own errors, before the file is read
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"Config file {path} is a directory; expected a TOML file.") from None
    except UnicodeDecodeError as exc:  # tomllib decodes the whole file before parsing it
        raise ConfigError(
            f"{path}: not a TOML file (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start} is not UTF-8)."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from None
    try:
        return _build(Config, _merged(raw, overrides or {}), "")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _check_groups(groups: Any, name: str) -> None:
    """Agent groups (agents/selection.py): id ranges or a fraction, fractions summing to <= 1."""
    from oasis_des.agents.selection import parse_agents

    for i, group in enumerate(groups):
        key = f"{name}[{i}]"
        if bool(group.agents) == bool(group.fraction):
            raise ConfigError(f"{key} needs exactly one of 'agents' (id ranges) or 'fraction'.")
        if group.agents:
            try:
                parse_agents(group.agents, f"{key}.agents")
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        elif not 0 < group.fraction <= 1:
            raise ConfigError(f"{key}.fraction = {group.fraction!r} is out of range; expected (0, 1].")
    total = sum(g.fraction for g in groups)
    if total > 1 + 1e-9:
        raise ConfigError(f"{name}: the fractions add up to {total:g}; at most 1.")


def build_config(raw: dict[str, Any]) -> Config:
    """A Config from nested dicts (e.g. `dataclasses.asdict` of one, read back from JSON)."""
    return _build(Config, raw, "")


def _quoted(key: str) -> str:
    """A key for an error message: quoted as written, escaped if it holds control characters."""
    return f"'{key}'" if key.isprintable() and len(key) <= 80 else shorten(key)


def _build(cls: type, raw: Any, prefix: str, base: Any = None) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{prefix.rstrip('.')}] must be a table, got {shorten(raw)}.")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        full = f"{prefix}{key}"
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
            raise ConfigError(f"Unknown config key {_quoted(full)}.{hint}")
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
    if key == "time.duration" or key.endswith("].time"):
        value = parse_duration(value, key)
    origin = get_origin(annotation)
    if origin is tuple and is_dataclass(get_args(annotation)[0]):  # a list of tables
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list of tables ([[{key}]]), got {shorten(value)}.")
        item = get_args(annotation)[0]
        return tuple(_build(item, v, f"{key}[{i}].") for i, v in enumerate(value))
    if origin is Literal:
        allowed = get_args(annotation)
        if value not in allowed:
            raise ConfigError(
                f"{key} = {shorten(value)} is not allowed; "
                f"use one of {', '.join(map(repr, allowed))}."
            )
        return value
    expected = origin or annotation
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = _float(value)
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if not ok:
        name = getattr(expected, "__name__", str(expected))
        raise ConfigError(f"{key} = {shorten(value)} has the wrong type; expected {name}.")
    if expected is float and not math.isfinite(value):
        raise ConfigError(f"{key} = {value!r} is not a finite number.")
    if expected is str:
        _check_text(key, value)
    if key in _RANGES:
        check_range(key, value)
    return value


def check_range(key: str, value: Any, *, name: str = "", written: Any = None) -> None:
    """Refuse a value outside the range of `key`, as `name` (a command-line flag) = `written`
    (what the user typed, e.g. '-1h') when given, so the error names what the user wrote."""
    predicate, allowed_text = _RANGES[key]
    if not predicate(value):
        shown = shorten(value if written is None else written)
        raise ConfigError(f"{name or key} = {shown} is out of range; expected {allowed_text}.")


def _check_text(key: str, value: str) -> None:
    """Texts are paths, names and questions: no NUL (the OS cuts paths there), and UTF-8."""
    if "\x00" in value or not encodable(value):
        raise ConfigError(
            f"{key} = {shorten(value)} is not valid text (NUL characters or unpaired surrogates)."
        )


def _float(number: float) -> float:
    """A float; integers beyond the float range become inf (and are then refused)."""
    try:
        return float(number)
    except OverflowError:
        return math.inf


def _is_datetime(text: str) -> bool:
    """An ISO datetime without a time zone: tables store local times, as OASIS does."""
    try:
        return datetime.fromisoformat(text).tzinfo is None
    except ValueError:
        return False

