"""PagerDuty v3 webhook subscriptions.

Each delivery holds one ``event``: ``id``, ``event_type``, ``resource_type``, ``occurred_at``,
``agent`` (who did it), ``data`` (PagerDuty/developer-docs ``docs/webhooks/01-Overview.md``).
It is signed: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>``, several
comma-separated while a secret rotates (``04-Signatures.md``), and carries ``X-Webhook-Id``,
the same on each retry of one webhook (``02-Behavior.md``). PagerDuty expects a 2xx within 5 s
and pauses a subscription whose deliveries keep failing, so an event type the bot has no use
for is still answered 2xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.hooks import Hook, verify
from bot.hooks.alerts import (
    ACKNOWLEDGED,
    FIRING,
    NOTE,
    RESOLVED,
    AlertEvent,
    Parsed,
    first_line,
    load_object,
    need,
    rfc3339,
)
from bot.hooks.intake import alert_hook

if TYPE_CHECKING:
    from bot.settings import Settings

SOURCE = "pagerduty"
WEBHOOK_ID_HEADER = "x-webhook-id"

# The event types the timeline has a line for; every other type is answered 2xx and dropped.
HANDLED = (
    "incident.triggered",
    "incident.acknowledged",
    "incident.resolved",
    "incident.escalated",
    "incident.reassigned",
    "incident.annotated",
)


def parse(body: bytes, *, received_at: datetime, webhook_id: str = "") -> Parsed:
    """A v3 delivery as (at most one) event, or ``WrongShape``."""
    payload = load_object(body)
    event = need(payload, "event", dict, "body")
    event_id = need(event, "id", str, "event")
    event_type = need(event, "event_type", str, "event")
    keys = [f"{SOURCE}:event:{event_id}"]
    if webhook_id:
        keys.append(f"{SOURCE}:webhook:{webhook_id.strip()}")
    if event_type not in HANDLED:
        return Parsed(source=SOURCE, delivery_keys=tuple(keys), ignored=event_type)
    occurred_at = rfc3339(event.get("occurred_at"), "event.occurred_at")
    data = need(event, "data", dict, "event")
    incident = _incident_of(data, event_type)
    incident_id = need(incident, "id", str, "event.data incident")
    title = incident.get("title") or incident.get("summary") or f"PagerDuty incident {incident_id}"
    agent = _name(event.get("agent"))
    common = {
        "source": SOURCE,
        "group_key": incident_id,
        "dedup_key": keys[0],
        "name": str(title),
        "link": _link(incident),
        "labels": _labels(data if event_type != "incident.annotated" else {}),
        "alert_ref": incident_id,
    }
    if event_type == "incident.triggered":
        created = data.get("created_at")
        at = rfc3339(created, "event.data.created_at") if created else occurred_at
        service = _name(data.get("service"))
        summary = f"{service} · {data.get('urgency')} urgency" if service else ""
        return _one(AlertEvent(kind=FIRING, at=at, summary=summary, **common), keys)
    if event_type == "incident.acknowledged":
        return _one(AlertEvent(kind=ACKNOWLEDGED, at=occurred_at, actor=agent, **common), keys)
    if event_type == "incident.resolved":
        return _one(AlertEvent(kind=RESOLVED, at=occurred_at, actor=agent, **common), keys)
    summary = _note_text(event_type, data, agent)
    return _one(AlertEvent(kind=NOTE, at=occurred_at, summary=summary, actor=agent, **common), keys)


def _one(event: AlertEvent, keys: list[str]) -> Parsed:
    return Parsed(source=SOURCE, events=(event,), delivery_keys=tuple(keys))


def _incident_of(data: Mapping[str, Any], event_type: str) -> Mapping[str, Any]:
    """The incident an event is about: ``data`` itself, or ``data.incident`` for a note."""
    if event_type == "incident.annotated":
        return need(data, "incident", dict, "event.data")
    return data


def _name(reference: Any) -> str | None:
    """A reference's display name (``summary``), as PagerDuty shows it."""
    if isinstance(reference, dict) and isinstance(reference.get("summary"), str):
        return reference["summary"].strip() or None
    return None


def _link(incident: Mapping[str, Any]) -> str | None:
    url = incident.get("html_url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _labels(data: Mapping[str, Any]) -> dict[str, str]:
    """What ``AUTO_DECLARE`` can match on: ``urgency``, ``priority``, ``service``."""
    labels = {}
    if isinstance(data.get("urgency"), str):
        labels["urgency"] = data["urgency"]
    priority = _name(data.get("priority"))
    if priority:
        labels["priority"] = priority
    service = _name(data.get("service"))
    if service:
        labels["service"] = service
    return labels


def _note_text(event_type: str, data: Mapping[str, Any], agent: str | None) -> str:
    if event_type == "incident.annotated":
        content = data.get("content")
        return "note: " + first_line(content) if isinstance(content, str) else "note added"
    assignees = data.get("assignees")
    listed = assignees if isinstance(assignees, list) else []
    names = [n for n in (_name(a) for a in listed) if n]
    to = f" to {', '.join(names)}" if names else ""
    if event_type == "incident.escalated":
        return f"escalated{to}"
    return f"reassigned{to}"


def hook(settings: Settings) -> Hook | None:
    """``/hooks/pagerduty``, served when ``PAGERDUTY_WEBHOOK_SECRET`` is set."""
    secret = settings.alerts.pagerduty_secret
    if not secret:
        return None
    return alert_hook(
        SOURCE,
        verify=lambda delivery: verify.pagerduty_signature(delivery, secret),
        parse=lambda delivery, now: parse(
            delivery.body, received_at=now, webhook_id=delivery.header(WEBHOOK_ID_HEADER)
        ),
        rules=settings.alerts.auto_declare,
    )
