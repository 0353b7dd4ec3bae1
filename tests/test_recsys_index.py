"""The feed index mirrors the tables incrementally; feeds are lazy and optionally cached."""

from __future__ import annotations

import numpy as np
import pytest

from oasis_des import Platform
from oasis_des.agents.signup import sign_up_population
from oasis_des.agents.synthetic import generate_population


class Abort(Exception):
    pass


def platform(users: int = 4, **settings) -> Platform:
    p = Platform(kind="twitter", **settings)
    for u in range(users):
        p.sign_up(u, f"u{u}", f"U{u}", f"bio of user {u}")
    return p


def table_likes(p: Platform) -> dict[int, int]:
    return dict(p.connection.execute("SELECT post_id, num_likes FROM post").fetchall())


def index_likes(p: Platform) -> dict[int, int]:
    index = p.feed_index
    index.sync()
    return {pid: int(index.likes[pid]) for pid in range(1, index.last_post + 1)}


def test_likes_authors_and_followers_mirror_the_tables():
    p = platform()
    for i in range(6):
        p.execute(i % 4, "create_post", content=f"post {i}")
    p.execute(0, "refresh")  # the index is loaded now; later changes arrive incrementally
    p.execute(1, "like_post", post_id=2)
    p.execute(2, "like_post", post_id=2)
    p.execute(3, "repost", post_id=2)  # 7: likes of a repost go to its root
    p.execute(0, "like_post", post_id=7)
    p.execute(2, "unlike_post", post_id=2)
    p.execute(0, "create_post", content="new")  # 8, liked before the index reads it
    p.execute(1, "like_post", post_id=8)
    assert index_likes(p) == table_likes(p)
    index = p.feed_index
    authors = dict(p.connection.execute("SELECT post_id, user_id FROM post"))
    assert {pid: int(index.author[pid]) for pid in authors} == authors
    index.fan_scores()
    p.execute(1, "follow", followee_id=0)
    p.execute(2, "follow", followee_id=0)
    p.execute(2, "unfollow", followee_id=0)
    followers = dict(p.connection.execute("SELECT user_id, num_followers FROM user"))
    assert {u: int(index._followers[u]) for u in followers} == followers


def test_rollback_resets_the_index():
    p = platform()
    p.execute(0, "create_post", content="kept")
    p.execute(1, "like_post", post_id=1)
    assert p.execute(2, "refresh")["success"]
    with pytest.raises(Abort), p.batch():
        p.execute(0, "create_post", content="doomed")
        p.execute(2, "like_post", post_id=1)
        p.execute(3, "like_post", post_id=2)
        assert p.execute(1, "refresh")["success"]
        raise Abort
    assert index_likes(p) == table_likes(p) == {1: 1}
    assert p.recommender.recommend(2, p.now, 5, None) == [1]
    p.execute(3, "create_post", content="reused id")  # post 2 again, a different post
    assert p.recommender.recommend(2, p.now, 5, None) == [2, 1]


def test_posts_inserted_in_bulk_are_seen():
    p = platform()
    p.connection.executemany(
        "INSERT INTO post (user_id, content, created_at) VALUES (?, ?, 0)",
        [(1, "seeded cats"), (2, "seeded dogs")],
    )
    p.content_version += 1  # as bulk loaders do
    assert sorted(p.recommender.recommend(0, p.now, 5, None)) == [1, 2]


def test_gaps_in_post_ids_are_never_recommended():
    p = platform()
    p.execute(1, "create_post", content="one")
    p.connection.execute("INSERT INTO post (post_id, user_id, content, created_at) VALUES (5, 2, 'five', 0)")
    p.content_version += 1
    assert sorted(p.recommender.recommend(0, p.now, 10, None)) == [1, 5]


def test_rec_rows_only_for_users_who_refreshed():
    p = platform(users=6, max_rec_post_len=3)
    for i in range(5):
        p.execute(0, "create_post", content=f"post {i}")
    p.execute(2, "refresh")
    p.execute(4, "refresh")
    users = {r[0] for r in p.connection.execute("SELECT user_id FROM rec")}
    assert users == {2, 4}
    assert len(p.feed_index.profiles) == 2  # profile vectors of those two only


