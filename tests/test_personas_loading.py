"""Persona files load with everything OASIS's own loader drops: follows, seed posts, handles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oasis_des import Platform
from oasis_des.agents.activity import activity_from_frequency, oasis_active_threshold
from oasis_des.agents.loaders import detect_format, load_population, read_personas
from oasis_des.agents.oasis_reddit import write_reddit_json
from oasis_des.agents.oasis_twitter import write_twitter_csv
from oasis_des.agents.persona_jsonl import write_jsonl
from oasis_des.agents.signup import sign_up_population
from oasis_des.agents.topics import TOPIC_NAMES

DATA = Path(__file__).parent / "data"
TWITTER = DATA / "False_Business_0.csv"
REDDIT = DATA / "user_data_36.json"
SEED_TWEET = "report: amazon plans to open its first physical store, in new york URL"


def counters_match_follow_rows(platform: Platform) -> bool:
    bad = platform.connection.execute(
        "SELECT COUNT(*) FROM user u WHERE "
        "num_followers != (SELECT COUNT(*) FROM follow WHERE followee_id = u.user_id) OR "
        "num_followings != (SELECT COUNT(*) FROM follow WHERE follower_id = u.user_id)"
    ).fetchone()[0]
    return bad == 0


def test_oasis_twitter_csv_loads_follows_seed_posts_and_handles() -> None:
    result = read_personas(TWITTER)
    pop = result.population
    assert result.format == "oasis-twitter-csv"
    assert len(pop) == 111
    assert pop.user_name[:3] == ["user0", "user1", "user2"]
    assert pop.name[1] == "user_1"
    assert pop.bio[3].startswith("Software engineer at @stockx")
    assert pop.persona[3] == pop.bio[3]  # this file repeats the bio as user_char
    assert "Views do not represent" in pop.persona[11]  # a quoted multi-line cell
    assert pop.seed_posts == [(32, SEED_TWEET)]
    assert pop.follows.shape == (85, 2)
    followers_of_32 = set(pop.follows[pop.follows[:, 1] == 32, 0].tolist())
    assert len(followers_of_32) == 73
    only_32 = [i for i in followers_of_32 if (pop.follows[:, 0] == i).sum() == 1]
    assert len(only_32) == 67  # the "67 users follow agent 32" of the data README
    assert pop.traits[0] == {"user_id": 38210037}  # the original Twitter id, kept
    assert any("index column" in note for note in result.notes)


def test_oasis_twitter_csv_into_the_database_counters_match_follows() -> None:
    pop = load_population(TWITTER)
    with Platform(":memory:", "twitter") as p:
        report = sign_up_population(p, pop)
        c = p.connection
        assert report.users == 111 and report.follows == 85 and report.seed_posts == 1
        assert c.execute("SELECT COUNT(*) FROM user WHERE user_name IS NULL").fetchone()[0] == 0
        assert c.execute("SELECT num_followers FROM user WHERE user_id = 32").fetchone()[0] == 73
        assert counters_match_follow_rows(p)
        assert c.execute("SELECT user_id, content, created_at FROM post").fetchall() == [
            (32, SEED_TWEET, 0)
        ]
        assert p.graph.indegree(32) == 73
        assert sorted(p.graph.get_edgelist()) == sorted(
            c.execute("SELECT follower_id, followee_id FROM follow")
        )


def test_oasis_reddit_json_loads_traits_and_interests() -> None:
    result = read_personas(REDDIT)
    pop = result.population
    assert result.format == "oasis-reddit-json"
    assert len(pop) == 36
    assert (pop.user_name[0], pop.name[0]) == ("millerhospitality", "James Miller")
    assert pop.traits[0] == {
        "age": 40,
        "gender": "male",
        "mbti": "ESTJ",
        "country": "UK",
        "profession": "Hospitality & Tourism",
        "interested_topics": ["Economics", "Business"],
    }
    assert len(pop.follows) == 0 and pop.seed_posts == []
    # Declared "Economics"/"Business" and the word "tourism" put weight on economy and travel.
    top = {TOPIC_NAMES[i] for i in np.argsort(-pop.interests[0])[:3]}
    assert {"economy", "travel"} <= top
    assert np.allclose(pop.interests.sum(axis=1), 1.0, atol=1e-5)


def test_same_file_and_seed_give_the_same_population_stances_vary_with_seed() -> None:
    a, b, c = (load_population(TWITTER, seed=s) for s in (1, 1, 2))
    assert np.array_equal(a.stance, b.stance) and not np.array_equal(a.stance, c.stance)
    assert np.all(np.abs(a.stance) <= 1)


CSV_ALL_COLUMNS = (
    "Unnamed: 0.1,Unnamed: 0,user_id,name,username,description,created_at,followers_count,"
    "following_count,following_list,following_agentid_list,previous_tweets,tweets_id,"
    "activity_level_frequency,activity_level,user_char,follower_agentid_list,is_super_user,"
    "follower_count,team\n"
    '0,0,111,Ann,ann,bio a,2020-01-01,5,1,"[222]","[1]","[\'hi there\']","[9]",'
    '"[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8]",'
    "\"['off_line'] * 0 + ['active']\",persona a,\"[1]\",True,5,red\n"
    '1,1,222,Bob,bob,bio b,2020-01-02,7,1,"[111]",0,[],[],'
    '"[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]",'
    '"[\'active\']",persona b,"[0]",False,7,\n'
)


def test_every_oasis_column_variant_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "variants.csv"
    path.write_text(CSV_ALL_COLUMNS, encoding="utf-8")
    result = read_personas(path)
    pop = result.population
    assert pop.user_name == ["ann", "bob"] and pop.persona == ["persona a", "persona b"]
    assert pop.follows.tolist() == [[0, 1]]  # bob's bare integer 0 is ignored, as OASIS does
    assert pop.seed_posts == [(0, "hi there")]
    t = pop.traits[0]
    assert t["follower_agentid_list"] == [1] and t["is_super_user"] is True
    assert t["followers_count"] == 5 and t["following_count"] == 1 and t["user_id"] == 111
    assert t["created_at"] == "2020-01-01" and t["team"] == "red" and t["tweets_id"] == "[9]"
    assert isinstance(t["activity_level"], str)  # not a literal: kept as text, with a note
    assert pop.traits[1]["activity_level"] == ["active"]
    assert "team" not in pop.traits[1]  # empty cells are not traits
    freq = np.array([[0] * 12 + [4] * 11 + [8], [2] * 24])
    assert np.allclose(pop.activity, activity_from_frequency(freq))
    # OASIS's rule: share of the file's busiest hour, +0.1 below 0.6, per 3-minute step.
    assert oasis_active_threshold(freq)[0, 0] == pytest.approx(0.1)
    assert oasis_active_threshold(freq)[0, 23] == pytest.approx(1.0)
    assert pop.activity[0, 23] == pytest.approx(20.0)  # 1.0 per step = 20 per hour
    notes = " ".join(result.notes)
    assert "bare integer" in notes and "Unnamed: 0.1" in notes and "team" in notes
    assert "follower counters come from the follow rows" in notes


def test_jsonl_round_trip_keeps_everything(tmp_path: Path) -> None:
    pop = load_population(TWITTER, seed=3)
    path = tmp_path / "p.jsonl"
    write_jsonl(pop, path)
    back = load_population(path)
    assert back.user_name == pop.user_name and back.name == pop.name and back.bio == pop.bio
    assert list(back.persona) == list(pop.persona) and list(back.traits) == list(pop.traits)
    assert back.follows.tolist() == pop.follows.tolist() and back.seed_posts == pop.seed_posts
    assert np.allclose(back.stance, pop.stance, atol=1e-5)
    assert np.allclose(back.activity, pop.activity, atol=1e-5)
    assert np.allclose(back.interests, pop.interests, atol=1e-4)


def test_jsonl_minimal_lines_ids_out_of_order_and_defaults(tmp_path: Path) -> None:
    lines = [
        {
            "id": 1,
            "user_name": "b",
            "name": "B",
            "following": [0],
            "posts": ["hello"],
            "stance": -0.5,
        },
        {
            "id": 0,
            "user_name": "a",
            "name": "A",
            "activity": 2,
            "interests": {"sports": 1},
            "age": 30,
        },
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    result = read_personas(path)
    pop = result.population
    assert pop.user_name == ["a", "b"]
    assert pop.follows.tolist() == [[1, 0]] and pop.seed_posts == [(1, "hello")]
    assert pop.stance[1] == -0.5
    assert np.all(pop.activity[0] == 2.0) and np.all(pop.activity[1] == 1.0)
    assert pop.interests[0, TOPIC_NAMES.index("sports")] == 1.0
    assert pop.traits[0] == {"age": 30} and "age" in " ".join(result.notes)


def test_csv_and_reddit_writers_are_read_back(tmp_path: Path) -> None:
    pop = load_population(TWITTER)
    csv_path, json_path = tmp_path / "t.csv", tmp_path / "r.json"
    write_twitter_csv(pop, csv_path)
    back = load_population(csv_path)
    assert back.user_name == pop.user_name and back.persona == list(pop.persona)
    assert back.follows.tolist() == pop.follows.tolist() and back.seed_posts == pop.seed_posts
    assert np.allclose(back.activity, pop.activity, atol=1e-5)  # via activity_per_hour
    assert np.allclose(back.stance, pop.stance, atol=1e-5)
    reddit = load_population(REDDIT)
    write_reddit_json(reddit, json_path)
    again = load_population(json_path)
    assert again.user_name == reddit.user_name and list(again.traits) == list(reddit.traits)


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.csv", "x", "oasis-twitter-csv"),
        ("a.jsonl", "{}", "jsonl"),
        ("a.ndjson", "{}", "jsonl"),
        ("a.json", "  [", "oasis-reddit-json"),
        ("a.json", '{"format"', "jsonl"),
        ("a.txt", "\ufeff[", "oasis-reddit-json"),
        ("personas", "username,name,user_char\n", "oasis-twitter-csv"),
    ],
)
def test_format_is_picked_by_extension_then_content(
    tmp_path: Path, name: str, head: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(head, encoding="utf-8")
    assert detect_format(path) == expected


def test_committed_samples_load() -> None:
    root = Path(__file__).resolve().parents[1] / "personas"
    synthetic = read_personas(root / "synthetic_twitter_1000.csv")
    assert len(synthetic.population) == 1000
    assert 8_000 < len(synthetic.population.follows) < 12_000
    assert synthetic.population.seed_posts
    assert len(load_population(root / "oasis_reddit_36.json")) == 36
    assert len(load_population(root / "oasis_twitter_False_Business_0.csv")) == 111


def test_json_schema_describes_the_jsonl_reader() -> None:
    from oasis_des.agents.persona_jsonl import FORMAT, KNOWN

    schema = json.loads(
        (Path(__file__).resolve().parents[1] / "schemas" / "persona.schema.json").read_text()
    )
    persona = schema["$defs"]["persona"]
    assert persona["required"] == ["user_name", "name"]
    assert set(persona["properties"]) == set(KNOWN)
    assert schema["$defs"]["header"]["properties"]["format"]["const"] == FORMAT


texts = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            texts.filter(lambda t: t.strip() != ""),
            texts,
            texts,
            texts,
            st.lists(texts, max_size=2),
        ),
        min_size=1,
        max_size=5,
    ),
    edges=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=8),
)
def test_any_text_survives_csv_and_jsonl(tmp_path: Path, rows: list, edges: list) -> None:
    n = len(rows)
    from oasis_des.agents.population import Population

    pop = Population(
        user_name=[r[0] for r in rows],
        name=[r[1] for r in rows],
        bio=[r[2] for r in rows],
        persona=[r[3] for r in rows],
        activity=np.full((n, 24), 0.5),
        stance=np.zeros(n),
        follows=np.array([(a % n, b % n) for a, b in edges], dtype=np.int64).reshape(-1, 2),
        seed_posts=[(i, t) for i, r in enumerate(rows) for t in r[4]],
    )
    for name, write in (("p.jsonl", write_jsonl), ("p.csv", write_twitter_csv)):
        path = tmp_path / name
        write(pop, path)
        back = load_population(path)
        assert back.user_name == pop.user_name and back.name == pop.name and back.bio == pop.bio
        assert list(back.persona) == list(pop.persona) and back.seed_posts == pop.seed_posts
        # files list follows per follower: the order becomes follower order (stable)
        by_follower = pop.follows[np.argsort(pop.follows[:, 0], kind="stable")]
        assert back.follows.tolist() == by_follower.tolist()
