"""The grid of a sweep: `--set key=v1,v2` axes × seeds, each cell a validated Config.

Keys are dotted config keys (`time.tick`, `activation.model`); inside a table-valued key
the rest of the key names an entry (`platform.settings.recommender`, `server.per_action.refresh`),
merged into the base config's table. Values are read as TOML (`3`, `0.5`, `true`, `"a,b"`);
anything that is not TOML is a plain string (`reddit`, `24h`). Every cell is built and
checked before any run starts, so a typo fails at once with the key and the allowed values.
"""

from __future__ import annotations

import datetime
import itertools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from oasis_des.engine.config import (
    Config, ConfigCombination, ConfigError, WholeTable, load_config,
)


@dataclass(frozen=True)
class Axis:
    """One swept key and its values, in the order given."""

    key: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class RunSpec:
    """One run of the sweep: its name, the swept values, the seed and the full config."""

    index: int
    name: str
    params: dict[str, Any]
    seed: int
    config: Config
    source: str | None = None  # the config file the cell was made from, if any


def parse_set(text: str) -> Axis:
    """`key=v1,v2,...` → Axis (commas inside quotes or brackets do not split)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise ConfigError(f"--set {text!r}: expected key=value[,value...], e.g. time.tick=1,3.")
    if key == "seed":
        raise ConfigError("--set seed=...: seeds are set with --seeds (a count or a list).")
    values = tuple(_value(v) for v in _split(raw))
    if len(set(map(repr, values))) != len(values):
        raise ConfigError(f"--set {key}: a value is repeated in {raw!r}.")
    return Axis(key, values)


def parse_seeds(text: str, base: int) -> list[int]:
    """`N` → N seeds from `base` (the config's seed); `a,b,c` → exactly those seeds."""
    parts = [p.strip() for p in text.split(",")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: expected a count (5) or a list of seeds (1,7,9).") from None
    if len(numbers) == 1:
        if numbers[0] < 1:
            raise ConfigError(f"--seeds {text!r}: the count must be >= 1.")
        return list(range(base, base + numbers[0]))
    if len(set(numbers)) != len(numbers):
        raise ConfigError(f"--seeds {text!r}: a seed is repeated.")
    return numbers


def apply(config: Config, key: str, value: Any) -> Config:
    """`config` with the dotted `key` set to `value`, validated like a config file."""
    parts = key.split(".")
    node: Any = config
    path: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(node, dict):  # a table-valued key: the rest names one of its entries
            entry = ".".join(parts[i:])
            return _override(config, path, {**node, entry: value}, key)
        if not is_dataclass(node) or part not in {f.name for f in fields(node)}:
            break  # let Config.override name the unknown key and suggest the closest one
        node = getattr(node, part)
        path.append(part)
    else:
        _refuse_section(key)
        return _override(config, path, value, key)
    return _override(config, parts, value, key)


def build_grid(
    base: Config | str | Path | None, axes: list[Axis], seeds: list[int] | str,
    out_dir: str | Path, *, overwrite: bool,
) -> list[RunSpec]:
    """Every combination of the axes' values, for every seed, with its own database path.

    `base` is a config, or a config file (None: the built-in scenario): then each cell is
    the file with the cell's values in place of its own, checked as a whole (as `run` does
    with its flags), so a value of the file that every cell replaces is never judged; a
    table given whole (`{...}`) replaces the file's. `seeds` may be `--seeds` text, read
    from the base's seed."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise ConfigError("--set: a key is given twice; list all its values in one --set.")
    cell_of = _cells(base, axes)
    short = _short_names(keys)
    runs_dir = Path(out_dir) / "runs"
    specs: list[RunSpec] = []
    for combo in itertools.product(*(a.values for a in axes)):
        cell = cell_of(dict(zip(keys, combo)))
        label = "_".join(f"{s}={_slug(v)}" for s, v in zip(short, combo))
        _check_cell(cell, label)
        if isinstance(seeds, str):
            seeds = parse_seeds(seeds, cell.seed)
        for seed in seeds:
            name = f"{label}_seed={seed}" if label else f"seed={seed}"
            db = runs_dir / f"{name}.db"
            final = cell.override(seed=seed, output={"path": str(db), "overwrite": overwrite})
            specs.append(RunSpec(len(specs), name, dict(zip(keys, combo)), seed, final,
                                 None if base is None or isinstance(base, Config) else str(base)))
    if not overwrite:
        existing = [s.config.output.path for s in specs if Path(s.config.output.path).exists()]
        summary = Path(out_dir) / "summary.csv"  # another sweep's, written into this folder
        if summary.exists():
            raise FileExistsError(
                f"{summary} already exists; choose another --out or pass --overwrite."
            )
        if existing:
            raise FileExistsError(
                f"{len(existing)} run database(s) already exist, e.g. {existing[0]}; choose another "
                "--out or pass --overwrite."
            )
    return specs


def _cells(
    base: Config | str | Path | None, axes: list[Axis]
) -> Callable[[dict[str, Any]], Config]:
    """How a cell's config is made from its swept values (see `build_grid`)."""
    if isinstance(base, Config):
        def applied(values: dict[str, Any]) -> Config:
            cell = base
            for key, value in values.items():
                cell = apply(cell, key, value)
            return cell
        return applied
    for axis in axes:
        _refuse_section(axis.key)

    def loaded(values: dict[str, Any]) -> Config:
        sections: dict[str, Any] = {}
        for key, value in values.items():
            *path, last = key.split(".")
            node = sections
            for part in path:
                node = node.setdefault(part, {})
            node[last] = WholeTable(value) if isinstance(value, dict) else value
        try:
            return load_config(base, sections, overrides_first=False)
        except ConfigError:
            for key, value in values.items():  # a value wrong on its own: its error names --set
                try:
                    apply(Config(), key, value)
                except ConfigCombination:
                    pass  # wrong with the defaults' other values: not alone
            raise  # else the file's (or the combination's): it names the file
    return loaded


def _refuse_section(key: str) -> None:
    """A --set key must name a value or a table, not a section of the config."""
    node: Any = Config()
    for part in key.split("."):
        if not is_dataclass(node) or part not in {f.name for f in fields(node)}:
            return  # a table's entry, or an unknown key (named when the cell is checked)
        node = getattr(node, part)
    if is_dataclass(node):
        first = fields(node)[0].name
        raise ConfigError(f"--set {key}: '{key}' is a section; set one of its keys, e.g. {key}.{first}.")


def _override(config: Config, path: list[str], value: Any, key: str) -> Config:
    nested: Any = value
    for part in reversed(path[1:]):
        nested = {part: nested}
    try:
        return config.override(**{path[0]: nested})
    except ConfigError as exc:
        raise type(exc)(f"--set {key}: {exc}") from None


def _check_cell(config: Config, label: str) -> None:
    """What a run checks of its config before it starts: the activation model against the
    time mode, and the platform settings (names, types, recommender), by building one."""
    from oasis_des.engine.setup import check_activation_mode
    from oasis_des.platform.platform import Platform

    try:
        check_activation_mode(config)
    except ConfigError as exc:
        raise ConfigError(f"sweep cell {label or 'of the config'}: {exc}") from None
    try:
        Platform(":memory:", config.platform.kind, **config.platform.settings).close()
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"platform.settings = {config.platform.settings!r}: {exc}") from None


def _value(text: str) -> Any:
    """A TOML value, or the text itself: also for TOML dates and times, since the config
    keeps them as text (`time.start_time=2024-01-02T08:00:00`)."""
    text = text.strip()
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    return text if isinstance(value, (datetime.date, datetime.time)) else value


def _split(raw: str) -> list[str]:
    parts, depth, quote, current = [], 0, "", []
    for ch in raw:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    if any(not p.strip() for p in parts):
        raise ConfigError(f"--set value list {raw!r} has an empty value.")
    return parts


def _short_names(keys: list[str]) -> list[str]:
    """The last part of each key, or the whole key where two keys share a last part."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return [s if last.count(s) == 1 else k for s, k in zip(last, keys)]


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", str(value)).strip("-") or "empty"