def test_bulk_signed_up_users_get_profile_vectors_lazily():
    population = generate_population(300, seed=1)
    p = Platform(kind="twitter")
    sign_up_population(p, population)
    for i in range(10):
        p.execute(i, "create_post", content=f"post {i} about sports and music")
    p.execute(7, "refresh")
    assert list(p.feed_index.profiles) == [7]


def test_profiles_embedded_together_equal_profiles_embedded_alone():
    """A tick's new users are embedded in one batch (hashing is batch-invariant): each
    vector must be bit for bit the one embedding that user alone gives, unknown users and
    empty bios included."""
    population = generate_population(40, seed=4)
    together, alone = Platform(kind="twitter"), Platform(kind="twitter")
    for p in (together, alone):
        sign_up_population(p, population)
        p.sign_up(900, "nobio", "No Bio", "  ")
    users = [3, 900, 17, 3, 5000, 25]
    together.feed_index.profiles.embed_many(users)
    assert list(together.feed_index.profiles) == [3, 900, 17, 5000, 25]
    for uid in users:
        assert np.array_equal(together.feed_index.profiles.vector(uid), alone.feed_index.profiles.vector(uid))
    no_bio = alone.feed_index.embedder.embed(["No Bio nobio"])[0]
    assert np.array_equal(alone.feed_index.profiles.vector(900), no_bio)


def test_profiles_of_batch_dependent_embedders_are_embedded_one_at_a_time():
    p = platform(6)
    calls = []
    embedder = p.feed_index.embedder
    embed = embedder.embed
    embedder.batch_invariant = False
    embedder.embed = lambda texts: calls.append(len(texts)) or embed(texts)
    p.feed_index.profiles.embed_many([0, 1, 2])
    assert calls == [] and not p.feed_index.profiles
    p.feed_index.profiles.vector(1)
    assert calls == [1]


def test_posts_of_one_vector_share_the_first_ones_row():
    """A repost of a common post is embedded from that post's text: it gets a copy of its
    vector and, in the window, its row as twin. A quote has its own text; a repost of a
    quote is embedded from the quoted text, so it ties the original. Once the first post of
    a vector left the window, the first one in it is the others' twin, and posts of the
    same text are twins as reposts are."""
    p = platform(3, candidate_window=6)
    p.execute(0, "create_post", content="cats and dogs")  # 1
    p.execute(1, "repost", post_id=1)  # 2: of 1
    p.execute(2, "quote_post", post_id=1, quote_content="so true")  # 3: a quote
    p.execute(0, "repost", post_id=3)  # 4: of the quote 3
    p.execute(2, "repost", post_id=2)  # 5: of 2, a repost, so of its root 1
    index = p.feed_index
    full, coarse, lo = index.window_vectors()
    assert lo == 1 and index.window_twins().tolist() == [0, 0, 2, 0, 0]
    assert np.array_equal(full[1], full[0]) and np.array_equal(full[4], full[0])
    assert not np.array_equal(full[2], full[0]) and not np.array_equal(full[3], full[2])
    alone = index.embedder.embed(["cats and dogs"])[0]
    assert np.array_equal(full[1], alone)
    for _ in range(3):
        p.execute(1, "create_post", content="weather report")  # 6, 7, 8
    p.execute(0, "repost", post_id=1)  # 9: source 1 is outside the window 4..9
    _, _, lo = index.window_vectors()
    assert lo == 4 and index.window_twins().tolist() == [0, 0, 2, 2, 2, 0]
    p.execute(1, "create_post", content="something else")  # 10: window 5..10
    _, _, lo = index.window_vectors()
    assert lo == 5 and index.window_twins().tolist() == [0, 1, 1, 1, 0, 5]


