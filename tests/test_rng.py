"""Keyed random draws: the scalar, stream and vectorised forms give the same values."""

from __future__ import annotations

import numpy as np

from oasis_des.rng import KeyedStream, keyed_states, keyed_uniform, keyed_uniforms, uniforms_after


def test_scalar_and_vectorised_draws_agree():
    agents = np.array([0, 1, 7, 123_456, 2**40])
    activations = np.array([0, 3, 1, 9, 2])
    batch = keyed_uniforms(5, "offline-choice", agents, activations)
    alone = [keyed_uniform(5, "offline-choice", int(a), int(n)) for a, n in zip(agents, activations)]
    assert batch.tolist() == alone


def test_shared_leading_keys_are_hashed_once_with_the_same_draws():
    agents = np.arange(1000)
    states = keyed_states(9, "activation", agents)
    for step in (0, 1, 479):
        assert np.array_equal(uniforms_after(states, step),
                              keyed_uniforms(9, "activation", agents, step))


def test_stream_draws_are_keyed_by_their_index():
    stream = KeyedStream(3, "refresh", 4, 2)
    drawn = [stream.random() for _ in range(4)]
    assert drawn == [keyed_uniform(3, "refresh", 4, 2, i) for i in range(1, 5)]
    assert stream.at(0) == keyed_uniform(3, "refresh", 4, 2, 0)
    assert stream.random() == keyed_uniform(3, "refresh", 4, 2, 5)  # `at` does not advance


def test_draws_differ_by_seed_purpose_and_keys():
    values = {
        keyed_uniform(0, "a", 1), keyed_uniform(1, "a", 1), keyed_uniform(0, "b", 1),
        keyed_uniform(0, "a", 2), keyed_uniform(0, "a"), keyed_uniform(0, "a", 1, 0),
    }
    assert len(values) == 6
    assert all(0.0 < v < 1.0 for v in values)
