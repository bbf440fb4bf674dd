"""Inbound Slack requests built exactly as Slack sends them, signed, and POSTed: the wire side
of the harness.

Shapes follow Slack's docs (slash command payloads, the Events API envelope, interactivity
payloads, Socket Mode envelopes), cross-checked against recorded payload samples from Slack's
SDKs. Signing is Slack's v0 scheme: ``v0=`` + the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``
keyed with the signing secret. Builders return bytes, as they go on the wire; only
:func:`post` does I/O.
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
BOT_NAME = "incident-bot"

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


def block_actions(
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    message: dict[str, Any],
    block_id: str,
    button: dict[str, Any],
    action_ts: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    team_id: str = TEAM_ID,
) -> bytes:
    """The form body (``payload=<json>``) of a click on ``button`` in ``message``."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url
        or f"https://hooks.slack.com/actions/{team_id}/{next(_seq):013d}/{_rand(24)}",
        "actions": [{**button, "block_id": block_id, "action_ts": action_ts or _now_ts()}],
    }
    return interaction(payload)


def socket_mode_envelope(kind: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A Socket Mode envelope (``slash_commands``, ``events_api`` or ``interactive``) around
    ``payload``, with a fresh ``envelope_id``; the app acks it with that id."""
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind != "events_api",
        **extra,
    }


def permalink(channel_id: str, ts: str) -> str:
    """The permalink Slack gives a message: ``.../archives/C123/p1764253920000100``."""
    return f"{WORKSPACE_URL}archives/{channel_id}/p{ts.replace('.', '')}"