def test_posts_whose_keys_clash_share_a_row_only_if_their_vectors_are_equal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from oasis_des.platform.recsys import index as index_module

    monkeypatch.setattr(index_module, "vector_keys",
                        lambda vectors: np.zeros(len(vectors), dtype=np.uint64))
    p = platform(2)
    for text in ["cats", "cats", "dogs", "birds", "birds", "cats"]:
        p.execute(0, "create_post", content=text)
    index = p.feed_index
    index.window_vectors()
    # each post is compared with the last one of its key: the last "cats" follows a
    # "birds", so it is its own (a clash costs sharing, never mixes vectors)
    assert index.window_twins().tolist() == [0, 0, 2, 3, 3, 5]


def test_feed_cache_reuses_candidates_and_keeps_rec():
    p = platform(feed_cache_minutes=10.0, max_rec_post_len=2, refresh_rec_post_count=2,
                 following_post_count=0)
    for i in range(3):
        p.execute(1, "create_post", content=f"bio of user 0 number {i}")
    first = [post["post_id"] for post in p.execute(0, "refresh")["posts"]]
    p.now = 5.0
    p.execute(2, "create_post", content="bio of user 0, newest and best")  # 4
    assert [post["post_id"] for post in p.execute(0, "refresh")["posts"]] == first
    rec = sorted(r[0] for r in p.connection.execute("SELECT post_id FROM rec WHERE user_id = 0"))
    assert rec == first
    p.execute(0, "mute", mutee_id=1)  # mutes apply to cached candidates at once
    assert p.execute(0, "refresh") == {"success": False, "message": "No posts found."}
    p.execute(0, "unmute", mutee_id=1)
    p.now = 10.0  # expired: computed again
    assert 4 in [post["post_id"] for post in p.execute(0, "refresh")["posts"]]


def test_window_vectors_are_compacted_and_stay_aligned():
    p = platform(candidate_window=5, recommender="embedding")
    index = p.feed_index
    texts = [f"text number {i} " + " ".join(["cats"] * (i % 3 + 1)) for i in range(3000)]
    with p.batch():
        for i, text in enumerate(texts):
            p.execute(i % 4, "create_post", content=text)
            if i % 700 == 0:
                p.recommender.recommend(0, p.now, 1, None)  # embeds the pending posts
    full, coarse, lo = index.window_vectors()
    assert lo == 3000 - 5 + 1 and len(full) == len(coarse) == 5
    expected = index.embedder.embed(texts[-5:])
    np.testing.assert_allclose(full, expected, atol=1e-6)
    assert len(index._vectors) <= 2 * max(1024, 5 * 2)


