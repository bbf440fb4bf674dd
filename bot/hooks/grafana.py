"""Grafana Alerting's webhook contact point.

Grafana sends Alertmanager's notification shape (it embeds Alertmanager) with its own
additions: ``orgId``, ``title``, ``state``, ``message`` and, per alert, ``dashboardURL``,
``panelURL``, ``silenceURL``, ``values`` (grafana/alerting ``receivers/webhook``; the example in
Grafana's "Configure the webhook notifier" page). It authenticates with an ``Authorization``
header (scheme and credentials set on the contact point) or, with ``hmacConfig``, signs the
body: ``X-Grafana-Alerting-Signature`` is the hex HMAC-SHA256 of the body, or of
``timestamp:body`` when a timestamp header is configured (grafana/alerting ``http/hmac.go``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.hooks import Delivery, Hook, verify
from bot.hooks.alertmanager import generator_link, read_group
from bot.hooks.alerts import Parsed, load_object
from bot.hooks.intake import alert_hook

if TYPE_CHECKING:
    from bot.settings import Settings

SOURCE = "grafana"


def dashboard_link(alert: Mapping[str, Any]) -> str | None:
    """The dashboard (or panel) the alert is about where Grafana has one, else its rule."""
    for key in ("dashboardURL", "panelURL"):
        url = alert.get(key)
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return url
    return generator_link(alert)


def parse(body: bytes, *, received_at: datetime) -> Parsed:
    """A Grafana notification as events, one per alert, or ``WrongShape``."""
    return read_group(
        load_object(body), source=SOURCE, link_of=dashboard_link, received_at=received_at
    )


def hook(settings: Settings) -> Hook | None:
    """``/hooks/grafana``, served when ``GRAFANA_TOKEN`` or ``GRAFANA_HMAC_SECRET`` is set; a
    delivery passes with either (the bearer token, or Grafana's HMAC signature)."""
    token = settings.alerts.grafana_token
    secret = settings.alerts.grafana_hmac_secret
    if not token and not secret:
        return None

    def verified(delivery: Delivery) -> bool:
        by_token = bool(token) and verify.bearer(delivery, token or "")
        by_hmac = bool(secret) and verify.grafana_hmac(delivery, secret or "")
        return by_token or by_hmac

    return alert_hook(
        SOURCE,
        verify=verified,
        parse=lambda delivery, now: parse(delivery.body, received_at=now),
        rules=settings.alerts.auto_declare,
    )
