"""Prompts of LLM agents: a system prompt from the persona, a compact user message per activation.

In OASIS's spirit the system prompt tells the model it is a Twitter or Reddit user with this
profile and must act through the tools. The user message holds the agent's memory and its
feed in a terse line format (ids, author, counts, a few recent comments), because prompt
tokens are what LLM runs pay for: OASIS spends about 3,400 per activation, we aim at a third.

Custom system prompts are text files with `str.format` keys (docs/llm.md lists them); a key
that an agent's persona does not define is an error naming the key and the file.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oasis_des.agents.population import Population
from oasis_des.llm.profile import PromptSettings
from oasis_des.policies.base import Decision, Observation

PLATFORM_NAMES = {"twitter": "Twitter", "reddit": "Reddit"}

# OASIS's Reddit prompt adds the persona's demographic traits; its Twitter prompt does not.
DEFAULT_SYSTEM_TEMPLATES = {
    kind: f"""\
# OBJECTIVE
You're a {{platform}} user. You will see posts from your feed; react to them as yourself.

# SELF-DESCRIPTION
Your actions should be consistent with your self-description and personality.
You are {{name}} (@{{user_name}}, user {{user_id}}). {{profile}}{extra}"""
    for kind, extra in (("twitter", ""), ("reddit", "{traits}"))
}

DECIDE_INSTRUCTION = "Choose one action."
INTERVIEW_INSTRUCTION = (
    "# RESPONSE METHOD\nA researcher is interviewing you. Answer in character, in a few "
    "sentences of plain text; do not call tools."
)

# Persona traits that go into the default prompt's sentence about the agent, in this order.
_TRAIT_WORDS = (("gender", "{}"), ("age", "{} years old"), ("mbti", "MBTI {}"),
                ("country", "from {}"), ("profession", "works in {}"))


_SYSTEMS_KEPT = 10_000  # system prompts kept (oldest dropped first)


class PromptError(ValueError):
    """A prompt template cannot be filled; the message names the template and the key."""


class PromptBuilder:
    """Builds the messages of one platform kind's agents from their personas."""

    def __init__(
        self,
        settings: PromptSettings,
        population: Population,
        kind: str,
        response_method: str,
    ) -> None:
        self.settings = settings
        self.population = population
        self.kind = kind
        self.response_method = response_method
        if settings.system_template is not None:
            self.template = Path(settings.system_template).read_text(encoding="utf-8")
            self.template_name = str(settings.system_template)
        else:
            self.template = DEFAULT_SYSTEM_TEMPLATES[kind]
            self.template_name = f"the default {kind} system prompt"
        self._systems: dict[int, str] = {}
        self._check_template()

    # -- system prompt ----------------------------------------------------------------
    def keys(self, agent: int) -> dict[str, Any]:
        """Everything a template may use for `agent`: identity, persona text and traits."""
        p = self.population
        traits = dict(p.traits[agent]) if p.traits else {}
        persona, bio = str(p.persona[agent] or ""), str(p.bio[agent] or "")
        values: dict[str, Any] = {k: _text(v) for k, v in traits.items()}
        values.update(
            platform=PLATFORM_NAMES[self.kind],
            user_id=agent,
            user_name=p.user_name[agent],
            name=p.name[agent],
            bio=bio,
            persona=persona,
            profile=persona or bio or "no profile text",
            traits=_traits_sentence(traits),
        )
        return values

    def persona(self, agent: int) -> str:
        """The filled template: who the agent is."""
        return self._fill(self.keys(agent), agent)

    def system(self, agent: int) -> str:
        """The system message of a decision: persona and how to answer (kept for the most
        recent agents: it never changes, and building it is most of a prompt's cost)."""
        cached = self._systems.get(agent)
        if cached is None:
            cached = self._systems[agent] = f"{self.persona(agent)}\n\n{self.response_method}"
            if len(self._systems) > _SYSTEMS_KEPT:
                del self._systems[next(iter(self._systems))]
        return cached

    def _fill(self, values: Mapping[str, Any], agent: int) -> str:
        try:
            return self.template.format_map(_Keys(values, self.template_name, agent))
        except (ValueError, IndexError) as exc:
            raise PromptError(f"{self.template_name}: not a valid str.format template ({exc}).") \
                from None

    def _check_template(self) -> None:
        """Fail at load time, not mid-run: every key must exist for every agent."""
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(self.template) if f is not None}
        except ValueError as exc:
            raise PromptError(f"{self.template_name}: not a valid str.format template ({exc}).") \
                from None
        if any(f == "" or f.isdigit() for f in fields):
            raise PromptError(
                f"{self.template_name}: positional fields ('{{}}') are not allowed; name a key "
                "such as {name}."
            )
        if not len(self.population):
            return
        base = set(self.keys(0)) - set(self.population.traits[0] if self.population.traits else ())
        trait_fields = {f.split(".")[0].split("[")[0] for f in fields} - base
        if trait_fields:
            for agent, traits in enumerate(self.population.traits):
                if not trait_fields <= traits.keys():
                    self._fill(self.keys(agent), agent)  # raises, naming the key and agent
        self._fill(self.keys(0), 0)

    # -- messages ---------------------------------------------------------------------
    def decide_messages(self, obs: Observation, memory: str) -> list[dict[str, str]]:
        """System and user messages of one activation."""
        parts = [memory] if memory else []
        parts += [self.feed(obs), DECIDE_INSTRUCTION]
        return [
            {"role": "system", "content": self.system(obs.agent_id)},
            {"role": "user", "content": "\n\n".join(parts)},
        ]

    def interview_messages(self, agent: int, question: str, memory: str) -> list[dict[str, str]]:
        """Messages asking `agent` a researcher's question (no tools)."""
        parts = [memory] if memory else []
        parts.append(f"Question: {question}")
        return [
            {"role": "system", "content": f"{self.persona(agent)}\n\n{INTERVIEW_INSTRUCTION}"},
            {"role": "user", "content": "\n\n".join(parts)},
        ]

    def feed(self, obs: Observation) -> str:
        """The feed in one line per post and per shown comment."""
        if not obs.posts:
            return "Your feed is empty."
        lines = ["Your feed:"]
        for post in obs.posts:
            lines.append(self._post_line(post, obs))
            comments: Sequence[dict[str, Any]] = post.get("comments", ())
            keep = self.settings.comments_per_post
            shown = comments[len(comments) - keep:] if keep else ()
            if len(comments) > len(shown):
                lines.append(f"  ({len(comments) - len(shown)} earlier comments)")
            for c in shown:
                who = "you" if c["user_id"] == obs.agent_id else f"user {c['user_id']}"
                text = _cut(c["content"], self.settings.comment_chars)
                lines.append(f"  comment {c['comment_id']} by {who}{_counts(c)}: {text}")
        return "\n".join(lines)

    def _post_line(self, post: dict[str, Any], obs: Observation) -> str:
        author, pid = post["user_id"], post["post_id"]
        if author == obs.agent_id:
            who = "you"
        else:
            who = f"user {author}"
            if author in obs.following:
                who += " (followed)"
        marks = [m for m, ids in (("liked", obs.liked), ("disliked", obs.disliked),
                                  ("reposted", obs.reposted)) if pid in ids]
        done = f" [you {', '.join(marks)}]" if marks else ""
        text = _cut(post["content"], self.settings.post_chars)
        return f"post {pid} by {who}{_counts(post)}{done}: {text}"


