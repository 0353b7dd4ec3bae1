"""Text that offline agents write: templates filled from topic and stance vocabularies.

The words come from `features`, so the content-feature function reads back roughly the
stance and topics a text was written with.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from oasis_des.policies.features import CON_PHRASES, PRO_PHRASES, TOPICS, TOPIC_NAMES

OPENERS = ("Just read about", "Thinking about", "Hot take on", "Can we talk about",
           "Quick thought on", "My view on", "Everyone is discussing")
NEUTRAL = ("not sure what to think yet", "curious what others say", "still making up my mind")
REPLIES = ("Replying here:", "Honestly,", "Well,", "Interesting.", "Hmm,")


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[min(int(u * len(options)), len(options) - 1)]


def stance_phrase(stance: float, u: float) -> str:
    """One or two phrases whose pro/con balance matches the stance's sign and strength."""
    if abs(stance) < 0.2:
        return _pick(NEUTRAL, u)
    phrases = PRO_PHRASES if stance > 0 else CON_PHRASES
    first = _pick(phrases, u)
    if abs(stance) > 0.6:
        second = _pick(phrases, (u * 7.0) % 1.0)
        if second != first:
            return f"{first}, {second}"
    return first


def write_post(interests: np.ndarray, stance: float, u: Sequence[float]) -> str:
    """A post on a topic drawn in proportion to the agent's interests; `u`: 5 uniforms."""
    weights = np.cumsum(np.maximum(interests, 0.0))
    index = int(np.searchsorted(weights, u[0] * weights[-1], side="right")) if weights[-1] > 0 else 0
    topic = TOPIC_NAMES[min(index, len(TOPIC_NAMES) - 1)]
    words = TOPICS[topic]
    text = f"{_pick(OPENERS, u[1])} {_pick(words, u[2])} and {_pick(words, u[3])}: " \
           f"{stance_phrase(stance, u[4])}."
    if u[4] > 0.5:
        text += f" #{topic}"
    return text


def write_reply(stance: float, u: Sequence[float]) -> str:
    """A comment or quote text stating the agent's stance; `u` holds 2 uniforms."""
    return f"{_pick(REPLIES, u[0])} {stance_phrase(stance, u[1])}."
