"""Messages captured beyond pins: the "Add to timeline" shortcut and the 📌 reaction, and the
edits and deletions of captured messages.

A message is one timeline entry however it was captured (pin, 📌, shortcut), and it stays
while any capture holds it. What the events carry is stored before the ack; what they do not
(a reaction names its message but does not carry it, a shortcut has no permalink) is fetched
after it, in lazy listeners.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import capture, slackio
from bot.deps import Deps
from bot.domain import Incident
from bot.parsing import ReactionTarget, captured_message, message_change, pushpin_target

log = logging.getLogger(__name__)

SHORTCUT = "add_to_timeline"


# --- the "Add to timeline" message shortcut -----------------------------------------------


def handle_add_to_timeline(
    ack: Ack, shortcut: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """Ack, then store the message the payload carries; the reply and the permalink follow."""
    ack()
    channel_id = str((shortcut.get("channel") or {}).get("id") or "")
    incident = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    message = captured_message(channel_id, shortcut.get("message"))
    refusal = capture.shortcut_refusal(incident, message)
    if refusal is not None:
        context["capture_reply"] = refusal
        return
    assert incident is not None and message is not None
    user_id = str((shortcut.get("user") or {}).get("id") or "")
    captured = deps.store.captures.hold(
        # One click, never undone: holding the message twice changes nothing, and with no
        # release to order against, a shortcut needs neither an event ID nor an event time.
        event_id=None,
        event_ts=None,
        incident_id=incident.id,
        source_key=message.key,
        via=capture.shortcut_via(user_id),
        now=deps.clock(),
        at=message.at,
        text=message.text,
        actor_id=message.actor_id,
        actor_name=message.actor_name,
        permalink=message.permalink,
        version_ts=message.version_ts,
        source="shortcut",
    )
    context["capture_reply"] = capture.shortcut_reply(incident.id, message, captured)
    if captured:
        context["capture_key"] = message.key


def reply_to_shortcut(context: BoltContext, respond: Respond) -> None:
    """After the ack: tell the user, and only them, what became of the message."""
    reply = context.get("capture_reply")
    if reply:
        respond(text=reply, response_type="ephemeral")


def link_shortcut_entry(
    shortcut: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """After the ack: give the entry the message's permalink, which the payload lacks."""
    key = context.get("capture_key")
    if not key or "permalink" not in deps.store.captures.gaps(source_key=key):
        return
    channel_id = str(shortcut["channel"]["id"])
    ts = str(shortcut["message"]["ts"])
    link = client.chat_getPermalink(channel=channel_id, message_ts=ts)
    deps.store.captures.fill(source_key=key, now=deps.clock(), permalink=str(link["permalink"]))


# --- the 📌 reaction -----------------------------------------------------------------------


def handle_reaction_added(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """Record the 📌 before the ack; the event does not carry the message, read after it."""
    found = _pushpin_in_incident(event, deps)
    if found is None:
        return  # another reaction, or not in an incident channel: nothing to do
    target, incident = found
    deps.store.captures.hold(
        event_id=body.get("event_id"),
        event_ts=str(event.get("event_ts") or "") or None,
        incident_id=incident.id,
        source_key=target.key,
        via=capture.reaction_via(target.user_id),
        now=deps.clock(),
        source="reaction",
    )
    context["capture_key"] = target.key


def read_reacted_message(
    event: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """After the ack: fetch the message and its permalink if its entry still lacks them."""
    key = context.get("capture_key")
    target = pushpin_target(event)
    if not key or target is None:
        return
    gaps = deps.store.captures.gaps(source_key=key)
    if not gaps:
        return  # pinned or added already, or the 📌 was removed meanwhile
    try:
        fields = _read_fields(client, target) if "text" in gaps else {}
        if fields is None:
            log.info("The message %s was gone before it could be read", key)
            return
        link = client.chat_getPermalink(channel=target.channel_id, message_ts=target.ts)
    except SlackApiError as exc:
        _tell_unreadable(client, target, key, exc)
        return
    deps.store.captures.fill(
        source_key=key,
        now=deps.clock(),
        permalink=str(link["permalink"]),
        source="reaction",
        **fields,
    )


def _read_fields(client: WebClient, target: ReactionTarget) -> dict[str, Any] | None:
    """The reacted message's text, time and author; None once it is gone."""
    found = read_message(client, target.channel_id, target.ts)
    message = captured_message(target.channel_id, found)
    return None if message is None else capture.message_fields(message)


def _tell_unreadable(
    client: WebClient, target: ReactionTarget, key: str, exc: SlackApiError
) -> None:
    """A reaction has no reply of its own: the person who reacted hears of it here."""
    error = slackio.slack_error(exc)
    log.error("Reading the 📌 message %s failed: %s", key, error)
    client.chat_postEphemeral(
        channel=target.channel_id,
        user=target.user_id,
        text=capture.UNREADABLE_PUSHPIN.format(error=error),
    )


def _pushpin_in_incident(
    event: dict[str, Any], deps: Deps
) -> tuple[ReactionTarget, Incident] | None:
    """A 📌 on a message of an incident channel (not the bot's intro), with that incident."""
    target = pushpin_target(event)
    if target is None:
        return None
    incident = deps.store.incidents.for_channel(channel_id=target.channel_id)
    if incident is None or not capture.on_timeline(incident, target.ts):
        return None
    return target, incident


def handle_reaction_removed(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Removing your 📌 releases the message; it leaves the timeline when nothing holds it."""
    found = _pushpin_in_incident(event, deps)
    if found is None:
        return
    target, incident = found
    deps.store.captures.release(
        event_id=body.get("event_id"),
        event_ts=str(event.get("event_ts") or "") or None,
        incident_id=incident.id,
        source_key=target.key,
        via=capture.reaction_via(target.user_id),
        now=deps.clock(),
    )


def read_message(client: WebClient, channel_id: str, ts: str) -> dict[str, Any] | None:
    """The message at ``ts``: from the channel's history or, for a thread reply, its thread;
    None once it is gone."""
    history = client.conversations_history(channel=channel_id, latest=ts, inclusive=True, limit=1)
    for message in history.get("messages") or []:
        if message.get("ts") == ts:
            return dict(message)
    # conversations.history lists top-level messages only; a reply is read from its thread.
    try:
        thread = client.conversations_replies(
            channel=channel_id, ts=ts, oldest=ts, latest=ts, inclusive=True
        )
    except SlackApiError as exc:
        if slackio.slack_error(exc) == "thread_not_found":
            return None  # deleted before we could read it
        raise
    return next((dict(m) for m in thread.get("messages") or [] if m.get("ts") == ts), None)


# --- edits and deletions --------------------------------------------------------------------


def handle_message(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Every message in every channel the bot is in arrives here: all but edits and deletions
    return at once, without a query; those of messages never captured after one read."""
    change = message_change(event)
    if change is None or not deps.store.captures.exists(source_key=change.key):
        return
    if change.deleted:
        deps.store.captures.delete(
            event_id=body.get("event_id"), source_key=change.key, now=deps.clock()
        )
        return
    assert change.message is not None
    deps.store.captures.edit(
        event_id=body.get("event_id"),
        source_key=change.key,
        text=change.message.text,
        version_ts=change.message.version_ts,
        now=deps.clock(),
    )


def register(app: App) -> None:
    app.message_shortcut(SHORTCUT)(
        ack=handle_add_to_timeline, lazy=[reply_to_shortcut, link_shortcut_entry]
    )
    app.event("reaction_added")(ack=handle_reaction_added, lazy=[read_reacted_message])
    app.event("reaction_removed")(handle_reaction_removed)
    app.event("message")(handle_message)
