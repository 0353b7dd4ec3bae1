"""The window's distinct vectors: every row finds its vector, and the array's layout is a
function of the window alone (extended or rebuilt, a resumed run scores the same array)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oasis_des.platform.recsys.distinct import DistinctVectors, twins_of, vector_keys


def window(sources: list[int], dim: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Window vectors where row r copies row sources[r] when that is an earlier row of its
    own (a repost of a post in the window), with the twins array that says so."""
    rng = np.random.default_rng(len(sources))
    vectors = rng.standard_normal((len(sources), dim)).astype(np.float32)
    twins = np.arange(len(sources))
    for r, s in enumerate(sources):
        if s < r and twins[s] == s:
            twins[r] = s
            vectors[r] = vectors[s]
    return vectors, twins


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60), st.data())
def test_extending_the_window_gives_the_array_built_at_once(sources, data):
    vectors, twins = window(sources)
    cuts = sorted(data.draw(st.lists(st.integers(1, len(sources)), max_size=5)))
    grown = DistinctVectors()
    for n in [*cuts, len(sources)]:
        held, place = grown.of(vectors[:n], twins[:n], (1, 0))
    built, built_place = DistinctVectors().of(vectors, twins, (1, 0))
    assert np.array_equal(held, built) and np.array_equal(place, built_place)
    assert np.array_equal(held[place], vectors)  # each row finds its own vector
    assert len(held) == int(np.sum(twins == np.arange(len(sources))))  # each once


def test_a_window_that_starts_later_is_rebuilt():
    vectors, twins = window([0, 0, 1, 1, 4, 4])
    distinct = DistinctVectors()
    distinct.of(vectors, twins, (1, 0))
    later, later_twins = vectors[2:], np.array([0, 1, 2, 2])  # rows 2.. as a window of posts 3..
    held, place = distinct.of(later, later_twins, (3, 0))
    assert np.array_equal(held[place], later)
    assert np.array_equal(held, later[[0, 1, 2]])


def test_twins_are_the_first_rows_of_each_label() -> None:
    assert twins_of(np.array([7, 3, 7, 9, 3, 7, 9])).tolist() == [0, 1, 0, 3, 1, 0, 3]
    assert twins_of(np.array([7, 3, 9])) is None  # every row its own


def test_equal_vectors_have_equal_keys() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 10)).astype(np.float32)
    keys = vector_keys(np.stack([a, b, a, a.copy()])).tolist()
    assert keys[0] == keys[2] == keys[3] != keys[1]
