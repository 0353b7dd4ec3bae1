"""Every platform action as data.

`ACTION_SPECS` is the one list of actions and their arguments. Argument validation,
LLM tool schemas, CLI help and hypothesis strategies are all derived from it, so a new
action or argument is declared here and nowhere else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping


class ActionType(str, enum.Enum):
    """The actions an agent can take; values are OASIS's action names (trace `action`)."""

    SIGNUP = "sign_up"
    CREATE_POST = "create_post"
    REPOST = "repost"
    QUOTE_POST = "quote_post"
    LIKE_POST = "like_post"
    UNLIKE_POST = "unlike_post"
    DISLIKE_POST = "dislike_post"
    UNDO_DISLIKE_POST = "undo_dislike_post"
    CREATE_COMMENT = "create_comment"
    LIKE_COMMENT = "like_comment"
    UNLIKE_COMMENT = "unlike_comment"
    DISLIKE_COMMENT = "dislike_comment"
    UNDO_DISLIKE_COMMENT = "undo_dislike_comment"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    MUTE = "mute"
    UNMUTE = "unmute"
    SEARCH_POSTS = "search_posts"
    SEARCH_USER = "search_user"
    TREND = "trend"
    REFRESH = "refresh"
    DO_NOTHING = "do_nothing"
    REPORT_POST = "report_post"
    PURCHASE_PRODUCT = "purchase_product"
    CREATE_GROUP = "create_group"
    JOIN_GROUP = "join_group"
    LEAVE_GROUP = "leave_group"
    SEND_TO_GROUP = "send_to_group"
    LISTEN_FROM_GROUP = "listen_from_group"
    INTERVIEW = "interview"

    def __str__(self) -> str:
        return self.value


class ArgumentError(ValueError):
    """An action was called with a missing, unexpected or ill-typed argument."""


INT64_MAX = 2**63 - 1  # SQLite's INTEGER is 64-bit: nothing beyond it can name a row
# Longest text argument: a 10 MB post is stored verbatim; the bound keeps every row (with
# its JSON trace and escapes) far below SQLite's 1 GB limit. LLM answers are cut much
# earlier by the model profile's `max_output_chars`.
MAX_TEXT_CHARS = 16_000_000
# Longest search query: SQLite refuses LIKE patterns beyond 50,000 bytes.
MAX_QUERY_CHARS = 10_000


@dataclass(frozen=True, kw_only=True)
class ArgSpec:
    """One argument of an action: its name, Python type, meaning and whether it is required."""

    name: str
    type: type
    description: str
    required: bool = True
    max_chars: int = MAX_TEXT_CHARS  # for text arguments


