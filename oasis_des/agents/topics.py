"""Agents' interests over the topics of the content-feature function.

Interests must live in the same topic space as posts (`policies.features`), or relevance
(interests · post topics) would compare unrelated axes. Persona files name topics their own
way (OASIS Reddit's `interested_topics` are categories like "Culture & Society"), so this
module maps those names, and the words of bios and persona texts, onto that space.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from oasis_des.policies.features import N_TOPICS, TOPIC_NAMES, TOPICS

__all__ = [
    "N_TOPICS",
    "TOPIC_NAMES",
    "TOPICS",
    "CATEGORY_TOPICS",
    "interests_from_profile",
    "topic_indices",
]

# OASIS Reddit / Twitter15-16 category names (lower case) -> our topics.
CATEGORY_TOPICS: dict[str, tuple[str, ...]] = {
    "business": ("economy", "finance"),
    "economics": ("economy",),
    "culture & society": ("society",),
    "information technology": ("technology",),
    "science & technology": ("science", "technology"),
    "fun": ("entertainment", "gaming"),
    "general news": ("politics", "society"),
    "terrorism & war": ("politics", "society"),
    "natural disasters": ("climate", "society"),
    "urban legends": ("society", "entertainment"),
    "environment": ("climate",),
    "finance": ("finance",),
    "others": (),
}

# The tokenisation and vocabulary of `policies.features.features`, counted rather than normalised.
_TOKEN = re.compile(r"[a-z]+")
_WORD_TOPIC = {w: i for i, words in enumerate(TOPICS.values()) for w in words}
_WORD_TOPIC_PLUS_ONE = {w: i + 1 for w, i in _WORD_TOPIC.items()}  # 0 would be falsy

# Weight of a declared topic relative to one keyword seen in free text.
DECLARED_WEIGHT = 3.0
# Pseudo-count added to every topic, so that no interest is exactly zero.
PRIOR = 0.05


def topic_indices(label: str) -> list[int]:
    """Topic indices a category name stands for (our own names, OASIS's, or keywords in it)."""
    low = label.strip().lower()
    if low in TOPICS:
        return [TOPIC_NAMES.index(low)]
    if low in CATEGORY_TOPICS:
        return [TOPIC_NAMES.index(t) for t in CATEGORY_TOPICS[low]]
    return sorted({_WORD_TOPIC[w] for w in _TOKEN.findall(low) if w in _WORD_TOPIC})


def interests_from_profile(
    texts: Sequence[str], declared: Sequence[Iterable[str]] | None = None
) -> np.ndarray:
    """(n, T) float32 interest distributions from free text and declared topic names.

    A declared topic counts `DECLARED_WEIGHT` keyword hits; every topic gets `PRIOR`, so
    a persona without any topic word ends up uniform rather than undefined.
    """
    n = len(texts)
    out = np.zeros((n, N_TOPICS), dtype=np.float64)
    lookup = _WORD_TOPIC_PLUS_ONE.get
    for i, text in enumerate(texts):
        for t in filter(None, map(lookup, _TOKEN.findall(text.lower()))):
            out[i, t - 1] += 1.0
        if declared is not None:
            for label in declared[i]:
                for t in topic_indices(str(label)):
                    out[i, t] += DECLARED_WEIGHT
    out += PRIOR
    out /= out.sum(axis=1, keepdims=True)
    return out.astype(np.float32)
