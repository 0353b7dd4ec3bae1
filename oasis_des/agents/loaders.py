"""One entry point for persona files: pick the reader by extension, or by content.

`.csv` is OASIS's Twitter format, `.jsonl`/`.ndjson` ours, and `.json` either OASIS's
Reddit list (starts with `[`) or JSONL under another name (starts with `{`). Readers
validate the whole file before returning, so a caller that writes only after loading
never leaves a partial database behind.
"""

from __future__ import annotations

from pathlib import Path

from oasis_des.agents.errors import PersonaFileError
from oasis_des.agents.oasis_reddit import read_reddit_json
from oasis_des.agents.oasis_twitter import read_twitter_csv
from oasis_des.agents.persona_file import Format, LoadResult
from oasis_des.agents.persona_jsonl import read_jsonl
from oasis_des.agents.population import Population

__all__ = ["PersonaFileError", "LoadResult", "detect_format", "load_population", "read_personas"]


def detect_format(path: str | Path) -> Format:
    """The persona format of a file, from its extension or its first characters."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such persona file.")
    if p.is_dir():  # a directory has no suffix to go by, and cannot be sniffed
        raise PersonaFileError(p, "a persona file, not a directory", show_got=False)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return "oasis-twitter-csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    with p.open("rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return "oasis-reddit-json"
    if head.startswith(b"{"):
        return "jsonl"
    if suffix == ".json":
        raise PersonaFileError(
            p, "a JSON list of users (OASIS Reddit) or JSON Lines", line=1, got=head[:20]
        )
    first_line = head.split(b"\n", 1)[0]
    if b"," in first_line and b"username" in first_line:
        return "oasis-twitter-csv"
    raise PersonaFileError(
        p,
        "a persona file: .csv (OASIS Twitter), .json (OASIS Reddit) or .jsonl (oasis_des)",
        got=p.suffix or head[:20],
    )


def read_personas(path: str | Path, *, seed: int = 0) -> LoadResult:
    """Load and validate a persona file; `seed` draws what the file leaves out (stances)."""
    fmt = detect_format(path)
    if fmt == "oasis-twitter-csv":
        return read_twitter_csv(path, seed=seed)
    if fmt == "oasis-reddit-json":
        return read_reddit_json(path, seed=seed)
    return read_jsonl(path, seed=seed)


def load_population(path: str | Path, *, seed: int = 0) -> Population:
    """The population of a persona file (see `read_personas` for the notes)."""
    return read_personas(path, seed=seed).population
