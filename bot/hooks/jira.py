"""``POST /hooks/jira``: Jira's ``jira:issue_updated``, with the webhook's secret."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.hooks import HOOKS_PREFIX, MALFORMED, UNAUTHORIZED, Answer, Delivery, Hook
from bot.trackers.webhooks import is_json_object, parse_jira, verify_jira

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps
    from bot.settings import Settings

log = logging.getLogger(__name__)


def hook(settings: Settings) -> Hook | None:
    """Served when ``TRACKER=jira`` and ``JIRA_WEBHOOK_SECRET`` is set."""
    trackers = settings.trackers
    secret = trackers.jira_webhook_secret
    if trackers.kind != "jira" or not secret:
        return None

    def handle(delivery: Delivery, deps: Deps, client: WebClient) -> Answer:
        if not verify_jira(delivery.body, delivery.headers, secret):
            log.info("Jira webhook refused: bad X-Hub-Signature or secret")
            return UNAUTHORIZED
        if not is_json_object(delivery.body):
            return MALFORMED
        change = parse_jira(delivery.body, delivery.headers)
        if change is None:
            return Answer(200, {"ok": True, "ignored": "not a change the bot follows"})
        from bot.trackers.inbound import receive

        return receive(change, deps=deps, client=client)

    return Hook(HOOKS_PREFIX + "jira", handle)
