"""Pure parsing of what responders type: command grammar, times, kinds and Slack mrkdwn.

Every failure is a ``UsageError`` whose message is one sentence that shows the right syntax.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from dateutil import parser as date_parser

from bot.domain import DEFAULT_SEVERITY, KIND_ALIASES, normalize_severity
from bot.safety import quiet_mentions, strip_bidi

MAX_TEXT = 3000


class UsageError(ValueError):
    """Bad input: ``str(error)`` is the sentence to show the user."""


TIMELINE_USAGE = (
    "`/timeline [TIME] [KIND] &lt;what happened&gt;`, e.g. `/timeline 14:05 detected alert fired` "
    "(TIME: `14:05`, `at 14:05`, `2026-11-27 14:05`, `14:05 UTC`, `10m ago`, `2h ago`)"
)
START_USAGE = (
    "`/incident start [sev1|sev2|sev3|sev4] &lt;title&gt;`, "
    "e.g. `/incident start sev2 Checkout API returning 500s`"
)
POSTMORTEM_USAGE = "`/postmortem draft` or `/postmortem status`"

INCIDENT_SUBCOMMANDS = (
    "start", "sev", "status", "resolve", "role", "set", "show", "list", "help",
)  # fmt: skip
POSTMORTEM_SUBCOMMANDS = ("draft", "status", "help")


# --- Slack text ---------------------------------------------------------------------------

_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def slack_to_text(text: str, user_names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn to readable text: ``<@U1>`` → ``@name``, ``<url|label>`` → ``label (url)``."""
    names = user_names or {}

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (names.get(user_id) or label or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!date^"):
            return label or target.split("^")[1]
        if target.startswith("!subteam^"):
            return "@" + (label.lstrip("@") if label else target[len("!subteam^") :])
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            return "@" + (label.lstrip("@") if label else special)
        if label and label != target and label not in target:
            return f"{label} ({target})"
        return target.removeprefix("mailto:")

    return html.unescape(_LINK.sub(replace, text))


def mentioned_user_ids(text: str) -> list[str]:
    """User IDs mentioned as ``<@U…>`` or ``<@U…|name>``, in order."""
    return re.findall(r"<@([A-Z0-9_]+)(?:\|[^>]*)?>", text)


def clean_text(text: str) -> str:
    """Trim, drop control characters other than newlines and tabs and bidirectional
    overrides, quiet group mentions and lying links, and cap the length: every stored text
    passes here, so whatever the bot later repeats of it cannot notify a whole channel."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    kept = quiet_mentions(strip_bidi(kept)).strip()
    return kept if len(kept) <= MAX_TEXT else kept[: MAX_TEXT - 1] + "…"


# --- Times ------------------------------------------------------------------------------

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AGO = re.compile(
    r"^((?:\d+\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*)+)ago\b",
    re.IGNORECASE,
)
_AGO_PART = re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)
_ZONE = r"(?:\s*(?P<zone>utc|gmt|z|[+-]\d{2}:?\d{2}))?"
_DATE_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ tT](?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"
    + _ZONE
    + r"\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?" + _ZONE + r"(?=\s|$)", re.I)
_LOOKS_LIKE_TIME = re.compile(r"^(?:\d{1,2}:\d|\d{4}-\d{2}-\d{2}|\d+\s*[a-z]*\s+ago\b)", re.I)

# A little slack for clocks that disagree: "14:05" typed at 14:04:50 is not the future.
FUTURE_TOLERANCE = timedelta(minutes=2)


@dataclass(frozen=True)
class ParsedTime:
    """A time read from the start of a command, and the rest of the text."""

    at: datetime
    rest: str
    explicit: bool
    zone_given: bool


def _zone_of(word: str | None, fallback: tzinfo) -> tzinfo:
    if not word or word.lower() in ("utc", "gmt", "z"):
        return UTC if word else fallback
    return date_parser.parse("2000-01-01T00:00" + word).tzinfo or UTC


def parse_leading_time(text: str, *, now: datetime, tz: tzinfo) -> ParsedTime:
    """Read an optional time at the start of ``text`` (see ``_parse_leading_time``); a time
    that cannot exist (a huge offset, a year out of range) is a ``UsageError``."""
    try:
        return _parse_leading_time(text, now=now, tz=tz)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, UsageError):
            raise
        first = text.strip().split()[0] if text.strip() else text
        raise UsageError(_bad_time(first)) from exc


def _parse_leading_time(text: str, *, now: datetime, tz: tzinfo) -> ParsedTime:
    """Read an optional time at the start of ``text``; without one the time is ``now``.

    A time without a zone is in ``tz``; a time without a date is the most recent such moment
    that is not in the future. The result is in UTC.
    """
    now = now.astimezone(UTC)
    stripped = text.strip()
    body = re.sub(r"^at\s+", "", stripped, flags=re.IGNORECASE)
    said_at = body != stripped

    if match := _AGO.match(body):
        seconds = sum(
            int(n) * _UNIT_SECONDS[unit[0].lower()] for n, unit in _AGO_PART.findall(match.group(1))
        )
        return ParsedTime(now - timedelta(seconds=seconds), body[match.end() :].strip(), True, True)

    if match := _DATE_TIME.match(body):
        zone = _zone_of(match.group("zone"), tz)
        try:
            day = datetime.strptime(match.group("date"), "%Y-%m-%d").date()
            local = datetime(
                day.year, day.month, day.day, int(match.group("h")), int(match.group("m")),
                int(match.group("s") or 0), tzinfo=zone,
            )  # fmt: skip
        except ValueError as exc:
            raise UsageError(_bad_time(match.group(0))) from exc
        at = local.astimezone(UTC)
        if at > now + FUTURE_TOLERANCE:
            raise UsageError(
                f"{match.group(0).strip()} is in the future: give a time that has happened, "
                f"as in {TIMELINE_USAGE}."
            )
        rest = body[match.end() :].strip()
        return ParsedTime(at, rest, True, match.group("zone") is not None)

    if match := _CLOCK.match(body):
        hour, minute, second = (
            int(match.group("h")),
            int(match.group("m")),
            int(match.group("s") or 0),
        )
        if hour > 23 or minute > 59 or second > 59:
            raise UsageError(_bad_time(match.group(0)))
        zone = _zone_of(match.group("zone"), tz)
        today = now.astimezone(zone).date()
        # Both passes through a repeated hour, today and yesterday, compared as instants.
        candidates = [
            datetime(
                d.year, d.month, d.day, hour, minute, second, tzinfo=zone, fold=fold
            ).astimezone(UTC)
            for d in (today, today - timedelta(days=1), today - timedelta(days=2))
            for fold in (0, 1)
        ]
        at = max(c for c in candidates if c <= now + FUTURE_TOLERANCE)
        rest = body[match.end() :].strip()
        return ParsedTime(at, rest, True, match.group("zone") is not None)

    if said_at or _LOOKS_LIKE_TIME.match(body):
        first = body.split()[0] if body.split() else body
        raise UsageError(_bad_time(first))
    return ParsedTime(now, stripped, False, False)


def _bad_time(word: str) -> str:
    return f"I couldn't read the time `{word.strip()}`: use {TIMELINE_USAGE}."


def needs_user_timezone(text: str) -> bool:
    """Whether ``text`` starts with a time that has no zone (so the user's timezone matters)."""
    body = re.sub(r"^at\s+", "", text.strip(), flags=re.IGNORECASE)
    for pattern in (_DATE_TIME, _CLOCK):
        if match := pattern.match(body):
            return match.group("zone") is None
    return False


# --- /timeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineInput:
    at: datetime
    kind: str
    text: str
    time_given: bool


def parse_kind(word: str) -> str | None:
    """The canonical kind for a typed word (``ack`` → ``acknowledged``), or None."""
    return KIND_ALIASES.get(word.strip().rstrip(":").lower())


def parse_timeline(text: str, *, now: datetime, tz: tzinfo) -> TimelineInput:
    """``[TIME] [KIND] <text>`` → a timeline input; KIND defaults to ``note``."""
    parsed = parse_leading_time(clean_text(text), now=now, tz=tz)
    words = parsed.rest.split(maxsplit=1)
    kind = parse_kind(words[0]) if words else None
    body = (words[1] if len(words) > 1 else "") if kind else parsed.rest
    body = body.strip()
    if not body and not kind:
        raise UsageError(f"Say what happened after the time: {TIMELINE_USAGE}.")
    return TimelineInput(at=parsed.at, kind=kind or "note", text=body, time_given=parsed.explicit)


# --- /incident and /postmortem ----------------------------------------------------------


def split_subcommand(text: str, known: tuple[str, ...]) -> tuple[str, str]:
    """``"start sev2 title"`` → ``("start", "sev2 title")``; an empty text is ``help``."""
    stripped = text.strip()
    if not stripped:
        return "help", ""
    parts = stripped.split(maxsplit=1)
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


def unknown_subcommand(word: str, command: str, known: tuple[str, ...], usage: str) -> UsageError:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    hint = f" Did you mean `{command} {close[0]}`?" if close else ""
    return UsageError(f"`{command} {word}` isn't a command I know: use {usage}.{hint}")


@dataclass(frozen=True)
class StartInput:
    severity: str
    title: str


def parse_start(args: str) -> StartInput:
    """``[sevN] <title>`` → severity (default SEV3) and title."""
    cleaned = clean_text(args).replace("\n", " ")
    words = cleaned.split(maxsplit=1)
    if not words:
        raise UsageError(f"Give the incident a title: {START_USAGE}.")
    severity = normalize_severity(words[0])
    if severity is None and re.fullmatch(r"(?i)sev-?\d+", words[0]):
        raise UsageError(
            f"`{words[0]}` isn't a severity: use sev1, sev2, sev3 or sev4, as in {START_USAGE}."
        )
    title = (words[1] if len(words) > 1 else "") if severity else cleaned
    if not title.strip():
        raise UsageError(f"Give the incident a title: {START_USAGE}.")
    return StartInput(severity=severity or DEFAULT_SEVERITY, title=title.strip())


# --- pinned items -----------------------------------------------------------------------


@dataclass(frozen=True)
class PinnedItem:
    """What a ``pin_added`` / ``pin_removed`` item says, ready for the timeline."""

    source_key: str
    source: str  # "pin" (a message) or "file"
    at: datetime
    text: str
    actor_id: str | None
    actor_name: str | None
    permalink: str | None
    message_ts: str | None


def _epoch(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def pinned_item(channel_id: str, item: Mapping[str, object]) -> PinnedItem | None:
    """The timeline view of a pinned message or file; None for anything else or a broken item."""
    if not isinstance(item, Mapping):
        return None
    if item.get("type") == "message":
        message = captured_message(channel_id, item.get("message"))
        if message is None:
            return None
        return PinnedItem(
            source_key=message.key,
            source="pin",
            at=message.at,
            text=message.text,
            actor_id=message.actor_id,
            actor_name=message.actor_name,
            permalink=message.permalink,
            message_ts=message.ts,
        )
    if item.get("type") == "file" and isinstance(item.get("file"), Mapping):
        file = item["file"]
        assert isinstance(file, Mapping)
        file_id = str(file.get("id") or "")
        at = _epoch(file.get("created") or item.get("created"))
        if not file_id or at is None:
            return None
        user = file.get("user")
        return PinnedItem(
            source_key=f"file:{channel_id}:{file_id}",
            source="file",
            at=at,
            text=clean_text(str(file.get("title") or file.get("name") or file_id)),
            actor_id=str(user) if user else None,
            actor_name=None,
            permalink=str(file["permalink"]) if file.get("permalink") else None,
            message_ts=None,
        )
    return None


# --- captured messages: 📌 reactions, the "Add to timeline" shortcut, edits and deletions ---

CAPTURE_REACTION = "pushpin"  # 📌; ":round_pushpin:" (📍) is another emoji and is ignored


def message_key(channel_id: str, ts: str) -> str:
    """The entry key of a message on the timeline, however it was captured.

    It is the key pins have always used, so that a pin, a 📌 and the shortcut on the same
    message find the one entry and existing databases need no rewrite.
    """
    return f"pin:{channel_id}:{ts}"


@dataclass(frozen=True)
class CapturedMessage:
    """A Slack message as the timeline records it: its own time, author, text and link."""

    channel_id: str
    ts: str
    at: datetime
    text: str
    actor_id: str | None
    actor_name: str | None
    permalink: str | None
    version_ts: str  # the last edit's ts, else ts: a later version's text replaces an earlier one

    @property
    def key(self) -> str:
        return message_key(self.channel_id, self.ts)


def message_version(message: Mapping[str, object]) -> str:
    """The ts of the message's latest edit, or its own ts when it was never edited."""
    edited = message.get("edited")
    edited_ts = edited.get("ts") if isinstance(edited, Mapping) else None
    return str(edited_ts or message.get("ts") or "")


def captured_message(
    channel_id: str, message: object, permalink: str | None = None
) -> CapturedMessage | None:
    """The timeline view of a message from an event, a shortcut or ``conversations.history``;
    None for a broken one. ``permalink`` wins over one the message carries."""
    if not isinstance(message, Mapping) or not channel_id:
        return None
    ts = str(message.get("ts") or "")
    at = _epoch(ts)
    if at is None:
        return None
    text = str(message.get("text") or "")
    files = message.get("files")
    if not text and isinstance(files, list) and files and isinstance(files[0], Mapping):
        text = str(files[0].get("title") or files[0].get("name") or "")
    bot_profile = message.get("bot_profile")
    bot_name = bot_profile.get("name") if isinstance(bot_profile, Mapping) else None
    user = message.get("user")
    link = permalink or message.get("permalink")
    return CapturedMessage(
        channel_id=channel_id,
        ts=ts,
        at=at,
        text=clean_text(text),
        actor_id=str(user) if user else None,
        actor_name=str(message.get("username") or bot_name or "") or None,
        permalink=str(link) if link else None,
        version_ts=message_version(message),
    )


@dataclass(frozen=True)
class ReactionTarget:
    """The message a 📌 reaction was added to or removed from, and who reacted."""

    channel_id: str
    ts: str
    user_id: str

    @property
    def key(self) -> str:
        return message_key(self.channel_id, self.ts)


def pushpin_target(event: Mapping[str, object]) -> ReactionTarget | None:
    """The message of a ``reaction_added``/``reaction_removed`` with 📌; None for any other
    reaction, or a reaction to something that is not a message."""
    if event.get("reaction") != CAPTURE_REACTION:
        return None
    item = event.get("item")
    if not isinstance(item, Mapping) or item.get("type") != "message":
        return None
    channel_id, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if not channel_id or not ts or not user or _epoch(ts) is None:
        return None
    return ReactionTarget(channel_id=str(channel_id), ts=str(ts), user_id=str(user))


@dataclass(frozen=True)
class MessageChange:
    """What a ``message_changed`` or ``message_deleted`` event does to a message."""

    channel_id: str
    ts: str
    deleted: bool
    message: CapturedMessage | None  # the new version of an edited message

    @property
    def key(self) -> str:
        return message_key(self.channel_id, self.ts)


MESSAGE_CHANGE_SUBTYPES = frozenset({"message_changed", "message_deleted"})


def message_change(event: Mapping[str, object]) -> MessageChange | None:
    """An edit or a deletion; None for every other message event (the common case, so cheap).

    A deleted message that had thread replies stays as a ``tombstone``, which Slack announces
    as a ``message_changed``: that is a deletion too.
    """
    subtype = event.get("subtype")
    if subtype not in MESSAGE_CHANGE_SUBTYPES:
        return None
    channel_id = str(event.get("channel") or "")
    if subtype == "message_deleted":
        ts = str(event.get("deleted_ts") or "")
        if not channel_id or _epoch(ts) is None:
            return None
        return MessageChange(channel_id=channel_id, ts=ts, deleted=True, message=None)
    message = event.get("message")
    if not isinstance(message, Mapping):
        return None
    if message.get("subtype") == "tombstone":
        ts = str(message.get("ts") or "")
        if not channel_id or _epoch(ts) is None:
            return None
        return MessageChange(channel_id=channel_id, ts=ts, deleted=True, message=None)
    captured = captured_message(channel_id, message)
    if captured is None:
        return None
    return MessageChange(channel_id=channel_id, ts=captured.ts, deleted=False, message=captured)
