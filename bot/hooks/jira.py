"""``POST /hooks/jira``: Jira's ``jira:issue_updated``, with the webhook's secret
(``X-Hub-Signature`` when Jira signs, else the secret as a bearer token)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.hooks import Hook
from bot.trackers.inbound import tracker_hook
from bot.trackers.webhooks import parse_jira, verify_jira

if TYPE_CHECKING:
    from bot.settings import Settings


def hook(settings: Settings) -> Hook | None:
    """Served when ``TRACKER=jira`` and ``JIRA_WEBHOOK_SECRET`` is set."""
    trackers = settings.trackers
    secret = trackers.jira_webhook_secret
    if trackers.kind != "jira" or not secret:
        return None
    return tracker_hook(
        "jira",
        verify=lambda delivery, now: verify_jira(delivery.body, delivery.headers, secret),
        parse=parse_jira,
    )
