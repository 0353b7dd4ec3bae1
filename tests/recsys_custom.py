"""A user's own recommender and embedder, loaded by dotted path in tests/test_recsys_plugins.py."""

from __future__ import annotations

import numpy as np


class NewestFirst:
    """The k newest posts, whatever the user (a class: constructed with the platform)."""

    def __init__(self, platform):
        self.platform = platform

    def recommend(self, user_id, now, k, rng):
        rows = self.platform.connection.execute(
            "SELECT post_id FROM post ORDER BY post_id DESC LIMIT ?", (k,)
        )
        return [r[0] for r in rows]


def oldest_first(user_id, now, k, rng):
    """A function used as `recommend`: post ids 1..k (they exist in the test)."""
    return list(range(1, k + 1))


class FixedPicks:
    def recommend(self, user_id, now, k, rng):
        return [2]


fixed_picks = FixedPicks()  # an instance with a recommend method

not_a_recommender = 42


class LetterCounts:
    """An embedder: counts of the letters a-z (enough to tell 'aaaa' from 'zzzz')."""

    dim = 26

    def __init__(self):
        self.texts_seen: list[str] = []

    def embed(self, texts):
        self.texts_seen += texts
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)


def letter_counts() -> LetterCounts:
    """A factory function of no arguments returning an embedder."""
    return LetterCounts()


def not_an_embedder_factory() -> str:
    return "no embed method here"
