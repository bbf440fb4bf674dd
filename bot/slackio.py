"""Sequences of Slack Web API calls, each with its real fallback (name_taken, already_in_channel).

These are the only functions besides listeners that talk to Slack; they take the client as an
argument and return plain values.
"""

from __future__ import annotations

import json
import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks
from bot.domain import Incident, channel_name_for

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20

# A Slack call that failed, however: refused, rate-limited past the client's retries, dropped,
# timed out, or answered with a body cut short (slack_sdk raises JSONDecodeError for
# ``{"ok": tru``). A scan catches these per item and carries on.
SLACK_FAILURES = (SlackApiError, SlackClientError, OSError, json.JSONDecodeError)


def slack_error(exc: SlackApiError) -> str:
    """The ``error`` code of a failed call, e.g. ``name_taken``."""
    return str(exc.response.get("error", "unknown_error"))


def create_incident_channel(client: WebClient, incident: Incident) -> tuple[str, str]:
    """Create the incident's channel (private for a private incident), adding a suffix on
    name_taken."""
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name_for(incident.id, attempt)
        try:
            channel = client.conversations_create(name=name, is_private=incident.is_private)[
                "channel"
            ]
        except SlackApiError as exc:
            if slack_error(exc) == "name_taken":
                continue
            raise
        return channel["id"], channel.get("name", name)
    raise RuntimeError(f"no free channel name for {incident.id} after {MAX_NAME_ATTEMPTS} tries")


def join_channel(client: WebClient, channel_id: str) -> None:
    """Join a public channel (a no-op when already a member). A private one cannot be
    joined: the bot is in it already, or Slack would not have shown it the channel."""
    try:
        client.conversations_join(channel=channel_id)
    except SlackApiError as exc:
        if slack_error(exc) != "method_not_supported_for_channel_type":
            raise


def invite(client: WebClient, channel_id: str, user_id: str) -> None:
    """Invite a user; being there already is fine."""
    try:
        client.conversations_invite(channel=channel_id, users=user_id)
    except SlackApiError as exc:
        if slack_error(exc) not in ("already_in_channel", "cant_invite_self"):
            raise


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


def upload_markdown(
    client: WebClient,
    *,
    channel_id: str,
    filename: str,
    content: str,
    comment: str,
    title: str | None = None,
) -> None:
    """Upload a Markdown file with ``files_upload_v2`` (``files.upload`` is retired)."""
    client.files_upload_v2(
        channel=channel_id,
        content=content,
        filename=filename,
        title=title or filename,
        initial_comment=comment,
    )
