"""Reading: search, trend and the recommended feed (refresh)."""

from __future__ import annotations

from oasis_des.platform.recsys import Recommender
from oasis_des.platform.recsys.index import FeedIndex
from oasis_des.platform.render import PostViews
from oasis_des.platform.state import ActionFailed, Outcome, PlatformState
from oasis_des.rng import KeyedStream


def match_any(columns: tuple[str, ...], query: str) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause true when any column contains `query`, case-insensitively.

    ASCII queries use LIKE (fast, in C) with `%`, `_` and `\\` escaped so they match
    literally; other queries use Unicode case folding (`contains_ci`, see store.py).
    """
    if query.isascii():
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        test = "{} LIKE ?1 ESCAPE '\\'"
        param = f"%{escaped}%"
    else:
        test = "contains_ci({}, ?1)"
        param = query
    return " OR ".join(test.format(c) for c in columns), (param,)


class DiscoveryActions(PlatformState):
    recommender: Recommender
    feed_index: FeedIndex
    seed: int
    _refresh_counts: dict[int, int]
    _rec_pending: dict[int, list[int]]
    holding: bool
    views: PostViews

    def _shown(self, post_ids: list[int]) -> Outcome:
        """The posts as agents see them, traced as `{"posts": [...]}` (JSON from the views)."""
        posts, info = self.views.show(post_ids)
        return {"posts": posts}, info

    def _act_search_posts(self, uid: int, query: str) -> Outcome:
        where, params = match_any(
            ("content", "CAST(post_id AS TEXT)", "CAST(user_id AS TEXT)"), query
        )
        ids = [
            r[0]
            for r in self.connection.execute(
                f"SELECT post_id FROM post WHERE {where} ORDER BY post_id", params
            )
        ]
        if not ids:
            raise ActionFailed("No posts found matching the query.", key="message")
        return {"posts": self.views.show(ids)[0]}, {"query": query}

    def _act_search_user(self, uid: int, query: str) -> Outcome:
        where, params = match_any(("user_name", "name", "bio", "CAST(user_id AS TEXT)"), query)
        rows = self.connection.execute(
            "SELECT user_id, user_name, name, bio, created_at, num_followings, num_followers "
            f"FROM user WHERE {where} ORDER BY user_id",
            params,
        ).fetchall()
        if not rows:
            raise ActionFailed("No users found matching the query.", key="message")
        keys = ("user_id", "user_name", "name", "bio", "created_at", "num_followings",
                "num_followers")
        return {"users": [dict(zip(keys, r)) for r in rows]}, {"query": query}

    def _act_trend(self, uid: int) -> Outcome:
        since = self.clock.stamp(max(0.0, self.clock.now - self.settings.trend_days * 1440.0))
        ids = [
            r[0]
            for r in self.connection.execute(
                "SELECT post_id FROM post WHERE created_at >= ? "
                "ORDER BY num_likes DESC, post_id LIMIT ?",
                (since, self.settings.trend_top_k),
            )
        ]
        if not ids:
            raise ActionFailed("No trending posts in the specified period.", key="message")
        return self._shown(ids)

    def _act_refresh(self, uid: int) -> Outcome:
        """Recommended posts (a sample of the user's candidates) plus followees' posts."""
        s = self.settings
        n = self._refresh_counts.get(uid, 0)
        self._refresh_counts[uid] = n + 1
        rng = KeyedStream(self.seed, "refresh", uid, n)
        index = self.feed_index
        _, muted = index.relations(uid)
        cached = None
        if s.feed_cache_minutes > 0:
            cached = index.cached_feed(uid, self.clock.now, s.feed_cache_minutes)
        if cached is None:
            visible = self._recommend_visible(uid, muted, s.max_rec_post_len, rng)
        else:  # mutes made since the feed was computed apply at once
            visible = index.visible(cached, muted)
        chosen = set(rng.sample(visible, s.refresh_rec_post_count))
        if s.following_post_count > 0:
            chosen.update(index.followee_posts(uid, s.following_post_count))
        if not chosen:
            raise ActionFailed("No posts found.", key="message")
        if cached is None:  # the lazy feed: only users who refresh get their rec rows
            self._store_rec(uid, visible)
            if s.feed_cache_minutes > 0:
                index.remember_feed(uid, self.clock.now, visible)
        return self._shown(sorted(chosen))

    def _recommend_visible(self, uid: int, muted: set[int], k: int, rng: KeyedStream) -> list[int]:
        """Up to k recommended posts whose authors `uid` has not muted.

        Some recommenders (random, reddit) rank for everyone; when mutes remove candidates,
        ask for twice as many until k remain or the recommender has nothing more to give.
        """
        want = k
        while True:
            candidates = self.recommender.recommend(uid, self.clock.now, want, rng)
            visible = self.feed_index.visible(candidates, muted)
            if len(visible) >= k or len(candidates) < want:
                return visible[:k]
            want *= 2

    def _store_rec(self, uid: int, post_ids: list[int]) -> None:
        """Keep the OASIS `rec` table: this user's current candidate buffer (held with the
        others while the platform is `holding`, see `Platform.write_held`)."""
        self._rec_pending[uid] = post_ids
        if not self.holding:
            self.write_rec()

    def write_rec(self) -> None:
        """Write the held candidate buffers, in user order: the table only ever holds each
        user's latest, so a stretch of a run writes it once per user, in two statements."""
        pending, self._rec_pending = self._rec_pending, {}
        if not pending:
            return
        users = sorted(pending)
        self.connection.executemany("DELETE FROM rec WHERE user_id = ?", [(u,) for u in users])
        self.connection.executemany("INSERT INTO rec (user_id, post_id) VALUES (?, ?)",
                                    [(u, p) for u in users for p in pending[u]])
