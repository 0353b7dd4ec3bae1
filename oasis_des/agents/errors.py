"""The one error a bad persona file raises: it names the file, row, field and expectation.

Researchers fix persona files by hand, often files of thousands of rows produced by other
tools, so the message must point at the exact cell and say what would have been accepted.
"""

from __future__ import annotations

from pathlib import Path


class PersonaFileError(ValueError):
    """A persona file that cannot be loaded; nothing has been written anywhere.

    `row` is the persona's index (its agent id: the data row, 0-based) and `line` the
    1-based line of the file where that row starts, when known.
    """

    def __init__(
        self,
        path: str | Path,
        expected: str,
        *,
        row: int | None = None,
        line: int | None = None,
        field: str | None = None,
        got: object = None,
        show_got: bool = True,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.line = line
        self.field = field
        self.expected = expected
        self.got = got
        where = [self.path]
        if row is not None:
            where.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
        elif line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        message = f"{', '.join(where)}: expected {expected}"
        if show_got:
            message += f", got {_shorten(got)}"
        super().__init__(message + ".")


def _shorten(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
