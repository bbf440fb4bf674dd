"""The replies posted after an ack: ``/timeline``'s echo (when the ack could not carry it)
and a new action item's line."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot import blocks
from bot.domain import ActionItem, TimelineEntry
from bot.jobs import GiveUp, Jobs
from bot.store import Store
from bot.store.jobs import Job
from bot.work.posting import post_once

if TYPE_CHECKING:
    from bot.deps import Deps

REPLY = "reply"
TIMELINE_REPLY = "timeline_reply"
ITEM_REPLY = "item_reply"


def add_reply(
    store: Store, *, key: str, channel: str, text: str, now: datetime, user_id: str | None = None
) -> int:
    """A reply whose text is known now (inside the caller's transaction)."""
    return store.jobs.add(
        kind=REPLY, key=key, payload={"channel": channel, "text": text}, now=now,
        requested_by=user_id, notify_channel=channel,
    )  # fmt: skip


def add_timeline_reply(
    store: Store, entry: TimelineEntry, *, channel: str, user_id: str, warnings: list[str],
    now: datetime,
) -> int:  # fmt: skip
    """``/timeline``'s echo, in the author's zone (asked of Slack after the ack)."""
    payload = {"entry_id": entry.id, "channel": channel, "user_id": user_id, "warnings": warnings}
    return store.jobs.add(
        kind=TIMELINE_REPLY, key=f"reply:entry:{entry.id}", payload=payload, now=now,
        incident_id=entry.incident_id, requested_by=user_id, notify_channel=channel,
    )  # fmt: skip


def add_item_reply(
    store: Store, item: ActionItem, *, channel: str, user_id: str, now: datetime
) -> int:
    """The new item, shown to the team in its incident's channel."""
    return store.jobs.add(
        kind=ITEM_REPLY, key=f"reply:item:{item.id}", payload={"item_id": item.id,
        "channel": channel}, now=now, incident_id=item.incident_id, requested_by=user_id,
        notify_channel=channel,
    )  # fmt: skip


def post_reply(job: Job, deps: Deps, client: WebClient) -> None:
    post_once(client, job, channel=job.payload["channel"], text=job.payload["text"])


def timeline_echo(
    entry: TimelineEntry, tz_name: str | None, typed_at: datetime, warnings: list[str]
) -> str:
    """``/timeline``'s echo: the entry as stored, in the author's zone, with any order
    problems; the same in the ack and in the reply job."""
    text = blocks.entry_recorded_text(entry, tz_name, typed_at)
    for problem in warnings:
        text += f"\n⚠️ Out of order: {problem}. Check the times."
    return text


def post_timeline_reply(job: Job, deps: Deps, client: WebClient) -> None:
    entry = deps.store.timeline.get(entry_id=job.payload["entry_id"])
    if entry is None:
        return  # removed since: nothing to show
    tz_name = deps.users.get(client, job.payload["user_id"]).tz
    # "Today" is the day it was typed, however late the job runs.
    text = timeline_echo(entry, tz_name, job.created_at, job.payload.get("warnings") or [])
    post_once(client, job, channel=job.payload["channel"], text=text)


def post_item_reply(job: Job, deps: Deps, client: WebClient) -> None:
    item = deps.store.items.get(item_id=job.payload["item_id"])
    incident = deps.store.incidents.get(incident_id=item.incident_id) if item else None
    if item is None or incident is None:
        raise GiveUp("The action item you added is gone, so I did not show it in the channel.")
    text = blocks.item_added_text(item, incident, None)
    post_once(client, job, channel=job.payload["channel"], text=text)


def register_jobs(jobs: Jobs) -> None:
    unsent = "I recorded it, but could not post the reply in the channel: Slack kept refusing."
    jobs.register(REPLY, post_reply, failure_text=lambda job: unsent)
    jobs.register(TIMELINE_REPLY, post_timeline_reply, failure_text=lambda job: unsent)
    jobs.register(ITEM_REPLY, post_item_reply, failure_text=lambda job: unsent)
