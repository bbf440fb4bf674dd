"""The workspace the stand-in keeps: users, channels and their members, messages, pins, files,
views, and the observers told about every change a person would see.

Seeding (``add_user``, ``add_channel``, ``post_as_user``, ``pin_as_user``) is what a test or the
shell does as the people of the workspace; the Web API methods in :mod:`.methods` are what the
bot does. Every visible change is announced to the observers as a :class:`Seen`, in the order it
happened (the shell prints them; a test may collect them).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.harness.slack.objects import channel_object, user_object
from bot.harness.wire import BOT_NAME, BOT_USER_ID, TEAM_ID


@dataclass
class Call:
    """One request received by the stand-in."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token: str | None = None
    faulted: bool = False
    body: bytes = b""
    at: float = field(default_factory=time.time)


@dataclass
class Upload:
    """A file completed through ``files.completeUploadExternal``."""

    file_id: str
    filename: str
    title: str
    content: str
    data: bytes
    channel_id: str | None
    channels: list[str]
    initial_comment: str | None
    thread_ts: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None


@dataclass(frozen=True)
class Seen:
    """A change a person in the workspace would see, as the stand-in announces it.

    ``kind`` is one of ``channel_created``, ``joined``, ``invited`` (``users``), ``topic``,
    ``message``, ``ephemeral`` (to ``user``), ``updated``, ``pinned`` (by the bot),
    ``upload`` (``upload``), ``modal``, ``response`` (a ``response_url`` post for ``user``)
    and ``unknown_method`` (``method``). ``params`` are the call's parameters.
    """

    kind: str
    channel: str = ""
    user: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    ts: str | None = None
    users: tuple[str, ...] = ()
    upload: Upload | None = None
    method: str = ""


Observer = Callable[[Seen], None]
# What a person sees but that changes nothing in Slack.
NOT_WRITES = frozenset({"ephemeral", "response", "unknown_method"})


