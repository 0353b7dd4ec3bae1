"""Approximate token counts: characters / 4, OpenAI's rule of thumb for English text.

Used for memory budgets, cost estimates and calls whose server reports no usage; real
counts come from the server's `usage` field whenever it sends one.
"""

from __future__ import annotations


def approx_tokens(text: str) -> int:
    """About how many tokens `text` is (rounded up)."""
    return (len(text) + 3) // 4
