"""Pure parsing of what responders type: command grammar, times, zones, durations, kinds and
Slack's event shapes. Every failure is a ``UsageError`` whose message is one sentence that
shows the right syntax. Callers import from ``bot.parsing``; the modules are the grammar's
parts (README "TIME, KIND and DURATION").
"""

from bot.parsing.commands import (
    ALERT_SOURCES,
    INCIDENT_SUBCOMMANDS,
    LINK_USAGE,
    POSTMORTEM_SUBCOMMANDS,
    POSTMORTEM_USAGE,
    REVIEW_SUBCOMMANDS,
    REVIEW_USAGE,
    START_USAGE,
    LinkInput,
    ReviewCommand,
    StartInput,
    TimelineInput,
    parse_kind,
    parse_link,
    parse_review,
    parse_start,
    parse_timeline,
    split_subcommand,
    unknown_subcommand,
)
from bot.parsing.durations import DURATION_EXAMPLES, parse_duration
from bot.parsing.messages import *  # noqa: F403  (pins, captures, reactions, edits)
from bot.parsing.messages import __all__ as _messages_all
from bot.parsing.text import MAX_TEXT, UsageError, clean_text, mentioned_user_ids, slack_to_text
from bot.parsing.times import (
    AHEAD_LIMIT,
    FUTURE_TOLERANCE,
    TIMELINE_USAGE,
    ParsedTime,
    echo_time,
    needs_user_timezone,
    parse_leading_time,
)

__all__ = [
    "ALERT_SOURCES", "LINK_USAGE", "LinkInput", "parse_link",
    "AHEAD_LIMIT", "DURATION_EXAMPLES", "FUTURE_TOLERANCE", "INCIDENT_SUBCOMMANDS", "MAX_TEXT",
    "POSTMORTEM_SUBCOMMANDS", "POSTMORTEM_USAGE", "REVIEW_SUBCOMMANDS", "REVIEW_USAGE",
    "ReviewCommand", "START_USAGE", "TIMELINE_USAGE", "ParsedTime",
    "StartInput", "TimelineInput", "UsageError", "clean_text", "echo_time", "mentioned_user_ids",
    "needs_user_timezone", "parse_duration", "parse_kind", "parse_leading_time", "parse_review",
    "parse_start",
    "parse_timeline", "slack_to_text", "split_subcommand", "unknown_subcommand", *_messages_all,
]  # fmt: skip
