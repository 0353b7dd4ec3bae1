"""Building a run's parts from its config: the output file, the platform, the population,
the policy, the script and each agent's activity (what `Simulation` puts together)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import numpy as np

from oasis_des import __version__
from oasis_des.agents.population import Population
from oasis_des.agents.selection import group_masks
from oasis_des.engine import schedule
from oasis_des.engine.config import Config, ConfigConflict
from oasis_des.engine.scripted import ScriptedAction, read_script
from oasis_des.llm.session import LLMSession
from oasis_des.platform.actions import shorten
from oasis_des.platform.platform import Platform
from oasis_des.platform.store import StorageError
from oasis_des.policies.base import AsyncPolicy, BatchPolicy
from oasis_des.policies.router import PolicyRouter


def open_platform(config: Config, db_path: str) -> Platform:
    """The run's platform, over the database at `db_path`."""
    t = config.time
    return Platform(
        db_path,
        config.platform.kind,
        tick=t.tick if t.mode == "stepped" else 1.0,
        start_time=datetime.fromisoformat(t.start_time),
        k=t.k,
        seed=config.seed,
        **config.platform.settings,
    )


def prepare_output(path: str, overwrite: bool, lock: Callable[[str], None]) -> str:
    """Make room for a new run database at `path`: refuse an existing file (any file, ours
    or not) unless `overwrite`, then `lock` the path (the file may be a running run's) and
    remove the file with its WAL; never touch a directory."""
    if path == ":memory:":
        return path
    out = Path(path)
    try:
        exists, is_dir = out.exists(), out.is_dir()
    except OSError as exc:  # e.g. a name too long for the file system
        raise StorageError(f"Cannot create output database {shorten(path)}: {exc.strerror}.") \
            from None
    if is_dir:
        raise ValueError(f"Output database {out} is a directory; give a file path.")
    if exists and not overwrite:
        raise FileExistsError(
            f"Output database {out} already exists; choose another path or allow overwriting "
            "(--overwrite, or output.overwrite = true)."
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock(str(out))
        # A database being built when its run was killed is ours: the lock says no run
        # is building it now.
        doomed = [building_path(str(out))] + ([str(out)] if exists else [])
        for name in doomed:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{name}{suffix}").unlink(missing_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StorageError(
            f"Cannot create output database {out}: a file stands where a directory should be."
        ) from None
    except OSError as exc:  # permissions, a read-only disk
        raise StorageError(f"Cannot create output database {out}: {exc.strerror}.") from None
    return str(out)


def check_activation_mode(config: Config) -> None:
    """Stepped mode activates by the activity profile; the other models need continuous time."""
    model = config.activation.model
    if config.time.mode == "stepped" and model != "profile":
        raise ConfigConflict(
            f"activation.model = {model!r} needs time.mode = 'continuous'; "
            "stepped mode activates by the activity profile."
        )


def activation_clock(
    config: Config, profile: schedule.ActivityProfile, duration: float
) -> schedule.AgentClock | None:
    """Each agent's activation times (None: ticks or a file decide); checked before the
    output file exists."""
    cfg, seed = config.activation, config.seed
    check_activation_mode(config)
    if config.time.mode == "stepped" or cfg.model == "csv":
        return None
    rates = profile.mean_rate()
    if cfg.model == "poisson":
        return schedule.PoissonClock(rates, seed=seed)
    if cfg.model == "bursty":
        return schedule.BurstyClock(rates, alpha=cfg.burst_alpha, seed=seed)
    return schedule.ProfileClock(profile, seed=seed, until=duration)


def building_path(path: str) -> str:
    """Where a new run database is built before it appears at `path`."""
    return f"{path}-new"


def create_run_database(config: Config, path: str, agents: int) -> Platform:
    """A new run's platform over a database that appears at `path` with its config already
    inside: it is built under `building_path(path)` and renamed, so a run killed at any
    moment leaves either no database or one that `resume` can restart from its config."""
    if path == ":memory:":
        platform = open_platform(config, path)
        write_run_meta(platform, config, agents)
        return platform
    building = building_path(path)
    platform = open_platform(config, building)
    try:
        write_run_meta(platform, config, agents)
    finally:
        platform.close()  # the log goes into the file: the file alone holds the config
    os.replace(building, path)
    return open_platform(config, path)


def write_run_meta(platform: Platform, config: Config, agents: int) -> None:
    """What a run database says about its run: the config (a resume rebuilds the run from
    it), the seed, the package version and the number of agents."""
    meta = {
        "config": asdict(config),
        "seed": config.seed,
        "package_version": __version__,
        "agents": agents,
    }
    with platform.store.atomic():
        platform.connection.executemany(
            "INSERT OR REPLACE INTO run_meta (key, value) VALUES (?, ?)",
            [(k, json.dumps(v, sort_keys=True)) for k, v in meta.items()],
        )


def agent_activity(config: Config, population: Population) -> np.ndarray:
    """Activations per hour of each agent at each hour: its group's, else `activation.rate`
    (poisson and bursty models), else its persona's."""
    cfg = config.activation
    groups = cfg.groups
    activity = np.array(population.activity, dtype=np.float64)
    if cfg.rate and cfg.model in ("poisson", "bursty"):
        activity[:] = cfg.rate
    elif not groups:
        return population.activity
    masks = group_masks(groups, len(population), seed=config.seed, purpose="activation-group",
                        key="activation.groups")
    for group, mask in zip(groups, masks):
        # p per tick is the rate p x 60 / tick (exactly p in stepped mode, see TickModel).
        activity[mask] = group.rate or group.tick_probability * 60.0 / config.time.tick
    return activity


def load_population(config: Config) -> Population:
    """The configured persona file, else a synthetic population of `population.agents`."""
    from oasis_des.agents.loaders import load_population as load_file
    from oasis_des.agents.synthetic import generate_population

    if config.population.personas:
        return load_file(config.population.personas, seed=config.seed)
    return generate_population(config.population.agents, seed=config.seed, kind=config.platform.kind)


def sign_up(platform: Platform, population: Population, trace: bool) -> None:
    """Sign the whole population up in bulk (with a trace row each if `trace`)."""
    from oasis_des.agents.signup import sign_up_population

    sign_up_population(platform, population, trace_sign_ups=trace)


def load_policy(
    config: Config, population: Population, session: LLMSession
) -> BatchPolicy | AsyncPolicy | PolicyRouter:
    """The run's policy: one profile for everyone, or a router over agent groups."""
    from oasis_des.policies.router import build_policy

    return build_policy(config, population, session)


def load_script(config: Config, agents: int) -> list[ScriptedAction]:
    """The scripted actions of `script.file`, if any."""
    return read_script(config.script.file, agents) if config.script.file else []
