"""`/timeline`: record what happened and when, or list the timeline."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks, slackio
from bot.deps import Deps
from bot.domain import MILESTONE_KINDS, TimelineEntry, new_order_problems
from bot.parsing import UsageError, needs_user_timezone, parse_timeline
from bot.users import SlackUnavailable


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
        parsed = parse_timeline(text, now=deps.clock(), tz=zone)
    except UsageError as exc:
        ack(text=str(exc))
        return
    milestone = parsed.kind in MILESTONE_KINDS
    before = deps.store.timeline.for_incident(incident_id=incident.id) if milestone else []
    trigger_id = command.get("trigger_id")
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
        context["recorded_entry"] = entry
        if milestone:
            after = deps.store.timeline.for_incident(incident_id=incident.id)
            context["order_warnings"] = new_order_problems(incident, before, after)
    ack()


def user_zone(deps: Deps, client: WebClient, user_id: str) -> tzinfo:
    """The caller's timezone for a time typed without one, asked of Slack before the ack."""
    try:
        return deps.users.require(client, user_id, before_ack=True).zone
    except SlackUnavailable as exc:
        raise UsageError(
            "Slack didn't tell me your timezone just now, so I can't place a time without "
            "one: add the zone, as in `/timeline 14:05 UTC detected alert fired`, or try again."
        ) from exc


def post_reply(
    command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """After the ack: show the team the entry as recorded, in UTC and the author's zone."""
    entry: TimelineEntry | None = context.get("recorded_entry")
    if entry is None:
        return
    tz_name = deps.users.get(client, command["user_id"]).tz
    text = blocks.entry_recorded_text(entry, tz_name)
    for problem in context.get("order_warnings") or []:
        text += f"\n⚠️ Out of order: {problem}. Check the times."
    slackio.post_or_queue(
        client, deps.store, channel=command["channel_id"], text=text, now=deps.clock()
    )


def register(app: App) -> None:
    app.command("/timeline")(ack=handle_timeline, lazy=[post_reply])
