"""The offline behaviour model: persona-driven stochastic agents (the default policy).

Each activation scores every (action, target) option of the agent's feed with a utility
built from relevance (interests vs post topics), agreement (stance vs post stance) and
social proof (the post's score), and draws one option from a softmax (Gumbel-max with
counter-based uniforms keyed by agent and activation, so batching never changes a draw).
Stances then move by bounded-confidence updates (Deffuant-Weisbuch) toward what was read.
All agent state is arrays over agents. Parameters: models/offline.toml.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from oasis_des.agents.population import Population
from oasis_des.policies.base import Decision, Observation
from oasis_des.policies.features import N_TOPICS, TOPICS, TOPIC_NAMES, features
from oasis_des.policies.writing import write_post, write_reply
from oasis_des.rng import keyed_uniform, keyed_uniforms, stream

POST_OPTIONS = ("like_post", "dislike_post", "repost", "quote_post", "create_comment",
                "follow", "unfollow", "mute", "report_post")
COMMENT_OPTIONS = ("like_comment", "dislike_comment")
GLOBAL_OPTIONS = ("create_post", "search_posts", "trend", "do_nothing")


@dataclass(frozen=True, kw_only=True)
class OfflineParams:
    """The parsed model profile (see models/offline.toml for meanings and units)."""

    temperature: float
    base: dict[str, float]
    weights: dict[str, float]
    traits: dict[str, Any]
    opinion: dict[str, Any]
    actions: dict[str, list[str]]

    @classmethod
    def from_toml(cls, path: str | Path) -> "OfflineParams":
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        return cls(
            temperature=float(raw["choice"]["temperature"]),
            base={k: float(v) for k, v in raw["base"].items()},
            weights={k: float(v) for k, v in raw["weights"].items()},
            traits=raw["traits"],
            opinion=raw["opinion"],
            actions=raw["actions"],
        )


def interests_from_text(texts: Sequence[str]) -> np.ndarray:
    """Topic distribution of each persona text (zeros where no topic word occurs)."""
    return np.array([features(t)[0] for t in texts]) if texts else np.zeros((0, N_TOPICS))


class OfflinePolicy:
    """Vectorised persona-driven agents; implements `BatchPolicy`."""

    def __init__(self, population: Population, params: OfflineParams, *, kind: str, seed: int):
        n = len(population)
        self.params = params
        self.seed = seed
        self.allowed = frozenset(params.actions[kind])
        rng = stream(seed, "offline-traits")
        t = params.traits
        texts = [
            " ".join([population.persona[i], population.bio[i],
                      " ".join(map(str, population.traits[i].get("interested_topics", []) or []))])
            for i in range(n)
        ]
        base = interests_from_text(texts)
        noise = rng.dirichlet(np.ones(N_TOPICS), size=n)
        mix = np.where(base.sum(axis=1, keepdims=True) > 0, float(t["interest_noise"]), 1.0)
        self.interests = (1 - mix) * base + mix * noise
        self.interests /= np.linalg.norm(self.interests, axis=1, keepdims=True)
        self.stance = np.clip(population.stance.astype(np.float64), -1, 1)
        self.openness = rng.uniform(*t["openness"], size=n)
        self.assimilation = rng.uniform(*t["assimilation"], size=n)
        self.conformity = rng.exponential(float(t["conformity"]), size=n)
        self.verbosity = rng.uniform(*t["verbosity"], size=n)

    # -- one batch --------------------------------------------------------------------
    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        return [self._decide(obs) for obs in observations]

    def _decide(self, obs: Observation) -> Decision:
        a = obs.agent_id
        names, targets, logits, read = self._options(obs)
        u = keyed_uniform(self.seed, "offline-choice", a, obs.activation)
        choice = _softmax_draw(logits, self.params.temperature, u)
        self._update_opinion(a, read)
        return self._decision(obs, names[choice], targets[choice])

    def _options(self, obs: Observation) -> tuple[list[str], list[Any], list[float], list[float]]:
        p, w, a = self.params, self.params.weights, obs.agent_id
        s, beta = self.stance[a], self.conformity[a]
        names: list[str] = []
        targets: list[Any] = []
        logits: list[float] = []
        read: list[float] = []

        def add(name: str, target: Any, value: float) -> None:
            if name in self.allowed:
                names.append(name)
                targets.append(target)
                logits.append(p.base[name] + value)

        for post in obs.posts:
            topic, sigma = features(post["content"])
            read.append(sigma)
            if post["user_id"] == a:
                continue
            r = float(topic @ self.interests[a]) / (float(np.linalg.norm(topic)) or 1.0)
            g = 1.0 - abs(s - sigma) / 2.0
            score = post.get("score", post.get("num_likes", 0) - post.get("num_dislikes", 0))
            proof = float(np.sign(score) * np.log1p(abs(score)))
            author = post["user_id"]
            add("like_post", post, w["relevance"] * r + w["agreement"] * (g - .5) + beta * proof)
            add("dislike_post", post, w["relevance"] * r - w["agreement"] * (g - .5) - beta * proof)
            add("repost", post, w["relevance"] * r + w["agreement"] * (g - .5) + beta * proof)
            add("quote_post", post, w["relevance"] * r + w["quote_strength"] * abs(g - .5))
            add("create_comment", post, w["relevance"] * r + w["comment_strength"] * abs(g - .5)
                + w["verbosity"] * self.verbosity[a])
            add("report_post", post, w["report"] * (.5 - g))
            if author in obs.following:
                add("unfollow", author, w["disagreement"] * (.5 - g))
            else:
                add("follow", author, w["agreement"] * (g - .5) + w["relevance"] * r)
            if author not in obs.muted:
                add("mute", author, w["disagreement"] * (.5 - g))
            for comment in post.get("comments", ())[:3]:
                if comment["user_id"] == a:
                    continue
                gc = 1.0 - abs(s - features(comment["content"])[1]) / 2.0
                add("like_comment", comment, w["agreement"] * (gc - .5))
                add("dislike_comment", comment, -w["agreement"] * (gc - .5))
        add("create_post", None, w["verbosity"] * self.verbosity[a])
        add("search_posts", None, 0.0)
        add("trend", None, 0.0)
        add("do_nothing", None, 0.0)
        return names, targets, logits, read

    def _update_opinion(self, a: int, read: list[float]) -> None:
        """Bounded confidence: move toward posts within the agent's openness radius."""
        s, eps, mu = self.stance[a], self.openness[a], self.assimilation[a]
        op = self.params.opinion
        for sigma in read:
            if abs(s - sigma) < eps:
                s += mu * (sigma - s)
            elif op["backfire"] and abs(s - sigma) > float(op["backfire_radius"]):
                s -= float(op["backfire_rate"]) * (sigma - s)
        self.stance[a] = min(1.0, max(-1.0, s))

    def _decision(self, obs: Observation, name: str, target: Any) -> Decision:
        a = obs.agent_id
        s = float(self.stance[a])
        u = keyed_uniforms(self.seed, "offline-text", np.int64(a), obs.activation, np.arange(5))
        if name in ("like_post", "dislike_post", "repost"):
            return Decision(action=name, args={"post_id": target["post_id"]})
        if name == "quote_post":
            return Decision(action=name, args={"post_id": target["post_id"],
                                               "quote_content": write_reply(s, u)})
        if name == "create_comment":
            return Decision(action=name, args={"post_id": target["post_id"],
                                               "content": write_reply(s, u)})
        if name == "report_post":
            return Decision(action=name, args={"post_id": target["post_id"],
                                               "report_reason": "misleading or offensive"})
        if name in ("follow", "unfollow"):
            return Decision(action=name, args={"followee_id": target})
        if name == "mute":
            return Decision(action=name, args={"mutee_id": target})
        if name in ("like_comment", "dislike_comment"):
            return Decision(action=name, args={"comment_id": target["comment_id"]})
        if name == "create_post":
            return Decision(action=name, args={"content": write_post(self.interests[a], s, u)})
        if name == "search_posts":
            top = TOPIC_NAMES[int(np.argmax(self.interests[a]))]
            return Decision(action=name, args={"query": TOPICS[top][int(u[0] * 3)]})
        return Decision(action=name)


def _softmax_draw(logits: list[float], temperature: float, u: float) -> int:
    """Index drawn from softmax(logits / temperature) by inverting its CDF at `u`.

    One uniform per decision, keyed by agent and activation: the draw is the same whatever
    else is in the batch. Plain floats: option lists are short, numpy would cost more.
    """
    top = max(logits)
    weights = [math.exp((x - top) / temperature) for x in logits]
    target = u * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if target < acc:
            return i
    return len(weights) - 1
