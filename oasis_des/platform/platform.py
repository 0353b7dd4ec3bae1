"""The platform: a state machine over SQLite that executes agents' actions.

It has no SimPy inside: the engine sets `now` and calls `execute`; tests and scripts use
it alone. Every action is validated against its spec, checked, written with its trace row
in one atomic unit, and on failure recorded in `failed_action` with nothing else changed.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Sequence

import igraph as ig
import numpy as np

from oasis_des import __version__
from oasis_des.platform.actions import (
    ACTION_SPECS,
    INT64_MAX,
    ActionType,
    ArgumentError,
    parse_action,
    shorten,
    to_int,
)
from oasis_des.platform.clock import DEFAULT_START, Clock, Kind
from oasis_des.platform.engagement import Engagement
from oasis_des.platform.graph import SocialGraph
from oasis_des.platform.handlers.discovery import DiscoveryActions
from oasis_des.platform.handlers.groups import GroupActions
from oasis_des.platform.handlers.misc import MiscActions
from oasis_des.platform.handlers.posts import PostActions
from oasis_des.platform.handlers.ratings import RatingActions
from oasis_des.platform.handlers.relations import RelationActions
from oasis_des.platform.post_rows import PostRows
from oasis_des.platform.recsys import make_recommender
from oasis_des.platform.recsys.index import FeedIndex
from oasis_des.platform.recsys.ranked import RankedRecommender
from oasis_des.platform.render import PostViews, encode_info
from oasis_des.platform.settings import PlatformSettings
from oasis_des.platform.state import ActionFailed, Outcome
from oasis_des.platform.store import Store

# Actions that change nothing a recommender ranks on (see `content_version`).
_READS = frozenset(
    {
        ActionType.SEARCH_POSTS,
        ActionType.SEARCH_USER,
        ActionType.TREND,
        ActionType.REFRESH,
        ActionType.DO_NOTHING,
        ActionType.LISTEN_FROM_GROUP,
        ActionType.INTERVIEW,
    }
)


# Trace rows held at most (see `write_held`): beyond this they go into the open transaction,
# so memory stays bounded however long a commit stretch is (a day at 10^6 agents would
# otherwise hold gigabytes of rendered feeds).
HELD_ROWS = 4096
_INSERT_TRACE = ("INSERT INTO trace (user_id, created_at, action, info, sim_time) "
                 "VALUES (?, ?, ?, ?, ?)")


class Platform(
    PostActions, RatingActions, RelationActions, DiscoveryActions, GroupActions, MiscActions
):
    """A Twitter- or Reddit-like platform stored in one SQLite database.

    `kind` picks OASIS's defaults; any setting of `PlatformSettings` may be given as a
    keyword (e.g. `show_score=True`). `tick` is the length of a Twitter step in simulated
    minutes, `start_time` the datetime of minute 0 (Reddit timestamps), `k` the clock's
    time magnification and `seed` the root of the platform's random streams.
    """

    def __init__(
        self,
        db_path: str | Path = ":memory:",
        kind: Kind = "twitter",
        *,
        tick: float = 1.0,
        start_time: datetime | str = DEFAULT_START,
        k: float = 60.0,
        seed: int = 0,
        **settings: Any,
    ) -> None:
        self.kind: Kind = kind
        self.settings = PlatformSettings.for_kind(kind, **settings)
        self.clock = Clock(kind, tick=tick, start=start_time, k=k)
        self.seed = int(seed)
        self.store = Store(db_path)
        self.connection = self.store.connection
        self.social_graph = SocialGraph(self.connection)
        self.feed_index = FeedIndex(self)  # what recommenders rank on (recsys/index.py)
        self._users: set[int] = set()
        self.reload_users()
        self.recommender = make_recommender(self.settings.recommender, self)
        self.posts = PostRows(self.connection)
        self.engagement = Engagement(self.connection)
        self.views = PostViews(self.posts, self.connection, self.settings)
        self.content_version = 0
        self._handlers = {kind: getattr(self, f"_act_{kind.value}") for kind in ActionType}
        self._graph_changes = []
        self._refresh_counts = {}
        # While `holding`, trace rows and rec buffers wait for `write_held` (the engine's
        # commits); otherwise every action writes its own.
        self.holding = False
        self._rec_pending = {}  # rec buffers not yet written (discovery.py)
        self._trace_pending: list[tuple[Any, ...]] = []  # trace rows not yet written
        self._interviews = self.connection.execute(
            "SELECT COALESCE(MAX(json_extract(info, '$.interview_id')), 0) FROM trace "
            "WHERE action = 'interview'"
        ).fetchone()[0]
        self._write_meta()

    # -- time -------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Simulated minutes since the run's start; set by the engine or by a script."""
        return self.clock.now

    @now.setter
    def now(self, minutes: float) -> None:
        self.clock.now = minutes

    def prepare_refreshes(self, agent_ids: Sequence[int]) -> None:
        """Agents about to refresh now, before anything changes (a stepped tick): lets a
        recommender with a `prepare` method rank their feeds together. Feeds are the
        same either way (up to float rounding); this only makes them cheaper."""
        prepare = getattr(self.recommender, "prepare", None)
        if prepare is None:
            return
        s, now = self.settings, self.clock.now
        if s.feed_cache_minutes > 0:
            index = self.feed_index
            agent_ids = [a for a in agent_ids
                         if index.cached_feed(a, now, s.feed_cache_minutes) is None]
        prepare([a for a in agent_ids if a in self._users], now, s.max_rec_post_len)

    def rank_ahead(self, agent_ids: Sequence[int], at: float) -> None:
        """Agents who will refresh at simulated time `at` (the next stepped tick): lets a
        recommender with a `rank_ahead` method begin ranking their feeds now, while the
        agents of this tick act (on a second core); `prepare_refreshes` completes them."""
        rank_ahead = getattr(self.recommender, "rank_ahead", None)
        if rank_ahead is not None:
            rank_ahead([a for a in agent_ids if a in self._users], at,
                       self.settings.max_rec_post_len)

    # -- accounts and products --------------------------------------------------------
    def sign_up(self, agent_id: int, user_name: str, name: str, bio: str) -> dict[str, Any]:
        """Create the account of `agent_id` (its user_id equals the agent id)."""
        return self.execute(agent_id, ActionType.SIGNUP, user_name=user_name, name=name, bio=bio)

    def _act_sign_up(self, uid: int, user_name: str, name: str, bio: str) -> Outcome:
        self.connection.execute(
            "INSERT INTO user (user_id, agent_id, user_name, name, bio, created_at, "
            "num_followings, num_followers) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
            (uid, uid, user_name, name, bio, self._stamp()),
        )
        self.social_graph.ensure_vertex(uid)
        return {"user_id": uid}, {"name": name, "user_name": user_name, "bio": bio}

    def sign_up_product(self, product_id: int, name: str) -> dict[str, Any]:
        """Put a product in the shop (not an agent action, so not traced)."""
        try:
            pid = int(product_id)
        except (TypeError, ValueError):
            return {"success": False, "error": f"product_id must be an integer, got {product_id!r}."}
        with self.store.atomic():
            if self.connection.execute(
                "SELECT 1 FROM product WHERE product_id = ?", (pid,)
            ).fetchone():
                return {"success": False, "error": f"Product {pid} already exists."}
            self.connection.execute(
                "INSERT INTO product (product_id, product_name, sales) VALUES (?, ?, 0)",
                (pid, name),
            )
        return {"success": True, "product_id": pid}

    # -- actions ----------------------------------------------------------------------
    def execute(self, agent_id: int | str, action: ActionType | str, **args: Any) -> dict[str, Any]:
        """Run one action for `agent_id`; see PLATFORM_SPEC for results and error texts.

        Atomicity without a savepoint per action: every handler makes all its checks before
        its first write, so a failed check has nothing to undo (verified on each failure
        with `total_changes`). Any other exception inside a batch rolls the whole batch
        back, so the tables never hold part of an action.
        """
        try:
            uid = _agent_id(agent_id)
            kind = parse_action(action)
            clean = ACTION_SPECS[kind].validate(args)
            if (uid in self._users) != (kind is not ActionType.SIGNUP):
                if kind is ActionType.SIGNUP:
                    raise ActionFailed(f"Agent {uid} has already signed up.")
                raise ActionFailed(f"Agent {uid} has not signed up.")
            result = self._run(uid, kind, clean)
        except (ArgumentError, ActionFailed) as exc:
            key = exc.key if isinstance(exc, ActionFailed) else "error"
            message = exc.message if isinstance(exc, ActionFailed) else str(exc)
            self.record_failure(agent_id, action, args, message)
            return {"success": False, key: message}
        if self._graph_changes:
            self._apply_graph_changes()
        if kind is ActionType.SIGNUP:
            self._users.add(uid)
        if kind not in _READS:
            self.content_version += 1
        return {"success": True, **result}

    def _run(self, uid: int, kind: ActionType, args: dict[str, Any]) -> dict[str, Any]:
        conn = self.connection
        own_transaction = not conn.in_transaction
        if own_transaction:
            conn.execute("BEGIN")
        changes = conn.total_changes
        try:
            result, info = self._handlers[kind](uid, **args)
            if info is not None:
                self._trace(uid, kind, info)
            self.feed_index.observe(kind, uid, info)
        except ActionFailed:
            self._graph_changes.clear()
            if conn.total_changes != changes:
                self._abort()
                raise RuntimeError(
                    f"{kind.value} wrote to the database before failing a check; "
                    "the transaction was rolled back."
                ) from None
            if own_transaction:
                conn.execute("COMMIT")
            raise
        except BaseException:
            self._abort()
            raise
        if own_transaction:
            conn.execute("COMMIT")
        return result

    def _abort(self) -> None:
        """Roll back the open transaction (a whole batch) after an unexpected error."""
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self._abort_mirrors()

    def _abort_mirrors(self) -> None:
        """Re-read what memory mirrors of the tables after a rollback."""
        self._graph_changes.clear()
        self.discard_held()
        self.social_graph.reload(self.connection)
        self.reload_users()
        self.posts.clear()
        self.engagement.clear()
        self.views.clear()
        self.content_version += 1  # cached rankings may hold rolled-back posts

    def discard_held(self) -> None:
        """Forget the rows held back for `write_held` (their transaction rolled back)."""
        self._rec_pending.clear()
        self._trace_pending.clear()

    def state(self) -> dict[str, Any]:
        """What the platform remembers beyond its tables (for checkpoints): how often each
        user has refreshed, which keys the random stream of their next feed, and what the
        recommenders' feed index cannot read again from the tables."""
        counts, n = self._refresh_counts, len(self._refresh_counts)
        return {
            "refresh_users": np.fromiter(counts.keys(), dtype=np.int64, count=n),
            "refresh_counts": np.fromiter(counts.values(), dtype=np.int64, count=n),
            "feed_index": self.feed_index.state(),
            "recommender": self._ranked.state() if self._ranked is not None else None,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self._refresh_counts = dict(
            zip(state["refresh_users"].tolist(), state["refresh_counts"].tolist())
        )
        self.feed_index.restore(state["feed_index"])
        if self._ranked is not None:
            self._ranked.restore(state.get("recommender"))

    @property
    def user_count(self) -> int:
        """How many users have signed up."""
        return len(self._users)

    def reload_users(self) -> None:
        """Re-read who has signed up (after bulk inserts that bypass `sign_up`)."""
        self._users = {r[0] for r in self.connection.execute("SELECT user_id FROM user")}
        self.feed_index.reset()

    def _trace(self, uid: int, kind: ActionType, info: dict[str, Any] | str) -> None:
        text = info if isinstance(info, str) else encode_info(info)
        row = (uid, self._stamp(), _VALUES[kind], text, self.clock.now)
        if self.holding:
            self._trace_pending.append(row)
            if len(self._trace_pending) >= HELD_ROWS:  # bounded memory, whatever the stretch
                self.write_held()
        else:
            self.connection.execute(_INSERT_TRACE, row)

    def write_held(self) -> None:
        """Write what actions held back while `holding`: trace rows in the order of the
        actions (so they get the ids they would have had) and each refreshed user's latest
        rec buffer. One statement per table instead of one or two per action (a stepped run
        writes a trace row and a rec buffer for every activation); the engine calls it
        before each commit, so `trace` and `rec` are complete at every checkpoint."""
        held, self._trace_pending = self._trace_pending, []
        if held:
            self.connection.executemany(_INSERT_TRACE, held)
        self.write_rec()

    def record_failure(self, agent_id: Any, action: Any, args: dict[str, Any], error: str) -> None:
        """Keep a failed attempt (one statement: atomic on its own, inside a batch or not)."""
        self.connection.execute(
            "INSERT INTO failed_action (user_id, created_at, sim_time, action, args, error) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                # What the caller sent, stored as text when it is not a valid agent id.
                agent_id if type(agent_id) is int and 0 <= agent_id <= INT64_MAX
                else _storable(agent_id),
                self._stamp(),
                self.clock.now,
                action.value if isinstance(action, ActionType) else _storable(action),
                # ASCII escapes keep arguments that SQLite's UTF-8 cannot hold.
                json.dumps(args, ensure_ascii=True, sort_keys=True, default=repr),
                error,
            ),
        )

    def _apply_graph_changes(self) -> None:
        for follower, followee, delta in self._graph_changes:
            if delta > 0:
                self.social_graph.add(follower, followee)
            else:
                self.social_graph.remove(follower, followee)
            self.feed_index.follow_changed(follower, followee, delta)
        self._graph_changes.clear()

    # -- batching ---------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run many actions in one transaction (committed at the end, as the engine does).

        If the block raises, the whole batch is rolled back and the graph rebuilt from the
        tables, so the graph still equals `follow`; what memory alone knows (refresh counts,
        engagement, cached feeds) goes back to where the batch started. A batch inside a
        batch is a savepoint: it rolls back alone.
        """
        before = self.state()
        try:
            with self.store.atomic():
                yield
        except BaseException:
            self._abort_mirrors()
            self.restore(before)
            raise

    # -- views ------------------------------------------------------------------------
    def engaged(self, user_id: int, post_ids: Sequence[int]) -> tuple[frozenset[int], ...]:
        """Which of `post_ids` `user_id` has already liked, disliked and reposted (judged
        by their roots, as the actions are): the actions the platform would refuse."""
        if not self.engagement.active(user_id):
            return _NOTHING
        roots = {
            pid: row[2] if row[2] is not None and row[4] is None else pid
            for pid, row in self.posts.many(post_ids).items()
        }
        return self.engagement.of(user_id, roots)

    def rated_comments(self, user_id: int) -> tuple[frozenset[int], ...]:
        """The comments `user_id` has already liked, and those it has disliked."""
        if not self.engagement.active(user_id):
            return _NOTHING[:2]
        return self.engagement.comments_of(user_id)

    @property
    def graph(self) -> ig.Graph:
        """The follow graph (vertex = user id, edge u -> v: u follows v)."""
        return self.social_graph.graph

    @property
    def _ranked(self) -> RankedRecommender | None:
        """The recommender, if it is a ranked one (its state is checkpointed, and it may
        have a peer process to close)."""
        rec = self.recommender
        return rec if isinstance(rec, RankedRecommender) else None

    def stop_helpers(self) -> None:
        """End helper processes (the ranking peer, which holds a copy of the candidate
        window) while no run goes on; they start again when needed."""
        if self._ranked is not None:
            self._ranked.close()

    def close(self) -> None:
        try:
            self.stop_helpers()
        finally:
            self.store.close()

    def __enter__(self) -> "Platform":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_meta(self) -> None:
        meta = {
            "package_version": __version__,
            "platform_kind": self.kind,
            "platform_settings": vars(self.settings),
            "clock": {"tick": self.clock.tick, "start_time": str(self.clock.start), "k": self.clock.k},
            "platform_seed": self.seed,
        }
        with self.store.atomic():
            self.connection.executemany(
                "INSERT OR REPLACE INTO run_meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True)) for k, v in meta.items()],
            )


_VALUES = {kind: kind.value for kind in ActionType}  # Enum.value is a slow descriptor
_NOTHING: tuple[frozenset[int], ...] = (frozenset(), frozenset(), frozenset())


def _storable(value: Any) -> str:
    """`value` as text SQLite can hold: itself if it is valid text, else its repr."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            pass
    return repr(value)


def _agent_id(value: Any) -> int:
    number = to_int(value)
    if number is None or not 0 <= number <= INT64_MAX:
        raise ArgumentError(
            f"agent_id must be a non-negative 64-bit integer, got {shorten(value)}."
        )
    return number
