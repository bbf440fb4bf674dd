"""Pinned messages and files in an incident channel become timeline entries."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot import capture
from bot.deps import Deps
from bot.draft_fields import message_images
from bot.parsing import clean_text, message_version, pinned_item

log = logging.getLogger(__name__)

# A pinned message is one of the captures that hold a message on the timeline (see
# bot/listeners/capture.py): unpinning removes the entry only when no 📌 or shortcut holds it.
PIN = "pin"


def handle_pin_added(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Store the pin before Bolt acks the event, so an acknowledged pin is never lost."""
    channel_id = str(event.get("channel_id") or event.get("item", {}).get("channel") or "")
    incident = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    item = pinned_item(channel_id, event.get("item") or {})
    if item is None or not capture.on_timeline(incident, item.message_ts):
        return  # not an incident's channel, or the bot's own intro
    assert incident is not None
    event_ts = str(event.get("event_ts") or "")
    if item.message_ts is not None:
        message = event["item"]["message"]
        images = [(clean_text(i.title), i.permalink) for i in message_images(message)]
        with deps.store.transaction():  # a pasted screenshot is kept with its message
            deps.store.reviews.add_images(
                source_key=item.source_key, incident_id=incident.id, images=images
            )
            deps.store.captures.hold(
                event_id=body.get("event_id"),
                event_ts=event_ts,
                incident_id=incident.id,
                source_key=item.source_key,
                via=PIN,
                now=deps.clock(),
                at=item.at,
                text=item.text,
                actor_id=item.actor_id,
                actor_name=item.actor_name,
                permalink=item.permalink,
                version_ts=message_version(event["item"]["message"]),
                source=item.source,
            )
        return
    deps.store.captures.pin(
        event_id=body.get("event_id"),
        event_ts=event_ts,
        incident_id=incident.id,
        source_key=item.source_key,
        at=item.at,
        text=item.text,
        actor_id=item.actor_id,
        actor_name=item.actor_name,
        source=item.source,
        permalink=item.permalink,
        now=deps.clock(),
    )


def handle_pin_removed(event: dict[str, Any], body: dict[str, Any], deps: Deps) -> None:
    """Unpinning removes the entry that the pin made, unless another capture still holds it."""
    channel_id = str(event.get("channel_id") or event.get("item", {}).get("channel") or "")
    item = pinned_item(channel_id, event.get("item") or {})
    if item is None:
        return
    event_ts = str(event.get("event_ts") or "")
    if item.message_ts is not None:
        incident = deps.store.incidents.for_channel(channel_id=channel_id)
        if not capture.on_timeline(incident, item.message_ts):
            return
        assert incident is not None
        deps.store.captures.release(
            event_id=body.get("event_id"),
            event_ts=event_ts,
            incident_id=incident.id,
            source_key=item.source_key,
            via=PIN,
            now=deps.clock(),
        )
        return
    incident = deps.store.incidents.for_channel(channel_id=channel_id)
    deps.store.captures.unpin(
        event_id=body.get("event_id"),
        event_ts=event_ts,
        source_key=item.source_key,
        now=deps.clock(),
        incident_id=incident.id if incident is not None else None,
    )


def register(app: App) -> None:
    app.event("pin_added")(handle_pin_added)
    app.event("pin_removed")(handle_pin_removed)
