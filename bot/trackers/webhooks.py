"""Inbound tracker webhooks, pure: verify the signature, then read one change out of the body.

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``; ``issues`` events
  (closed, reopened, assigned, edited); the delivery is ``X-GitHub-Delivery``.
- Jira: ``X-Hub-Signature: sha256=<hex HMAC>`` when the webhook has a secret; without it, the
  secret as a bearer token (``Authorization: Bearer …``, as Jira Automation's web request
  sends it). The delivery is the webhook's identifier and the event's ``timestamp``.
- Linear: ``Linear-Signature: <hex HMAC-SHA256 of the body>``, and ``webhookTimestamp`` (ms)
  within a minute of now, so a captured delivery cannot be replayed later; the delivery is
  ``webhookId`` with ``Linear-Delivery`` (or the timestamp).

Nothing here touches the database; a body that is not what the tracker sends is ``None``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.trackers.render import MARKER_PREFIX, adf_text

LINEAR_WINDOW = timedelta(minutes=1)
NOT_PLANNED_WORDS = ("won't do", "wont do", "not planned", "cancel", "declined", "duplicate")
_MARKER = re.compile(rf"(?m)^\s*{re.escape(MARKER_PREFIX)}AI-(\d+)\s*$")


@dataclass(frozen=True)
class TrackerChange:
    """One change to an issue, as the tracker reported it."""

    tracker: str
    delivery: str  # the deduplication key
    action: str  # closed | reopened | assigned | edited
    issue_id: str  # the API's id: number, key or UUID
    issue_key: str  # what people read: acme/ops#12, OPS-12, ENG-42
    actor: str  # the tracker user's name
    at: datetime | None = None
    item_id: int | None = None  # from the marker line, when the body carries one
    not_planned: bool = False
    assignee: str | None = None  # the tracker's login, account ID or user ID
    assignee_email: str | None = None


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time equality; bytes, so a header with non-ASCII characters is just wrong."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def verify_github(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    given = headers.get("x-hub-signature-256", "")
    return given.startswith("sha256=") and _same(
        given.removeprefix("sha256="), _hmac_hex(secret, body)
    )


def verify_jira(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    given = headers.get("x-hub-signature", "")
    if given:
        method, _, digest = given.partition("=")
        return method.lower() == "sha256" and _same(digest, _hmac_hex(secret, body))
    token = headers.get("authorization", "")
    return token.startswith("Bearer ") and _same(token.removeprefix("Bearer "), secret)


def verify_linear(body: bytes, headers: Mapping[str, str], secret: str, *, now: datetime) -> bool:
    given = headers.get("linear-signature", "")
    if not given or not _same(given, _hmac_hex(secret, body)):
        return False
    sent = _json(body).get("webhookTimestamp")
    if not isinstance(sent, int | float) or isinstance(sent, bool):
        return False
    return abs(now - datetime.fromtimestamp(sent / 1000, UTC)) <= LINEAR_WINDOW


def item_id_from(text: Any) -> int | None:
    """The item's number from the marker line of an issue body (Markdown, wiki or ADF)."""
    found = _MARKER.search(adf_text(text) if not isinstance(text, str) else text)
    return int(found.group(1)) if found else None


def parse_github(body: bytes, headers: Mapping[str, str]) -> TrackerChange | None:
    payload = _json(body)
    if headers.get("x-github-event") != "issues":
        return None
    action = payload.get("action")
    issue = payload.get("issue")
    repo = _obj(payload.get("repository")).get("full_name")
    delivery = headers.get("x-github-delivery", "")
    if action not in ("closed", "reopened", "assigned", "edited") or not isinstance(issue, dict):
        return None
    if not delivery or not repo or not isinstance(issue.get("number"), int):
        return None
    number = issue["number"]
    sender = _obj(payload.get("sender"))
    assignee = _obj(payload.get("assignee"))
    at = issue.get("closed_at") if action == "closed" else issue.get("updated_at")
    return TrackerChange(
        tracker="github",
        delivery=f"github:{delivery}",
        action=action,
        issue_id=str(number),
        issue_key=f"{repo}#{number}",
        actor=str(sender.get("login") or "someone"),
        at=_iso(at),
        item_id=item_id_from(issue.get("body") or ""),
        not_planned=issue.get("state_reason") == "not_planned",
        assignee=_text(assignee.get("login")),
    )


