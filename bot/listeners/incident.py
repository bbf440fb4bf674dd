"""`/incident`: declare an incident and open (or adopt) its channel."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, lifecycle, slackio
from bot.deps import Deps
from bot.domain import Incident, is_incident_channel_name
from bot.listeners.timeline import user_zone
from bot.parsing import (
    INCIDENT_SUBCOMMANDS,
    START_USAGE,
    UsageError,
    needs_user_timezone,
    parse_start,
    split_subcommand,
    unknown_subcommand,
)

log = logging.getLogger(__name__)


def handle_incident(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Ack at once: help, an error sentence, the declared incident, or the change made."""
    subcommand, args = split_subcommand(command.get("text", ""), INCIDENT_SUBCOMMANDS)
    try:
        if subcommand == "help":
            ack(text=blocks.help_text())
        elif subcommand == "start":
            _start(ack, command, context, args, deps)
        elif subcommand == "list":
            ack(
                text=blocks.incident_listing(deps.store.incidents.all(open_only=True), deps.clock())
            )
        elif subcommand in INCIDENT_SUBCOMMANDS:
            _change(ack, command, context, client, subcommand, args, deps)
        else:
            usage = f"{START_USAGE}, or `/incident help` for every command"
            raise unknown_subcommand(subcommand, "/incident", INCIDENT_SUBCOMMANDS, usage)
    except UsageError as exc:
        ack(text=str(exc))


def _start(ack: Ack, command: dict[str, Any], context: BoltContext, args: str, deps: Deps) -> None:
    start = parse_start(args)
    channel_id, channel_name = command.get("channel_id"), command.get("channel_name")
    existing = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    if existing is not None and existing.is_active:
        ack(text=blocks.already_active_text(existing))
        return
    adopt = is_incident_channel_name(channel_name)
    trigger_id = command.get("trigger_id")
    incident, created = deps.store.incidents.create(
        title=start.title,
        severity=start.severity,
        commander_id=command["user_id"],
        started_at=deps.clock(),
        channel_id=channel_id if adopt else None,
        channel_name=channel_name if adopt else None,
        request_key=f"cmd:{trigger_id}" if trigger_id else None,
    )
    if created:
        context["declared_incident"] = incident
    ack(text=blocks.declared_text(incident, creating_channel=not adopt))


def _change(
    ack: Ack,
    command: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    subcommand: str,
    args: str,
    deps: Deps,
) -> None:
    """sev, status, resolve, role, set and show: they act on this channel's incident."""
    incident = deps.store.incidents.for_channel(channel_id=command.get("channel_id", ""))
    if incident is None:
        raise UsageError(blocks.not_incident_channel_text(f"/incident {subcommand}"))
    now, user_id = deps.clock(), command["user_id"]
    if subcommand == "show":
        ack(text=_summary(incident, now, deps))
        return
    if subcommand == "set":
        _set(ack, incident, args, user_id, now, client, deps)
        return
    change = lifecycle.plan_change(subcommand, incident, args, now)
    if not change.columns:
        ack(text=change.message)  # nothing changed: only the person who asked hears it
        return
    updated = deps.store.incidents.update(
        incident_id=incident.id, actor_id=user_id, now=now, entry=change.entry, **change.columns
    )
    for name, value in change.fields.items():
        updated = deps.store.incidents.set_field(
            incident_id=incident.id, name=name, value=value, actor_id=user_id, now=now
        )
    if change.refresh_channel:
        context["changed_incident"] = updated
    ack(text=change.message, response_type="in_channel")


def _summary(incident: Incident, now: datetime, deps: Deps) -> str:
    entries = deps.store.timeline.for_incident(incident_id=incident.id)
    items = deps.store.items.for_incident(incident_id=incident.id)
    return blocks.incident_summary(incident, entries, items, now)


def _set(
    ack: Ack,
    incident: Incident,
    args: str,
    user_id: str,
    now: datetime,
    client: WebClient,
    deps: Deps,
) -> None:
    """``/incident set``: a time typed without a zone is read in the caller's, asked of Slack
    only when the value needs it."""
    value = args.strip().partition(" ")[2]
    zone = user_zone(deps, client, user_id) if needs_user_timezone(value) else UTC
    name, value = lifecycle.parse_field(args, now=now, tz=zone)
    deps.store.incidents.set_field(
        incident_id=incident.id, name=name, value=value, actor_id=user_id, now=now
    )
    ack(text=f"📝 {incident.id}: {name} set by <@{user_id}>.", response_type="in_channel")


def refresh_channel(context: BoltContext, client: WebClient) -> None:
    """After the ack: the topic and the pinned intro show the incident as it is now."""
    incident: Incident | None = context.get("changed_incident")
    if incident is None or incident.channel_id is None:
        return
    slackio.refresh(client, incident)


def set_up_channel(
    command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond, deps: Deps
) -> None:
    """After the ack: open or join the channel, invite, set the topic, post and pin the intro."""
    incident: Incident | None = context.get("declared_incident")
    if incident is None:
        return
    try:
        if incident.channel_id is None:
            channel_id, channel_name = slackio.create_incident_channel(client, incident)
            deps.store.incidents.set_channel(
                incident_id=incident.id, channel_id=channel_id, channel_name=channel_name
            )
        else:
            channel_id = incident.channel_id
            slackio.join_channel(client, channel_id)
        slackio.invite(client, channel_id, command["user_id"])
        intro_ts = slackio.announce(client, incident, channel_id)
        deps.store.incidents.set_intro(incident_id=incident.id, intro_ts=intro_ts)
    except SlackApiError as exc:
        log.error("Setting up the channel of %s failed: %s", incident.id, slackio.slack_error(exc))
        respond(
            text=(
                f"{incident.id} is recorded, but Slack refused to set up its channel "
                f"({slackio.slack_error(exc)}): create an `#incident-…` channel, invite me, "
                f"and run {START_USAGE} there to adopt it."
            )
        )


def register(app: App) -> None:
    app.command("/incident")(ack=handle_incident, lazy=[set_up_channel, refresh_channel])
