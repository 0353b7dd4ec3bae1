"""Read-only columns computed on access, so that a million personas cost no objects.

A synthetic persona text or trait dictionary is a pure function of a few small code arrays
(name, age, profession...). Building a million of them up front costs seconds and about a
gigabyte, while a run reads only those of the agents an LLM plays. A `LazyColumn` behaves
as a read-only list (len, indexing, slicing, iteration) and builds each value when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Iterator, TypeVar, overload

T = TypeVar("T")


class LazyColumn(Sequence[T]):
    """`n` values, value i being `build(i)`; values are rebuilt on every access (no cache)."""

    def __init__(self, n: int, build: Callable[[int], T]) -> None:
        self._n = int(n)
        self._build = build

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(self._n))]
        i = index.__index__()
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"index {index} out of range for a column of {self._n}")
        return self._build(i)

    def __iter__(self) -> Iterator[T]:
        build = self._build
        return (build(i) for i in range(self._n))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(other) == self._n and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LazyColumn(n={self._n})"
