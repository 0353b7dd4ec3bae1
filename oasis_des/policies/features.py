"""Content features: text -> (topic vector, stance), the same for every post, whoever wrote it.

Offline agents read posts through these features, so posts written by LLM agents are
readable by offline agents in mixed populations. The vocabulary is deliberately plain
English keyword lists: transparent, fast, and good enough for the templates the offline
writer produces (a round trip that tests check).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

TOPICS: dict[str, tuple[str, ...]] = {
    "politics": ("election", "government", "policy", "vote", "senate", "law", "president"),
    "economy": ("economy", "market", "inflation", "jobs", "business", "stocks", "prices"),
    "technology": ("technology", "software", "ai", "startup", "internet", "phone", "data"),
    "science": ("science", "research", "study", "space", "physics", "biology", "discovery"),
    "health": ("health", "vaccine", "doctor", "hospital", "disease", "fitness", "medicine"),
    "climate": ("climate", "environment", "carbon", "energy", "renewable", "weather", "planet"),
    "sports": ("sports", "football", "basketball", "match", "team", "league", "olympics"),
    "entertainment": ("movie", "music", "celebrity", "film", "show", "concert", "album"),
    "education": ("education", "school", "students", "university", "teacher", "learning"),
    "travel": ("travel", "trip", "flight", "tourism", "vacation", "city", "beach"),
    "food": ("food", "recipe", "restaurant", "cooking", "coffee", "dinner", "chef"),
    "fashion": ("fashion", "style", "clothes", "design", "beauty", "trend", "makeup"),
    "gaming": ("gaming", "game", "esports", "console", "player", "stream", "level"),
    "finance": ("finance", "crypto", "bitcoin", "investing", "bank", "money", "savings"),
    "society": ("society", "community", "rights", "culture", "family", "justice", "people"),
    "pets": ("pets", "cat", "dog", "animals", "puppy", "kitten", "wildlife"),
}
TOPIC_NAMES: tuple[str, ...] = tuple(TOPICS)
N_TOPICS = len(TOPICS)

PRO_PHRASES: tuple[str, ...] = (
    "i support", "strongly agree", "great idea", "this is right", "good for us",
    "we need this", "fully behind", "positive step", "i agree", "well done",
)
CON_PHRASES: tuple[str, ...] = (
    "i oppose", "strongly disagree", "terrible idea", "this is wrong", "bad for us",
    "we must stop", "totally against", "step backwards", "i disagree", "not acceptable",
)

_WORD_TOPIC = {w: i for i, words in enumerate(TOPICS.values()) for w in words}
_TOKEN = re.compile(r"[a-z]+")


def _count(text: str, phrases: tuple[str, ...]) -> int:
    return sum(text.count(p) for p in phrases)


@lru_cache(maxsize=65536)
def features(text: str) -> tuple[np.ndarray, float]:
    """(topic distribution over TOPIC_NAMES, or zeros if no topic word; stance in [-1, 1])."""
    low = text.lower()
    topic = np.zeros(N_TOPICS, dtype=np.float64)
    for token in _TOKEN.findall(low):
        i = _WORD_TOPIC.get(token)
        if i is not None:
            topic[i] += 1.0
    total = topic.sum()
    if total > 0:
        topic /= total
    pro, con = _count(low, PRO_PHRASES), _count(low, CON_PHRASES)
    stance = float(np.clip((pro - con) / (pro + con + 1.0), -1.0, 1.0))
    topic.setflags(write=False)
    return topic, stance


@lru_cache(maxsize=65536)
def stance_of(text: str) -> float:
    """The stance of `features(text)` alone: comments are read for their stance only, and
    a cache of floats is cheaper to consult per comment than the pair's."""
    return features(text)[1]
