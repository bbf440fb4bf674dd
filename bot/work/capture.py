"""What a capture's event lacks, fetched after the ack: a 📌'd message's text, time and
author (the reaction names the message but does not carry it), and the permalink that a 📌
and the "Add to timeline" shortcut lack. Filling is idempotent (``captures.gaps`` says what is
still missing), so a job run again after a crash fetches only what is not stored yet."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import capture, slackio
from bot.jobs import GiveUp, Jobs, is_permanent
from bot.parsing import captured_message
from bot.store import Store
from bot.store.jobs import Job

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

FETCH = "capture_fetch"
LINK_MISSING = "The message is on the timeline, but Slack would not give me its link."


def add_fetch(
    store: Store, *, key: str, channel_id: str, ts: str, user_id: str, now: datetime,
    event_id: str | None = None, link_only: bool = False,
) -> int:  # fmt: skip
    """Fetch what the entry of the captured message ``key`` lacks (inside the caller's
    transaction); one job per capture event."""
    return store.jobs.add(
        kind=FETCH, key=f"capture:{event_id or key}",
        payload={"source_key": key, "channel_id": channel_id, "ts": ts, "link_only": link_only},
        now=now,
        requested_by=user_id or None, notify_channel=channel_id,
    )  # fmt: skip


def read_message(client: WebClient, channel_id: str, ts: str) -> dict[str, Any] | None:
    """The message at ``ts``: from the channel's history or, for a thread reply, its thread;
    None once it is gone."""
    history = client.conversations_history(channel=channel_id, latest=ts, inclusive=True, limit=1)
    for message in history.get("messages") or []:
        if message.get("ts") == ts:
            return dict(message)
    # conversations.history lists top-level messages only; a reply is read from its thread.
    try:
        thread = client.conversations_replies(
            channel=channel_id, ts=ts, oldest=ts, latest=ts, inclusive=True
        )
    except SlackApiError as exc:
        if slackio.slack_error(exc) == "thread_not_found":
            return None  # deleted before we could read it
        raise
    return next((dict(m) for m in thread.get("messages") or [] if m.get("ts") == ts), None)


def fetch(job: Job, deps: Deps, client: WebClient) -> None:
    key, channel_id, ts = job.payload["source_key"], job.payload["channel_id"], job.payload["ts"]
    gaps = deps.store.captures.gaps(source_key=key)
    if not gaps:
        return  # filled already, or the capture was undone meanwhile
    try:
        fields: dict[str, Any] = {}
        if "text" in gaps:
            message = captured_message(channel_id, read_message(client, channel_id, ts))
            if message is None:
                log.info("The message %s was gone before it could be read", key)
                return
            fields = {**capture.message_fields(message), "source": "reaction"}
        link = client.chat_getPermalink(channel=channel_id, message_ts=ts)
    except SlackApiError as exc:
        if is_permanent(exc):
            log.error("Reading the captured message %s failed: %s", key, slackio.slack_error(exc))
            raise GiveUp(capture.UNREADABLE_PUSHPIN.format(error=slackio.slack_error(exc))) from exc
        raise
    deps.store.captures.fill(
        source_key=key, now=deps.clock(), permalink=str(link["permalink"]), **fields
    )


def register_jobs(jobs: Jobs) -> None:
    jobs.register(
        FETCH,
        fetch,
        failure_text=lambda job: (
            LINK_MISSING
            if job.payload.get("link_only")
            else capture.UNREADABLE_PUSHPIN.format(error="Slack kept failing")
        ),
    )
