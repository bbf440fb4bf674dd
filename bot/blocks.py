"""Block Kit and message text from pure builders: functions returning data, no I/O."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import Incident, TimelineEntry, status_label
from bot.parsing import POSTMORTEM_USAGE, START_USAGE, TIMELINE_USAGE

TOPIC_LIMIT = 250


def topic(incident: Incident) -> str:
    """The channel topic: title · severity · status, within Slack's 250 characters."""
    suffix = f" · {incident.severity} · {status_label(incident.status)}"
    title = incident.title
    if len(title) + len(suffix) > TOPIC_LIMIT:
        title = title[: TOPIC_LIMIT - len(suffix) - 1] + "…"
    return title + suffix


def intro_blocks(incident: Incident) -> list[dict[str, Any]]:
    """The pinned intro message of an incident channel."""
    return [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"🚨 {incident.id}", "emoji": True},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{incident.title}*"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Severity*\n{incident.severity}"},
                {"type": "mrkdwn", "text": f"*Status*\n{status_label(incident.status)}"},
                {"type": "mrkdwn", "text": f"*Commander*\n<@{incident.commander_id}>"},
                {"type": "mrkdwn", "text": f"*Incident ID*\n`{incident.id}`"},
            ],
        },
        {"type": "divider"},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "*Build the timeline as you go*\n"
                    "• `/timeline [time] [kind] what happened`, e.g. "
                    "`/timeline 14:05 detected alert fired`\n"
                    "• Pin any message in this channel to add it to the timeline\n"
                    "• `/postmortem draft` posts the post-mortem filled in so far"
                ),
            },
        },
    ]


def intro_text(incident: Incident) -> str:
    """The notification text that goes with the intro blocks."""
    return f"🚨 {incident.id} ({incident.severity}): {incident.title}"


def declared_text(incident: Incident, *, creating_channel: bool) -> str:
    """The immediate answer to `/incident start`."""
    where = (
        f"Opening #{incident.id.lower()} for it now."
        if creating_channel
        else "This channel is its incident channel."
    )
    return f"🚨 Declared *{incident.id}* ({incident.severity}): {incident.title}. {where}"


def format_entry_time(entry: TimelineEntry, tz_name: str | None = None) -> str:
    """``14:05 UTC`` and, for a user elsewhere, ``(15:05 Europe/Berlin)``."""
    utc = entry.at.strftime("%Y-%m-%d %H:%M UTC")
    if not tz_name or tz_name in ("UTC", "Etc/UTC", "GMT"):
        return utc
    local = entry.at.astimezone(ZoneInfo(tz_name)).strftime("%H:%M")
    return f"{utc} ({local} {tz_name})"


def entry_recorded_text(entry: TimelineEntry, tz_name: str | None = None) -> str:
    """The channel reply to a new timeline entry, showing the time as stored."""
    text = entry.text or "—"
    return (
        f"🕒 Timeline · *{entry.kind_info.label}* at {format_entry_time(entry, tz_name)} "
        f"by <@{entry.actor_id}>: {text}"
    )


def timeline_listing(incident: Incident, entries: list[TimelineEntry]) -> str:
    """The ephemeral answer to `/timeline` with no text."""
    if not entries:
        return (
            f"The timeline of {incident.id} is empty. Add to it with {TIMELINE_USAGE}, "
            "or pin a message."
        )
    lines = [f"*Timeline of {incident.id}* ({len(entries)} entries, times in UTC)"]
    for entry in entries:
        who = f"<@{entry.actor_id}>" if entry.actor_id else (entry.actor_name or "System")
        text = entry.text.replace("\n", " ")
        if len(text) > 200:
            text = text[:199] + "…"
        lines.append(f"• `{entry.at:%Y-%m-%d %H:%M}` *{entry.kind_info.label}* · {who}: {text}")
    return "\n".join(lines[:101] + ([f"…and {len(lines) - 101} more"] if len(lines) > 101 else []))


def help_text() -> str:
    """`/incident help`: every command, as the README's command reference lists them."""
    return "\n".join(
        [
            "*incident-bot commands*",
            f"• {START_USAGE}: declare an incident and open its channel "
            "(inside an empty `#incident-…` channel, adopt that channel).",
            f"• {TIMELINE_USAGE}: record what happened, in an incident channel.",
            "  KIND is one of trigger, detected, acknowledged, assessed, declared, mitigated, "
            "hypothesis, escalated, finding, fixed, monitoring, resolved, communicated "
            "(aliases: alert, ack, mitigation, fix, …); anything else is a note.",
            "• `/timeline` with no text: show the timeline.",
            "• Pin a message in an incident channel: it joins the timeline; unpin to remove it.",
            f"• {POSTMORTEM_USAGE}: post the post-mortem filled in with everything known so far.",
            "• `/incident help`: this list.",
        ]
    )


def not_incident_channel_text(command: str) -> str:
    return (
        f"`{command}` works in an incident channel: run it in an `#incident-…` channel, "
        f"or declare one with {START_USAGE}."
    )


def already_active_text(incident: Incident) -> str:
    return (
        f"This channel already has an active incident, {incident.id} ({incident.title}): "
        f"record events with {TIMELINE_USAGE}, or run {START_USAGE} in another channel."
    )
