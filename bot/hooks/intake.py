"""The one handler every alerting source shares: verify → parse → store → answer.

A source module supplies how to verify and how to parse; ``alert_hook`` makes its ``Hook``.
The answer is 401 for a failed verification and 400 for a body of the wrong shape, both before
anything is stored; otherwise the delivery and its timeline entries are stored in one
transaction (``bot.hooks.record``), then answered 200, and the channel post runs as a durable
job after the answer, so PagerDuty's 5 s are never spent on Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.hooks import HOOKS_PREFIX, MALFORMED, UNAUTHORIZED, Answer, Delivery, Hook
from bot.hooks.alerts import Parsed, WrongShape
from bot.hooks.autodeclare import Rule

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps

log = logging.getLogger(__name__)

Verify = Callable[[Delivery], bool]
Parse = Callable[[Delivery, datetime], Parsed]


def alert_hook(source: str, *, verify: Verify, parse: Parse, rules: tuple[Rule, ...]) -> Hook:
    """The hook at ``/hooks/<source>``."""

    def handle(delivery: Delivery, deps: Deps, client: WebClient) -> Answer:
        if not verify(delivery):
            log.info("%s webhook refused: verification failed", source)
            return UNAUTHORIZED
        received_at = deps.clock()
        try:
            parsed = parse(delivery, received_at)
        except WrongShape as error:
            log.info("%s webhook refused: %s", source, error)
            return Answer(MALFORMED.status, {"error": str(error)})
        from bot.hooks import record  # the store side, imported late: it needs the whole bot

        # Asked of Slack (once per process) before the transaction, never while holding it.
        commander = record.bot_user_id(client) if rules and parsed.events else ""
        outcome = record.record_delivery(
            parsed, deps=deps, rules=rules, received_at=received_at, bot_user=lambda: commander
        )
        record.run_jobs_soon(outcome.job_ids, deps=deps, client=client)
        return Answer(200, outcome.answer())

    return Hook(HOOKS_PREFIX + source, handle)
