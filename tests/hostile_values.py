"""Hostile inputs shared by the test_hostile_* batteries, and database comparisons.

Every entry point must either refuse such a value with a clear error or store it verbatim;
these lists and strategies are what "hostile" means in those tests.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from typing import Any

from hypothesis import strategies as st

# Texts every text field must store verbatim (or refuse by a documented rule).
NASTY_TEXTS = (
    "",
    " ",
    "😀👍🏽👨‍👩‍👧",  # emoji, skin tone, ZWJ sequence
    "\u202eevil\u202c txt.exe",  # right-to-left override
    "שלום עולם مرحبا",  # RTL scripts
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\u200b\ufeff\u2028\u2029",  # zero-width, BOM, line/paragraph separators
    "a\tb\rc\nd\x1b[31mred\x1b[0m\x7f",  # control characters, an ANSI escape
    "'); DROP TABLE post; --",
    '" OR 1=1; --',
    "%_\\%",  # LIKE wildcards and the escape character
    "Robert'); DELETE FROM user WHERE ('1'='1",
)
NUL_TEXTS = ("\x00", "a\x00b")
LONE_SURROGATES = ("\ud800", "half an emoji \ud83d", "\udfff")
# Integers beyond SQLite's 64-bit INTEGER, and Python's 4,300-digit parsing limit.
BIG_INTS = (2**63, -(2**63) - 1, 2**64, 10**400)
NON_FINITE = (math.nan, math.inf, -math.inf)
WRONG_TYPES = (None, True, False, 1.5, [], [1], {}, {"a": 1}, *NON_FINITE)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(BIG_INTS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(NASTY_TEXTS + NUL_TEXTS + LONE_SURROGATES)
)
# Any JSON value (and what Python's json also reads: NaN, Infinity, huge integers).
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def table_dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database, in rowid order (to compare before/after)."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}


def new_texts(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    """The text cells of rows added or changed between two dumps, and the texts inside
    the JSON `info` of new trace rows (where search queries and the like are kept)."""
    out: list[str] = []
    for table, rows in after.items():
        added = Counter(rows) - Counter(before.get(table, []))
        for row in added.elements():
            out.extend(cell for cell in row if isinstance(cell, str))
            if table == "trace":
                out.extend(_strings(json.loads(row[4])))  # trace.info
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def same_json(stored: str, given: dict[str, Any]) -> bool:
    """`stored` (JSON text of failed_action.args) holds exactly `given` (NaN equal to NaN)."""
    canonical = json.dumps(given, ensure_ascii=True, sort_keys=True, default=repr)
    return json.dumps(json.loads(stored), ensure_ascii=True, sort_keys=True) == canonical
