"""``POST /hooks/linear``: Linear's ``Issue`` updates, ``Linear-Signature`` within a minute."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.hooks import HOOKS_PREFIX, MALFORMED, UNAUTHORIZED, Answer, Delivery, Hook
from bot.trackers.webhooks import is_json_object, parse_linear, verify_linear

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps
    from bot.settings import Settings

log = logging.getLogger(__name__)


def hook(settings: Settings) -> Hook | None:
    """Served when ``TRACKER=linear`` and ``LINEAR_WEBHOOK_SECRET`` is set."""
    trackers = settings.trackers
    secret = trackers.linear_webhook_secret
    if trackers.kind != "linear" or not secret:
        return None

    def handle(delivery: Delivery, deps: Deps, client: WebClient) -> Answer:
        if not verify_linear(delivery.body, delivery.headers, secret, now=deps.clock()):
            log.info("Linear webhook refused: bad Linear-Signature or stale webhookTimestamp")
            return UNAUTHORIZED
        if not is_json_object(delivery.body):
            return MALFORMED
        change = parse_linear(delivery.body, delivery.headers)
        if change is None:
            return Answer(200, {"ok": True, "ignored": "not a change the bot follows"})
        from bot.trackers.inbound import receive

        return receive(change, deps=deps, client=client)

    return Hook(HOOKS_PREFIX + "linear", handle)
