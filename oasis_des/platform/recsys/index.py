"""The feed index: what recommenders rank on, mirrored in memory and kept up to date.

A refresh must not scan tables. The index mirrors, per post id, the author, the creation
time (in ticks) and the like count; per author, their post ids; per user, the follower
count; and, for interest-based recommenders, one embedding per post of the candidate
window (the `candidate_window` most recent posts). It learns of changes in three ways:

- new posts are read incrementally (post_id > last seen) before each use, which also
  catches posts inserted in bulk (seed posts) and costs one indexed query;
- the platform reports likes and follows as they happen (`observe`, `follow_changed`);
- a rollback or a bulk sign-up calls `reset`; everything is then reloaded lazily.

Embeddings are computed once per post, in one batch for all posts created since the last
recommendation, and only if a recommender asks for them. User profile vectors are computed
on a user's first refresh, never for the whole population up front (`profiles.py`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from oasis_des.platform.actions import INT64_MAX, ActionType
from oasis_des.platform.bounded import trim_oldest
from oasis_des.platform.recsys.distinct import twins_of, vector_keys
from oasis_des.platform.recsys.embedders import COARSE_DIM, Embedder, embedder_factory, fold
from oasis_des.platform.recsys.profiles import Profiles

if TYPE_CHECKING:
    from oasis_des.platform.platform import Platform

# Posts embedded per embedder call (bounds the memory of a large backlog).
EMBED_BATCH = 8192
# Users whose follows and mutes are held (the oldest are dropped, and read again if needed).
RELATIONS_CACHE = 200_000
# Liked, reposted or quoted posts remembered per user (OASIS's like history keeps 5).
ENGAGEMENT_MEMORY = 5


def fan_score(followers: np.ndarray) -> np.ndarray:
    """OASIS's author popularity: log(1 + followers) / log(1000), at least 1."""
    return np.maximum(1.0, np.log1p(np.maximum(followers, 0)) / np.log(1000.0)).astype(np.float32)


