"""`/incident`: declare an incident and open (or adopt) its channel."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks, lifecycle, privacy
from bot.deps import Deps
from bot.domain import Incident, is_incident_channel_name
from bot.hooks import commands as alert_commands
from bot.jobs import promise, run_promised
from bot.listeners.timeline import user_zone
from bot.membership import REPLAYED, quick_client
from bot.parsing import (
    INCIDENT_SUBCOMMANDS,
    START_USAGE,
    UsageError,
    echo_time,
    needs_user_timezone,
    parse_link,
    parse_start,
    split_subcommand,
    unknown_subcommand,
)
from bot.work import channel

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
            _start(ack, command, context, client, args, deps)
        elif subcommand == "list":
            visible = privacy.visible_filter(
                deps.members, client, command["user_id"], before_ack=True
            )
            shown = [i for i in deps.store.incidents.all(open_only=True) if visible(i)]
            listing = blocks.incident_listing(shown, deps.clock())
            ack(text=alert_commands.with_unlinked(listing, deps))
        elif subcommand == "link":
            _link(ack, command, args, deps)
        elif subcommand in INCIDENT_SUBCOMMANDS:
            _change(ack, command, context, client, subcommand, args, deps)
        else:
            usage = f"{START_USAGE}, or `/incident help` for every command"
            raise unknown_subcommand(subcommand, "/incident", INCIDENT_SUBCOMMANDS, usage)
    except UsageError as exc:
        ack(text=str(exc))


def _start(
    ack: Ack,
    command: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    args: str,
    deps: Deps,
) -> None:
    private, args = privacy.split_private(args)
    start = parse_start(args)
    channel_id, channel_name = command.get("channel_id"), command.get("channel_name")
    existing = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    if existing is not None and existing.is_active:
        ack(text=blocks.already_active_text(existing))
        return
    hidden = channel_name == privacy.PRIVATE_CHANNEL_NAME  # Slack hides a private name
    if channel_id and (hidden or (private and is_incident_channel_name(channel_name))):
        channel_name, is_private = _channel_facts(client, channel_id)
        if is_incident_channel_name(channel_name):
            if private and not is_private:
                raise UsageError(privacy.NEEDS_PRIVATE_CHANNEL)
            private = is_private  # an adopted channel's privacy is the incident's
    adopt = is_incident_channel_name(channel_name)
    trigger_id = command.get("trigger_id")
    incident, job_id = channel.declare(
        deps.store, start, commander_id=command["user_id"], now=deps.clock(),
        request_key=f"cmd:{trigger_id}" if trigger_id else None, user_id=command["user_id"],
        channel=channel_id, adopt=(channel_id, channel_name) if adopt and channel_id else None,
        is_private=private,
    )  # fmt: skip
    if job_id is not None:
        promise(context, job_id)
    ack(text=blocks.declared_text(incident, creating_channel=not adopt))


def _channel_facts(client: WebClient, channel_id: str) -> tuple[str, bool]:
    """The real name of the channel a command came from and whether it is private, asked
    once, quickly: a private ``incident-…`` channel is adopted like a public one."""
    try:
        channel = quick_client(client).conversations_info(channel=channel_id)["channel"]
    except (SlackApiError, SlackClientError, OSError, KeyError) as exc:
        raise UsageError(privacy.CANNOT_SEE) from exc
    return str(channel.get("name") or ""), bool(channel.get("is_private"))


def _link(ack: Ack, command: dict[str, Any], args: str, deps: Deps) -> None:
    """``/incident link``: this channel's incident takes the alerts ``args`` names."""
    incident = deps.store.incidents.for_channel(channel_id=command.get("channel_id", ""))
    if incident is None:
        raise UsageError(blocks.not_incident_channel_text("/incident link"))
    link = parse_link(args)
    with deps.store.transaction():
        if not deps.store.commands.claim(trigger_id=command.get("trigger_id"), now=deps.clock()):
            ack(text=REPLAYED)
            return
        reply = alert_commands.link_alerts(incident, link, command["user_id"], deps)
    ack(text=reply, response_type="in_channel")


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
        _set(ack, incident, args, command, now, client, deps)
        return
    change = lifecycle.plan_change(subcommand, incident, args, now)
    if not change.columns:
        ack(text=change.message)  # nothing changed: only the person who asked hears it
        return
    with deps.store.transaction():
        if not deps.store.commands.claim(trigger_id=command.get("trigger_id"), now=now):
            ack(text=REPLAYED)  # a captured request sent again: nothing changes
            return
        deps.store.incidents.update(
            incident_id=incident.id, actor_id=user_id, now=now, entry=change.entry,
            **change.columns,
        )  # fmt: skip
        for name, value in change.fields.items():
            deps.store.incidents.set_field(
                incident_id=incident.id, name=name, value=value, actor_id=user_id, now=now
            )
        if change.refresh_channel and incident.channel_id:
            key = command.get("trigger_id") or uuid.uuid4().hex
            promise(context, channel.add_refresh(deps.store, incident, key=key, now=now))
    ack(text=change.message, response_type="in_channel")


def _summary(incident: Incident, now: datetime, deps: Deps) -> str:
    entries = deps.store.timeline.for_incident(incident_id=incident.id)
    items = deps.store.items.for_incident(incident_id=incident.id)
    return blocks.incident_summary(incident, entries, items, now)


def _set(
    ack: Ack,
    incident: Incident,
    args: str,
    command: dict[str, Any],
    now: datetime,
    client: WebClient,
    deps: Deps,
) -> None:
    """``/incident set``: a time typed without a zone is read in the caller's, asked of Slack
    only when the value needs it."""
    user_id = command["user_id"]
    value = args.strip().partition(" ")[2]
    zone = user_zone(deps, client, user_id) if needs_user_timezone(value) else UTC
    name, value = lifecycle.parse_field(args, now=now, tz=zone)
    with deps.store.transaction():
        if not deps.store.commands.claim(trigger_id=command.get("trigger_id"), now=now):
            ack(text=REPLAYED)
            return
        deps.store.incidents.set_field(
            incident_id=incident.id, name=name, value=value, actor_id=user_id, now=now
        )
    shown = ""
    if name == "started":  # the echo: UTC and the author's own clock, so a misread shows
        tz_name = deps.users.get(client, user_id, before_ack=True).tz
        shown = f" to {echo_time(datetime.fromisoformat(value), tz_name, now)}"
    ack(text=f"📝 {incident.id}: {name} set{shown} by <@{user_id}>.", response_type="in_channel")


def register(app: App) -> None:
    app.command("/incident")(ack=handle_incident, lazy=[run_promised])
