"""Synthetic populations: who the users are, what they care about, when they act, whom they follow.

Every attribute is drawn with numpy from its own named stream (`oasis_des.rng.stream`),
so the same seed gives the same population and changing, say, the graph parameters never
changes anyone's name. Attributes are small code arrays; names, handles and bios are built
once (they go into the database), while persona texts and trait dictionaries are built on
access (`LazyColumn`), because a run reads them only for the agents an LLM plays.

Persona texts and bios use the keywords of the content-feature topics, so the offline
model, which reads interests from text, recovers the interests drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal

import numpy as np

from oasis_des.agents import wordlists as W
from oasis_des.agents.activity import synthetic_activity
from oasis_des.agents.columns import LazyColumn
from oasis_des.agents.follow_graph import GraphSettings, follow_graph
from oasis_des.agents.population import Population
from oasis_des.agents.topics import TOPIC_NAMES, TOPICS
from oasis_des.rng import stream

Kind = Literal["twitter", "reddit"]


@dataclass(frozen=True, kw_only=True)
class SyntheticSettings:
    """What a synthetic population looks like; every number has a documented unit."""

    # Wording of the run's focal issue in persona texts.
    issue: str = "the focal issue"
    # Stance camps (against, undecided, for): centres in [-1, 1], shares, and spread (sd).
    camp_centres: tuple[float, ...] = (-0.6, 0.0, 0.6)
    camp_shares: tuple[float, ...] = (0.35, 0.3, 0.35)
    camp_spread: float = 0.2
    # Interests: Dirichlet total concentration (smaller = more focused users) and the extra
    # concentration a profession puts on its own topics.
    interest_concentration: float = 2.0
    profession_boost: float = 0.6
    # Activity: mean activations per day (log-normal across users, log-sd below), the cap
    # in activations per hour, and the sd in hours of users' daily-rhythm shift.
    activations_per_day: float = 4.0
    activity_sigma: float = 1.2
    max_activations_per_hour: float = 30.0
    chronotype_hours: float = 1.5
    # Share of users who start with one post (written like the offline model's posts).
    seed_post_share: float = 0.0
    graph: GraphSettings = field(default_factory=GraphSettings)

    def __post_init__(self) -> None:
        if len(self.camp_centres) != len(self.camp_shares) or not self.camp_shares:
            raise ValueError(
                "SyntheticSettings.camp_centres and camp_shares must have the same length."
            )
        if any(w < 0 for w in self.camp_shares) or sum(self.camp_shares) <= 0:
            raise ValueError(
                "SyntheticSettings.camp_shares must be non-negative with a positive sum."
            )
        for name in (
            "camp_spread",
            "interest_concentration",
            "profession_boost",
            "activity_sigma",
            "chronotype_hours",
        ):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"SyntheticSettings.{name} must be >= 0, got {getattr(self, name)!r}."
                )
        if self.activations_per_day <= 0 or self.max_activations_per_hour <= 0:
            raise ValueError("SyntheticSettings activity rates must be > 0.")
        if not 0 <= self.seed_post_share <= 1:
            raise ValueError(
                "SyntheticSettings.seed_post_share must be in [0, 1], "
                f"got {self.seed_post_share!r}."
            )


@dataclass(frozen=True, kw_only=True)
class People:
    """The drawn attributes as code arrays (index into the word lists)."""

    gender: np.ndarray
    first: np.ndarray
    last: np.ndarray
    age: np.ndarray
    mbti: np.ndarray
    country: np.ndarray
    profession: np.ndarray
    title: np.ndarray
    camp: np.ndarray
    stance: np.ndarray
    interests: np.ndarray
    top: np.ndarray  # (n, 3) topic indices by decreasing interest


_PROFESSIONS = tuple(W.PROFESSIONS)
_FIRST = (W.FEMALE_FIRST, W.MALE_FIRST, W.NEUTRAL_FIRST)
# Subject pronoun and the verb forms that agree with it.
_PRONOUN = (
    ("She", "is", "posts", "follows"),
    ("He", "is", "posts", "follows"),
    ("They", "are", "post", "follow"),
)
_WITH_ARTICLE = frozenset(("US", "UK", "Netherlands", "Philippines"))
_CLEAN = str.maketrans("", "", " '-")
_RETIRED = W.BIO_OPENERS.index("Retired ")


def generate_population(
    n: int,
    *,
    seed: int = 0,
    kind: Kind = "twitter",
    settings: SyntheticSettings | None = None,
    progress: Callable[[str], None] | None = None,
    **overrides: Any,
) -> Population:
    """`n` synthetic users with a follow graph; same arguments -> identical population.

    `overrides` replace fields of `settings` (e.g. `seed_post_share=0.01`); graph
    parameters may be given the same way (e.g. `mean_following=20`).
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}.")
    if kind not in ("twitter", "reddit"):
        raise ValueError(f"kind must be 'twitter' or 'reddit', got {kind!r}.")
    s = settings or SyntheticSettings()
    graph_fields = GraphSettings.__dataclass_fields__
    graph_over = {k: v for k, v in overrides.items() if k in graph_fields}
    other = {k: v for k, v in overrides.items() if k not in graph_fields}
    s = replace(s, **other, graph=replace(s.graph, **graph_over))
    say = progress or (lambda _msg: None)

    say(f"drawing attributes of {n:,} users")
    people = draw_people(n, seed, s)
    say("writing names, handles and bios")
    name = _names(people)
    user_name = _handles(n, seed, people, kind)
    bio = _bios(n, seed, people)
    activity = synthetic_activity(
        stream(seed, "personas.activity"),
        n,
        mean_per_day=s.activations_per_day,
        sigma=s.activity_sigma,
        max_per_hour=s.max_activations_per_hour,
        chronotype_hours=s.chronotype_hours,
    )
    say("building the follow graph")
    follows = follow_graph(
        stream(seed, "personas.graph"),
        people.camp,
        people.top[:, 0],
        people.stance,
        s.graph,
        progress=say,
    )
    seed_posts = _seed_posts(n, seed, people, s.seed_post_share)
    say(f"done: {n:,} users, {len(follows):,} follows")
    return Population(
        user_name=user_name,
        name=name,
        bio=bio,
        persona=LazyColumn(n, lambda i: persona_text(people, name[i], i, s.issue)),
        activity=activity,
        stance=people.stance,
        traits=LazyColumn(n, lambda i: traits_of(people, i)),
        follows=follows,
        seed_posts=seed_posts,
        interests=people.interests,
    )


