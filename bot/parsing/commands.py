"""The command grammar: `/timeline [TIME] [KIND] <text>`, subcommands, `/incident start` and
`/incident link`, `/postmortem review|approve|archive`."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.domain import (
    DEFAULT_SEVERITY,
    KIND_ALIASES,
    KINDS,
    default_entry_text,
    normalize_severity,
)
from bot.parsing.text import UsageError, clean_text
from bot.parsing.times import TIMELINE_USAGE, parse_leading_time
from bot.review.workflow import ROLES

START_USAGE = (
    "`/incident start [sev1|sev2|sev3|sev4] &lt;title&gt;`, "
    "e.g. `/incident start sev2 Checkout API returning 500s`"
)
POSTMORTEM_USAGE = "`/postmortem draft`, `/postmortem file` or `/postmortem status`"

INCIDENT_SUBCOMMANDS = (
    "start", "sev", "status", "resolve", "role", "set", "show", "list", "link", "help",
)  # fmt: skip
POSTMORTEM_SUBCOMMANDS = ("draft", "file", "status", "review", "approve", "archive", "help")

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


def parse_timeline(
    text: str, *, now: datetime, tz: tzinfo, severity: str = DEFAULT_SEVERITY
) -> TimelineInput:
    """``[TIME] [KIND] <text>`` → a timeline input; KIND defaults to ``note``.

    A canonical kind word (``detected``) is a tag and is consumed; an alias (``alert``,
    ``paged``, ``fix``) is a word of the sentence, so it picks the kind and stays in the text.
    A kind with no text gets the template's wording for its row."""
    parsed = parse_leading_time(clean_text(text), now=now, tz=tz)
    words = parsed.rest.split(maxsplit=1)
    kind = parse_kind(words[0]) if words else None
    consumed = kind is not None and words[0].rstrip(":").lower() in KINDS
    body = ((words[1] if len(words) > 1 else "") if consumed else parsed.rest).strip()
    if not body and not kind:
        raise UsageError(f"Say what happened after the time: {TIMELINE_USAGE}.")
    kind = kind or "note"
    if not body:
        body = default_entry_text(kind, severity)
    return TimelineInput(at=parsed.at, kind=kind, text=body, time_given=parsed.explicit)


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


# --- /incident link <source> <id or alert name> -----------------------------------------

ALERT_SOURCES = ("alertmanager", "grafana", "pagerduty", "opsgenie")
LINK_USAGE = (
    "Usage: `/incident link &lt;source&gt; &lt;id or alert name&gt;`, where source is "
    + ", ".join(ALERT_SOURCES)
    + ": a PagerDuty incident ID or URL, an Opsgenie alert ID or alias, or an alert name "
    "(e.g. `/incident link alertmanager HighErrorRate`)."
)
# PagerDuty shows incidents at https://<account>.pagerduty.com/incidents/<ID>.
_PAGERDUTY_URL = re.compile(r"https?://[^/\s]+/incidents/([A-Za-z0-9]+)")
MAX_LINK_KEY = 200


@dataclass(frozen=True)
class LinkInput:
    source: str
    key: str


def parse_link(args: str) -> LinkInput:
    """The arguments of ``/incident link``, or ``UsageError`` with the usage line."""
    words = args.strip().split(None, 1)
    if len(words) < 2:
        raise UsageError(LINK_USAGE)
    source, key = words[0].lower(), words[1].strip().strip("<>").strip()
    if source not in ALERT_SOURCES:
        raise UsageError(f"`{clean_text(words[0])[:40]}` is not an alert source. {LINK_USAGE}")
    if source == "pagerduty":
        url = _PAGERDUTY_URL.search(key)
        key = url.group(1) if url else key
    key = clean_text(key)
    if not key or len(key) > MAX_LINK_KEY:
        raise UsageError(LINK_USAGE)
    return LinkInput(source, key)


# --- /postmortem review, approve, archive ------------------------------------------------

REVIEW_USAGE = (
    "`/postmortem review @tech [@manager] [@director]` or "
    "`/postmortem review technical|management|final @user`"
)
REVIEW_SUBCOMMANDS = ("review", "approve", "archive")
_REVIEW_MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")
_ROLE_WORDS = {
    "technical": "technical",
    "tech": "technical",
    "management": "management",
    "manager": "management",
    "final": "final",
    "director": "final",
}


@dataclass(frozen=True)
class ReviewCommand:
    """``action`` is review, approve or archive; ``assignments`` pairs roles with user IDs
    (for ``approve``, the one line named: ``(role, "")`` or ``("", user ID)``)."""

    action: str
    assignments: tuple[tuple[str, str], ...] = ()


def _reviewer(word: str) -> str:
    match = _REVIEW_MENTION.fullmatch(word)
    if match is None:
        raise UsageError(
            f"`{word}` isn't a person I can ask: mention them with @, as in {REVIEW_USAGE}."
        )
    return match.group(1)


def parse_review(action: str, args: str) -> ReviewCommand:
    """``review <mentions>`` / ``review <role> <mention>`` / ``approve`` / ``archive``."""
    words = args.split()
    if action == "approve" and len(words) == 1:
        # `approve management` or `approve @carol`: the line meant, which must be one's own.
        role = _ROLE_WORDS.get(words[0].lower())
        if role is not None:
            return ReviewCommand(action, ((role, ""),))
        if _REVIEW_MENTION.fullmatch(words[0]):
            return ReviewCommand(action, (("", _reviewer(words[0])),))
    if action in ("approve", "archive"):
        if words:
            but = " but the line you sign (technical, management or final)"
            raise UsageError(
                f"`/postmortem {action}` takes nothing after it{but if action == 'approve' else ''}"
                ": it acts on this channel's post-mortem for you."
            )
        return ReviewCommand(action)
    if action != "review":
        raise UsageError(f"Use {REVIEW_USAGE}.")
    if not words:
        return ReviewCommand("review")  # ask the reviewers already named again
    role = _ROLE_WORDS.get(words[0].lower())
    if role is not None:
        if len(words) != 2:
            raise UsageError(f"Name one person for the {role} review: {REVIEW_USAGE}.")
        return ReviewCommand("review", ((role, _reviewer(words[1])),))
    if len(words) > len(ROLES):
        raise UsageError(f"Name at most three reviewers: {REVIEW_USAGE}.")
    users = [_reviewer(word) for word in words]
    if len(set(users)) != len(users):
        raise UsageError("Name a different person for each review: one person signs one line.")
    return ReviewCommand("review", tuple(zip(ROLES, users, strict=False)))
