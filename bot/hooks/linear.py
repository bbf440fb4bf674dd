"""``POST /hooks/linear``: Linear's ``Issue`` updates, ``Linear-Signature`` within a minute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.hooks import Hook
from bot.trackers.inbound import tracker_hook
from bot.trackers.webhooks import parse_linear, verify_linear

if TYPE_CHECKING:
    from bot.settings import Settings


def hook(settings: Settings) -> Hook | None:
    """Served when ``TRACKER=linear`` and ``LINEAR_WEBHOOK_SECRET`` is set."""
    trackers = settings.trackers
    secret = trackers.linear_webhook_secret
    if trackers.kind != "linear" or not secret:
        return None
    return tracker_hook(
        "linear",
        verify=lambda delivery, now: verify_linear(
            delivery.body, delivery.headers, secret, now=now
        ),
        parse=parse_linear,
    )
