"""Slack events and the messages they carry, as Slack delivers them: pins, reactions, edits,
deletions, App Home. Wrap an event with :func:`bot.harness.wire.event_callback` (HTTP) or a
Socket Mode envelope.

Shapes from Slack's docs (the ``pin_added``/``pin_removed``, ``reaction_added``,
``message_changed`` and ``message_deleted`` event references), the ``@slack/types``
definitions and bolt-python's own test payloads.
"""

from __future__ import annotations

import string
import uuid
from typing import Any

from bot.harness.wire.requests import (
    API_APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    WORKSPACE_URL,
    _now_ts,
    _rand,
)


def _pinned_message(
    channel_id: str,
    *,
    message_ts: str,
    message_user: str,
    text: str,
    permalink: str | None,
    team_id: str,
    blocks: list[dict[str, Any]] | None,
    pinned: bool,
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "message", "text": text, "user": message_user}
    if message_user == BOT_USER_ID:
        message.update(bot_id=BOT_ID, app_id=API_APP_ID)
    else:
        message["client_msg_id"] = str(uuid.uuid4())
    message.update(ts=message_ts, team=team_id)
    if blocks is not None:
        message["blocks"] = blocks
    if pinned:
        message["pinned_to"] = [channel_id]
    message["permalink"] = permalink or (
        f"{WORKSPACE_URL}archives/{channel_id}/p{message_ts.replace('.', '')}"
    )
    return message


def _pin_event(
    kind: str,
    channel_id: str,
    *,
    user: str,
    item: dict[str, Any],
    item_user: str,
    pin_count: int,
    event_ts: str | None,
) -> dict[str, Any]:
    ets = event_ts or _now_ts()
    return {
        "type": kind,
        "user": user,
        "channel_id": channel_id,
        "item": item,
        "item_user": item_user,
        "pin_count": pin_count,
        "pinned_info": {
            "channel": channel_id,
            "pinned_by": user,
            "pinned_ts": int(float(ets)),
        },
        "event_ts": ets,
    }


def _message_pin_event(
    kind: str,
    channel_id: str,
    *,
    user: str,
    message_ts: str,
    message_user: str,
    text: str,
    permalink: str | None,
    event_ts: str | None,
    pin_count: int,
    blocks: list[dict[str, Any]] | None,
    team_id: str,
) -> dict[str, Any]:
    ets = event_ts or _now_ts()
    message = _pinned_message(
        channel_id,
        message_ts=message_ts,
        message_user=message_user,
        text=text,
        permalink=permalink,
        team_id=team_id,
        blocks=blocks,
        pinned=kind == "pin_added",
    )
    item = {
        "type": "message",
        "created": int(float(ets)),
        "created_by": user,
        "channel": channel_id,
        "message": message,
    }
    return _pin_event(
        kind,
        channel_id,
        user=user,
        item=item,
        item_user=message_user,
        pin_count=pin_count,
        event_ts=ets,
    )


