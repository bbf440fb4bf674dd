"""`/timeline`: record what happened and when, or list the timeline."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks
from bot.deps import Deps
from bot.domain import MILESTONE_KINDS, new_order_problems
from bot.jobs import run_after_ack
from bot.parsing import MAX_TEXT, UsageError, needs_user_timezone, parse_timeline
from bot.users import SlackUnavailable
from bot.work import replies


def handle_timeline(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Store the entry before the ack, so that an acknowledged entry is never lost."""
    incident = deps.store.incidents.for_channel(channel_id=command.get("channel_id", ""))
    if incident is None:
        ack(text=blocks.not_incident_channel_text("/timeline"))
        return
    text = command.get("text", "")
    if not text.strip():
        ack(
            text=blocks.timeline_listing(
                incident, deps.store.timeline.for_incident(incident_id=incident.id)
            )
        )
        return
    user_id = command["user_id"]
    try:
        zone = user_zone(deps, client, user_id) if needs_user_timezone(text) else UTC
        parsed = parse_timeline(text, now=deps.clock(), tz=zone, severity=incident.severity)
    except UsageError as exc:
        ack(text=str(exc))
        return
    milestone = parsed.kind in MILESTONE_KINDS
    before = deps.store.timeline.for_incident(incident_id=incident.id) if milestone else []
    trigger_id = command.get("trigger_id")
    note = cut_note(text, parsed.text)
    # The echo goes in the ack itself when nothing more is needed from Slack: the author's
    # zone is cached, and there is no private note to the author (a cut text) to send.
    author = None if note else deps.users.known(user_id)
    job_id: int | None = None
    with deps.store.transaction():
        entry, created = deps.store.timeline.add(
            incident_id=incident.id,
            at=parsed.at,
            kind=parsed.kind,
            text=parsed.text,
            actor_id=user_id,
            actor_name=command.get("user_name"),
            source="command",
            now=deps.clock(),
            source_key=f"cmd:{trigger_id}" if trigger_id else None,
        )
        if created:
            after = deps.store.timeline.for_incident(incident_id=incident.id) if milestone else []
            warnings = new_order_problems(incident, before, after) if milestone else []
            if author is None:
                job_id = replies.add_timeline_reply(
                    deps.store, entry, channel=command["channel_id"], user_id=user_id,
                    warnings=warnings, now=deps.clock(),
                )  # fmt: skip
    if job_id is not None:
        run_after_ack(context, job_id)  # committed now, so the pool can claim it
    if created and author is not None:
        # Slack shows the command as typed above this answer, then the entry as stored.
        echo = replies.timeline_echo(entry, author.tz, deps.clock(), warnings)
        ack(response_type="in_channel", text=echo)
        return
    ack(text=note)  # empty unless the text was cut: a bare ack


def cut_note(typed: str, stored: str) -> str:
    """The sentence for a text cut at the length limit (``clean_text``'s MAX_TEXT), or ''."""
    if not stored.endswith("…") or len(typed) <= MAX_TEXT:
        return ""
    return (
        f"Recorded, but cut to {MAX_TEXT} characters (the limit of one entry): "
        "add the rest as another `/timeline` line."
    )


def user_zone(deps: Deps, client: WebClient, user_id: str) -> tzinfo:
    """The caller's timezone for a time typed without one, asked of Slack before the ack."""
    try:
        return deps.users.require(client, user_id, before_ack=True).zone
    except SlackUnavailable as exc:
        raise UsageError(
            "Slack didn't tell me your timezone just now, so I can't place a time without "
            "one: add the zone, as in `/timeline 14:05 UTC detected alert fired`, or try again."
        ) from exc


def register(app: App) -> None:
    # No lazy listener: the rare reply job is handed to the pool by ``run_after_ack``.
    app.command("/timeline")(handle_timeline)
