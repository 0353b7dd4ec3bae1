"""What LLM agents remember: one short line per past activation, newest last.

Each line says in brief what the agent saw and what it did. An agent keeps its last
`activations` lines, and fewer when they exceed `tokens` (approximate tokens), so memory
never grows a prompt without bound. The state is a plain dict of lists of strings, so a
checkpoint can store it as JSON (`state()` / `restore()`).
"""

from __future__ import annotations

from oasis_des.llm.tokens import approx_tokens


class AgentMemory:
    """Per-agent memory lines with a bound on count and on approximate tokens."""

    def __init__(self, activations: int, tokens: int) -> None:
        self.activations = activations
        self.tokens = tokens
        self._lines: dict[int, list[str]] = {}

    def lines(self, agent: int) -> list[str]:
        """The agent's remembered lines, oldest first."""
        return list(self._lines.get(agent, ()))

    def remember(self, agent: int, line: str) -> None:
        """Add a line; drop the oldest ones beyond the count or the token budget."""
        if self.activations <= 0 or self.tokens <= 0:
            return
        line = line[: self.tokens * 4]  # a single line never exceeds the whole budget
        lines = self._lines.setdefault(agent, [])
        lines.append(line)
        del lines[: max(0, len(lines) - self.activations)]
        total = sum(approx_tokens(x) for x in lines)
        while total > self.tokens:
            total -= approx_tokens(lines.pop(0))

    def render(self, agent: int) -> str:
        """The memory block of a prompt ('' when the agent remembers nothing)."""
        lines = self._lines.get(agent)
        if not lines:
            return ""
        return "Your recent activity (oldest first):\n" + "\n".join(f"- {x}" for x in lines)

    def state(self) -> dict[str, list[str]]:
        """JSON-able memory of every agent (keys are agent ids as strings)."""
        return {str(agent): list(lines) for agent, lines in sorted(self._lines.items())}

    def restore(self, state: dict[str, list[str]]) -> None:
        """Replace all memory with a `state()` taken earlier."""
        self._lines = {int(agent): list(lines) for agent, lines in state.items()}
