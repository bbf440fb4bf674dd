"""Prometheus Alertmanager's ``webhook_config`` (payload ``version: "4"``).

Alertmanager posts one notification per alert group: ``groupKey`` names the group, ``alerts``
holds each alert with its ``status``, ``labels``, ``annotations``, ``startsAt``, ``endsAt``,
``generatorURL`` and ``fingerprint`` (``notify/webhook/webhook.go``: ``template.Data`` plus
``version``, ``groupKey``, ``truncatedAlerts``). It authenticates with the
``Authorization: Bearer`` header its ``http_config.authorization`` sets.

Grafana's webhook contact point sends the same shape (``version: "1"``, plus ``orgId``,
``dashboardURL``…), so ``read_group`` serves both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.hooks import Hook, verify
from bot.hooks.alerts import (
    FIRING,
    INCIDENT_LABEL,
    RESOLVED,
    AlertEvent,
    Parsed,
    WrongShape,
    first_line,
    is_zero_time,
    load_object,
    need,
    rfc3339,
    string_map,
)
from bot.hooks.intake import alert_hook

if TYPE_CHECKING:
    from bot.settings import Settings

SOURCE = "alertmanager"
PAYLOAD_VERSION = "4"

LinkOf = Callable[[Mapping[str, Any]], str | None]


def generator_link(alert: Mapping[str, Any]) -> str | None:
    url = alert.get("generatorURL")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def parse(body: bytes, *, received_at: datetime) -> Parsed:
    """An Alertmanager notification as events, one per alert, or ``WrongShape``."""
    payload = load_object(body)
    version = payload.get("version")
    if version != PAYLOAD_VERSION:
        raise WrongShape(
            f"version is {version!r}: this endpoint reads Alertmanager's webhook payload "
            f"version {PAYLOAD_VERSION!r}."
        )
    return read_group(payload, source=SOURCE, link_of=generator_link, received_at=received_at)


def read_group(
    payload: Mapping[str, Any], *, source: str, link_of: LinkOf, received_at: datetime
) -> Parsed:
    """The alerts of one Alertmanager-shaped notification (Alertmanager's or Grafana's)."""
    group_key = need(payload, "groupKey", str, "body")
    alerts = need(payload, "alerts", list, "body")
    common = string_map(payload.get("commonAnnotations"), "body.commonAnnotations")
    events = []
    for n, alert in enumerate(alerts):
        where = f"alerts[{n}]"
        if not isinstance(alert, dict):
            raise WrongShape(f"{where} is not an object.")
        events.append(
            _event(alert, where, source, group_key, common, link_of, received_at=received_at)
        )
    return Parsed(source=source, events=tuple(events))


def _event(
    alert: Mapping[str, Any],
    where: str,
    source: str,
    group_key: str,
    common: Mapping[str, str],
    link_of: LinkOf,
    *,
    received_at: datetime,
) -> AlertEvent:
    status = alert.get("status")
    if status not in (FIRING, RESOLVED):
        raise WrongShape(f"{where}.status is {status!r}, not 'firing' or 'resolved'.")
    labels = string_map(alert.get("labels"), f"{where}.labels")
    annotations = string_map(alert.get("annotations"), f"{where}.annotations")
    starts_raw = alert.get("startsAt")
    starts_at = rfc3339(starts_raw, f"{where}.startsAt")
    if status == FIRING:
        at = starts_at
    elif is_zero_time(alert.get("endsAt")) or not alert.get("endsAt"):
        at = received_at  # resolved without an end: the moment we heard it is the best we know
    else:
        at = rfc3339(alert.get("endsAt"), f"{where}.endsAt")
    fingerprint = alert.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        # Older senders have no fingerprint; the label set is what it is computed from.
        fingerprint = "labels:" + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    name = labels.get("alertname") or annotations.get("summary") or "Alert"
    summary = first_line(
        annotations.get("summary")
        or annotations.get("description")
        or common.get("summary")
        or common.get("description")
        or ""
    )
    incident_ref = labels.get(INCIDENT_LABEL) or annotations.get(INCIDENT_LABEL)
    return AlertEvent(
        source=source,
        group_key=group_key,
        dedup_key=f"{source}:{fingerprint}:{starts_at.isoformat()}:{status}",
        kind=status,
        at=at,
        name=name,
        summary=summary,
        link=link_of(alert),
        labels=labels,
        incident_ref=incident_ref.strip() if incident_ref else None,
        alert_ref=fingerprint,
    )


def hook(settings: Settings) -> Hook | None:
    """``/hooks/alertmanager``, served when ``ALERTMANAGER_TOKEN`` is set."""
    token = settings.alerts.alertmanager_token
    if not token:
        return None
    return alert_hook(
        SOURCE,
        verify=lambda delivery: verify.bearer(delivery, token),
        parse=lambda delivery, now: parse(delivery.body, received_at=now),
        rules=settings.alerts.auto_declare,
    )
