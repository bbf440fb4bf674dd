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

from bot import capture
from bot.deps import Deps
from bot.domain import Incident
from bot.jobs import promise, run_promised
from bot.parsing import ReactionTarget, captured_message, message_change, pushpin_target
from bot.work import capture as fetching

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
    with deps.store.transaction():
        captured = _hold_shortcut(incident, message, user_id, deps)
        if captured:
            job_id = fetching.add_fetch(
                deps.store, key=message.key, channel_id=channel_id, ts=message.ts,
                user_id=user_id, now=deps.clock(), link_only=True,
            )  # fmt: skip
            promise(context, job_id)
    context["capture_reply"] = capture.shortcut_reply(incident.id, message, captured)


def _hold_shortcut(incident: Incident, message: Any, user_id: str, deps: Deps) -> bool:
    return deps.store.captures.hold(
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


def reply_to_shortcut(context: BoltContext, respond: Respond) -> None:
    """After the ack: tell the user, and only them, what became of the message."""
    reply = context.get("capture_reply")
    if reply:
        respond(text=reply, response_type="ephemeral")


# --- the 📌 reaction -----------------------------------------------------------------------


def handle_reaction_added(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """Record the 📌 before the ack; the event does not carry the message, read after it."""
    found = _pushpin_in_incident(event, deps)
    if found is None:
        return  # another reaction, or not in an incident channel: nothing to do
    target, incident = found
    with deps.store.transaction():
        held = deps.store.captures.hold(
            **_reaction(event, body, target, incident, deps), source="reaction"
        )
        if held:
            job_id = fetching.add_fetch(
                deps.store, key=target.key, channel_id=target.channel_id, ts=target.ts,
                user_id=target.user_id, now=deps.clock(), event_id=body.get("event_id"),
            )  # fmt: skip
            promise(context, job_id)


def _reaction(
    event: dict[str, Any], body: dict[str, Any], target: ReactionTarget, incident: Incident,
    deps: Deps,
) -> dict[str, Any]:  # fmt: skip
    """What a 📌 and its removal tell the store alike: whose hold, on what, ordered by when."""
    return {
        "event_id": body.get("event_id"),
        "event_ts": str(event.get("event_ts") or "") or None,
        "incident_id": incident.id,
        "source_key": target.key,
        "via": capture.reaction_via(target.user_id),
        "now": deps.clock(),
    }


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
    deps.store.captures.release(**_reaction(event, body, target, incident, deps))


# --- edits and deletions --------------------------------------------------------------------


def handle_message(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Every message in every channel the bot is in arrives here: all but edits and deletions
    return at once, without a query; those of messages never captured after one read."""
    change = message_change(capture.with_message_ts(event))
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
    # Most frequent first (see bot/listeners/__init__.py): messages, reactions, the shortcut.
    app.event("message")(handle_message)
    app.event("reaction_added")(ack=handle_reaction_added, lazy=[run_promised])
    app.event("reaction_removed")(handle_reaction_removed)
    app.message_shortcut(SHORTCUT)(
        ack=handle_add_to_timeline, lazy=[reply_to_shortcut, run_promised]
    )
