"""Opsgenie's outgoing webhook integration.

Opsgenie posts its "alert action data": ``action`` (``Create``, ``Acknowledge``, ``Close``,
``AddNote``, …), ``alert`` with ``alertId``, ``alias``, ``message``, ``tags``, ``username``,
``note``, ``createdAt`` in epoch milliseconds and ``updatedAt`` in epoch nanoseconds, and
``source``, ``integrationName`` (docs.opsgenie.com "Alert action data"). It cannot sign; the
integration sends the custom header the bot asks for, ``X-Incident-Bot-Token``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.hooks import Hook, verify
from bot.hooks.alerts import (
    ACKNOWLEDGED,
    FIRING,
    INCIDENT_TAG_PREFIX,
    NOTE,
    RESOLVED,
    AlertEvent,
    Parsed,
    epoch,
    first_line,
    load_object,
    need,
)
from bot.hooks.intake import alert_hook

if TYPE_CHECKING:
    from bot.settings import Settings

SOURCE = "opsgenie"
TOKEN_HEADER = "x-incident-bot-token"
MILLISECONDS = 1000
NANOSECONDS = 1_000_000_000

# Opsgenie's action → the event kind; every other action is answered 2xx and dropped.
KINDS = {"Create": FIRING, "Acknowledge": ACKNOWLEDGED, "Close": RESOLVED, "AddNote": NOTE}


def parse(body: bytes, *, received_at: datetime) -> Parsed:
    """An alert action as (at most one) event, or ``WrongShape``."""
    payload = load_object(body)
    action = need(payload, "action", str, "body")
    alert = need(payload, "alert", dict, "body")
    alert_id = need(alert, "alertId", str, "alert")
    kind = KINDS.get(action)
    if kind is None:
        return Parsed(source=SOURCE, ignored=action)
    if kind == FIRING:
        at = epoch(alert.get("createdAt"), per_second=MILLISECONDS, where="alert.createdAt")
        raw_time = alert.get("createdAt")
    else:
        at = epoch(alert.get("updatedAt"), per_second=NANOSECONDS, where="alert.updatedAt")
        raw_time = alert.get("updatedAt")
    listed = alert.get("tags")
    tags = [t for t in listed if isinstance(t, str)] if isinstance(listed, list) else []
    alias = _text(alert, "alias")
    message = first_line(_text(alert, "message"))
    note = _text(alert, "note")
    actor = _text(alert, "username") if kind != FIRING else ""
    event = AlertEvent(
        source=SOURCE,
        group_key=alias or alert_id,
        dedup_key=f"{SOURCE}:{alert_id}:{action}:{raw_time}",
        kind=kind,
        at=at,
        name=message or alias or f"Opsgenie alert {alert_id}",
        summary="note: " + first_line(note) if kind == NOTE and note else "",
        link=None,  # the payload carries no URL, and the web app's host depends on the region
        labels=_labels(alert, action, tags),
        actor=actor or None,
        incident_ref=_incident_tag(tags),
        alert_ref=alert_id,
    )
    return Parsed(source=SOURCE, events=(event,))


def _text(alert: dict, key: str) -> str:
    value = alert.get(key)
    return value.strip() if isinstance(value, str) else ""


def _labels(alert: dict, action: str, tags: list[str]) -> dict[str, str]:
    """What ``AUTO_DECLARE`` can match on: ``entity``, ``source``, ``priority`` (``P3``) and
    each ``key:value`` tag."""
    labels = {"action": action}
    for key in ("entity", "source"):
        if _text(alert, key):
            labels[key] = _text(alert, key)
    priority = alert.get("priority")
    if isinstance(priority, int) and not isinstance(priority, bool):
        labels["priority"] = f"P{priority}"
    elif isinstance(priority, str) and priority.strip():
        labels["priority"] = priority.strip()
    for tag in tags:
        key, sep, value = tag.partition(":")
        if sep and key.strip() and value.strip():
            labels.setdefault(key.strip(), value.strip())
    return labels


def _incident_tag(tags: list[str]) -> str | None:
    for tag in tags:
        if tag.lower().startswith(INCIDENT_TAG_PREFIX):
            ref = tag[len(INCIDENT_TAG_PREFIX) :].strip()
            if ref:
                return ref
    return None


def hook(settings: Settings) -> Hook | None:
    """``/hooks/opsgenie``, served when ``OPSGENIE_TOKEN`` is set."""
    token = settings.alerts.opsgenie_token
    if not token:
        return None
    return alert_hook(
        SOURCE,
        verify=lambda delivery: verify.header_token(delivery, TOKEN_HEADER, token),
        parse=lambda delivery, now: parse(delivery.body, received_at=now),
        rules=settings.alerts.auto_declare,
    )
