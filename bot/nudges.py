"""Overdue nudges: a scan whose whole state is in the database, woken by APScheduler.

Each nudge is claimed with one atomic ``UPDATE … WHERE`` before it is sent, so two scanners (or
a restart mid-scan) never send it twice; a send that fails releases its claim and is sent again
at the next scan. A process that died between sending and recording leaves a stale claim: the
next scan looks for the nudge's marker (message metadata) in the DM before sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks
from bot.domain import ActionItem
from bot.store import Store, from_db_time
from bot.users import UserDirectory

log = logging.getLogger(__name__)

WORK_START = time(9, 0)
WORK_END = time(18, 0)
# A claim this old was left by a process that died mid-send.
STALE_CLAIM = timedelta(minutes=5)
NUDGE_EVENT_TYPE = "incident_bot_nudge"


@dataclass(frozen=True)
class NudgePolicy:
    repeat: timedelta = timedelta(hours=24)
    escalate_after: int = 3
    anytime: bool = False


def next_working_moment(now: datetime, zone: tzinfo) -> datetime:
    """``now`` if it is 09:00–18:00 Monday to Friday in ``zone``, else the next 09:00 of a
    weekday there."""
    local = now.astimezone(zone)
    if local.weekday() < 5 and WORK_START <= local.time() < WORK_END:
        return now
    day = local.date()
    if local.weekday() < 5 and local.time() < WORK_START:
        candidate = day
    else:
        candidate = day + timedelta(days=1)
    while candidate.weekday() >= 5:
        candidate += timedelta(days=1)
    return datetime.combine(candidate, WORK_START, tzinfo=zone)


@dataclass
class ScanReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)


class NudgeSender:
    """Sends one nudge: the DM (with a marker) and, when due, the escalation in the channel."""

    def __init__(self, store: Store, client: WebClient) -> None:
        self.store = store
        self.client = client

    def dm_channel(self, user_id: str) -> str:
        return str(self.client.conversations_open(users=user_id)["channel"]["id"])

    def send(
        self, *, nudge_id: int, item: ActionItem, number: int, escalate: bool, now: datetime
    ) -> tuple[str, str]:
        incident = self.store.incidents.get(incident_id=item.incident_id)
        assert incident is not None
        channel = self.dm_channel(item.owner_id)
        posted = self.client.chat_postMessage(
            channel=channel,
            text=blocks.nudge_text(item, incident, now),
            blocks=blocks.nudge_blocks(item, incident, now),
            metadata={"event_type": NUDGE_EVENT_TYPE, "event_payload": {"nudge_id": nudge_id}},
        )
        return str(posted.get("channel") or channel), str(posted["ts"])

    def escalate(self, nudge: dict[str, Any], now: datetime) -> bool:
        """Post a nudge's escalation in the incident channel, once; False if it must wait."""
        item = self.store.items.get(item_id=nudge["item_id"])
        incident = self.store.incidents.get(incident_id=item.incident_id) if item else None
        if not self.store.nudges.claim_escalation(nudge_id=nudge["id"], now=now):
            return True  # another scanner has it
        if item is None or item.status != "open" or incident is None or not incident.channel_id:
            return True  # closed since, or nowhere to post: the claim retires it
        try:
            self.client.chat_postMessage(
                channel=incident.channel_id,
                text=blocks.escalation_text(item, incident, nudge["number"], now),
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("Escalating %s failed, will retry: %s", item.short_id, exc)
            self.store.nudges.release_escalation(nudge_id=nudge["id"])
            return False
        return True

    def already_sent(self, nudge: dict[str, Any], owner_id: str) -> tuple[str, str] | None:
        """The DM of a nudge if it reached Slack before a crash, found by its marker."""
        channel = self.dm_channel(owner_id)
        claimed = from_db_time(nudge["claimed_at"])
        oldest = f"{(claimed - STALE_CLAIM).timestamp():.6f}" if claimed else "0"
        history = self.client.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=200
        )
        for message in history.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == NUDGE_EVENT_TYPE
                and payload.get("nudge_id") == nudge["id"]
            ):
                return channel, str(message["ts"])
        return None


def scan(
    *,
    store: Store,
    client: WebClient,
    users: UserDirectory,
    policy: NudgePolicy,
    now: datetime,
) -> ScanReport:
    """One pass: finish stale claims, then nudge every open item whose nudge is due."""
    report = ScanReport()
    sender = NudgeSender(store, client)
    _recover_stale(store, sender, now, report)
    _send_escalations(store, sender, now)
    for item in store.nudges.due(now=now):
        if not policy.anytime:
            moment = next_working_moment(now, users.get(client, item.owner_id).zone)
            if moment > now:
                if store.nudges.defer(item=item, until=moment):
                    report.deferred.append(item.id)
                continue
        number = item.nudge_count + 1
        escalate = number >= policy.escalate_after and not item.escalated
        nudge_id = store.nudges.claim(
            item=item, next_nudge_at=now + policy.repeat, escalate=escalate, now=now
        )
        if nudge_id is None:
            continue  # another scanner took it, or the item changed under us
        try:
            channel, ts = sender.send(
                nudge_id=nudge_id, item=item, number=number, escalate=escalate, now=now
            )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("Nudge %s for %s failed, will retry: %s", nudge_id, item.short_id, exc)
            store.nudges.release(nudge_id=nudge_id, now=now)
            report.failed.append(item.id)
            continue
        store.nudges.mark_sent(nudge_id=nudge_id, dm_channel=channel, dm_ts=ts, now=now)
        report.sent.append(item.id)
    _send_escalations(store, sender, now)
    return report


def _send_escalations(store: Store, sender: NudgeSender, now: datetime) -> None:
    """Post every escalation that is due, including those a failed post left behind."""
    for nudge in store.nudges.pending_escalations():
        sender.escalate(nudge, now)


def _recover_stale(store: Store, sender: NudgeSender, now: datetime, report: ScanReport) -> None:
    for nudge in store.nudges.stale(claimed_before=now - STALE_CLAIM):
        if not store.nudges.reclaim(nudge=nudge, now=now):
            continue
        item = store.items.get(item_id=nudge["item_id"])
        if item is None:
            continue
        try:
            found = sender.already_sent(nudge, item.owner_id)
            if found is None and item.status == "open":
                found = sender.send(
                    nudge_id=nudge["id"],
                    item=item,
                    number=nudge["number"],
                    escalate=bool(nudge["escalate"]),
                    now=now,
                )
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("Recovering nudge %s failed, will retry: %s", nudge["id"], exc)
            continue
        if found is not None:
            store.nudges.mark_sent(
                nudge_id=nudge["id"], dm_channel=found[0], dm_ts=found[1], now=now
            )
            report.recovered.append(item.id)
        else:
            store.nudges.release(nudge_id=nudge["id"], now=now)


def start_scheduler(
    job: Callable[[], object],
    *,
    interval_seconds: int,
    also: dict[str, tuple[Callable[[], object], int]] | None = None,
) -> Any:  # apscheduler's BackgroundScheduler
    """Wake ``job`` every ``interval_seconds`` in a background thread, and each of ``also``
    (id → (function, seconds)) likewise; each runs at once at start-up, never two at once."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    for job_id, (function, seconds) in {
        "nudge-scan": (job, interval_seconds),
        **(also or {}),
    }.items():
        scheduler.add_job(
            function,
            "interval",
            seconds=seconds,
            id=job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now().astimezone(),
        )
    scheduler.start()
    return scheduler