def test_state_and_restore_keep_engagement_and_cached_feeds():
    def run(resume_at: int | None) -> list[list[int]]:
        p = Platform(kind="twitter", recommender="embedding", feed_cache_minutes=30.0)
        for u in range(4):
            p.sign_up(u, f"u{u}", f"U{u}", "")
        shown = []
        for step in range(12):
            if step == resume_at:  # a new platform on the same tables, state carried over
                state = p.feed_index.state()
                p.feed_index.reset()
                p.feed_index.restore(state)
            p.now = float(step * 7)
            p.execute(step % 4, "create_post", content=["cats", "dogs", "cars"][step % 3])
            p.execute((step + 1) % 4, "like_post", post_id=1 + step // 2)
            shown.append([x["post_id"] for x in p.execute(step % 4, "refresh").get("posts", [])])
        return shown

    assert run(None) == run(6)


def test_restore_rebuilds_vectors_and_engagement_exactly():
    """A resumed run's index must equal the one it replaces: vectors of posts that left the
    window before being embedded, reposts counted once, popularity."""
    p = platform(users=4, candidate_window=5, recommender="embedding")
    index = p.feed_index
    p.execute(2, "follow", followee_id=1)
    p.connection.execute("UPDATE user SET num_followers = 1000 WHERE user_id = 1")  # as loaded
    index.fan_scores()
    p.execute(2, "unfollow", followee_id=1)  # 999 followers: popularity falls back to 1
    p.execute(1, "create_post", content="cats and dogs")  # 1
    p.execute(0, "repost", post_id=1)  # 2: engagement of user 0, counted when read
    index.window_vectors()
    for i in range(7):  # 3..9: the window moves past 3 and 4 before they are embedded
        p.execute(i % 4, "create_post", content=f"post {i} about cars")
    p.execute(0, "like_post", post_id=3)

    def snapshot() -> tuple[bytes, list[list[int]], bytes]:
        index.window_vectors()
        vectors = index.vectors_of(range(1, index.last_post + 1))
        return vectors.tobytes(), [index.engaged(u) for u in range(4)], index.fan_scores().tobytes()

    before = snapshot()
    assert np.any(index.vectors_of([3, 4]))
    state = index.state()
    index.reset()
    index.restore(state)
    assert snapshot() == before


def test_relations_follow_the_tables_through_follows_mutes_and_rollback():
    p = platform(users=5)
    index = p.feed_index
    assert index.relations(0) == ([], set())  # read now; later changes arrive incrementally
    p.execute(0, "follow", followee_id=3)
    p.execute(0, "follow", followee_id=1)
    p.execute(0, "mute", mutee_id=2)
    assert index.relations(0) == ([1, 3], {2})
    p.execute(0, "unfollow", followee_id=3)
    p.execute(0, "unmute", mutee_id=2)
    assert index.relations(0) == ([1], set())
    with pytest.raises(Abort), p.batch():
        p.execute(0, "follow", followee_id=4)
        p.execute(0, "mute", mutee_id=3)
        assert index.relations(0) == ([1, 4], {3})
        raise Abort
    assert index.relations(0) == ([1], set())


def test_in_network_posts_follow_new_posts_follows_and_mutes():
    p = platform(users=4)
    for u in (1, 2, 3):
        p.execute(u, "create_post", content=f"by {u}")  # posts 1, 2, 3
    p.execute(0, "follow", followee_id=1)
    p.execute(0, "follow", followee_id=2)
    index = p.feed_index
    index.sync()
    assert sorted(index.in_network(0).tolist()) == [1, 2]
    p.execute(0, "mute", mutee_id=2)
    assert sorted(index.in_network(0).tolist()) == [1]
    p.execute(1, "create_post", content="again")  # 4
    index.sync()
    assert sorted(index.in_network(0).tolist()) == [1, 4]
    p.execute(0, "unmute", mutee_id=2)
    p.execute(0, "unfollow", followee_id=1)
    assert sorted(index.in_network(0).tolist()) == [2]


@pytest.mark.parametrize("recommender", ["twitter", "embedding", "random", "reddit"])
def test_a_muted_users_posts_are_hidden_also_when_reposted_or_quoted(recommender):
    """User 0 mutes user 1: nothing of 1's shows, whether 2 (followed) or 3 reposts or
    quotes it; 1's posts come back after the unmute."""
    p = platform(users=4, recommender=recommender, max_rec_post_len=20,
                 refresh_rec_post_count=20, following_post_count=20)
    p.execute(0, "follow", followee_id=2)
    p.execute(1, "create_post", content="cats are great")  # 1
    p.execute(2, "repost", post_id=1)  # 2: in network
    p.execute(3, "repost", post_id=1)  # 3: out of network
    p.execute(3, "quote_post", post_id=1, quote_content="so true")  # 4
    p.execute(2, "create_post", content="dogs too")  # 5
    p.execute(3, "create_post", content="and birds")  # 6

    def shown() -> set[int]:
        return {post["post_id"] for post in p.execute(0, "refresh")["posts"]}

    assert shown() == {1, 2, 3, 4, 5, 6}
    p.execute(0, "mute", mutee_id=1)
    assert shown() == {5, 6}
    rec = {r[0] for r in p.connection.execute("SELECT post_id FROM rec WHERE user_id = 0")}
    assert rec <= {5, 6}
    p.execute(0, "unmute", mutee_id=1)
    assert shown() == {1, 2, 3, 4, 5, 6}
