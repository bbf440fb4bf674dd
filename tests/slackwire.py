"""Build inbound Slack requests exactly as Slack sends them, and sign and POST them.

Shapes follow Slack's docs (slash command payloads, the Events API envelope, the
``pin_added``/``pin_removed`` event reference and the ``@slack/types`` pin definitions),
cross-checked against recorded payload samples from Slack's SDKs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import string
import time
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0001"
TEAM_DOMAIN = "example"
API_APP_ID = "A0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
VERIFICATION_TOKEN = "Jhj5dZrVaK7ZwHHjRyZWjbDl"  # deprecated field Slack still sends
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"

_seq = itertools.count(1)
_ALNUM = string.ascii_uppercase + string.digits


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def _now_ts() -> str:
    """A message-style ts for now (seconds.microseconds)."""
    now_us = time.time_ns() // 1000
    return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, v0 signature and Content-Type.

    The signature is ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed with
    the signing secret. JSON bodies (Events API) are ``application/json``; everything
    else (slash commands, interactions) is form-encoded.
    """
    raw = _as_bytes(body)
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode("ascii") + b":" + raw
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    is_json = raw.lstrip()[:1] in (b"{", b"[")
    return {
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def new_trigger_id() -> str:
    """A unique trigger_id shaped like Slack's (``digits.digits.hex``)."""
    n = next(_seq)
    return f"{int(time.time() * 1000)}{n:03d}.{secrets.randbelow(10**12):012d}.{uuid.uuid4().hex}"


def new_event_id() -> str:
    """A unique Events API event_id like ``Ev09ABCDEF12``."""
    return f"Ev{next(_seq):04d}{_rand(6)}"


def slash_command(
    command: str,
    text: str,
    *,
    user_id: str = "U_ALICE",
    user_name: str = "alice",
    channel_id: str = "C_GENERAL",
    channel_name: str = "general",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
    api_app_id: str = API_APP_ID,
    team_domain: str = TEAM_DOMAIN,
) -> bytes:
    """The form-encoded body of a slash command invocation.

    ``text`` is taken as Slack delivers it: with "Escape channels, users, and links"
    enabled, mentions arrive as ``<@U123|bob>`` and channels as ``<#C123|name>``.
    """
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.slack.com/commands/{team_id}/{next(_seq):013d}/{_rand(24)}",
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return urlencode(fields).encode("utf-8")


def _event_context(event: dict[str, Any], team_id: str, api_app_id: str) -> str:
    channel = event.get("channel") or event.get("channel_id") or ""
    ctx = {"et": event.get("type", ""), "tid": team_id, "aid": api_app_id, "cid": channel}
    raw = json.dumps(ctx, separators=(",", ":")).encode("utf-8")
    return "4-" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def event_callback(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    event_time: int | None = None,
    authed_user_id: str = BOT_USER_ID,
) -> bytes:
    """The JSON Events API envelope (``type: event_callback``) around ``event``."""
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": authed_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": _event_context(event, team_id, api_app_id),
    }
    return json.dumps(envelope).encode("utf-8")


def url_verification(challenge: str | None = None) -> bytes:
    """The JSON body of the Events API URL handshake."""
    body = {
        "token": VERIFICATION_TOKEN,
        "challenge": challenge or _rand(40, string.ascii_letters + string.digits),
        "type": "url_verification",
    }
    return json.dumps(body).encode("utf-8")


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
    ets = event_ts or _now_ts()
    message = _pinned_message(
        channel_id,
        message_ts=message_ts,
        message_user=message_user,
        text=text,
        permalink=permalink,
        team_id=team_id,
        blocks=blocks,
        pinned=True,
    )
    item = {
        "type": "message",
        "created": int(float(ets)),
        "created_by": user,
        "channel": channel_id,
        "message": message,
    }
    return _pin_event(
        "pin_added",
        channel_id,
        user=user,
        item=item,
        item_user=message_user,
        pin_count=pin_count,
        event_ts=ets,
    )


def pin_removed(
    channel_id: str,
    *,
    user: str,
    message_ts: str,
    message_user: str,
    text: str,
    permalink: str | None = None,
    event_ts: str | None = None,
    pin_count: int = 0,
    has_pins: bool | None = None,
    blocks: list[dict[str, Any]] | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``pin_removed`` event: the ``pin_added`` shape plus ``has_pins``.

    ``pin_count`` is the number of pins left; ``has_pins`` defaults to ``pin_count > 0``.
    """
    ets = event_ts or _now_ts()
    message = _pinned_message(
        channel_id,
        message_ts=message_ts,
        message_user=message_user,
        text=text,
        permalink=permalink,
        team_id=team_id,
        blocks=blocks,
        pinned=False,
    )
    item = {
        "type": "message",
        "created": int(float(ets)),
        "created_by": user,
        "channel": channel_id,
        "message": message,
    }
    event = _pin_event(
        "pin_removed",
        channel_id,
        user=user,
        item=item,
        item_user=message_user,
        pin_count=pin_count,
        event_ts=ets,
    )
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


def interaction(payload: dict[str, Any]) -> bytes:
    """A form body ``payload=<url-encoded JSON>``, as Slack posts interactivity."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode("utf-8")


def retry_headers(num: int, reason: str = "http_timeout") -> dict[str, str]:
    """Headers Slack adds when it re-delivers an event (1st retry is ``num=1``)."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


def post(
    url: str,
    body: bytes,
    secret: str,
    *,
    extra_headers: dict[str, str] | None = None,
    timestamp: int | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes, dict[str, str]]:
    """Sign and POST ``body`` to ``url``; return (status, body, headers), even on 4xx/5xx."""
    headers = {**sign(body, secret, timestamp), **(extra_headers or {})}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers.items())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read(), dict(err.headers.items())


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


# --- captures beyond pins: the message shortcut, 📌 reactions, edits and deletions -------------
# Shapes from Slack's docs (message shortcut payloads; the reaction_added, reaction_removed,
# message_changed and message_deleted event references), bolt-python's message shortcut test
# payload and the @slack/types definitions.


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


def message_action(
    channel_id: str,
    message: dict[str, Any],
    *,
    user_id: str = "U_ALICE",
    user_name: str = "alice",
    channel_name: str = "incident",
    callback_id: str = "add_to_timeline",
    response_url: str | None = None,
    trigger_id: str | None = None,
    action_ts: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A message shortcut payload (``type: message_action``): wrap it with :func:`interaction`."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": action_ts or _now_ts(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "team_id": team_id, "name": user_name},
        "channel": {"id": channel_id, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url
        or f"https://hooks.slack.com/app/{team_id}/{next(_seq):013d}/{_rand(24)}",
        "message_ts": message["ts"],
        "message": message,
    }


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


def reaction_removed(
    channel_id: str,
    *,
    user: str,
    message_ts: str,
    reaction: str = "pushpin",
    item_user: str | None = "U_ALICE",
    event_ts: str | None = None,
) -> dict[str, Any]:
    """A ``reaction_removed`` event, the same shape as ``reaction_added``."""
    return _reaction_event(
        "reaction_removed",
        channel_id,
        user=user,
        message_ts=message_ts,
        reaction=reaction,
        item_user=item_user,
        event_ts=event_ts,
    )


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
