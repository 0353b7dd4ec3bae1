"""The offline behaviour model: persona-driven stochastic agents (the default policy).

Each activation scores every (action, target) option of the agent's feed with a utility
built from relevance (interests vs post topics), agreement (stance vs post stance) and
social proof (the post's score), and draws one option from a softmax (Gumbel-max with
counter-based uniforms keyed by agent and activation, so batching never changes a draw).
Stances then move by bounded-confidence updates (Deffuant-Weisbuch) toward what was read.
All agent state is arrays over agents. Parameters: models/offline.toml.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from oasis_des.agents.population import Population
from oasis_des.policies.base import Decision, Observation
from oasis_des.policies.features import N_TOPICS, TOPICS, TOPIC_NAMES, features, stance_of
from oasis_des.policies.profile_keys import (
    Keys,
    ProfileError,
    action_lists,
    boolean,
    check_keys,
    nonempty,
    number,
    span,
    unknown_key,
)
from oasis_des.policies.writing import write_post, write_reply
from oasis_des.resources import data_dir
from oasis_des.rng import KeyedStream, keyed_uniforms, stream

POST_OPTIONS = ("like_post", "dislike_post", "repost", "quote_post", "create_comment",
                "follow", "unfollow", "mute", "report_post")
COMMENT_OPTIONS = ("like_comment", "dislike_comment")
GLOBAL_OPTIONS = ("create_post", "search_posts", "trend", "do_nothing")
OPTION_NAMES: tuple[str, ...] = POST_OPTIONS + COMMENT_OPTIONS + GLOBAL_OPTIONS


@dataclass(frozen=True, kw_only=True)
class OfflineParams:
    """The parsed model profile (see models/offline.toml for meanings and units)."""

    temperature: float
    base: dict[str, float]
    weights: dict[str, float]
    traits: dict[str, Any]
    opinion: dict[str, Any]
    actions: dict[str, tuple[str, ...]]

    @classmethod
    def from_toml(cls, path: str | Path) -> "OfflineParams":
        """Validate a profile file. A key it leaves out takes its value in the shipped
        models/offline.toml, so a profile need only state what it changes."""
        path = Path(path)
        with open(path, "rb") as f:
            raw = tomllib.load(f)
        with open(data_dir("models") / "offline.toml", "rb") as f:
            shipped = tomllib.load(f)
        sections = (*_SECTIONS, "actions")
        for key in raw:
            if key not in _TOP and key not in sections:  # suggest "choice.temperature" too
                known = [*_TOP, *sections, *(f"{s}.{k}" for s, keys in _SECTIONS.items()
                                             for k in keys)]
                raise unknown_key(path, key, known)
        check_keys(path, {k: v for k, v in raw.items() if k in _TOP}, _TOP, "")
        merged: dict[str, dict[str, Any]] = {}
        for section in sections:
            given = raw.get(section, {})
            if not isinstance(given, dict):
                raise ProfileError(f"{path}: [{section}] must be a table.")
            merged[section] = {**shipped[section], **given}
        values = {section: check_keys(path, merged[section], keys, f"{section}.")
                  for section, keys in _SECTIONS.items()}
        return cls(
            temperature=values["choice"]["temperature"],
            base=values["base"],
            weights=values["weights"],
            traits=values["traits"],
            opinion=values["opinion"],
            actions=action_lists(path, merged["actions"], OPTION_NAMES),
        )


def _offline(v: Any) -> str:
    if v != "offline":
        raise ValueError
    return v


# The profile's keys, what each allows, and why: the utilities carry the signs (dislike,
# unfollow, mute and report subtract), so a negative weight would invert its mechanism;
# base logits are any real; ranges are uniform draws; mu and the backfire rate are fractions
# of the distance to a post moved per read; the interest noise is a mixing weight.
_TOP: Keys = {"name": (nonempty, "a non-empty string"), "kind": (_offline, '"offline"')}
_NON_NEGATIVE = (number(0.0), "a finite number >= 0")
_SECTIONS: dict[str, Keys] = {
    "choice": {"temperature": (number(0.0, strict=True), "a finite number > 0")},
    "base": dict.fromkeys(OPTION_NAMES, (number(), "a finite number (a logit)")),
    "weights": dict.fromkeys(("relevance", "agreement", "quote_strength", "comment_strength",
                              "disagreement", "report", "verbosity"), _NON_NEGATIVE),
    "traits": {
        "openness": (span(0.0), "[low, high] with 0 <= low <= high"),
        "assimilation": (span(0.0, 1.0), "[low, high] with 0 <= low <= high <= 1"),
        "conformity": _NON_NEGATIVE,
        "verbosity": (span(), "[low, high] of finite numbers with low <= high"),
        "interest_noise": (number(0.0, 1.0), "a number in [0, 1]"),
    },
    "opinion": {
        "backfire": (boolean, "true or false"),
        "backfire_radius": _NON_NEGATIVE,
        "backfire_rate": (number(0.0, 1.0), "a number in [0, 1]"),
    },
}


class OfflinePolicy:
    """Vectorised persona-driven agents; implements `BatchPolicy`."""

    def __init__(self, population: Population, params: OfflineParams, *, kind: str, seed: int):
        n = len(population)
        self.params = params
        self.seed = seed
        self.allowed = frozenset(params.actions[kind])
        rng = stream(seed, "offline-traits")
        t = params.traits
        # Population interests come from persona fields (agents.topics); a uniform row means
        # the persona said nothing, so that agent gets a Dirichlet draw instead.
        base = np.asarray(population.interests, dtype=np.float64)
        noise = rng.dirichlet(np.ones(N_TOPICS), size=n)
        informative = np.ptp(base, axis=1, keepdims=True) > 1e-9
        mix = np.where(informative, float(t["interest_noise"]), 1.0)
        self.interests = (1 - mix) * base + mix * noise
        self.interests /= np.linalg.norm(self.interests, axis=1, keepdims=True)
        self.stance = np.clip(population.stance.astype(np.float64), -1, 1)
        self.openness = rng.uniform(*t["openness"], size=n)
        self.assimilation = rng.uniform(*t["assimilation"], size=n)
        self.conformity = rng.exponential(float(t["conformity"]), size=n)
        self.verbosity = rng.uniform(*t["verbosity"], size=n)

    # -- one batch --------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The agents' opinions, the only thing that changes as they read (for checkpoints)."""
        return {"stance": self.stance.copy()}

    def restore(self, state: dict[str, Any]) -> None:
        self.stance[:] = state["stance"]

    def decide_batch(self, observations: Sequence[Observation]) -> list[Decision]:
        """One decision per observation, computed for the whole batch with numpy.

        Each decision depends only on its own observation, the agent's state and its keyed
        uniform, never on the rest of the batch. An agent listed twice is handled in
        order (its second decision sees the opinion update of its first).
        """
        decisions: list[Decision] = []
        chunk: list[Observation] = []
        seen: set[int] = set()
        for obs in observations:
            if obs.agent_id in seen:
                decisions += self._decide_unique(chunk)
                chunk, seen = [], set()
            chunk.append(obs)
            seen.add(obs.agent_id)
        return decisions + self._decide_unique(chunk)

    def _decide_unique(self, batch: Sequence[Observation]) -> list[Decision]:
        if not batch:
            return []
        feed = _Feed(batch)
        options = self._options(batch, feed)
        u = keyed_uniforms(self.seed, "offline-choice", feed.agents,
                           np.array([o.activation for o in batch], dtype=np.int64))
        chosen = _segment_softmax_draw(options, len(batch), self.params.temperature, u)
        self._update_opinions(feed)
        out = []
        for i, obs in enumerate(batch):
            k = chosen[i]
            if k < 0:
                out.append(Decision(action="do_nothing"))
                continue
            name = OPTION_NAMES[options.kind[k]]
            out.append(self._decision(obs, name, feed.target(name, int(options.target[k]))))
        return out

    def _options(self, batch: Sequence[Observation], feed: "_Feed") -> "_Options":
        """Every (action, target) option of every observation with its utility (logit)."""
        w, base = self.params.weights, self.params.base
        opts = _Options()
        agent = feed.agent
        s, beta = self.stance[agent], self.conformity[agent]
        norm = np.linalg.norm(feed.topic, axis=1)
        r = np.einsum("ij,ij->i", feed.topic, self.interests[agent]) / np.where(norm > 0, norm, 1.0)
        g = 1.0 - np.abs(s - feed.sigma) / 2.0
        proof = np.sign(feed.score) * np.log1p(np.abs(feed.score))
        other = feed.author != agent
        lean = w["agreement"] * (g - 0.5)
        post_utilities = {
            "like_post": w["relevance"] * r + lean + beta * proof,
            "dislike_post": w["relevance"] * r - lean - beta * proof,
            "repost": w["relevance"] * r + lean + beta * proof,
            "quote_post": w["relevance"] * r + w["quote_strength"] * np.abs(g - 0.5),
            "create_comment": w["relevance"] * r + w["comment_strength"] * np.abs(g - 0.5)
            + w["verbosity"] * self.verbosity[agent],
            "report_post": w["report"] * (0.5 - g),
            "unfollow": w["disagreement"] * (0.5 - g),
            "follow": lean + w["relevance"] * r,
            "mute": w["disagreement"] * (0.5 - g),
        }
        masks = {"unfollow": other & feed.following, "follow": other & ~feed.following,
                 "mute": other & ~feed.muted}
        for name, done in feed.done.items():  # the platform would refuse a second one
            masks[name] = other & ~done
        for name, utility in post_utilities.items():
            if name in self.allowed:
                keep = np.flatnonzero(masks.get(name, other))
                opts.add(name, feed.obs[keep], keep, base[name] + utility[keep])
        if len(feed.c_obs):
            c_agent = feed.agent[feed.c_pair]
            gc = 1.0 - np.abs(self.stance[c_agent] - feed.c_sigma) / 2.0
            others = feed.c_author != c_agent
            for name, sign in (("like_comment", 1.0), ("dislike_comment", -1.0)):
                if name in self.allowed:  # a second rating the platform would refuse
                    keep = np.flatnonzero(others & ~feed.c_done[name])
                    opts.add(name, feed.c_obs[keep], keep,
                             base[name] + sign * w["agreement"] * (gc[keep] - 0.5))
        agents = feed.agents
        everyone = np.arange(len(batch))
        for name, value in (("create_post", w["verbosity"] * self.verbosity[agents]),
                            ("search_posts", np.zeros(len(batch))),
                            ("trend", np.zeros(len(batch))),
                            ("do_nothing", np.zeros(len(batch)))):
            if name in self.allowed:
                opts.add(name, everyone, everyone, base[name] + value)
        return opts

    def _update_opinions(self, feed: "_Feed") -> None:
        """Bounded confidence, post by post in feed order, for all agents of the batch at once."""
        op = self.params.opinion
        backfire = bool(op["backfire"])
        for position in range(int(feed.position.max(initial=-1)) + 1):
            at = np.flatnonzero(feed.position == position)
            a = feed.agent[at]
            s, sigma = self.stance[a], feed.sigma[at]
            gap = np.abs(s - sigma)
            near = gap < self.openness[a]
            s = np.where(near, s + self.assimilation[a] * (sigma - s), s)
            if backfire:
                far = ~near & (gap > float(op["backfire_radius"]))
                s = np.where(far, s - float(op["backfire_rate"]) * (sigma - s), s)
            self.stance[a] = np.clip(s, -1.0, 1.0)

    def _decision(self, obs: Observation, name: str, target: Any) -> Decision:
        a = obs.agent_id
        s = float(self.stance[a])
        if name in ("like_post", "dislike_post", "repost"):
            return Decision(action=name, args={"post_id": target["post_id"]})
        if name == "report_post":
            return Decision(action=name, args={"post_id": target["post_id"],
                                               "report_reason": "misleading or offensive"})
        if name in ("follow", "unfollow"):
            return Decision(action=name, args={"followee_id": target})
        if name == "mute":
            return Decision(action=name, args={"mutee_id": target})
        if name in ("like_comment", "dislike_comment"):
            return Decision(action=name, args={"comment_id": target["comment_id"]})
        if name in ("do_nothing", "trend"):
            return Decision(action=name)
        text = KeyedStream(self.seed, "offline-text", a, obs.activation)
        u = [text.at(j) for j in range(5)]
        if name == "quote_post":
            return Decision(action=name, args={"post_id": target["post_id"],
                                               "quote_content": write_reply(s, u)})
        if name == "create_comment":
            return Decision(action=name, args={"post_id": target["post_id"],
                                               "content": write_reply(s, u)})
        if name == "create_post":
            return Decision(action=name, args={"content": write_post(self.interests[a], s, u)})
        top = TOPIC_NAMES[int(np.argmax(self.interests[a]))]  # search_posts
        return Decision(action=name, args={"query": TOPICS[top][int(u[0] * 3)]})