def parse_jira(body: bytes, headers: Mapping[str, str]) -> TrackerChange | None:
    payload = _json(body)
    issue = payload.get("issue")
    stamp = payload.get("timestamp")
    if payload.get("webhookEvent") != "jira:issue_updated" or not isinstance(issue, dict):
        return None
    if not isinstance(stamp, int) or not issue.get("key"):
        return None
    fields = _obj(issue.get("fields"))
    changed = {
        str(entry.get("field", "")).lower(): entry
        for entry in _list(_obj(payload.get("changelog")).get("items"))
        if isinstance(entry, dict)
    }
    category = _obj(_obj(fields.get("status")).get("statusCategory")).get("key")
    assignee = _obj(fields.get("assignee"))
    if "status" in changed:
        action = "closed" if category == "done" else "reopened"
    elif "assignee" in changed:
        action = "assigned"
    elif changed.keys() & {"summary", "description"}:
        action = "edited"
    else:
        return None
    resolution = str(_obj(fields.get("resolution")).get("name", "")).lower()
    hook = headers.get("x-atlassian-webhook-identifier") or ",".join(
        str(i) for i in payload.get("matchedWebhookIds") or []
    )
    user = _obj(payload.get("user"))
    return TrackerChange(
        tracker="jira",
        delivery=f"jira:{hook or 'webhook'}:{stamp}:{issue.get('id') or issue['key']}",
        action=action,
        issue_id=str(issue["key"]),
        issue_key=str(issue["key"]),
        actor=str(user.get("displayName") or user.get("name") or "someone"),
        at=datetime.fromtimestamp(stamp / 1000, UTC),
        item_id=item_id_from(fields.get("description") or ""),
        not_planned=any(word in resolution for word in NOT_PLANNED_WORDS),
        assignee=_text(assignee.get("accountId") or assignee.get("name")),
        assignee_email=_text(assignee.get("emailAddress")),
    )


def parse_linear(body: bytes, headers: Mapping[str, str]) -> TrackerChange | None:
    payload = _json(body)
    data = payload.get("data")
    before = _obj(payload.get("updatedFrom"))
    if payload.get("type") != "Issue" or payload.get("action") != "update":
        return None
    if not isinstance(data, dict) or not data.get("id") or not payload.get("webhookId"):
        return None
    state = _obj(data.get("state")).get("type")
    if "stateId" in before:
        action = "closed" if state in ("completed", "canceled") else "reopened"
    elif "assigneeId" in before:
        action = "assigned"
    elif before.keys() & {"title", "description"}:
        action = "edited"
    else:
        return None
    assignee = _obj(data.get("assignee"))
    actor = _obj(payload.get("actor"))
    sent = headers.get("linear-delivery") or str(payload.get("webhookTimestamp", ""))
    return TrackerChange(
        tracker="linear",
        delivery=f"linear:{payload['webhookId']}:{sent}",
        action=action,
        issue_id=str(data["id"]),
        issue_key=str(data.get("identifier") or data["id"]),
        actor=str(actor.get("name") or "someone"),
        at=_iso(data.get("completedAt") or data.get("canceledAt") or data.get("updatedAt")),
        item_id=item_id_from(data.get("description") or ""),
        not_planned=state == "canceled",
        assignee=_text(data.get("assigneeId") or assignee.get("id")),
        assignee_email=_text(assignee.get("email")),
    )


def is_json_object(body: bytes) -> bool:
    """A body the trackers would send: one JSON object."""
    return bool(_json(body))


def _obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: a body of the wrong shape reads
    as missing fields, never as a traceback."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
