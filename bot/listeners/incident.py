"""`/incident`: declare an incident and open (or adopt) its channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, slackio
from bot.deps import Deps
from bot.domain import Incident, is_incident_channel_name
from bot.parsing import (
    INCIDENT_SUBCOMMANDS,
    START_USAGE,
    UsageError,
    parse_start,
    split_subcommand,
    unknown_subcommand,
)

log = logging.getLogger(__name__)


def handle_incident(ack: Ack, command: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    """Ack at once: help, an error sentence, or the declared incident."""
    subcommand, args = split_subcommand(command.get("text", ""), INCIDENT_SUBCOMMANDS)
    if subcommand == "help":
        ack(text=blocks.help_text())
        return
    if subcommand != "start":
        ack(
            text=str(unknown_subcommand(subcommand, "/incident", INCIDENT_SUBCOMMANDS, START_USAGE))
        )
        return
    try:
        start = parse_start(args)
    except UsageError as exc:
        ack(text=str(exc))
        return
    channel_id, channel_name = command.get("channel_id"), command.get("channel_name")
    existing = deps.store.incident_for_channel(channel_id=channel_id) if channel_id else None
    if existing is not None and existing.is_active:
        ack(text=blocks.already_active_text(existing))
        return
    adopt = is_incident_channel_name(channel_name)
    incident, created = deps.store.create_incident(
        title=start.title,
        severity=start.severity,
        commander_id=command["user_id"],
        started_at=deps.clock(),
        channel_id=channel_id if adopt else None,
        channel_name=channel_name if adopt else None,
        request_key=f"cmd:{command.get('trigger_id') or ''}" if command.get("trigger_id") else None,
    )
    if created:
        context["declared_incident"] = incident
    ack(text=blocks.declared_text(incident, creating_channel=not adopt))


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
            deps.store.set_incident_channel(
                incident_id=incident.id, channel_id=channel_id, channel_name=channel_name
            )
        else:
            channel_id = incident.channel_id
            slackio.join_channel(client, channel_id)
        slackio.invite(client, channel_id, command["user_id"])
        intro_ts = slackio.announce(client, incident, channel_id)
        deps.store.set_intro(incident_id=incident.id, intro_ts=intro_ts)
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
    app.command("/incident")(ack=handle_incident, lazy=[set_up_channel])