class FeedIndex:
    """In-memory mirror of posts, likes, authors and followers for the recommenders."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._conn = platform.connection
        self.window = platform.settings.candidate_window
        self._make_embedder = embedder_factory(platform.settings.embedder)
        self._embedder: Embedder | None = None
        clock = platform.clock
        if clock.kind == "twitter":  # created_at is the tick number
            self._created_sql, self._created_params = "created_at", ()
        else:  # a datetime string: ticks since the run's start
            start_day = clock.epoch_seconds(0.0) / 86400.0 + 2440587.5
            self._created_sql = "(julianday(created_at) - ?) * ?"
            self._created_params = (start_day, 1440.0 / clock.tick)
        self.track_engagement = False  # set by recommenders that use it
        self.epoch = 0
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything (after a rollback or a bulk load); it reloads on next use."""
        self.epoch += 1
        self._synced_version: int | None = None
        self.last_post = 0  # posts 1..last_post are mirrored
        self.author = np.full(1, -1, dtype=np.int64)  # -1: no such post
        self.created = np.full(1, -np.inf)  # creation tick
        self.likes = np.zeros(1, dtype=np.int64)
        self.original = np.full(1, -1, dtype=np.int64)  # original_post_id (0: common post)
        # The post whose text a post's embedding is made of: a repost of a common post has
        # that post's text (and its vector, copied); every other post its own (-1: none).
        self.source = np.full(1, -1, dtype=np.int64)
        self._twins: np.ndarray | None = None
        self._twins_of = (0, -1)  # the (first, last) post ids _twins is for
        self._labels = np.zeros(0, dtype=np.int64)  # see window_labels
        self._latest: dict[int, int] = {}
        self.missing: list[int] = []  # ids below last_post with no post (gaps)
        self._by_author: dict[int, array] = {}
        self._followers: np.ndarray | None = None
        self.fan: np.ndarray = np.ones(1, dtype=np.float32)
        self.fan_version = 0
        self._vectors: np.ndarray | None = None
        self._coarse: np.ndarray | None = None  # fold(_vectors), or _vectors itself
        self._base = 1  # post id of the first row of `_vectors`
        self._embedded = 0  # posts up to this id have their row
        self.profiles = Profiles(self._conn, lambda: self.embedder)
        self._engaged: dict[int, list[int]] = {}
        self._relations: dict[int, tuple[list[int], set[int]]] = {}
        self._in_network: dict[int, np.ndarray] = {}
        self._in_network_at = -1  # the last_post they were read at
        self._feeds: dict[int, tuple[float, list[int]]] = {}
        # Users whose follows or mutes changed, and authors whose popularity changed, since
        # a ranking ahead began (ahead.py reads and clears them).
        self.changed_relations: set[int] = set()
        self.changed_fans: set[int] = set()

    @property
    def window_start(self) -> int:
        """The oldest post id in the candidate window."""
        return max(1, self.last_post - self.window + 1)

    def now_tick(self, now: float) -> float:
        """Simulated time in the unit of `created` (Twitter: the integer tick, as stored)."""
        clock = self._platform.clock
        return float(clock.stamp(now)) if clock.kind == "twitter" else now / clock.tick

    # -- posts --------------------------------------------------------------------------
    def sync(self) -> None:
        """Mirror the posts created since the last call (one indexed query)."""
        version = self._platform.content_version
        if version == self._synced_version:
            return
        self._read_posts(INT64_MAX, engage=self.track_engagement)
        self._synced_version = version

    def _read_posts(self, through: int, *, engage: bool) -> None:
        """Mirror posts last_post+1..through; reposts and quotes count as their authors'
        engagement if `engage`."""
        rows = self._conn.execute(
            "SELECT post_id, user_id, COALESCE(original_post_id, 0), "
            f"{self._created_sql}, num_likes, quote_content IS NULL "
            "FROM post WHERE post_id > ? AND post_id <= ? ORDER BY post_id",
            (*self._created_params, self.last_post, through),
        ).fetchall()
        if rows:
            self._add_posts(rows, engage)

    def _add_posts(self, rows: list[tuple[int, int, int, float, int, int]], engage: bool) -> None:
        ids, users, originals, created, likes, unquoted = (np.array(c) for c in zip(*rows))
        first, last = self.last_post + 1, int(ids[-1])
        self._grow_posts(last)
        self.author[ids] = users
        self.created[ids] = created
        self.likes[ids] = likes
        self.original[ids] = originals
        self.source[ids] = ids
        # A repost (not a quote) of a common post is embedded from that post's text. Its
        # original is older: mirrored before it, in an earlier call or in these rows.
        reposts = (originals > 0) & (unquoted == 1)
        shared = np.zeros(len(ids), dtype=bool)
        shared[reposts] = self.original[originals[reposts]] == 0
        self.source[ids[shared]] = originals[shared]
        if len(ids) != last - first + 1:  # ids skipped (explicit ids, deleted rows)
            present = set(ids.tolist())
            self.missing += [i for i in range(first, last + 1) if i not in present]
        by_author = self._by_author
        for user, pid in zip(users.tolist(), ids.tolist()):
            posts = by_author.get(user)
            if posts is None:
                posts = by_author[user] = array("q")
            posts.append(pid)
        if engage:
            for user, original in zip(users[originals > 0].tolist(), originals[originals > 0].tolist()):
                self._engage(user, original)
        if self._followers is not None:
            self._grow_users(int(users.max()))
        self.last_post = last

    def _grow_posts(self, last: int) -> None:
        size = len(self.author)
        if last < size:
            return
        new = max(last + 1, 2 * size)
        self.author = np.concatenate([self.author, np.full(new - size, -1, np.int64)])
        self.created = np.concatenate([self.created, np.full(new - size, -np.inf)])
        self.likes = np.concatenate([self.likes, np.zeros(new - size, np.int64)])
        self.original = np.concatenate([self.original, np.full(new - size, -1, np.int64)])
        self.source = np.concatenate([self.source, np.full(new - size, -1, np.int64)])

    def posts_by(self, authors: Iterable[int], first_id: int) -> np.ndarray:
        """Post ids >= first_id written by any of `authors` (author by author, each in id
        order). Gathered into one typed array: a numpy array per author cost more than
        the lookups."""
        found = array("q")
        by_author = self._by_author
        for a in authors:
            posts = by_author.get(a)
            if posts:
                if posts[0] >= first_id:
                    found.extend(posts)
                elif posts[-1] >= first_id:
                    found.extend(posts[bisect_left(posts, first_id):])
        return np.frombuffer(found, dtype=np.int64) if found else np.zeros(0, dtype=np.int64)

    def visible(self, post_ids: list[int], muted: set[int]) -> list[int]:
        """The posts that show nothing of a muted user: neither written by one nor a repost
        or quote of one's post (those show its text under its author's name)."""
        if not muted or not post_ids:
            return list(post_ids)
        self.sync()
        ids = np.asarray([p for p in post_ids if p < len(self.author)], dtype=np.int64)
        return ids[~self._shows_muted(ids, muted)].tolist()

    def _shows_muted(self, post_ids: np.ndarray, muted: set[int]) -> np.ndarray:
        """Which of `post_ids` are by a `muted` user or repost or quote one's post."""
        roots = self.original[post_ids]
        authors = np.where(roots > 0, self.author[np.maximum(roots, 0)], -1)
        return np.isin(self.author[post_ids], list(muted)) | np.isin(authors, list(muted))

    # -- what the platform reports ----------------------------------------------------
    def observe(self, kind: ActionType, uid: int, info: object) -> None:
        """An action just succeeded: keep like counts and engagement current."""
        if kind is ActionType.LIKE_POST or kind is ActionType.UNLIKE_POST:
            pid = info["post_id"]  # type: ignore[index]  # the rated (root) post
            like = kind is ActionType.LIKE_POST
            if pid <= self.last_post:  # later posts are read with their current count
                self.likes[pid] += 1 if like else -1
            if self.track_engagement:
                if like:
                    self._engage(uid, pid)
                elif pid in self._engaged.get(uid, ()):
                    self._engaged[uid].remove(pid)

    def follow_changed(self, follower: int, followee: int, delta: int) -> None:
        """`follower` followed (+1) or unfollowed (-1) `followee`."""
        self._in_network.pop(follower, None)
        self.changed_relations.add(follower)
        held = self._relations.get(follower)
        if held is not None:
            if delta > 0:
                insort(held[0], followee)
            else:
                held[0].remove(followee)
        if self._followers is None:
            return  # not loaded yet: it will be read from the table
        self._grow_users(followee)
        self._followers[followee] += delta
        value = float(fan_score(self._followers[followee : followee + 1])[0])
        if value != self.fan[followee]:
            self.fan[followee] = value
            self.fan_version += 1
            self.changed_fans.add(followee)

    def _engage(self, uid: int, pid: int) -> None:
        recent = self._engaged.setdefault(uid, [])
        recent.append(pid)
        if len(recent) > ENGAGEMENT_MEMORY:
            del recent[0]

    def engaged(self, uid: int) -> list[int]:
        """The posts `uid` liked, reposted or quoted most recently (tracked on request)."""
        return self._engaged.get(uid, [])

    # -- users ----------------------------------------------------------------------------
    def fan_scores(self) -> np.ndarray:
        """Author popularity per user id (read from the user table once, then updated)."""
        if self._followers is None:
            rows = self._conn.execute("SELECT user_id, num_followers FROM user").fetchall()
            top = max([r[0] for r in rows], default=0)
            top = max(top, int(self.author.max()), 0)
            self._followers = np.zeros(top + 1, dtype=np.int64)
            if rows:
                uids, counts = (np.array(c) for c in zip(*rows))
                self._followers[uids] = counts
            self.fan = fan_score(self._followers)
            self.fan_version += 1
        return self.fan

    def _grow_users(self, uid: int) -> None:
        assert self._followers is not None
        size = len(self._followers)
        if uid < size:
            return
        new = max(uid + 1, 2 * size)
        self._followers = np.concatenate([self._followers, np.zeros(new - size, np.int64)])
        self.fan = np.concatenate([self.fan, np.ones(new - size, np.float32)])

    def relations(self, uid: int) -> tuple[list[int], set[int]]:
        """(users `uid` follows, in id order; users `uid` has muted): two indexed lookups on
        a user's first refresh, then kept current by `follow_changed` and `mute_changed`
        (a refresh, its ranking and the agent's observation all ask). Do not modify them."""
        found = self._relations.get(uid)
        if found is None:
            conn = self._conn
            followees = [
                r[0]
                for r in conn.execute("SELECT followee_id FROM follow WHERE follower_id = ? "
                                      "ORDER BY followee_id", (uid,))
            ]
            muted = {
                r[0] for r in conn.execute("SELECT mutee_id FROM mute WHERE muter_id = ?", (uid,))
            }
            found = self._relations[uid] = (followees, muted)
            trim_oldest(self._relations, RELATIONS_CACHE)
        return found

    def mute_changed(self, muter: int, mutee: int, delta: int) -> None:
        """`muter` muted (+1) or unmuted (-1) `mutee`."""
        self._in_network.pop(muter, None)
        self.changed_relations.add(muter)
        held = self._relations.get(muter)
        if held is not None:
            if delta > 0:
                held[1].add(mutee)
            else:
                held[1].discard(mutee)

    def in_network(self, uid: int) -> np.ndarray:
        """Window posts of the users `uid` follows and has not muted (read-only), kept until
        a post is added or `uid` follows, unfollows, mutes or unmutes: a stepped tick's
        ranking excludes them and the refresh that follows shows the most liked."""
        if self._in_network_at != self.last_post:
            self._in_network.clear()
            self._in_network_at = self.last_post
        found = self._in_network.get(uid)
        if found is None:
            followees, muted = self.relations(uid)
            found = self.posts_by([f for f in followees if f not in muted], self.window_start)
            found.flags.writeable = False
            self._in_network[uid] = found
        return found

    def install_in_network(self, found: dict[int, np.ndarray]) -> None:
        """Take `in_network` of some users, found elsewhere for the window as it is now
        (ranking ahead finds them with the feeds it ranks)."""
        if self._in_network_at != self.last_post:
            self._in_network.clear()
            self._in_network_at = self.last_post
        for posts in found.values():
            posts.flags.writeable = False
        self._in_network.update(found)

    def followee_posts(self, uid: int, limit: int) -> list[int]:
        """The most liked window posts of the users `uid` follows and has not muted, that
        show nothing of a muted user (ties: older first, as OASIS's query returns them)."""
        self.sync()
        ids = self.in_network(uid)
        _, muted = self.relations(uid)
        if muted and len(ids):  # their reposts and quotes of muted users' posts are hidden
            ids = ids[~self._shows_muted(ids, muted)]
        if not len(ids) or limit <= 0:
            return []
        order = np.lexsort((ids, -self.likes[ids]))[:limit]
        return ids[order].tolist()

    # -- embeddings -----------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make_embedder()
        return self._embedder

    def window_vectors(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(full vectors, coarse vectors, first post id) of the candidate window, one row
        per post id (the coarse array is the full one when the embedder is small).

        Posts created since the last call are embedded first, in one batch.
        """
        self.sync()
        lo = self.window_start
        if self._vectors is None:
            self._allocate(0, lo)
        if self._embedded < self.last_post:
            self._embed_pending(lo)
        assert self._coarse is not None
        rows = slice(lo - self._base, self.last_post - self._base + 1)
        full = self._vectors[rows]
        return full, full if self._coarse is self._vectors else self._coarse[rows], lo

    def window_twins(self) -> np.ndarray | None:
        """For each row of `window_vectors`, the first row holding the same vector (a
        repost's source, an earlier post of the same text), else the row itself; None
        when every row is its own (read-only; once per window; see distinct.twins_of)."""
        lo, last = self.window_start, self.last_post
        if self._twins_of != (lo, last):
            assert self._vectors is not None and self._embedded >= last
            self._twins = twins_of(self.window_labels())
            if self._twins is not None:
                self._twins.flags.writeable = False
            self._twins_of = (lo, last)
        return self._twins

    def window_labels(self) -> np.ndarray:
        """For each row of `window_vectors`, a label its vector's rows share: a post of
        the same vector embedded before it, while one was held (see `_label_rows`)."""
        return self._labels[self.window_start - self._base : self.last_post - self._base + 1]

    def vectors_of(self, post_ids: Iterable[int]) -> np.ndarray:
        """Full vectors of those of `post_ids` still held (the window and a little more)."""
        assert self._vectors is not None, "call window_vectors() first"
        rows = [p - self._base for p in post_ids if self._base <= p <= self._embedded]
        return self._vectors[rows]

    def _allocate(self, rows: int, base: int) -> None:
        """Empty vector arrays of `rows` rows, the first for post `base`."""
        dim = self.embedder.dim
        self._vectors = np.zeros((rows, dim), dtype=np.float32)
        self._labels = np.zeros(rows, dtype=np.int64)  # see window_labels
        self._latest: dict[int, int] = {}  # vector key -> the last post embedded with it
        self._coarse = self._vectors if dim <= COARSE_DIM else np.zeros((rows, COARSE_DIM), np.float32)
        self._base, self._embedded = base, base - 1

    def _embed_pending(self, lo: int) -> None:
        assert self._vectors is not None and self._coarse is not None
        last = self.last_post
        if last - self._base + 1 > len(self._vectors):
            # Drop rows older than the window (moved to the front), then grow to twice the
            # window, so that appending a post costs O(1) amortised.
            keep = slice(max(lo - self._base, 0), max(self._embedded - self._base + 1, 0))
            capacity = max(last - lo + 1, min(2 * self.window, 2 * max(len(self._vectors), 1024)))

            def moved(old: np.ndarray) -> np.ndarray:
                fresh = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
                kept = old[keep]
                fresh[: len(kept)] = kept
                return fresh

            shared = self._coarse is self._vectors
            self._vectors = moved(self._vectors)
            self._coarse = self._vectors if shared else moved(self._coarse)
            self._labels = moved(self._labels)
            self._base = lo
            self._latest = {k: p for k, p in self._latest.items() if p >= lo}  # held ones
        # Every row from _base to _embedded holds its post's vector (also rows that fell out
        # of the window unembedded), so a checkpoint can recompute them instead of saving.
        self._embed_rows(max(self._embedded + 1, self._base), last)

    def _embed_rows(self, first: int, last: int) -> None:
        """Compute the vectors of posts first..last (zero where no post has the id); a
        repost whose source post is held gets a copy of its vector (the same text)."""
        assert self._vectors is not None and self._coarse is not None
        rows = slice(first - self._base, last - self._base + 1)
        self._vectors[rows] = 0.0
        self._coarse[rows] = 0.0
        for start in range(first, last + 1, EMBED_BATCH):
            end = min(start + EMBED_BATCH - 1, last)
            found = self._conn.execute(
                "SELECT p.post_id, CASE WHEN p.original_post_id IS NULL THEN p.content "
                "WHEN p.quote_content IS NULL THEN o.content "
                "ELSE p.quote_content || ' ' || p.content END "
                "FROM post AS p LEFT JOIN post AS o ON o.post_id = p.original_post_id "
                "WHERE p.post_id BETWEEN ? AND ?",
                (start, end),
            ).fetchall()
            if not found:
                continue
            ids = np.fromiter((r[0] for r in found), dtype=np.int64, count=len(found))
            source = self.source[ids]  # posts are mirrored before they are embedded
            copied = (source != ids) & (source >= self._base)
            texts = [r[1] or "" for r, c in zip(found, copied.tolist()) if not c]
            if texts:
                own, vectors = ids[~copied] - self._base, self.embedder.embed(texts)
                self._vectors[own] = vectors
                if self._coarse is not self._vectors:
                    self._coarse[own] = fold(vectors)
            to, of = ids[copied] - self._base, source[copied] - self._base
            self._vectors[to] = self._vectors[of]
            if self._coarse is not self._vectors:
                self._coarse[to] = self._coarse[of]
        self._label_rows(first, last)
        self._embedded = last

    def _label_rows(self, first: int, last: int) -> None:
        """Label posts first..last: a post whose vector equals that of the last post
        embedded with the same key, still held, takes its label; any other its own id.
        Within the window, rows of one vector then share a label whatever the history
        (a resumed run, which holds fewer rows, labels them alike)."""
        assert self._vectors is not None
        base, vectors, labels, latest = self._base, self._vectors, self._labels, self._latest
        keys = vector_keys(vectors[first - base : last - base + 1]).tolist()
        for pid, key in zip(range(first, last + 1), keys):
            before = latest.get(key)
            if before is not None and before >= base and np.array_equal(
                vectors[before - base], vectors[pid - base]
            ):
                labels[pid - base] = labels[before - base]
            else:
                labels[pid - base] = pid
            latest[key] = pid

    # -- cached feeds ------------------------------------------------------------------
    def cached_feed(self, uid: int, now: float, minutes: float) -> list[int] | None:
        """The candidates computed for `uid` less than `minutes` ago, if any."""
        hit = self._feeds.get(uid)
        if hit is None or not 0 <= now - hit[0] < minutes:
            return None
        return hit[1]

    def remember_feed(self, uid: int, now: float, post_ids: list[int]) -> None:
        self._feeds[uid] = (now, post_ids)

    # -- checkpoints ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """What the index knows that the tables do not (for checkpoints).

        Saved: recent engagement (in order), cached feeds and which posts have vectors. Posts, likes and followers are read again from the tables and vectors
        recomputed, which is exact for embedders that embed each text independently of
        its batch (`hashing`), and keeps a checkpoint small: the window's vectors would be
        hundreds of megabytes.
        """
        engaged, feeds = self._engaged, self._feeds
        vectors = self._vectors
        return {
            "engaged_users": np.fromiter(engaged, dtype=np.int64, count=len(engaged)),
            **_ragged_state("engaged", engaged.values()),
            "feed_users": np.fromiter(feeds, dtype=np.int64, count=len(feeds)),
            "feed_times": np.array([t for t, _ in feeds.values()], dtype=np.float64),
            **_ragged_state("feed", (ids for _, ids in feeds.values())),
            "synced_post": self.last_post,
            # [first post id, last post id, capacity] of the vector rows
            "vector_rows": None if vectors is None else [self._base, self._embedded, len(vectors)],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what `state` returned (after `reset`, e.g. on resuming a run)."""
        # Posts first (reposts read before the checkpoint were counted as engagement then):
        # vectors are recomputed as they were made, reposts' copied from their sources.
        self._read_posts(state["synced_post"], engage=False)
        if state["vector_rows"] is not None:
            base, embedded, capacity = state["vector_rows"]
            self._allocate(capacity, base)
            self._embed_rows(base, embedded)
        self._engaged = dict(
            zip(state["engaged_users"].tolist(), _ragged_lists("engaged", state))
        )
        self._feeds = {
            u: (t, ids)
            for u, t, ids in zip(state["feed_users"].tolist(), state["feed_times"].tolist(),
                                 _ragged_lists("feed", state))
        }


def _ragged_state(name: str, lists: Iterable[list[int]]) -> dict[str, np.ndarray]:
    """Lists of post ids as two arrays: their sizes and their concatenation."""
    parts = list(lists)
    return {
        f"{name}_sizes": np.fromiter(map(len, parts), np.int64, len(parts)),
        f"{name}_posts": np.array([p for ids in parts for p in ids], np.int64),
    }


def _ragged_lists(name: str, state: dict[str, Any]) -> list[list[int]]:
    """The lists that `_ragged_state(name, ...)` saved."""
    sizes, posts = state[f"{name}_sizes"], state[f"{name}_posts"]
    return [part.tolist() for part in np.split(posts, np.cumsum(sizes)[:-1])]