def draw_people(n: int, seed: int, s: SyntheticSettings) -> People:
    """Demographics, stance and interests, each from its own stream."""

    def choice(purpose: str, options: int, weights: tuple[float, ...] | None = None) -> np.ndarray:
        p = None if weights is None else np.asarray(weights) / np.sum(weights)
        return stream(seed, purpose).choice(options, size=n, p=p).astype(np.int16)

    gender = choice("personas.gender", len(W.GENDERS), W.GENDER_WEIGHTS)
    names_rng = stream(seed, "personas.names")
    first = np.floor(names_rng.random(n) * np.array([len(f) for f in _FIRST])[gender]).astype(
        np.int16
    )
    last = names_rng.integers(0, len(W.LAST), size=n).astype(np.int16)
    age = np.clip(
        18 + np.rint(stream(seed, "personas.age").gamma(2.2, 9.0, size=n)), 18, 85
    ).astype(np.int16)
    profession = choice("personas.profession", len(_PROFESSIONS))
    title = stream(seed, "personas.title").integers(0, 3, size=n).astype(np.int16)
    title[age < 23] = -1  # students
    camp = choice("personas.camp", len(s.camp_shares), s.camp_shares)
    stance_rng = stream(seed, "personas.stance")
    stance = np.clip(
        np.asarray(s.camp_centres)[camp] + stance_rng.normal(0.0, s.camp_spread, size=n), -1.0, 1.0
    )
    interests = _interests(n, seed, profession, s)
    top = np.argsort(-interests, axis=1, kind="stable")[:, :3].astype(np.int16)
    return People(
        gender=gender,
        first=first,
        last=last,
        age=age,
        mbti=choice("personas.mbti", len(W.MBTI), W.MBTI_WEIGHTS),
        country=choice("personas.country", len(W.COUNTRIES), W.COUNTRY_WEIGHTS),
        profession=profession,
        title=title,
        camp=camp,
        stance=stance,
        interests=interests,
        top=top,
    )


