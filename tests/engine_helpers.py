"""Small hand-made populations and configs for engine tests (no persona files needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from oasis_des.agents.population import Population
from oasis_des.engine.config import Config

BIOS = ("I love sports and football", "Technology and software geek", "Climate and energy",
        "Pets: cat and dog person", "Music, movie and concert fan")


def small_population(n: int = 60, *, seed: int = 0, rate: float = 1.0) -> Population:
    rng = np.random.default_rng(seed)
    return Population(
        user_name=[f"user{i}" for i in range(n)],
        name=[f"User {i}" for i in range(n)],
        bio=[BIOS[i % len(BIOS)] for i in range(n)],
        persona=[BIOS[(i * 3) % len(BIOS)] for i in range(n)],
        activity=np.full((n, 24), rate),
        stance=rng.uniform(-1, 1, n),
    )


def config(tmp_path: Path | None = None, **sections: Any) -> Config:
    out = {"path": str(tmp_path / "run.db") if tmp_path else ":memory:"}
    sections.setdefault("output", out)
    return Config().override(**sections)
