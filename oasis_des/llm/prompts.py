"""Prompts of LLM agents: a system prompt from the persona, a compact user message per activation.

In OASIS's spirit the system prompt tells the model it is a Twitter or Reddit user with this
profile and must act through the tools. The user message holds the agent's memory and its
feed in a terse line format (ids, author, counts, a few recent comments), because prompt
tokens are what LLM runs pay for: OASIS spends about 3,400 per activation, we aim at a third.

Custom system prompts are text files with `str.format` keys (docs/llm.md lists them); a key
that an agent's persona does not define is an error naming the key and the file.
"""

from __future__ import annotations

import re
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
You're a {{platform}} user. Act as yourself, consistent with your self-description.
You are {{name}} (@{{user_name}}, user {{user_id}}). {{profile}}{extra}"""
    for kind, extra in (("twitter", ""), ("reddit", "{traits}"))
}

INTERVIEW_INSTRUCTION = (
    "# RESPONSE METHOD\nA researcher is interviewing you. Answer in character, in a few "
    "sentences of plain text; do not call tools."
)

# Persona traits that go into the default prompt's sentence about the agent, in this order.
_TRAIT_WORDS = (("gender", "{}"), ("age", "{} years old"), ("mbti", "MBTI {}"),
                ("country", "from {}"), ("profession", "working in {}"))


# Template keys every agent has (the others are persona traits, and `traits`).
_IDENTITY = frozenset({"platform", "user_id", "user_name", "name", "bio", "persona", "profile"})
_SYSTEMS_KEPT = 10_000  # system prompts kept (oldest dropped first)
_TEXTS_KEPT = 50_000  # shortened post and comment texts kept (all dropped when full)


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
        # Shortened texts by original (and limit): popular posts and comments are in many
        # feeds, and the platform hands out the same string objects (their hash is cached).
        self._texts: dict[tuple[str, int], str] = {}
        self._fields = self._template_fields()
        # Traits are read only for templates that use them (synthetic personas draw theirs
        # on first use, which costs more than the rest of a system prompt).
        self._uses_traits = bool(self._fields - _IDENTITY)
        self._check_template()

    # -- system prompt ----------------------------------------------------------------
    def keys(self, agent: int) -> dict[str, Any]:
        """What the template may use for `agent`: identity, persona text, and the traits (one
        key each, and `traits`, the sentence) when it uses any."""
        p = self.population
        persona, bio = str(p.persona[agent] or ""), str(p.bio[agent] or "")
        values: dict[str, Any] = dict(
            platform=PLATFORM_NAMES[self.kind],
            user_id=agent,
            user_name=p.user_name[agent],
            name=p.name[agent],
            bio=bio,
            persona=persona,
            profile=persona or bio or "no profile text",
        )
        if not self._uses_traits:
            return values
        traits = dict(p.traits[agent]) if p.traits else {}
        return {**{k: _text(v) for k, v in traits.items()}, **values,
                "traits": _traits_sentence(traits, persona or bio)}

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

    def _template_fields(self) -> set[str]:
        """The keys the template uses (their names before any `.attr` or `[index]`)."""
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
        return {f.split(".")[0].split("[")[0] for f in fields}

    def _check_template(self) -> None:
        """Fail at load time, not mid-run: every key must exist for every agent."""
        if not len(self.population):
            return
        trait_fields = self._fields - _IDENTITY - {"traits"}
        if trait_fields:
            for agent, traits in enumerate(self.population.traits):
                if not trait_fields <= traits.keys():
                    self._fill(self.keys(agent), agent)  # raises, naming the key and agent
        self._fill(self.keys(0), 0)

    # -- messages ---------------------------------------------------------------------
    def decide_messages(self, obs: Observation, memory: str) -> list[dict[str, str]]:
        """System and user messages of one activation."""
        parts = [memory] if memory else []
        if obs.followers is not None:
            parts.append(f"Followers: {obs.followers}; following: {obs.followings}.")
        if obs.group_messages:
            parts.append(self.groups(obs))
        parts.append(self.feed(obs))  # the system prompt says how to act
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
        """The feed in one line per post and per shown comment.

        Reposts of one post show its text and comments once: later copies refer to the
        first (`same as post 12`, `comments as under post 12`).
        """
        if not obs.posts:
            return "Your feed is empty."
        lines = ["Your feed:"]
        texts: dict[str, int] = {}  # text -> the post that showed it
        placed: dict[int, int] = {}  # comment id -> the post that showed it
        keep = self.settings.comments_per_post
        for post in obs.posts:
            pid = post["post_id"]
            comments: Sequence[dict[str, Any]] = post.get("comments", ())
            shown = comments[len(comments) - keep:] if keep else ()
            hidden = len(comments) - len(shown)
            text = self._short(post["content"], self.settings.post_chars)
            first = texts.setdefault(text, pid)
            if first != pid:
                text = f"same as post {first}"
            lines.append(self._post_line(post, obs, text, hidden))
            fresh = [c for c in shown if c["comment_id"] not in placed]
            if len(fresh) < len(shown):
                lines.append(f"  (comments as under post {placed[shown[0]['comment_id']]})")
            for c in fresh:
                placed[c["comment_id"]] = pid
                lines.append(f"  comment {c['comment_id']} by {self._who(c['user_id'], obs)}"
                             f"{_counts(c)}: {self._short(c['content'], self.settings.comment_chars)}")
        return "\n".join(lines)

    def groups(self, obs: Observation) -> str:
        """The latest messages of the agent's chat groups, one line each."""
        lines = ["Latest messages in your groups:"]
        for m in obs.group_messages:
            lines.append(f"- group {m['group_id']} ({_cut(m['group'], 40)}), "
                         f"{self._who(m['sender_id'], obs)}: "
                         f"{_cut(m['content'], self.settings.comment_chars)}")
        return "\n".join(lines)

    def _short(self, text: str, limit: int) -> str:
        """`text` in one line of at most `limit` characters, reposts and quotes compacted."""
        key = (text, limit)
        short = self._texts.get(key)
        if short is None:
            if len(self._texts) >= _TEXTS_KEPT:
                self._texts.clear()
            short = self._texts[key] = _cut(_compact(text), limit)
        return short

    @staticmethod
    def _who(user: int, obs: Observation) -> str:
        return "you" if user == obs.agent_id else f"user {user}"

    def _post_line(self, post: dict[str, Any], obs: Observation, text: str, hidden: int) -> str:
        author, pid = post["user_id"], post["post_id"]
        who = self._who(author, obs)
        if author in obs.following:
            who += " (followed)"
        marks = [m for m, ids in (("liked", obs.liked), ("disliked", obs.disliked),
                                  ("reposted", obs.reposted)) if pid in ids]
        done = f" [you {', '.join(marks)}]" if marks else ""
        return f"post {pid} by {who}{_counts(post, hidden)}{done}: {text}"


