"""Prompts: persona system prompts, custom templates, the compact feed, bounded memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_helpers import small_population

from oasis_des.agents.population import Population
from oasis_des.llm.memory import AgentMemory
from oasis_des.llm.profile import PromptSettings
from oasis_des.llm.prompts import PromptBuilder, PromptError, describe, memory_line
from oasis_des.llm.tokens import approx_tokens
from oasis_des.policies.base import Decision, Observation


def reddit_population() -> Population:
    pop = small_population(3)
    pop.traits = [{"age": 30 + i, "gender": "female", "mbti": "INTJ", "country": "UK"}
                  for i in range(3)]
    return pop


def builder(kind: str = "twitter", pop: Population | None = None, **settings: object) -> PromptBuilder:
    return PromptBuilder(PromptSettings(**settings), pop or small_population(3), kind,  # type: ignore[arg-type]
                         "# RESPONSE METHOD\nCall a tool.")


def test_system_prompts_carry_persona_platform_and_identity() -> None:
    twitter = builder("twitter").system(1)
    assert "Twitter user" in twitter and "User 1 (@user1, user 1)" in twitter
    assert small_population(3).persona[1] in twitter and twitter.endswith("Call a tool.")
    pop = reddit_population()
    pop.traits[2]["profession"] = "Marketing"
    reddit = builder("reddit", pop).system(2)
    assert "Reddit user" in reddit
    assert "You are female, 32 years old, MBTI INTJ, from UK, working in Marketing." in reddit
    assert "years old" not in builder("twitter", reddit_population()).system(2)  # as OASIS


def test_custom_template_fills_persona_and_trait_keys(tmp_path: Path) -> None:
    template = tmp_path / "t.txt"
    template.write_text("I am {name}, {age}, on {platform}. {persona}")
    b = builder("reddit", reddit_population(), system_template=template)
    assert b.persona(0) == f"I am User 0, 30, on Reddit. {reddit_population().persona[0]}"


def test_template_key_missing_for_an_agent_names_key_agent_and_file(tmp_path: Path) -> None:
    template = tmp_path / "t.txt"
    template.write_text("I am {name} from {hometown}.")
    with pytest.raises(PromptError, match=rf"{template}: key 'hometown' is not defined for agent 0 "
                       r"\(available: .*name"):
        builder(system_template=template)
    pop = reddit_population()
    pop.traits[2] = {"gender": "male"}  # agent 2 has no age
    template.write_text("{name} ({age})")
    with pytest.raises(PromptError, match="key 'age' is not defined for agent 2"):
        builder("reddit", pop, system_template=template)


def test_positional_and_broken_templates_are_refused(tmp_path: Path) -> None:
    template = tmp_path / "t.txt"
    template.write_text("I am {}.")
    with pytest.raises(PromptError, match="positional fields"):
        builder(system_template=template)
    template.write_text("I am {name.")
    with pytest.raises(PromptError, match="not a valid str.format template"):
        builder(system_template=template)


def post(pid: int, author: int, text: str, comments: int = 0, **counts: int) -> dict[str, object]:
    return {"post_id": pid, "user_id": author, "content": text, "created_at": 0, "num_shares": 0,
            "num_reports": 0, **counts,
            "comments": [{"comment_id": 100 + j, "post_id": pid, "user_id": 9, "content": f"c{j}",
                          "created_at": 0, "num_likes": j, "num_dislikes": 0} for j in range(comments)]}


def test_feed_lines_have_ids_authors_counts_marks_and_recent_comments() -> None:
    obs = Observation(
        agent_id=0, time=5.0, activation=0, following=frozenset({2}), liked=frozenset({11}),
        posts=(post(11, 2, "hello\nworld", comments=4, num_likes=3, num_dislikes=0),
               post(12, 0, "x" * 500, score=-2)),
    )
    feed = builder(comments_per_post=2, post_chars=50).feed(obs)
    lines = feed.splitlines()
    assert lines[0] == "Your feed:"
    assert lines[1] == "post 11 by user 2 (followed) (3 likes, 4 comments) [you liked]: hello world"
    assert lines[2:4] == ["  comment 102 by user 9 (2 likes): c2", "  comment 103 by user 9 (3 likes): c3"]
    assert lines[4] == f"post 12 by you (score -2): {'x' * 49}…"
    assert builder().feed(Observation(agent_id=0, time=0, activation=0)) == "Your feed is empty."


def test_reposts_and_quotes_are_shortened_and_shown_once() -> None:
    repost = "User {} reposted a post from User 5. Repost content: Rates go up.. "
    posts = (post(21, 3, repost.format(3), comments=2), post(22, 4, repost.format(4), comments=2),
             post(23, 6, "User 6 quoted a post from User 5. Quote content: No way. "
                         "Original Content: Rates go up."))
    feed = builder(comments_per_post=2).feed(Observation(agent_id=0, time=0, activation=0, posts=posts))
    lines = feed.splitlines()
    assert lines[1] == "post 21 by user 3: repost of user 5: Rates go up."
    assert lines[2:4] == ["  comment 100 by user 9: c0", "  comment 101 by user 9 (1 like): c1"]
    assert lines[4:6] == ["post 22 by user 4: same as post 21", "  (comments as under post 21)"]
    assert lines[6] == 'post 23 by user 6: quote of user 5: "No way" on: Rates go up.'


def test_followers_and_group_messages_are_shown_when_observed() -> None:
    messages = ({"group_id": 2, "group": "Cat people", "sender_id": 4, "content": "Meow\nmeow"},
                {"group_id": 2, "group": "Cat people", "sender_id": 1, "content": "Purr"})
    obs = Observation(agent_id=1, time=0, activation=0, followers=1, followings=12,
                      group_messages=messages)
    text = builder().decide_messages(obs, "")[1]["content"]
    assert text.split("\n\n")[:2] == [
        "Followers: 1; following: 12.",
        "Latest messages in your groups:\n- group 2 (Cat people), user 4: Meow meow\n"
        "- group 2 (Cat people), you: Purr",
    ]
    plain = builder().decide_messages(Observation(agent_id=1, time=0, activation=0), "")
    assert plain[1]["content"] == "Your feed is empty."


def test_social_context_reads_follower_counts_and_the_latest_group_messages() -> None:
    from conftest import make_platform

    from oasis_des.llm.context import GROUP_MESSAGES, social_context

    p = make_platform("twitter")
    p.execute(1, "follow", followee_id=0)
    p.execute(2, "follow", followee_id=0)
    gid = p.execute(0, "create_group", group_name="news")["group_id"]
    p.execute(1, "create_group", group_name="other")
    p.execute(1, "join_group", group_id=gid)
    for i in range(GROUP_MESSAGES + 1):
        p.execute(1, "send_to_group", group_id=gid, message=f"m{i}")
    p.execute(1, "send_to_group", group_id=gid + 1, message="not for 0")
    seen = social_context(p.connection, 0)
    p.close()
    assert (seen["followers"], seen["followings"]) == (2, 0)
    assert [m["content"] for m in seen["group_messages"]] == \
        [f"m{i}" for i in range(1, GROUP_MESSAGES + 1)]  # newest last
    assert seen["group_messages"][0] == {"group_id": gid, "group": "news", "sender_id": 1,
                                         "content": "m1"}


def test_traits_already_in_the_persona_text_are_not_repeated() -> None:
    pop = reddit_population()
    pop.persona[0] = "A 30-year-old engineer from the UK, INTJ."
    system = builder("reddit", pop).system(0)
    assert "You are female." in system and "MBTI" not in system
    assert "female, 31 years old, MBTI INTJ, from UK" in builder("reddit", pop).system(1)


def test_decide_messages_are_compact() -> None:
    posts = tuple(post(i, i % 3, "A post about the economy and jobs " * 4, comments=5, num_likes=2)
                  for i in range(1, 6))
    obs = Observation(agent_id=1, time=0, activation=0, posts=posts)
    messages = builder().decide_messages(obs, "")
    oasis_style = json.dumps({"posts": list(posts)}, indent=2)  # OASIS shows the feed as JSON
    assert approx_tokens(messages[1]["content"]) < approx_tokens(oasis_style) / 2
    assert messages[1]["content"].startswith("Your feed:")


def test_memory_keeps_the_last_n_within_the_token_budget() -> None:
    m = AgentMemory(activations=3, tokens=40)
    for i in range(5):
        m.remember(7, f"line {i}")
    assert m.lines(7) == ["line 2", "line 3", "line 4"]
    m.remember(7, "y" * 148)  # 37 tokens: with one 2-token line it fits in 40, with two not
    assert m.lines(7) == ["line 4", "y" * 148]
    assert sum(approx_tokens(x) for x in m.lines(7)) <= 40
    m.remember(7, "z" * 1000)  # longer than the whole budget: cut to it
    assert m.lines(7) == ["z" * 160] and m.lines(8) == []
    assert m.render(7).startswith("Your recent activity") and m.render(8) == ""


def test_memory_state_is_json_and_restores() -> None:
    m = AgentMemory(activations=5, tokens=100)
    m.remember(3, "a")
    m.remember(1, "b")
    state = json.loads(json.dumps(m.state()))
    fresh = AgentMemory(activations=5, tokens=100)
    fresh.restore(state)
    assert fresh.lines(3) == ["a"] and fresh.lines(1) == ["b"] and fresh.state() == m.state()
    AgentMemory(activations=0, tokens=100).remember(1, "ignored")


def test_memory_lines_describe_what_was_seen_and_done() -> None:
    obs = Observation(agent_id=0, time=0, activation=0, posts=(post(4, 1, "x"), post(9, 2, "y")))
    assert memory_line(obs, Decision(action="like_post", args={"post_id": 4})) == \
        "like_post(post_id=4)"
    empty = Observation(agent_id=0, time=0, activation=0)
    assert memory_line(empty, Decision(action="do_nothing")) == "did nothing (on an empty feed)"
    assert describe(Decision(action="do_nothing", error="llm timeout: x")) == "gave no valid action"
    long = describe(Decision(action="create_post", args={"content": "w " * 100}))
    assert long.startswith('create_post(content="w w') and long.endswith('...")') and len(long) < 70

