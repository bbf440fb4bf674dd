"""Slack users' names and timezones: cached in the database, fetched with ``users.info``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.store import Store

log = logging.getLogger(__name__)

CACHE_FOR = timedelta(hours=12)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    tz: str

    @property
    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC_ZONE


class UserDirectory:
    """Looks users up once and remembers them; Slack being down never blocks a user."""

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def get(self, client: WebClient, user_id: str, *, before_ack: bool = False) -> SlackUser:
        """The user's name and IANA timezone; the ID and UTC when Slack cannot say.

        ``before_ack`` asks Slack once, briefly, so that a slow Slack cannot hold an ack past
        its 3 seconds; ``require`` is the strict variant for when a guess would be wrong.
        """
        try:
            return self.require(client, user_id, before_ack=before_ack)
        except SlackUnavailable:
            return SlackUser(user_id, user_id, "UTC")

    def require(self, client: WebClient, user_id: str, *, before_ack: bool = False) -> SlackUser:
        """As ``get``, but raise ``SlackUnavailable`` rather than guess UTC for a user that
        Slack cannot describe right now and the cache does not know."""
        now = self.clock()
        cached = self.store.users.cached(user_id=user_id)
        if cached is not None and now - cached.fetched_at < CACHE_FOR:
            return SlackUser(cached.id, cached.name, cached.tz or "UTC")
        asking = _quick(client) if before_ack else client
        try:
            user = asking.users_info(user=user_id)["user"]
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("users.info failed for %s: %s", user_id, _reason(exc))
            if cached is not None:
                return SlackUser(cached.id, cached.name, cached.tz or "UTC")
            raise SlackUnavailable(user_id) from exc
        name = user.get("name") or user.get("real_name") or user_id
        tz = user.get("tz") or "UTC"
        self.store.users.save(user_id=user_id, name=name, tz=tz, now=now)
        return SlackUser(user_id, name, tz)

    def names(self, client: WebClient, user_ids: Iterable[str | None]) -> dict[str, str]:
        """A map of user ID to name for every ID given."""
        return {uid: self.get(client, uid).name for uid in set(user_ids) if uid}

    def cached_names(self, user_ids: Iterable[str | None]) -> dict[str, str]:
        """Names from the cache alone, however old, for work that never reaches Slack; IDs
        never cached are left out."""
        cached = (self.store.users.cached(user_id=uid) for uid in set(user_ids) if uid)
        return {user.id: user.name for user in cached if user is not None}


class SlackUnavailable(Exception):
    """Slack could not say who a user is, and the cache does not know."""


# Before an ack, one quick try: Slack allows 3 seconds for the whole answer.
BEFORE_ACK_TIMEOUT_SECONDS = 1.5


def _quick(client: WebClient) -> WebClient:
    return WebClient(
        token=client.token, base_url=client.base_url, timeout=BEFORE_ACK_TIMEOUT_SECONDS
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "error"))
    return type(exc).__name__