@dataclass(frozen=True, kw_only=True)
class ActionSpec:
    """An action's arguments, its description and whether successes are traced."""

    action: ActionType
    description: str
    args: tuple[ArgSpec, ...] = ()
    traced: bool = True

    def __post_init__(self) -> None:
        # Validation runs on every action: keep what it needs precomputed.
        object.__setattr__(self, "_name", self.action.value)
        object.__setattr__(self, "_known", frozenset(a.name for a in self.args))

    def validate(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Return the arguments coerced to their declared types, or raise ArgumentError.

        Ids may arrive as digit strings (LLMs send them); booleans and floats are not ints.
        """
        name: str = self._name  # type: ignore[attr-defined]
        known: frozenset[str] = self._known  # type: ignore[attr-defined]
        for key in given:
            if key not in known:
                expected = ", ".join(sorted(known)) or "no arguments"
                raise ArgumentError(
                    f"Unexpected argument {shorten(key)} for {name} (expected: {expected})."
                )
        out: dict[str, Any] = {}
        for arg in self.args:
            if arg.name not in given or given[arg.name] is None:
                if arg.required:
                    raise ArgumentError(f"Missing argument '{arg.name}' for {name}.")
                continue
            out[arg.name] = _coerce(name, arg, given[arg.name])
        return out


def to_int(value: Any) -> int | None:
    """`value` as an integer: an int, a digit string (LLMs send "12") or a numpy integer;
    None for anything else (booleans, floats, signs, spaces, non-ASCII digits).

    Python refuses to parse more than 4,300 digits and 20 already exceed 64 bits, so longer
    digit strings give INT64_MAX + 1, which every 64-bit range check refuses.
    """
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        digits = value.lstrip("0")
        return int(digits or "0") if len(digits) <= 20 else INT64_MAX + 1
    if not isinstance(value, (bool, float, str)) and hasattr(value, "__index__"):
        return int(value.__index__())  # numpy integers
    return None


def _coerce(action: str, arg: ArgSpec, value: Any) -> Any:
    if arg.type is int:
        number = to_int(value)
        if number is None:
            raise ArgumentError(
                f"Argument '{arg.name}' of {action} must be an integer, got {shorten(value)}."
            )
        if not -INT64_MAX - 1 <= number <= INT64_MAX:
            raise ArgumentError(
                f"Argument '{arg.name}' of {action} must be a 64-bit integer, got {shorten(value)}."
            )
        return number
    if isinstance(value, str):
        if len(value) > arg.max_chars:
            raise ArgumentError(
                f"Argument '{arg.name}' of {action} must be at most {arg.max_chars:,} characters, "
                f"got {len(value):,}."
            )
        if not encodable(value):
            raise ArgumentError(
                f"Argument '{arg.name}' of {action} must be valid Unicode text "
                f"(it contains a lone surrogate), got {shorten(value)}."
            )
        return value
    raise ArgumentError(
        f"Argument '{arg.name}' of {action} must be a string, got {shorten(value)}."
    )


def shorten(value: Any, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters: errors quote values, not megabytes.

    repr escapes lone surrogates and control characters, so the message is storable text.
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def encodable(text: str) -> bool:
    """False for text with lone surrogates (JSON can carry them; SQLite's UTF-8 cannot)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _post(desc: str = "Id of the post.") -> ArgSpec:
    return ArgSpec(name="post_id", type=int, description=desc)


def _comment(desc: str = "Id of the comment.") -> ArgSpec:
    return ArgSpec(name="comment_id", type=int, description=desc)


def _user(name: str, desc: str) -> ArgSpec:
    return ArgSpec(name=name, type=int, description=desc)


def _text(name: str, desc: str, required: bool = True) -> ArgSpec:
    return ArgSpec(name=name, type=str, description=desc, required=required)


def _query() -> ArgSpec:
    return ArgSpec(name="query", type=str, description="Text to look for.",
                   max_chars=MAX_QUERY_CHARS)


def _group() -> ArgSpec:
    return ArgSpec(name="group_id", type=int, description="Id of the group.")


_A = ActionType
ACTION_SPECS: dict[ActionType, ActionSpec] = {
    s.action: s
    for s in (
        ActionSpec(
            action=_A.SIGNUP,
            description="Create the agent's account.",
            args=(
                _text("user_name", "Unique handle of the user."),
                _text("name", "Display name."),
                _text("bio", "Profile text."),
            ),
        ),
        ActionSpec(
            action=_A.CREATE_POST,
            description="Publish a new post.",
            args=(_text("content", "Text of the post."),),
        ),
        ActionSpec(
            action=_A.REPOST,
            description="Share a post unchanged with your followers.",
            args=(_post("Id of the post to repost."),),
        ),
        ActionSpec(
            action=_A.QUOTE_POST,
            description="Share a post with your own comment on top.",
            args=(_post("Id of the post to quote."), _text("quote_content", "Your comment.")),
        ),
        ActionSpec(action=_A.LIKE_POST, description="Like a post.", args=(_post(),)),
        ActionSpec(action=_A.UNLIKE_POST, description="Remove your like.", args=(_post(),)),
        ActionSpec(action=_A.DISLIKE_POST, description="Dislike a post.", args=(_post(),)),
        ActionSpec(
            action=_A.UNDO_DISLIKE_POST, description="Remove your dislike.", args=(_post(),)
        ),
        ActionSpec(
            action=_A.CREATE_COMMENT,
            description="Comment on a post.",
            args=(_post("Id of the post to comment on."), _text("content", "Comment text.")),
        ),
        ActionSpec(action=_A.LIKE_COMMENT, description="Like a comment.", args=(_comment(),)),
        ActionSpec(
            action=_A.UNLIKE_COMMENT, description="Remove your comment like.", args=(_comment(),)
        ),
        ActionSpec(
            action=_A.DISLIKE_COMMENT, description="Dislike a comment.", args=(_comment(),)
        ),
        ActionSpec(
            action=_A.UNDO_DISLIKE_COMMENT,
            description="Remove your comment dislike.",
            args=(_comment(),),
        ),
        ActionSpec(
            action=_A.FOLLOW,
            description="Follow a user.",
            args=(_user("followee_id", "Id of the user to follow."),),
        ),
        ActionSpec(
            action=_A.UNFOLLOW,
            description="Stop following a user.",
            args=(_user("followee_id", "Id of the user to unfollow."),),
        ),
        ActionSpec(
            action=_A.MUTE,
            description="Hide a user's posts from your feed.",
            args=(_user("mutee_id", "Id of the user to mute."),),
        ),
        ActionSpec(
            action=_A.UNMUTE,
            description="Show a muted user's posts again.",
            args=(_user("mutee_id", "Id of the user to unmute."),),
        ),
        ActionSpec(
            action=_A.SEARCH_POSTS,
            description="Find posts by content, post id or author id.",
            args=(_query(),),
        ),
        ActionSpec(
            action=_A.SEARCH_USER,
            description="Find users by name, handle, bio or id.",
            args=(_query(),),
        ),
        ActionSpec(action=_A.TREND, description="See the most liked recent posts."),
        ActionSpec(action=_A.REFRESH, description="See your recommended feed."),
        ActionSpec(action=_A.DO_NOTHING, description="Do nothing this time."),
        ActionSpec(
            action=_A.REPORT_POST,
            description="Report a post as harmful or false.",
            args=(_post("Id of the post to report."), _text("report_reason", "Why.")),
        ),
        ActionSpec(
            action=_A.PURCHASE_PRODUCT,
            description="Buy a product.",
            args=(
                _text("product_name", "Name of the product."),
                ArgSpec(name="purchase_num", type=int, description="How many to buy (> 0)."),
            ),
        ),
        ActionSpec(
            action=_A.CREATE_GROUP,
            description="Create a chat group and join it.",
            args=(_text("group_name", "Name of the group."),),
        ),
        ActionSpec(action=_A.JOIN_GROUP, description="Join a chat group.", args=(_group(),)),
        ActionSpec(action=_A.LEAVE_GROUP, description="Leave a chat group.", args=(_group(),)),
        ActionSpec(
            action=_A.SEND_TO_GROUP,
            description="Send a message to a group you are in.",
            args=(_group(), _text("message", "Message text.")),
        ),
        ActionSpec(
            action=_A.LISTEN_FROM_GROUP,
            description="Read the groups and the messages of the groups you are in.",
            traced=False,
        ),
        ActionSpec(
            action=_A.INTERVIEW,
            description="Answer a researcher's question (recorded, invisible to others).",
            args=(
                _text("prompt", "The question asked."),
                _text("response", "The agent's answer.", required=False),
            ),
        ),
    )
}

_BY_VALUE = {a.value: a for a in ActionType}


def parse_action(action: ActionType | str) -> ActionType:
    """Accept an ActionType or its string value; raise ArgumentError naming an unknown one."""
    if isinstance(action, ActionType):
        return action
    if isinstance(action, str) and action in _BY_VALUE:
        return _BY_VALUE[action]
    raise ArgumentError(f"Unknown action {shorten(action)}.")
