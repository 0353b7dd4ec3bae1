"""Data files that ship with the package (schemas, model profiles).

In a wheel they live inside `oasis_des/`; in a source checkout they are the top-level
`schemas/` and `models/` folders.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """The folder `name` ("schemas" or "models"), wherever this installation keeps it."""
    packaged = Path(str(resources.files("oasis_des"))) / name
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[1] / name
    if source.is_dir():
        return source
    raise FileNotFoundError(
        f"oasis_des data folder '{name}' not found in {packaged} or {source}; reinstall the package."
    )
