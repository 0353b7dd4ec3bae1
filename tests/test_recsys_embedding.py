"""The `embedding` recommender: profile + recent engagement, recency; own/muted excluded."""

from __future__ import annotations

from platform_helpers import recommend, write

from oasis_des import Platform

CATS = ["My cat is sleeping on the sofa", "Kittens playing with yarn", "Cute cat video"]
DOGS = ["Walked the dog in the park", "New puppy at home!", "Dog training tips"]


def platform(**settings) -> Platform:
    p = Platform(kind="twitter", recommender="embedding", **settings)
    p.sign_up(0, "writer", "Writer", "I write about everything")
    p.sign_up(1, "catfan", "Cat Fan", "I love cats and kittens")
    p.sign_up(2, "dogfan", "Dog Fan", "Dogs and puppies are my life")
    p.sign_up(3, "reader", "Reader", "")
    return p


def test_profile_relevance():
    p = platform()
    cats = write(p, 0, CATS)
    dogs = write(p, 0, DOGS)
    assert set(recommend(p, 1, 3)) == set(cats)
    assert set(recommend(p, 2, 3)) == set(dogs)


def test_recent_likes_pull_the_feed_towards_them():
    p = platform()
    cats = write(p, 0, CATS)
    dogs = write(p, 0, DOGS)
    p.execute(3, "like_post", post_id=cats[0])
    p.execute(3, "repost", post_id=cats[1])
    assert set(recommend(p, 3, 2)) <= set(cats)
    p.execute(3, "unlike_post", post_id=cats[0])
    p.execute(3, "like_post", post_id=dogs[0])
    p.execute(3, "like_post", post_id=dogs[1])
    p.execute(3, "like_post", post_id=dogs[2])
    assert set(recommend(p, 3, 2)) <= set(dogs)


def test_followees_are_candidates_own_and_muted_posts_never():
    p = platform()
    own = write(p, 2, DOGS)  # the dog lover's own posts: the best matches, never shown
    muted = write(p, 0, ["puppies puppies puppies"])
    followed = write(p, 1, ["dogs and puppies"])
    p.execute(2, "follow", followee_id=1)
    p.execute(2, "mute", mutee_id=0)
    assert recommend(p, 2) == followed
    p.execute(1, "mute", mutee_id=2)
    assert set(recommend(p, 1)) == set(muted)
    assert not set(own) & set(recommend(p, 1))


def test_newer_of_equal_posts_first():
    p = platform()
    a = write(p, 0, ["A dog photo"])[0]
    p.now = 10.0
    b = write(p, 0, ["A dog photo"])[0]
    assert recommend(p, 2, 2) == [b, a]