class ApiError(Exception):
    """Raised by a method to answer ``{"ok": false, "error": ...}`` (with ``extra`` fields)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class Workspace:
    """The state behind the stand-in, and the ways people (not the bot) change it.

    ``strict`` answers as Slack would for what it does not know: an unknown channel ID is
    ``channel_not_found``, an unknown user ``user_not_found``. Lenient (the default) registers
    unknown channel IDs on the fly, so a test need not seed every channel it mentions.
    ``clock`` stamps message ts and timezone offsets (the wall clock by default); ``id_prefix``
    goes into every ID, so that runs sharing a database never reuse one.
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        clock: Callable[[], datetime] | None = None,
        id_prefix: str = "",
    ) -> None:
        self.strict = strict
        self.clock = clock
        self.id_prefix = id_prefix
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._observers: list[Observer] = []
        self._targets: dict[str, tuple[str, str]] = {}
        self._counter = 0x100
        self._last_ts_us = 0
        self.root_url = ""
        self.uploads: list[Upload] = []
        self.bot_writes = 0  # state-changing calls the bot made: a command's effect in Slack
        self._reset_state()

    def _reset_state(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.pins: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.add_user(BOT_USER_ID, BOT_NAME, is_bot=True, real_name="Incident Bot")

    # ------------------------------------------------------------------ observers

    def observe(self, observer: Observer) -> None:
        """Call ``observer(seen)`` for every visible change, in order, under the state lock."""
        with self._lock:
            self._observers.append(observer)

    def _notify(self, kind: str, **fields: Any) -> None:
        seen = Seen(kind, **fields)
        if kind not in NOT_WRITES:
            self.bot_writes += 1
        for observer in self._observers:
            observer(seen)

    # ------------------------------------------------------------------ ids and time

    def now(self) -> datetime:
        """The stand-in's clock."""
        return self.clock() if self.clock is not None else datetime.now(UTC)

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self.id_prefix}{self._counter:010X}"

    def next_ts(self) -> str:
        """A unique, strictly increasing Slack message ts like ``1764253920.000100``."""
        with self._lock:
            now_us = int(self.now().timestamp() * 1_000_000)
            now_us -= now_us % 100
            ts_us = max(now_us, self._last_ts_us + 100)
            self._last_ts_us = ts_us
        return f"{ts_us // 1_000_000}.{ts_us % 1_000_000:06d}"

    # ------------------------------------------------------------------ seeding

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        bot_is_member: bool = True,
        members: Iterable[str] = (),
        topic: str = "",
        channel_id: str | None = None,
    ) -> str:
        """Seed a channel and return its ID (``name_taken`` applies to it afterwards)."""
        with self._lock:
            cid = channel_id or self._next_id("G" if is_private else "C")
            self.channels[cid] = channel_object(
                cid,
                name,
                is_private=is_private,
                creator=BOT_USER_ID if bot_is_member else "U_SEED",
                topic=topic,
                now=int(self.now().timestamp()),
            )
            self.members[cid] = set(members)
            if bot_is_member:
                self.members[cid].add(BOT_USER_ID)
            self.messages.setdefault(cid, [])
            return cid

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        """Return the public view of the channel called ``name`` (or None)."""
        with self._lock:
            for cid, ch in self.channels.items():
                if ch["name"] == name and not ch.get("is_im"):
                    return self._channel_view(cid)
        return None

    def add_member(self, channel_id: str, user_id: str) -> None:
        """A person joins a channel (no event is sent)."""
        with self._lock:
            self.members.setdefault(channel_id, set()).add(user_id)

    def add_user(self, user_id: str, name: str, tz: str = "UTC", **profile: Any) -> dict[str, Any]:
        """Seed a user for ``users.info`` and return its user object (``real_name``,
        ``display_name``, ``email``, ``is_bot`` and ``deleted`` may be given)."""
        user = user_object(user_id, name, tz, now=self.now(), **profile)
        with self._lock:
            self.users[user_id] = user
        return user

    def user_by_name(self, name: str) -> dict[str, Any] | None:
        """The user called ``name`` (or None)."""
        with self._lock:
            return next((u for u in self.users.values() if u["name"] == name), None)

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to ``channel`` (ID) through the stand-in, oldest first."""
        with self._lock:
            return list(self.messages.get(channel, []))

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message at ``ts`` in ``channel`` (or None)."""
        with self._lock:
            return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def post_as_user(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """Seed a message that a person posted (as the Slack client would), and return it."""
        ts = ts or self.next_ts()
        message: dict[str, Any] = {
            "client_msg_id": secrets.token_hex(16),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": TEAM_ID,
        }
        if thread_ts:
            message.update(thread_ts=thread_ts, parent_user_id=user)
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return message

    def pin_as_user(self, channel: str, ts: str, user: str) -> None:
        """A person pins the message at ``ts`` (send the ``pin_added`` event yourself)."""
        with self._lock:
            self.pins.setdefault(channel, []).append(ts)

    # ------------------------------------------------------------------ helpers for methods

    def _channel_view(self, cid: str) -> dict[str, Any]:
        view = dict(self.channels[cid])
        view["is_member"] = BOT_USER_ID in self.members.get(cid, set())
        if view["is_member"]:
            view["last_read"] = "0000000000.000000"
        return view

    def _resolve_channel(self, value: Any, *, bot_joins: bool = True) -> str:
        """Map a channel ID or (#)name to an ID, as Slack would.

        Unknown IDs raise ``channel_not_found`` in strict mode; otherwise they are
        registered on the fly as existing public channels (the bot a member when
        ``bot_joins``), so tests need not seed every channel they mention.
        """
        if not value:
            raise ApiError("channel_not_found")
        channel = str(value)
        if channel in self.channels:
            return channel
        name = channel.removeprefix("#")
        for cid, ch in self.channels.items():
            if ch["name"] == name:
                return cid
        if channel.startswith("#") or self.strict:
            raise ApiError("channel_not_found")
        return self.add_channel(
            f"channel-{channel.lower()}", bot_is_member=bot_joins, channel_id=channel
        )

    def _require_member(self, cid: str) -> None:
        if cid in self.channels and BOT_USER_ID not in self.members.get(cid, set()):
            raise ApiError("not_in_channel")
