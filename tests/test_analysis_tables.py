"""The plain result table: columns, records, CSV text and pandas."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from oasis_des.analysis import Table


def test_table_round_trips_through_csv(tmp_path: Path) -> None:
    table = Table(("name", "x", "y"), [("a", 1, 0.5), ("b,c", 2, math.nan)])
    text = table.to_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["name", "x", "y"], ["a", "1", "0.5"], ["b,c", "2", ""]]
    assert table.column("x") == [1, 2]
    assert table.records()[0] == {"name": "a", "x": 1, "y": 0.5}
    assert len(table) == 2 and "b,c" in str(table)
    with pytest.raises(KeyError, match="No column 'z'"):
        table.column("z")


def test_rows_must_match_columns_and_records_build_tables() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 values for 2 columns"):
        Table(("a", "b"), [(1, 2), (3,)])
    table = Table.from_records([{"a": 1}, {"b": 2, "a": 3}])
    assert table.columns == ("a", "b") and table.rows == [(1, None), (3, 2)]


def test_to_pandas() -> None:
    pd = pytest.importorskip("pandas")
    frame = Table(("a", "b"), [(1, "x"), (2, "y")]).to_pandas()
    assert isinstance(frame, pd.DataFrame) and frame["a"].tolist() == [1, 2]
