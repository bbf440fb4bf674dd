"""``POST /hooks/github``: GitHub's ``issues`` events, signed with ``X-Hub-Signature-256``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.hooks import Hook
from bot.trackers.inbound import tracker_hook
from bot.trackers.webhooks import parse_github, verify_github

if TYPE_CHECKING:
    from bot.settings import Settings


def hook(settings: Settings) -> Hook | None:
    """Served when ``TRACKER=github`` and ``GITHUB_WEBHOOK_SECRET`` is set."""
    trackers = settings.trackers
    secret = trackers.github_webhook_secret
    if trackers.kind != "github" or not secret:
        return None
    return tracker_hook(
        "github",
        verify=lambda delivery, now: verify_github(delivery.body, delivery.headers, secret),
        parse=parse_github,
        github_users=dict(trackers.github_users),
    )
