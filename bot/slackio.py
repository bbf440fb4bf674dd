"""Sequences of Slack Web API calls, each with its real fallback (name_taken, already_in_channel).

These are the only functions besides listeners that talk to Slack; they take the client as an
argument and return plain values.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks
from bot.domain import Incident, channel_name_for
from bot.store import Store

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20


def slack_error(exc: SlackApiError) -> str:
    """The ``error`` code of a failed call, e.g. ``name_taken``."""
    return str(exc.response.get("error", "unknown_error"))


def create_incident_channel(client: WebClient, incident: Incident) -> tuple[str, str]:
    """Create the public channel for an incident, adding a suffix on name_taken."""
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name_for(incident.id, attempt)
        try:
            channel = client.conversations_create(name=name, is_private=False)["channel"]
        except SlackApiError as exc:
            if slack_error(exc) == "name_taken":
                continue
            raise
        return channel["id"], channel.get("name", name)
    raise RuntimeError(f"no free channel name for {incident.id} after {MAX_NAME_ATTEMPTS} tries")


def join_channel(client: WebClient, channel_id: str) -> None:
    """Join a public channel (a no-op when already a member)."""
    client.conversations_join(channel=channel_id)


def invite(client: WebClient, channel_id: str, user_id: str) -> None:
    """Invite a user; being there already is fine."""
    try:
        client.conversations_invite(channel=channel_id, users=user_id)
    except SlackApiError as exc:
        if slack_error(exc) not in ("already_in_channel", "cant_invite_self"):
            raise


def announce(client: WebClient, incident: Incident, channel_id: str) -> str:
    """Set the topic, post the intro and pin it; return the intro's ``ts``."""
    client.conversations_setTopic(channel=channel_id, topic=blocks.topic(incident))
    posted = client.chat_postMessage(
        channel=channel_id,
        text=blocks.intro_text(incident),
        blocks=blocks.intro_blocks(incident),
    )
    ts = str(posted["ts"])
    try:
        client.pins_add(channel=channel_id, timestamp=ts)
    except SlackApiError as exc:
        if slack_error(exc) != "already_pinned":
            raise
    return ts


def refresh(client: WebClient, incident: Incident) -> None:
    """Show a changed incident in its channel's topic and pinned intro."""
    assert incident.channel_id is not None
    client.conversations_setTopic(channel=incident.channel_id, topic=blocks.topic(incident))
    if incident.intro_ts:
        client.chat_update(
            channel=incident.channel_id,
            ts=incident.intro_ts,
            text=blocks.intro_text(incident),
            blocks=blocks.intro_blocks(incident),
        )


SLACK_FAILURES = (SlackApiError, SlackClientError, OSError)


def post_or_queue(
    client: WebClient, store: Store, *, channel: str, text: str, now: datetime
) -> None:
    """Post a reply; if Slack still refuses after the client's retries, keep it in the outbox
    so that the next scan posts it once Slack answers again."""
    try:
        client.chat_postMessage(channel=channel, text=text)
    except SLACK_FAILURES as exc:
        store.outbox.queue(channel=channel, text=text, now=now)
        log.error("Posting to %s failed (%s); queued until Slack answers again", channel, exc)


def deliver_queued(client: WebClient, store: Store, *, now: datetime) -> int:
    """Post what the outbox holds; return how many went out. A failure waits a minute."""
    sent = 0
    while (message := store.outbox.take(now=now, retry_at=now + RETRY_QUEUED)) is not None:
        try:
            client.chat_postMessage(channel=message["channel"], text=message["text"])
        except SLACK_FAILURES as exc:
            log.warning("Queued message %s still refused: %s", message["id"], exc)
            continue
        store.outbox.delivered(message_id=message["id"])
        sent += 1
    return sent


RETRY_QUEUED = timedelta(minutes=1)


def upload_markdown(
    client: WebClient, *, channel_id: str, filename: str, content: str, comment: str
) -> None:
    """Upload a Markdown file with ``files_upload_v2`` (``files.upload`` is retired)."""
    client.files_upload_v2(
        channel=channel_id,
        content=content,
        filename=filename,
        title=filename,
        initial_comment=comment,
    )
