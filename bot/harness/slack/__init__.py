"""The fake Slack: one stand-in for Slack's Web API on 127.0.0.1, for the shell, the demo, the
tests and the benchmarks.

- :mod:`.server`: :class:`SlackStandIn`, the HTTP server, call recording and fault injection;
- :mod:`.methods`: the Web API methods it answers, with Slack's errors;
- :mod:`.state`: the workspace (users, channels, messages, pins, files) and its observers;
- :mod:`.objects`: the JSON objects Slack answers with, and Block Kit validation.
"""

from bot.harness.slack.server import RESPONSE_URL_METHOD, UPLOAD_METHOD, SlackStandIn
from bot.harness.slack.state import ApiError, Call, Observer, Seen, Upload

__all__ = [
    "RESPONSE_URL_METHOD",
    "UPLOAD_METHOD",
    "ApiError",
    "Call",
    "Observer",
    "Seen",
    "SlackStandIn",
    "Upload",
]
