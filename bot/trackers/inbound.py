"""A tracker's change, received: dedupe, find the item, change it, tell the channel.

The delivery's key, the item's change and the channel line (a durable job) are written in one
transaction before the 2xx, so a redelivery changes nothing and a crash loses nothing. The
Slack user of a new assignee is looked up first (outside the transaction): the pairs found when
the bot assigned issues itself, then ``GITHUB_USERS``, then the tracker user's email.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.hooks import HOOKS_PREFIX, MALFORMED, UNAUTHORIZED, Answer, Delivery, Hook
from bot.trackers import TrackerError
from bot.trackers.jobs import enqueue_notice
from bot.trackers.sync import decide_inbound, tracker_actor
from bot.trackers.webhooks import TrackerChange, is_json_object

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

Verify = Callable[[Delivery, datetime], bool]
Parse = Callable[[bytes, Mapping[str, str]], TrackerChange | None]


def tracker_hook(
    source: str, *, verify: Verify, parse: Parse, github_users: Mapping[str, str] | None = None
) -> Hook:
    """``POST /hooks/<source>``: verify (401), parse (400 for a body that is not a JSON
    object; 200 for events the bot does not follow), then :func:`receive`."""

    def handle(delivery: Delivery, deps: Deps, client: WebClient) -> Answer:
        if not verify(delivery, deps.clock()):
            log.info("%s webhook refused: verification failed", source)
            return UNAUTHORIZED
        if not is_json_object(delivery.body):
            return MALFORMED
        change = parse(delivery.body, delivery.headers)
        if change is None:  # a ping, a label, a comment…: nothing the bot follows
            return Answer(200, {"ok": True, "ignored": "not a change the bot follows"})
        return receive(change, deps=deps, client=client, github_users=github_users)

    return Hook(HOOKS_PREFIX + source, handle)


def receive(
    change: TrackerChange,
    *,
    deps: Deps,
    client: WebClient,
    github_users: Mapping[str, str] | None = None,
) -> Answer:
    now = deps.clock()
    store = deps.store
    new_owner = _slack_user(change, deps, client, github_users or {})
    job_id = None
    with store.transaction():
        if not store.trackers.claim_delivery(delivery=change.delivery, now=now):
            return Answer(200, {"ok": True, "duplicate": True})
        item_id = store.trackers.item_for_issue(tracker=change.tracker, issue_id=change.issue_id)
        item = store.items.get(item_id=item_id) if item_id is not None else None
        if item is None:
            return Answer(200, {"ok": True, "ignored": "not an issue of this bot"})
        decision = decide_inbound(change, item, now=now, new_owner=new_owner)
        if decision.change is None:
            return Answer(200, {"ok": True, "ignored": "nothing to change"})
        store.items.update(
            item_id=item.id, actor_id=tracker_actor(change), now=change.at or now,
            change=decision.change, detail=decision.detail, **decision.fields,
        )  # fmt: skip
        pushed = {"status": decision.fields["status"]} if "status" in decision.fields else {}
        if "owner_id" in decision.fields:
            pushed["owner"] = decision.fields["owner_id"]
        store.trackers.pushed(item_id=item.id, tracker=change.tracker, **pushed)
        incident = store.incidents.get(incident_id=item.incident_id)
        if incident is not None and incident.channel_id and decision.line:
            job_id = enqueue_notice(
                store, key=change.delivery, channel=incident.channel_id, text=decision.line,
                now=now,
            )  # fmt: skip
    if job_id is not None:
        run_soon(job_id, deps=deps, client=client)
    return Answer(200, {"ok": True, "item": item.short_id, "change": decision.change})


def run_soon(job_id: int, *, deps: Deps, client: WebClient) -> None:
    """Post the channel line after the answer; the sweep runs it if this thread dies."""
    threading.Thread(
        target=deps.jobs.run, args=(job_id,), kwargs={"deps": deps, "client": client}, daemon=True
    ).start()


def _slack_user(
    change: TrackerChange, deps: Deps, client: WebClient, github_users: Mapping[str, str]
) -> str | None:
    if change.action != "assigned" or not change.assignee:
        return None
    known = deps.store.trackers.slack_user_for(tracker=change.tracker, tracker_user=change.assignee)
    if known:
        return known
    email = change.assignee_email
    for key, login in github_users.items():
        if login.lower() == change.assignee.lower():
            if "@" not in key:
                return key
            email = email or key
    if not email:
        email = _tracker_email(change, deps)
    if not email:
        return None
    try:
        return str(client.users_lookupByEmail(email=email)["user"]["id"])
    except (SlackApiError, SlackClientError, OSError) as exc:
        log.info("No Slack user for %s's assignee: %s", change.issue_key, exc)
        return None


def _tracker_email(change: TrackerChange, deps: Deps) -> str | None:
    """The assignee's email as the tracker shows it, when the webhook did not carry it."""
    tracker = deps.tracker
    if tracker is None or tracker.kind != change.tracker or not change.assignee:
        return None
    try:
        return tracker.user_email(change.assignee)
    except TrackerError as exc:
        log.info("No email for %s's assignee in %s: %s", change.issue_key, tracker.kind, exc)
        return None
