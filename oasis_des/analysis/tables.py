"""A plain result table: named columns and rows, CSV export, and a DataFrame when pandas is there.

Analysis results stay dependency-free (the package does not need pandas), yet print, save
and load into the usual tools in one call.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Table:
    """Rows of values under named columns; every row has one value per column."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(
                    f"Table row {i} has {len(row)} values for {width} columns {self.columns}."
                )

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]], columns: Sequence[str] = ()) -> Table:
        """A table of dicts; columns default to the keys in first-seen order."""
        names = list(columns)
        if not names:
            for record in records:
                names.extend(k for k in record if k not in names)
        return cls(tuple(names), [tuple(r.get(c) for c in names) for r in records])

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column, in row order."""
        try:
            i = self.columns.index(name)
        except ValueError:
            raise KeyError(f"No column {name!r}; columns are {', '.join(self.columns)}.") from None
        return [row[i] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV text (floats in full precision); also written to `path` when given."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([_cell(v) for v in row] for row in self.rows)
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_pandas(self) -> Any:
        """A pandas DataFrame (pandas is optional: `pip install pandas`)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Table.to_pandas() needs pandas: pip install pandas") from None
        return pd.DataFrame(self.rows, columns=list(self.columns))

    def __str__(self) -> str:
        cells = [list(self.columns)] + [[_short(v) for v in row] for row in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells)


def _cell(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)
