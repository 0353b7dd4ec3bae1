"""Recommenders and embedders chosen by name or by a dotted path to the user's own code."""

from __future__ import annotations

import pytest

from oasis_des import Platform
from oasis_des.engine.config import load_config


def platform(**settings) -> Platform:
    p = Platform(kind="twitter", following_post_count=0, max_rec_post_len=2,
                 refresh_rec_post_count=2, **settings)
    for u in range(3):
        p.sign_up(u, f"u{u}", f"U{u}", "")
    for i in range(5):
        p.execute(u % 3, "create_post", content=f"post {i}")
    return p


def feed(p: Platform, uid: int = 0) -> list[int]:
    return [post["post_id"] for post in p.execute(uid, "refresh")["posts"]]


@pytest.mark.parametrize("path", ["recsys_custom:NewestFirst", "recsys_custom.NewestFirst"])
def test_custom_class_gets_the_platform(path):
    p = platform(recommender=path)
    assert p.recommender.platform is p
    assert feed(p) == [4, 5]
    rec = p.connection.execute("SELECT post_id FROM rec WHERE user_id = 0 ORDER BY rowid")
    assert [r[0] for r in rec] == [5, 4]  # the rec table keeps the recommender's order


def test_custom_function_and_instance():
    assert feed(platform(recommender="recsys_custom:oldest_first")) == [1, 2]
    assert feed(platform(recommender="recsys_custom:fixed_picks")) == [2]


def test_custom_recommender_from_a_config_file(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[platform.settings]\nrecommender = "recsys_custom:NewestFirst"\n')
    config = load_config(path)
    p = Platform(kind="twitter", **config.platform.settings)
    assert type(p.recommender).__name__ == "NewestFirst"


@pytest.mark.parametrize(
    "name,message",
    [
        ("twiter", "Unknown recommender 'twiter'; available: embedding, random, reddit, twitter"),
        ("no_such_module:Thing", "Cannot load recommender 'no_such_module:Thing': module"),
        ("recsys_custom:Missing", "'recsys_custom' has no 'Missing'"),
    ],
)
def test_bad_recommender_names_are_clear_errors(name, message):
    with pytest.raises(ValueError) as err:
        Platform(kind="twitter", recommender=name)
    assert message in str(err.value)


@pytest.mark.parametrize("name", [
    "recsys_custom:not_a_recommender",  # a number
    "recsys_custom:LetterCounts",  # a class without recommend
    "os:system",  # a builtin, one argument
    "json:loads",  # a function of one positional argument
    "subprocess:run",  # a function of *args only
    "builtins:print",
])
def test_a_path_to_something_else_is_a_type_error(name):
    with pytest.raises(TypeError, match="is not a recommender; expected a class constructed"):
        Platform(kind="twitter", recommender=name)


def test_a_config_refuses_a_path_to_something_else_without_calling_it(tmp_path, monkeypatch):
    def system(command):
        raise AssertionError("called")

    monkeypatch.setattr("os.system", system)
    path = tmp_path / "run.toml"
    path.write_text('[platform]\nsettings = { recommender = "os:system" }\n')
    with pytest.raises(ValueError) as err:
        load_config(path)
    assert str(err.value).startswith(
        f"{path}: platform.settings.recommender: 'os:system' is not a recommender; expected "
    )
    monkeypatch.setattr("os.getcwd", system)
    path.write_text('[platform]\nsettings = { embedder = "os:getcwd" }\n')
    with pytest.raises(ValueError) as err:
        load_config(path)
    assert str(err.value).startswith(
        f"{path}: platform.settings.embedder: 'os:getcwd' is not an embedder; expected "
    )


def test_custom_embedder_by_path_embeds_each_post_once():
    p = platform(recommender="embedding", embedder="recsys_custom:LetterCounts")
    p.execute(0, "create_post", content="zzzz zzz")
    p.execute(1, "create_post", content="aaaa aaa")
    p.sign_up(5, "z", "Z", "zz zz")
    assert p.recommender.recommend(5, p.now, 1, None) == [6]
    p.execute(0, "refresh")
    p.execute(1, "refresh")
    seen = p.feed_index.embedder.texts_seen
    posts = [r[0] for r in p.connection.execute("SELECT content FROM post")]
    assert sorted(t for t in seen if t in posts) == sorted(posts)  # each post exactly once
    assert "zz zz" in seen  # the profile of the user who asked


@pytest.mark.parametrize(
    "name,message",
    [
        ("word2vec", "Unknown embedder 'word2vec'; available: hashing, sentence-transformers"),
        ("recsys_custom:Nope", "Cannot load embedder 'recsys_custom:Nope'"),
    ],
)
def test_bad_embedder_names_are_clear_errors(name, message):
    with pytest.raises(ValueError) as err:
        Platform(kind="twitter", embedder=name)
    assert message in str(err.value)


@pytest.mark.parametrize("name", ["os:getcwd", "os:abort", "json:loads", "recsys_custom:FixedPicks",
                                  "recsys_custom:not_a_recommender", "recsys_custom:oldest_first"])
def test_what_is_not_an_embedder_is_refused_without_being_called(name):
    with pytest.raises(TypeError, match=rf"'{name}' is not an embedder; expected a class"):
        Platform(kind="twitter", embedder=name)


def test_an_embedder_factory_function_is_called_on_first_use_and_its_result_checked():
    p = platform(recommender="embedding", embedder="recsys_custom:letter_counts")
    assert type(p.feed_index.embedder).__name__ == "LetterCounts"
    p = platform(recommender="embedding", embedder="recsys_custom:not_an_embedder_factory")
    with pytest.raises(TypeError, match="returned str, which has no method embed"):
        p.feed_index.embedder


def test_window_must_hold_a_post():
    with pytest.raises(ValueError, match="'candidate_window' must be >= 1"):
        Platform(kind="twitter", candidate_window=0)