_CODE = {name: i for i, name in enumerate(OPTION_NAMES)}


class _Feed:
    """The posts (and their first comments) of a batch's observations, as flat arrays.

    Built in one pass over the posts (a batch holds tens of thousands of them at scale);
    their first comments (a few per post, but many per batch) are gathered as whole lists.
    """

    def __init__(self, batch: Sequence[Observation]) -> None:
        posts: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        obs: list[int] = []
        position: list[int] = []
        c_pair: list[int] = []
        topics, sigma, score, author, flags = [], [], [], [], []
        c_rated: list[tuple[int, bool, bool]] = []  # comments the agent liked / disliked
        for i, o in enumerate(batch):
            shown = o.posts
            obs += [i] * len(shown)
            position += range(len(shown))
            following, muted = o.following, o.muted
            liked, disliked, reposted = o.liked, o.disliked, o.reposted
            rated_comments = o.liked_comments or o.disliked_comments  # most agents: none
            for post in shown:
                topic, stance = features(post["content"])
                topics.append(topic)
                sigma.append(stance)
                score.append(post["score"] if "score" in post
                             else post.get("num_likes", 0) - post.get("num_dislikes", 0))
                user, pid = post["user_id"], post["post_id"]
                author.append(user)
                flags += (user in following, user in muted, pid in liked,
                          pid in disliked, pid in reposted)
                first = post.get("comments", ())[:3]
                if first:
                    if rated_comments:
                        c_rated += [(len(comments) + j, c["comment_id"] in o.liked_comments,
                                     c["comment_id"] in o.disliked_comments)
                                    for j, c in enumerate(first)]
                    c_pair += [len(posts)] * len(first)
                    comments += first
                posts.append(post)
        self.posts, self.comments = posts, comments
        self.obs = np.array(obs, dtype=np.int64)
        self.position = np.array(position, dtype=np.int64)
        self.agents = np.array([o.agent_id for o in batch], dtype=np.int64)
        self.agent = self.agents[self.obs]
        self.topic = (np.concatenate(topics) if topics else np.zeros(0)).reshape(len(posts), N_TOPICS)
        self.sigma = np.array(sigma, dtype=np.float64)
        self.score = np.array(score, dtype=np.float64)
        self.author = np.array(author, dtype=np.int64)
        marks = np.array(flags, dtype=bool).reshape(len(posts), 5)
        self.following, self.muted = marks[:, 0], marks[:, 1]
        self.done = {"like_post": marks[:, 2], "dislike_post": marks[:, 3], "repost": marks[:, 4]}
        self.c_pair = np.array(c_pair, dtype=np.int64)
        self.c_obs = self.obs[self.c_pair]
        texts = [c["content"] for c in comments]
        self.c_sigma = np.fromiter(map(stance_of, texts), dtype=np.float64, count=len(texts))
        self.c_author = np.array([c["user_id"] for c in comments], dtype=np.int64)
        rated = np.zeros((len(comments), 2), dtype=bool)
        if c_rated:
            at, like, dislike = zip(*c_rated)
            rated[list(at)] = np.array([like, dislike], dtype=bool).T
        self.c_done = {"like_comment": rated[:, 0], "dislike_comment": rated[:, 1]}

    def target(self, name: str, index: int) -> Any:
        """What an option acts on: a post, an author id, a comment, or nothing."""
        if name in COMMENT_OPTIONS:
            return self.comments[index]
        if name in ("follow", "unfollow", "mute"):
            return int(self.author[index])
        if name in POST_OPTIONS:
            return self.posts[index]
        return None


