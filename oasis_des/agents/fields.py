"""Typed values of persona-file cells, each failure a `PersonaFileError` naming the cell.

OASIS files store lists as Python literals inside CSV cells ("[3, 17]", "['a tweet']").
They are parsed with `json.loads` when possible (fast, and most id lists are valid JSON)
and otherwise with `ast.literal_eval`, which evaluates literals only, never code; the
text length is capped so a hostile cell cannot exhaust memory or the parser's stack.
"""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path
from typing import Any, NamedTuple

from oasis_des.agents.errors import PersonaFileError

# Longest list literal we will parse (a million follow ids is ~8 MB of text).
MAX_LITERAL_CHARS = 64_000_000
# Ids beyond this cannot be agents (and would overflow 64-bit arrays).
MAX_ID = 2**62


class Cell(NamedTuple):
    """Where a value came from: file, persona index, file line and field name."""

    path: str | Path
    row: int | None
    line: int | None
    field: str

    def error(
        self, expected: str, got: object = None, *, show_got: bool = True
    ) -> PersonaFileError:
        return PersonaFileError(
            self.path,
            expected,
            row=self.row,
            line=self.line,
            field=self.field,
            got=got,
            show_got=show_got,
        )


def is_missing(value: object) -> bool:
    """Empty cells, JSON null and pandas' NaN spellings count as missing."""
    if value is None:
        return True
    if type(value) is str:
        return value in _MISSING or (len(value) < 8 and value.strip() in _MISSING)
    if isinstance(value, float):
        return math.isnan(value)
    return False


_NUMBERS = frozenset((int, float))
_MISSING = frozenset(("", "nan", "NaN", "None", "null"))
# A list of plain single-quoted texts, e.g. "['a b', 'c']": read without the Python parser.
_SIMPLE_TEXTS = re.compile(r"\[\s*(?:'[^'\\\n]*'\s*(?:,\s*'[^'\\\n]*'\s*)*,?\s*)?\]")
_SIMPLE_TEXT = re.compile(r"'([^'\\\n]*)'")


def literal(text: str, cell: Cell, expected: str) -> Any:
    """A Python/JSON literal from a cell (never evaluates code)."""
    stripped = text.strip()
    if _SIMPLE_TEXTS.fullmatch(stripped):
        return _SIMPLE_TEXT.findall(stripped)
    if len(stripped) > MAX_LITERAL_CHARS:
        raise cell.error(
            f"{expected} (at most {MAX_LITERAL_CHARS} characters)", f"{len(stripped)} characters"
        )
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise cell.error(expected, text) from None


def id_list(value: object, cell: Cell) -> list[int] | None:
    """A list of agent ids; [] when missing; None for a bare integer (OASIS ignores those)."""
    expected = "a list of agent ids like [3, 17]"
    if is_missing(value):
        return []
    parsed = literal(value, cell, expected) if isinstance(value, str) else value
    if type(parsed) is int:
        return None
    if not isinstance(parsed, (list, tuple)):
        raise cell.error(expected, value)
    for item in parsed:
        if type(item) is not int:
            raise cell.error(f"{expected} (integers only)", item)
        if not -MAX_ID < item < MAX_ID:
            raise cell.error(f"{expected} (agent ids, not {len(str(item))}-digit numbers)", item)
    return list(parsed)


def text_list(value: object, cell: Cell, notes: list[str] | None = None) -> list[str]:
    """A list of texts (seed tweets); [] when missing. Numbers are kept as text, with a note."""
    expected = "a list of texts like ['first tweet', 'second tweet']"
    if is_missing(value):
        return []
    parsed = literal(value, cell, expected) if isinstance(value, str) else value
    if not isinstance(parsed, (list, tuple)):
        raise cell.error(expected, value)
    out: list[str] = []
    for item in parsed:
        if isinstance(item, str):
            out.append(text(item, cell))  # no NUL, no lone surrogates (from "\ud800" escapes)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            out.append(str(item))
            if notes is not None:
                notes.append(
                    f"row {cell.row}: '{cell.field}' holds a number ({item!r}); kept as text."
                )
        else:
            raise cell.error(f"{expected} (texts only)", item)
    return out


def number_list(
    value: object, cell: Cell, length: int, maximum: float = math.inf
) -> list[float]:
    """Exactly `length` finite numbers from 0 to `maximum`."""
    expected = f"a list of {length} non-negative numbers" + (
        f" (at most {maximum:g})" if maximum < math.inf else ""
    )
    parsed = literal(value, cell, expected) if isinstance(value, str) else value
    if not isinstance(parsed, (list, tuple)) or len(parsed) != length:
        raise cell.error(expected, value)
    try:  # the common case, checked with builtins only (huge integers overflow: slow path)
        if (
            set(map(type, parsed)) <= _NUMBERS
            and math.isfinite(sum(parsed))
            and min(parsed) >= 0
            and max(parsed) <= maximum
        ):
            return [float(x) for x in parsed]
    except OverflowError:
        pass
    out = []
    for item in parsed:
        number = real(item)
        if number is None or not 0 <= number <= maximum or math.isinf(number):
            raise cell.error(expected, item)
        out.append(number)
    return out


def real(value: object) -> float | None:
    """A number (not a bool) as a float, if a float can hold it; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer of more than 308 digits
        return None


def text(value: object, cell: Cell, *, required: bool = False) -> str:
    """A text field; missing -> "" unless required (then an error)."""
    if isinstance(value, str):
        if required and not value.strip():
            raise cell.error("a non-empty text", value)
        if "\x00" in value:  # SQLite keeps it, but most readers cut the text there
            raise cell.error("a text without NUL characters", value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON) cannot be stored
            raise cell.error("valid Unicode text (no unpaired surrogates)", value) from None
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if required:
            raise cell.error("a non-empty text", value)
        return ""
    raise cell.error("a text", value)


def integer(value: object, cell: Cell, *, minimum: int | None = None) -> int | None:
    """An integer (or a digit string, or an integral float); None when missing."""
    if is_missing(value):
        return None
    result: int | None = None
    if type(value) is int:
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 4000:
        result = int(value.strip())  # (Python parses at most 4,300 digits)
    if result is None or (minimum is not None and result < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise cell.error(f"an integer{bound}", value)
    return result


def stance_value(value: object, cell: Cell) -> float:
    """A stance: a number in [-1, 1]."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not (-1.0 <= number <= 1.0):
        raise cell.error("a stance between -1 and 1", value)
    return number


def read_text(path: str | Path) -> str:
    """The whole file as text (UTF-8, optional BOM), or an error naming the bad line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise PersonaFileError(p, "a persona file, not a directory", show_got=False) from None
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PersonaFileError(
            p,
            "UTF-8 text (save the file as UTF-8)",
            line=line,
            got=data[exc.start : exc.start + 4],
        ) from None
    if not decoded.strip():
        raise PersonaFileError(p, "at least one persona, but the file is empty", show_got=False)
    return decoded