def pin_added(
    channel_id: str,
    *,
    user: str,
    message_ts: str,
    message_user: str,
    text: str,
    permalink: str | None = None,
    event_ts: str | None = None,
    pin_count: int = 1,
    blocks: list[dict[str, Any]] | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``pin_added`` event for a message (wrap it with :func:`event_callback`)."""
    return _message_pin_event(
        "pin_added", channel_id, user=user, message_ts=message_ts, message_user=message_user,
        text=text, permalink=permalink, event_ts=event_ts, pin_count=pin_count, blocks=blocks,
        team_id=team_id,
    )  # fmt: skip


def pin_removed(
    channel_id: str,
    *,
    pin_count: int = 0,
    has_pins: bool | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A ``pin_removed`` event: the ``pin_added`` shape (and arguments) plus ``has_pins``.

    ``pin_count`` is the number of pins left; ``has_pins`` defaults to ``pin_count > 0``.
    """
    fields.setdefault("permalink", None)
    fields.setdefault("event_ts", None)
    fields.setdefault("blocks", None)
    fields.setdefault("team_id", TEAM_ID)
    event = _message_pin_event("pin_removed", channel_id, pin_count=pin_count, **fields)
    event["has_pins"] = pin_count > 0 if has_pins is None else has_pins
    event["event_ts"] = event.pop("event_ts")  # keep Slack's key order: has_pins, event_ts
    return event


def pin_added_file(
    channel_id: str,
    *,
    user: str,
    file_id: str,
    title: str,
    permalink: str,
    created: int,
    file_user: str | None = None,
    name: str | None = None,
    event_ts: str | None = None,
    pin_count: int = 1,
) -> dict[str, Any]:
    """A ``pin_added`` event for a pinned file (item type ``file``)."""
    owner = file_user or user
    filename = name or title
    file_obj = {
        "id": file_id,
        "created": created,
        "timestamp": created,
        "name": filename,
        "title": title,
        "mimetype": "text/plain",
        "filetype": "text",
        "pretty_type": "Plain Text",
        "user": owner,
        "user_team": TEAM_ID,
        "editable": True,
        "mode": "snippet",
        "is_external": False,
        "external_type": "",
        "is_public": True,
        "public_url_shared": False,
        "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/{filename}",
        "permalink": permalink,
        "pinned_to": [channel_id],
    }
    ets = event_ts or _now_ts()
    item = {
        "type": "file",
        "created": int(float(ets)),
        "created_by": user,
        "channel": channel_id,
        "file": file_obj,
    }
    return _pin_event(
        "pin_added",
        channel_id,
        user=user,
        item=item,
        item_user=owner,
        pin_count=pin_count,
        event_ts=ets,
    )


def app_home_opened(
    user: str,
    *,
    tab: str = "home",
    channel: str = "D0HOME0001",
    view: dict[str, Any] | None = None,
    event_ts: str | None = None,
) -> dict[str, Any]:
    """An ``app_home_opened`` event: ``tab`` is ``home`` or ``messages``; ``view`` is the
    view last published to the user, which Slack includes once there is one."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": event_ts or _now_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def user_message(
    *,
    ts: str,
    user: str,
    text: str,
    team_id: str = TEAM_ID,
    edited_ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """A message a person posted, as events, shortcuts and ``conversations.history`` carry it."""
    message: dict[str, Any] = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": team_id,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": _rand(4, string.ascii_letters),
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
    }
    if edited_ts is not None:
        message["edited"] = {"user": user, "ts": edited_ts}
    if thread_ts is not None:
        message.update(thread_ts=thread_ts, parent_user_id=user)
    return message


def _reaction_event(
    kind: str,
    channel_id: str,
    *,
    user: str,
    message_ts: str,
    reaction: str,
    item_user: str | None,
    event_ts: str | None,
) -> dict[str, Any]:
    event: dict[str, Any] = {"type": kind, "user": user, "reaction": reaction}
    if item_user is not None:  # absent for messages not authored by a user (webhooks)
        event["item_user"] = item_user
    event["item"] = {
        "type": "message",
        "channel": channel_id,
        "ts": message_ts,
        "channel_type": "channel",
    }
    event["event_ts"] = event_ts or _now_ts()
    return event


def reaction_added(
    channel_id: str,
    *,
    user: str,
    message_ts: str,
    reaction: str = "pushpin",
    item_user: str | None = "U_ALICE",
    event_ts: str | None = None,
) -> dict[str, Any]:
    """A ``reaction_added`` event: it names the message (channel, ts) but never carries it."""
    return _reaction_event(
        "reaction_added",
        channel_id,
        user=user,
        message_ts=message_ts,
        reaction=reaction,
        item_user=item_user,
        event_ts=event_ts,
    )


def reaction_removed(channel_id: str, **fields: Any) -> dict[str, Any]:
    """A ``reaction_removed`` event, the same shape (and arguments) as :func:`reaction_added`."""
    return {**reaction_added(channel_id, **fields), "type": "reaction_removed"}


def message_changed(
    channel_id: str,
    *,
    previous: dict[str, Any],
    text: str,
    edited_ts: str | None = None,
) -> dict[str, Any]:
    """A ``message_changed`` event for an edit of ``previous`` to ``text``."""
    ets = edited_ts or _now_ts()
    message = {**previous, "text": text, "edited": {"user": previous.get("user"), "ts": ets}}
    if "blocks" in previous:
        message["blocks"] = [
            {
                "type": "rich_text",
                "block_id": previous["blocks"][0].get("block_id", "x"),
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ]
    message["source_team"] = message["user_team"] = previous.get("team", TEAM_ID)
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": previous,
        "channel": channel_id,
        "hidden": True,
        "ts": ets,
        "event_ts": ets,
        "channel_type": "channel",
    }


def message_deleted(
    channel_id: str, *, previous: dict[str, Any], event_ts: str | None = None
) -> dict[str, Any]:
    """A ``message_deleted`` event: ``deleted_ts`` names the message, ``previous_message``
    is what it was."""
    ets = event_ts or _now_ts()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel_id,
        "hidden": True,
        "deleted_ts": previous["ts"],
        "event_ts": ets,
        "ts": ets,
        "channel_type": "channel",
    }


def tombstoned(channel_id: str, *, previous: dict[str, Any]) -> dict[str, Any]:
    """The ``message_changed`` Slack sends when a message with thread replies is deleted:
    the message stays as a ``tombstone`` so that its thread can still be read."""
    ets = _now_ts()
    tombstone = {
        "type": "message",
        "subtype": "tombstone",
        "text": "This message was deleted.",
        "user": "USLACKBOT",
        "hidden": True,
        "ts": previous["ts"],
        "thread_ts": previous["ts"],
        "parent_user_id": "USLACKBOT",
        "reply_count": 1,
        "reply_users_count": 1,
        "latest_reply": ets,
        "reply_users": [previous.get("user")],
        "is_locked": False,
        "subscribed": False,
    }
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": tombstone,
        "previous_message": previous,
        "channel": channel_id,
        "hidden": True,
        "ts": ets,
        "event_ts": ets,
        "channel_type": "channel",
    }


def channel_message(channel_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """A plain ``message`` event (``message.channels``) for a message just posted."""
    return {
        **message,
        "channel": channel_id,
        "event_ts": message["ts"],
        "channel_type": "channel",
    }
