"""Who may change what: channel membership from Slack's ``conversations.members``, cached
briefly, and the pure rules that use it.

Before an ack the bot asks Slack once, quickly (Slack allows 3 s for the whole answer); when
Slack cannot say, the answer is "no" (fail safe), never a guess that lets someone in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain import ActionItem, Incident

# A positive answer is reused this long; a negative one is always asked again, so that a
# person just invited is not refused for the cache's sake.
CACHE_SECONDS = 30.0
BEFORE_ACK_SECONDS = 1.5  # every page together, before an ack
PAGE_SIZE = 200  # Slack recommends no more than 200 a page

REFUSED = (
    "Only {short}'s owner, the incident's commander or a member of the incident's channel "
    "can change it, so nothing changed."
)
UNKNOWN = (
    "Slack didn't tell me just now who is in the incident's channel, so I changed nothing: "
    "try again in a moment."
)
NOT_YOURS = (
    "Only {short}'s owner or the incident's commander can use this button, so nothing changed."
)


class MembershipUnknown(Exception):
    """Slack could not say who is in a channel."""


class ChannelMembers:
    """Channel members as Slack lists them, each channel's list kept ``CACHE_SECONDS``."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def is_member(
        self, client: WebClient, channel_id: str, user_id: str, *, before_ack: bool = False
    ) -> bool:
        """Whether ``user_id`` is in ``channel_id``; raises ``MembershipUnknown``."""
        with self._lock:
            cached = self._cache.get(channel_id)
        if cached and self._monotonic() - cached[0] < CACHE_SECONDS and user_id in cached[1]:
            return True
        return user_id in self.fetch(client, channel_id, before_ack=before_ack)

    def fetch(
        self, client: WebClient, channel_id: str, *, before_ack: bool = False
    ) -> frozenset[str]:
        """Every member, page by page (``next_cursor``), within the time allowed."""
        asking = quick_client(client) if before_ack else client
        deadline = self._monotonic() + BEFORE_ACK_SECONDS
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                page = asking.conversations_members(
                    channel=channel_id, limit=PAGE_SIZE, **({"cursor": cursor} if cursor else {})
                )
                members.update(str(m) for m in page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
                if before_ack and self._monotonic() > deadline:
                    raise MembershipUnknown(channel_id)
        except (SlackApiError, SlackClientError, OSError, ValueError) as exc:
            raise MembershipUnknown(channel_id) from exc
        found = frozenset(members)
        with self._lock:
            self._cache[channel_id] = (self._monotonic(), found)
        return found


def quick_client(client: WebClient) -> WebClient:
    """A client for one quick try before an ack: no retries, a short timeout."""
    return WebClient(token=client.token, base_url=client.base_url, timeout=BEFORE_ACK_SECONDS)


def acts_without_asking(item: ActionItem, incident: Incident | None, user_id: str) -> bool:
    """The owner and the commander need no Slack call to act on an item."""
    return user_id == item.owner_id or (incident is not None and user_id == incident.commander_id)


def may_click(item: ActionItem, incident: Incident | None, user_id: str) -> bool:
    """A nudge's button acts only for the item's owner now, or its commander: the button
    itself carries no authority (it may be a stale DM, or a forged payload)."""
    return acts_without_asking(item, incident, user_id)


REPLAYED = "That command was handled already, so nothing changed."

REVIEW_NOT_YOURS = (
    "The {line} was asked of <@{asked}>: only they can answer it, so nothing changed."
)


def may_answer_review(asked_id: str | None, user_id: str) -> bool:
    """A review DM's buttons act only for the reviewer the line is asked of now: the button
    itself carries no authority (a forwarded or stale DM, a forged payload)."""
    return asked_id is not None and asked_id == user_id
