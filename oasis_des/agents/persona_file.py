"""What every persona-file reader returns, and the defaults for what files leave out.

Files describe who the users are; the behaviour model also needs a stance on the run's
focal issue and interests over topics. A file that states them is used as is; otherwise
interests come from the users' own words and stances are drawn from a seeded stream, so
the same file and seed always give the same population.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np

from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.population import Population
from oasis_des.agents.topics import interests_from_profile
from oasis_des.rng import stream

Format = Literal["oasis-twitter-csv", "oasis-reddit-json", "jsonl"]

# Stance of users whose file says nothing: centred, most users moderate.
FILE_STANCE_SD = 0.4


@dataclass(kw_only=True)
class LoadResult:
    """A loaded population, the format it was read as, and what the reader noticed."""

    population: Population
    format: Format
    path: str
    # Things kept, ignored or converted that a user may want to know (never errors).
    notes: list[str] = field(default_factory=list)


def drawn_stance(seed: int, n: int) -> np.ndarray:
    """Stances for users whose file states none: N(0, 0.4) clipped to [-1, 1], seeded."""
    rng = stream(seed, "personas.file-stance")
    return np.clip(rng.normal(0.0, FILE_STANCE_SD, size=n), -1.0, 1.0)


def interests_for(
    persona: Sequence[str], bio: Sequence[str], declared: Sequence[Iterable[str]] | None = None
) -> np.ndarray:
    """Interests from the words of each user's persona and bio (and declared topics)."""
    texts = [f"{p} {b}" for p, b in zip(persona, bio)]
    return interests_from_profile(texts, declared)


def check_follow_ids(
    path: str | Path,
    follows: np.ndarray,
    rows: np.ndarray,
    lines: np.ndarray | None,
    n: int,
    field_name: str,
    hint: str,
) -> None:
    """Every followee id must be an agent of the file (0..n-1); `rows`: the row of each follow."""
    if not len(follows):
        return
    bad = np.flatnonzero((follows[:, 1] < 0) | (follows[:, 1] >= n))
    if len(bad):
        k = int(bad[0])
        row = int(rows[k])
        raise PersonaFileError(
            path,
            f"agent ids between 0 and {n - 1} ({hint})",
            row=row,
            line=None if lines is None else int(lines[row]),
            field=field_name,
            got=int(follows[k, 1]),
        )