def _cut(text: Any, limit: int) -> str:
    """One line of at most `limit` characters."""
    text = str(text)
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def memory_line(obs: Observation, decision: Decision) -> str:
    """What an activation leaves in memory: the feed in brief and the action."""
    if obs.posts:
        saw = f"saw posts {', '.join(str(p['post_id']) for p in obs.posts)}"
    else:
        saw = "saw an empty feed"
    return f"{saw}; {describe(decision)}"


def describe(decision: Decision) -> str:
    """A decision in a few words, e.g. `like_post(post_id=3)`."""
    if decision.error is not None:
        return "gave no valid action"
    if decision.action == "do_nothing":
        return "did nothing"
    args = ", ".join(f"{k}={_quote(v)}" for k, v in decision.args.items())
    return f"{decision.action}({args})"


def _quote(value: Any) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
        return f'"{text[:57]}..."' if len(text) > 60 else f'"{text}"'
    return str(value)


_COUNTERS = (("num_likes", " like", " likes"), ("num_dislikes", " dislike", " dislikes"),
             ("num_shares", " share", " shares"))


def _counts(item: dict[str, Any]) -> str:
    """Non-zero counters in brackets: ' (score 3)' or ' (4 likes, 1 share)'."""
    score = item.get("score")
    if score is not None:
        return f" (score {score})"
    parts = []
    for key, one, many in _COUNTERS:
        n = item.get(key)
        if n:
            parts.append(f"{n}{one if n == 1 else many}")
    return f" ({', '.join(parts)})" if parts else ""


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _traits_sentence(traits: Mapping[str, Any]) -> str:
    parts = [fmt.format(_text(traits[k])) for k, fmt in _TRAIT_WORDS if traits.get(k) not in (None, "")]
    topics = traits.get("interested_topics") or traits.get("topics")
    if topics:
        parts.append(f"interested in {_text(topics)}")
    return f"\nYou are {', '.join(parts)}." if parts else ""


class _Keys(dict):  # type: ignore[type-arg]
    """A format_map mapping whose missing keys raise an error naming template and agent."""

    def __init__(self, values: Mapping[str, Any], template: str, agent: int) -> None:
        super().__init__(values)
        self.template = template
        self.agent = agent

    def __missing__(self, key: str) -> Any:
        raise PromptError(
            f"{self.template}: key '{key}' is not defined for agent {self.agent} "
            f"(available: {', '.join(sorted(self))})."
        )