def _interests(n: int, seed: int, profession: np.ndarray, s: SyntheticSettings) -> np.ndarray:
    """Dirichlet interests: topic popularity plus a boost on the profession's topics."""
    popularity = np.array([W.TOPIC_POPULARITY.get(t, 1.0) for t in TOPIC_NAMES])
    alpha = np.tile(
        s.interest_concentration * popularity / popularity.sum(), (len(_PROFESSIONS), 1)
    )
    for p, topics in enumerate(W.PROFESSIONS.values()):
        for t in topics:
            if t in TOPIC_NAMES:
                alpha[p, TOPIC_NAMES.index(t)] += s.profession_boost
    draws = stream(seed, "personas.interests").gamma(alpha[profession].astype(np.float64))
    draws += 1e-12  # a row of underflowed gammas stays a distribution
    return (draws / draws.sum(axis=1, keepdims=True)).astype(np.float32)


def _table(values: list[str]) -> np.ndarray:
    """Strings as an object array, for vectorised lookups and concatenation."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _names(people: People) -> list[str]:
    """'First Last': one shared string per distinct (gender, first, last) combination."""
    width = max(len(f) for f in _FIRST)
    table = _table(
        [
            f"{_FIRST[g][f]} {last}" if f < len(_FIRST[g]) else ""
            for g in range(len(_FIRST))
            for f in range(width)
            for last in W.LAST
        ]
    )
    code = (people.gender.astype(np.int64) * width + people.first) * len(W.LAST) + people.last
    return table[code].tolist()


def _handles(n: int, seed: int, people: People, kind: Kind) -> list[str]:
    """Unique lower-case handles in a few common patterns, some with digits."""
    rng = stream(seed, "personas.handles")
    pattern = rng.integers(0, 5, size=n)
    digits = rng.choice(3, size=n, p=(0.45, 0.4, 0.15))
    two = rng.integers(1, 100, size=n)
    word = rng.integers(0, len(W.HANDLE_WORDS), size=n)
    sep = "_" if kind == "twitter" else "-"
    width = max(len(f) for f in _FIRST)
    firsts = [[f.lower().translate(_CLEAN) for f in names] for names in _FIRST]
    lasts = [x.lower().translate(_CLEAN) for x in W.LAST]
    # Patterns 0-2 and 4 depend on (first, last); pattern 3 on (word, first).
    by_last = _table(
        [
            h
            for g in range(len(_FIRST))
            for f in range(width)
            for p in (0, 1, 2, 4)
            for last in lasts
            for first in [firsts[g][f] if f < len(firsts[g]) else ""]
            for h in [(first + last, first + sep + last, first[:1] + last, "", first + last[:1])[p]]
        ]
    )
    by_word = _table(
        [
            w + (firsts[g][f] if f < len(firsts[g]) else "")
            for g in range(len(_FIRST))
            for f in range(width)
            for w in W.HANDLE_WORDS
        ]
    )
    person = people.gender.astype(np.int64) * width + people.first
    slot = np.array([0, 1, 2, 0, 3])[pattern]
    handle = np.where(
        pattern == 3,
        by_word[person * len(W.HANDLE_WORDS) + word],
        by_last[(person * 4 + slot) * len(W.LAST) + people.last],
    )
    # Birth year (2024 - age) as text: table index 90 - age.
    years = _table([str(2024 - 90 + k) for k in range(91)])
    suffix = np.where(
        digits == 1,
        _table([str(k) for k in range(100)])[two],
        np.where(digits == 2, years[90 - people.age.astype(np.int64)], ""),
    )
    handle = (handle + suffix).tolist()
    seen: set[str] = set()
    for i, h in enumerate(handle):
        if h in seen:
            k = i
            h = f"{h}{sep}{k}"
            while h in seen:
                k += n
                h = f"{handle[i]}{sep}{k}"
            handle[i] = h
        seen.add(h)
    return handle


def _bios(n: int, seed: int, people: People) -> list[str]:
    """'Proud nurse | health & travel fan | runner. Views my own.' and variations."""
    rng = stream(seed, "personas.bios")
    opener = rng.integers(0, len(W.BIO_OPENERS), size=n)
    fan = rng.integers(0, len(W.FAN_WORDS), size=n)
    hobby = rng.integers(0, len(W.HOBBIES), size=n)
    tail = rng.integers(0, len(W.BIO_TAILS), size=n)
    keyword = rng.integers(0, 3, size=(n, 2))
    student = people.title < 0
    opener[student | ((opener == _RETIRED) & (people.age < 60))] = 0
    # Job phrase by (opener, profession, title slot 0-2 or 3 = student).
    jobs = _table(
        [
            (W.BIO_OPENERS[o] + job) if o else job.capitalize()
            for o in range(len(W.BIO_OPENERS))
            for prof in _PROFESSIONS
            for job in (*W.JOB_TITLES[prof], W.STUDENT_TITLE)
        ]
    )
    job = jobs[
        (opener * len(_PROFESSIONS) + people.profession) * 4 + np.where(student, 3, people.title)
    ]
    words = [w for t in TOPIC_NAMES for w in TOPICS[t][:3]]
    likes = _table([f"{a} & {b} {fan}" for a in words for b in words for fan in W.FAN_WORDS])
    first = people.top[:, 0].astype(np.int64) * 3 + keyword[:, 0]
    second = people.top[:, 1].astype(np.int64) * 3 + keyword[:, 1]
    like = likes[(first * len(words) + second) * len(W.FAN_WORDS) + fan]
    ends = _table([f"{h}. {t}" if t else f"{h}." for h in W.HOBBIES for t in W.BIO_TAILS])
    end = ends[hobby * len(W.BIO_TAILS) + tail]
    return (job + " | " + like + " | " + end).tolist()


def persona_text(people: People, name: str, i: int, issue: str) -> str:
    """The persona an LLM plays: demographics, temperament, interests and stance."""
    they, are, posts, follows = _PRONOUN[int(people.gender[i])]
    mbti = W.MBTI[int(people.mbti[i])]
    temper = ", ".join(W.MBTI_BLURB[c] for c in mbti[:3]) + " and " + W.MBTI_BLURB[mbti[3]]
    profession = _PROFESSIONS[int(people.profession[i])]
    title = int(people.title[i])
    job = f"{W.STUDENT_TITLE} of {profession}" if title < 0 else W.JOB_TITLES[profession][title]
    country = W.COUNTRIES[int(people.country[i])]
    country = f"the {country}" if country in _WITH_ARTICLE else country
    t1, t2, t3 = (TOPIC_NAMES[int(t)] for t in people.top[i])
    # Three keywords of the main topic, one of the second: read back, the main topic wins.
    words = list(dict.fromkeys(TOPICS[t1][1:4] + TOPICS[t2][1:2]))
    level = min(4, int((float(people.stance[i]) + 1.0) * 2.5))
    return (
        f"{name} is a {int(people.age[i])}-year-old {job} from {country}. "
        f"{they} {are} {temper} ({mbti}). {they} mostly {posts} about {t1}, sometimes about "
        f"{t2} and {t3}, and {follows} news on {', '.join(words[:-1])} and {words[-1]}. "
        f"On {issue}, {name.split(' ', 1)[0]} {W.STANCE_SENTENCES[level]}."
    )


def traits_of(people: People, i: int) -> dict[str, object]:
    """The OASIS Reddit-style traits of user i."""
    interests = people.interests[i]
    topics = [TOPIC_NAMES[int(t)] for t in people.top[i] if interests[int(t)] >= 0.15] or [
        TOPIC_NAMES[int(people.top[i, 0])]
    ]
    return {
        "age": int(people.age[i]),
        "gender": W.GENDERS[int(people.gender[i])],
        "mbti": W.MBTI[int(people.mbti[i])],
        "country": W.COUNTRIES[int(people.country[i])],
        "profession": _PROFESSIONS[int(people.profession[i])],
        "interested_topics": topics,
    }


def _seed_posts(n: int, seed: int, people: People, share: float) -> list[tuple[int, str]]:
    """One opening post for a `share` of users, written as the offline model writes."""
    if share <= 0 or n == 0:
        return []
    from oasis_des.policies.writing import write_post

    rng = stream(seed, "personas.seed-posts")
    chosen = np.flatnonzero(rng.random(n) < share)
    u = rng.random((len(chosen), 5))
    return [
        (int(a), write_post(people.interests[a], float(people.stance[a]), u[k].tolist()))
        for k, a in enumerate(chosen)
    ]
