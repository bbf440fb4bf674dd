"""Inbound Slack requests, built and signed the way Slack builds them: pure, no I/O.

Shapes follow Slack's reference for slash-command payloads, the Events API envelope, the
``pin_added`` event and ``block_actions`` interactions. Signing is Slack's v0 scheme: the hex
HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed with the signing secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0LOCAL"
TEAM_DOMAIN = "local"
API_APP_ID = "A0LOCAL"
BOT_USER_ID = "UBOT"
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"


def sign(body: str, secret: str, timestamp: int) -> dict[str, str]:
    """The headers Slack sends with ``body``: content type, timestamp and v0 signature."""
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    is_json = body.lstrip()[:1] in ("{", "[")
    return {
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    trigger_id: str,
    response_url: str,
) -> str:
    """The form-encoded body of a slash command (``text`` already escaped as Slack does)."""
    return urlencode(
        {
            "token": "local",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def event_callback(event: dict[str, Any], *, event_id: str, event_time: int) -> str:
    """The JSON Events API envelope around ``event``."""
    return json.dumps(
        {
            "token": "local",
            "team_id": TEAM_ID,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def pin_added(
    *, channel_id: str, pinned_by: str, message: dict[str, Any], event_ts: str
) -> dict[str, Any]:
    """A ``pin_added`` event for ``message`` (which carries ``user``, ``text``, ``ts`` and
    ``permalink``)."""
    created = int(float(event_ts))
    return {
        "type": "pin_added",
        "user": pinned_by,
        "channel_id": channel_id,
        "item": {
            "type": "message",
            "created": created,
            "created_by": pinned_by,
            "channel": channel_id,
            "message": {**message, "pinned_to": [channel_id]},
        },
        "item_user": message.get("user"),
        "pin_count": 1,
        "pinned_info": {"channel": channel_id, "pinned_by": pinned_by, "pinned_ts": created},
        "event_ts": event_ts,
    }


def block_actions(
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    message: dict[str, Any],
    block_id: str,
    button: dict[str, Any],
    action_ts: str,
    trigger_id: str,
    response_url: str,
) -> str:
    """The form body (``payload=<json>``) of a click on ``button`` in ``message``."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "local",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{**button, "block_id": block_id, "action_ts": action_ts}],
    }
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def permalink(channel_id: str, ts: str) -> str:
    """A message's permalink: ``https://local.slack.com/archives/C…/p1764253920000100``."""
    return f"{WORKSPACE_URL}archives/{channel_id}/p{ts.replace('.', '')}"
