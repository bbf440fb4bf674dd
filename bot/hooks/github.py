"""``POST /hooks/github``: GitHub's ``issues`` events, signed with ``X-Hub-Signature-256``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.hooks import HOOKS_PREFIX, MALFORMED, UNAUTHORIZED, Answer, Delivery, Hook
from bot.trackers.webhooks import is_json_object, parse_github, verify_github

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps
    from bot.settings import Settings

log = logging.getLogger(__name__)


def hook(settings: Settings) -> Hook | None:
    """Served when ``TRACKER=github`` and ``GITHUB_WEBHOOK_SECRET`` is set."""
    trackers = settings.trackers
    secret = trackers.github_webhook_secret
    if trackers.kind != "github" or not secret:
        return None
    users = dict(trackers.github_users)

    def handle(delivery: Delivery, deps: Deps, client: WebClient) -> Answer:
        if not verify_github(delivery.body, delivery.headers, secret):
            log.info("GitHub webhook refused: bad X-Hub-Signature-256")
            return UNAUTHORIZED
        if not is_json_object(delivery.body):
            return MALFORMED
        change = parse_github(delivery.body, delivery.headers)
        if change is None:  # ping, labels, comments…: nothing the bot follows
            return Answer(200, {"ok": True, "ignored": delivery.header("x-github-event")})
        from bot.trackers.inbound import receive

        return receive(change, deps=deps, client=client, github_users=users)

    return Hook(HOOKS_PREFIX + "github", handle)
