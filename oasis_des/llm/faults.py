"""What can go wrong with an LLM call, by category.

Transport faults (timeouts, 429, 5xx, refused or dropped connections, unparseable bodies)
are retried with backoff; answer faults (no tool call, unknown tool, wrong arguments,
too long) are not, since asking again with the same request and seed gives the same answer.
Either way the agent does nothing this time, the failure is recorded, and the run goes on.
"""

from __future__ import annotations

TIMEOUT = "timeout"
RATE_LIMIT = "rate_limit"  # HTTP 429
SERVER_ERROR = "server_error"  # HTTP 5xx
CONNECTION = "connection"  # refused, reset or dropped connection
HTTP_ERROR = "http_error"  # other HTTP errors (400, 401, 404...): not retried
MALFORMED_RESPONSE = "malformed_response"  # body not JSON, or not a chat completion
EMPTY_CHOICES = "empty_choices"
NO_TOOL_CALL = "no_tool_call"  # neither a tool call nor an action in JSON text
UNKNOWN_TOOL = "unknown_tool"  # an action the agent is not allowed, or no action at all
BAD_ARGUMENTS = "bad_arguments"  # arguments not JSON, or wrong for the action
TOO_LONG = "too_long"  # longer than max_output_chars, or cut off by max_tokens
NO_ANSWER = "no_answer"  # an interview answer without text

RETRIED = frozenset({TIMEOUT, RATE_LIMIT, SERVER_ERROR, CONNECTION, MALFORMED_RESPONSE})
# Final faults of calls that got no answer, hence no token counts.
UNANSWERED = RETRIED | {HTTP_ERROR}


class LLMFault(Exception):
    """A failed call or unusable answer: a category and a deterministic detail.

    The detail never holds endpoint URLs or timings, because it is stored in the run's
    tables (the digest must not depend on which server answered or how fast).
    """

    def __init__(self, category: str, detail: str) -> None:
        super().__init__(f"llm {category}: {detail}")
        self.category = category
        self.detail = detail
