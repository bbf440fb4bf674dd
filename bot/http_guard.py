"""HTTP mode's gate: a request is signed by Slack, fresh, and shaped as Slack sends it, before
Bolt parses any of it.

Bolt reads the body before it checks the signature, and its matchers assume Slack's shapes
(``body["event"]["type"]``, ``body["user"]["id"]``): a body such as ``[1,2,3]`` or a payload
whose ``user`` is a string raised inside Bolt and came back as a 500 with a traceback. Here
the raw bytes are verified first (Slack's v0 scheme, five-minute window, with slack_sdk's
``SignatureVerifier``), then parsed once and checked for the shapes Bolt relies on. Pure but
for the clock that ``SignatureVerifier`` reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

_ASCII_DIGITS = re.compile(r"[0-9]{1,12}")
# Where a key is present in an interaction payload, the type Bolt's matchers expect of it.
_PAYLOAD_SHAPES: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "user": dict,
    "team": (dict, type(None)),
    "channel": (dict, type(None)),
    "view": dict,
    "actions": list,
    "message": dict,
    "container": dict,
}


@dataclass(frozen=True)
class Refusal:
    status: str  # e.g. "401 Unauthorized"
    error: str


UNSIGNED = Refusal("401 Unauthorized", "invalid request")
MALFORMED = Refusal("400 Bad Request", "malformed body")


def check(
    body: bytes, headers: Mapping[str, str], *, signing_secret: str, content_type: str
) -> Refusal | None:
    """Why this request must not reach Bolt, or None when it may. ``headers`` are WSGI's
    ``HTTP_…`` keys or plain names, as long as they are looked up by the names below."""
    refusal, _ = admit(body, headers, signing_secret=signing_secret, content_type=content_type)
    return refusal


def admit(
    body: bytes, headers: Mapping[str, str], *, signing_secret: str, content_type: str
) -> tuple[Refusal | None, dict[str, Any] | None]:
    """As :func:`check`, and the body as parsed for that check when it may reach Bolt: what
    Bolt would parse from it (a form's fields, an interaction's payload, an event's JSON), so
    that it is parsed once and the body checked is the body dispatched."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not _ASCII_DIGITS.fullmatch(timestamp) or not signature.isascii():
        return UNSIGNED, None
    if not SignatureVerifier(signing_secret).is_valid(body, timestamp, signature):
        return UNSIGNED, None
    parsed = _shaped_as_slack_sends(body, content_type)
    return (None, parsed) if parsed is not None else (MALFORMED, None)


def _shaped_as_slack_sends(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The parsed body if it is shaped as Slack sends it, else None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if content_type.split(";")[0].strip().lower() == "application/json":
        event = _json_object(text)
        return event if _event_shaped(event) else None
    # The last value of a repeated field, as Bolt's dict(parse_qsl(...)) reads it.
    form = {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}
    if "payload" not in form:
        # A slash command (every field is text, and Bolt reads it as such) or Slack's check
        # of the command URL; a form that is neither is not from Slack.
        return form if "command" in form or "ssl_check" in form else None
    payload = _json_object(form["payload"])
    shaped = payload is not None and all(
        isinstance(payload[key], shape) for key, shape in _PAYLOAD_SHAPES.items() if key in payload
    )
    return payload if shaped else None


def _event_shaped(body: dict[str, Any] | None) -> bool:
    if body is None:
        return False
    if body.get("type") == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    return True


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
