"""Posting exactly once: every message carries its job's key in Slack message ``metadata``,
and a retried post first looks for that key in the channel's recent history.

A post whose answer was lost (the client timed out, the connection dropped) may have reached
Slack; posting again blindly would double it. So from the second try on, the job reads
``conversations.history`` with ``include_all_metadata`` and stops if its message is there.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.store.jobs import Job

EVENT_TYPE = "incident_bot_job"
# How far back a retry looks for its own message: a retry follows its first try within
# minutes, and an incident channel does not see hundreds of messages in that time.
RECENT = 200


def metadata(key: str) -> dict[str, Any]:
    """The ``metadata`` argument that marks a message as posted by the job ``key``."""
    return {"event_type": EVENT_TYPE, "event_payload": {"job_key": key}}


def already_posted(client: WebClient, job: Job, channel: str, key: str) -> str | None:
    """The ``ts`` of the message ``key`` marks in ``channel``, if an earlier try posted it."""
    history = client.conversations_history(channel=channel, include_all_metadata=True, limit=RECENT)
    for message in history.get("messages") or []:
        meta = message.get("metadata") or {}
        if (
            meta.get("event_type") == EVENT_TYPE
            and (meta.get("event_payload") or {}).get("job_key") == key
        ):
            return str(message["ts"])
    return None


def post_once(
    client: WebClient, job: Job, *, channel: str, text: str, part: str = "", **extra: Any
) -> str:
    """Post ``text`` in ``channel`` unless an earlier try of ``job`` did; return its ``ts``.
    ``part`` tells apart several messages of one job (e.g. a channel's intro)."""
    key = f"{job.key}:{part}" if part else job.key
    if job.attempts > 1:
        found = already_posted(client, job, channel, key)
        if found is not None:
            return found
    posted = client.chat_postMessage(channel=channel, text=text, metadata=metadata(key), **extra)
    return str(posted["ts"])