# How the platform writes reposts and quotes (OASIS's wording), and shorter forms for prompts.
_REPOST = re.compile(r"User \d+ reposted a post from User (\d+)\. Repost content: (.*?)\. $", re.S)
_QUOTE = re.compile(r"User \d+ quoted a post from User (\d+)\. Quote content: (.*?)\. "
                    r"Original Content: (.*)$", re.S)


def _compact(content: Any) -> str:
    """A repost or quote in fewer words: `repost of user 5: ...`, `quote of user 5: "..." on: ...`."""
    text = str(content)
    if text.startswith("User "):
        if (m := _REPOST.match(text)) is not None:
            return f"repost of user {m[1]}: {m[2]}"
        if (m := _QUOTE.match(text)) is not None:
            return f'quote of user {m[1]}: "{m[2]}" on: {m[3]}'
    return text


def _cut(text: Any, limit: int) -> str:
    """One line of at most `limit` characters."""
    text = str(text)
    if "\n" in text or "  " in text or "\t" in text or "\r" in text:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def memory_line(obs: Observation, decision: Decision) -> str:
    """What an activation leaves in memory: what the agent did (the feed it saw is gone)."""
    return describe(decision) if obs.posts else f"{describe(decision)} (on an empty feed)"


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
        return f'"{text[:40]}..."' if len(text) > 43 else f'"{text}"'
    return str(value)


_COUNTERS = (("num_likes", " like", " likes"), ("num_dislikes", " dislike", " dislikes"),
             ("num_shares", " share", " shares"))


def _counts(item: dict[str, Any], hidden: int = 0) -> str:
    """Non-zero counters in brackets: ' (score 3)' or ' (4 likes, 1 share)', and the
    number of comments when some of them are not shown (' (score 3, 12 comments)')."""
    score = item.get("score")
    parts = [f"score {score}"] if score else []
    if score is None:
        for key, one, many in _COUNTERS:
            n = item.get(key)
            if n:
                parts.append(f"{n}{one if n == 1 else many}")
    if hidden:
        parts.append(f"{len(item.get('comments', ()))} comments")
    return f" ({', '.join(parts)})" if parts else ""


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _traits_sentence(traits: Mapping[str, Any], profile: str) -> str:
    """The persona's traits in words, leaving out those its profile text already states."""
    def new(value: Any) -> bool:
        text = _text(value)
        return text not in profile or re.search(rf"\b{re.escape(text)}\b", profile) is None

    parts = [fmt.format(_text(traits[k])) for k, fmt in _TRAIT_WORDS
             if traits.get(k) not in (None, "") and new(traits[k])]
    topics = traits.get("interested_topics") or traits.get("topics")
    if isinstance(topics, (list, tuple)):
        topics = [t for t in topics if new(t)]
    if topics and new(topics):
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