class _Options:
    """Options of a batch as parallel arrays: observation, kind, target index, logit."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, name: str, obs: np.ndarray, target: np.ndarray, logit: np.ndarray) -> None:
        kind = np.full(len(obs), _CODE[name], dtype=np.int64)
        self._parts.append((np.asarray(obs), kind, np.asarray(target), np.asarray(logit, float)))

    def freeze(self) -> None:
        """Concatenate and group by observation (stable: each keeps its option order)."""
        if self._parts:
            obs, kind, target, logit = (np.concatenate(c) for c in zip(*self._parts))
        else:
            obs = kind = target = logit = np.zeros(0, dtype=np.int64)
        order = np.argsort(obs, kind="stable")
        self.obs, self.kind = obs[order].astype(np.int64), kind[order].astype(np.int64)
        self.target, self.logit = target[order].astype(np.int64), logit[order]


def _segment_softmax_draw(options: _Options, n: int, temperature: float, u: np.ndarray) -> np.ndarray:
    """For each observation, the index of the option drawn from the softmax of its logits.

    Inverts each observation's CDF at its own uniform `u[i]`, so a draw never depends on
    the other observations in the batch. -1 where an observation has no option.
    """
    options.freeze()
    counts = np.bincount(options.obs, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    chosen = np.full(n, -1, dtype=np.int64)
    has = counts > 0
    if not has.any():
        return chosen
    top = np.full(n, -np.inf)
    np.maximum.at(top, options.obs, options.logit)
    weights = np.exp((options.logit - top[options.obs]) / temperature)
    cum = np.cumsum(weights)
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    total = np.where(has, cum[np.maximum(starts + counts - 1, 0)] - before, 0.0)
    pick = np.searchsorted(cum, before + u * total, side="right")
    pick = np.minimum(pick, starts + counts - 1)
    chosen[has] = pick[has]
    return chosen
