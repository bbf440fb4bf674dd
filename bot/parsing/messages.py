"""Pinned items, captured messages, reactions and message edits: Slack's event shapes read
into the small records the listeners store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.parsing.text import clean_text

# --- pinned items -----------------------------------------------------------------------


@dataclass(frozen=True)
class PinnedItem:
    """What a ``pin_added`` / ``pin_removed`` item says, ready for the timeline."""

    source_key: str
    source: str  # "pin" (a message) or "file"
    at: datetime
    text: str
    actor_id: str | None
    actor_name: str | None
    permalink: str | None
    message_ts: str | None


def _epoch(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def pinned_item(channel_id: str, item: Mapping[str, object]) -> PinnedItem | None:
    """The timeline view of a pinned message or file; None for anything else or a broken item."""
    if not isinstance(item, Mapping):
        return None
    if item.get("type") == "message":
        message = captured_message(channel_id, item.get("message"))
        if message is None:
            return None
        return PinnedItem(
            source_key=message.key,
            source="pin",
            at=message.at,
            text=message.text,
            actor_id=message.actor_id,
            actor_name=message.actor_name,
            permalink=message.permalink,
            message_ts=message.ts,
        )
    if item.get("type") == "file" and isinstance(item.get("file"), Mapping):
        file = item["file"]
        assert isinstance(file, Mapping)
        file_id = str(file.get("id") or "")
        at = _epoch(file.get("created") or item.get("created"))
        if not file_id or at is None:
            return None
        user = file.get("user")
        return PinnedItem(
            source_key=f"file:{channel_id}:{file_id}",
            source="file",
            at=at,
            text=clean_text(str(file.get("title") or file.get("name") or file_id)),
            actor_id=str(user) if user else None,
            actor_name=None,
            permalink=str(file["permalink"]) if file.get("permalink") else None,
            message_ts=None,
        )
    return None


# --- captured messages: 📌 reactions, the "Add to timeline" shortcut, edits and deletions ---

CAPTURE_REACTION = "pushpin"  # 📌; ":round_pushpin:" (📍) is another emoji and is ignored


def message_key(channel_id: str, ts: str) -> str:
    """The entry key of a message on the timeline, however it was captured.

    It is the key pins have always used, so that a pin, a 📌 and the shortcut on the same
    message find the one entry and existing databases need no rewrite.
    """
    return f"pin:{channel_id}:{ts}"


@dataclass(frozen=True)
class CapturedMessage:
    """A Slack message as the timeline records it: its own time, author, text and link."""

    channel_id: str
    ts: str
    at: datetime
    text: str
    actor_id: str | None
    actor_name: str | None
    permalink: str | None
    version_ts: str  # the last edit's ts, else ts: a later version's text replaces an earlier one

    @property
    def key(self) -> str:
        return message_key(self.channel_id, self.ts)


def message_version(message: Mapping[str, object]) -> str:
    """The ts of the message's latest edit, or its own ts when it was never edited."""
    edited = message.get("edited")
    edited_ts = edited.get("ts") if isinstance(edited, Mapping) else None
    return str(edited_ts or message.get("ts") or "")


def captured_message(
    channel_id: str, message: object, permalink: str | None = None
) -> CapturedMessage | None:
    """The timeline view of a message from an event, a shortcut or ``conversations.history``;
    None for a broken one. ``permalink`` wins over one the message carries."""
    if not isinstance(message, Mapping) or not channel_id:
        return None
    ts = str(message.get("ts") or "")
    at = _epoch(ts)
    if at is None:
        return None
    text = str(message.get("text") or "")
    files = message.get("files")
    if not text and isinstance(files, list) and files and isinstance(files[0], Mapping):
        text = str(files[0].get("title") or files[0].get("name") or "")
    bot_profile = message.get("bot_profile")
    bot_name = bot_profile.get("name") if isinstance(bot_profile, Mapping) else None
    user = message.get("user")
    link = permalink or message.get("permalink")
    return CapturedMessage(
        channel_id=channel_id,
        ts=ts,
        at=at,
        text=clean_text(text),
        actor_id=str(user) if user else None,
        actor_name=str(message.get("username") or bot_name or "") or None,
        permalink=str(link) if link else None,
        version_ts=message_version(message),
    )


@dataclass(frozen=True)
class ReactionTarget:
    """The message a 📌 reaction was added to or removed from, and who reacted."""

    channel_id: str
    ts: str
    user_id: str

    @property
    def key(self) -> str:
        return message_key(self.channel_id, self.ts)


def pushpin_target(event: Mapping[str, object]) -> ReactionTarget | None:
    """The message of a ``reaction_added``/``reaction_removed`` with 📌; None for any other
    reaction, or a reaction to something that is not a message."""
    if event.get("reaction") != CAPTURE_REACTION:
        return None
    item = event.get("item")
    if not isinstance(item, Mapping) or item.get("type") != "message":
        return None
    channel_id, ts, user = item.get("channel"), item.get("ts"), event.get("user")
    if not channel_id or not ts or not user or _epoch(ts) is None:
        return None
    return ReactionTarget(channel_id=str(channel_id), ts=str(ts), user_id=str(user))


@dataclass(frozen=True)
class MessageChange:
    """What a ``message_changed`` or ``message_deleted`` event does to a message."""

    channel_id: str
    ts: str
    deleted: bool
    message: CapturedMessage | None  # the new version of an edited message

    @property
    def key(self) -> str:
        return message_key(self.channel_id, self.ts)


MESSAGE_CHANGE_SUBTYPES = frozenset({"message_changed", "message_deleted"})


def message_change(event: Mapping[str, object]) -> MessageChange | None:
    """An edit or a deletion; None for every other message event (the common case, so cheap).

    A deleted message that had thread replies stays as a ``tombstone``, which Slack announces
    as a ``message_changed``: that is a deletion too.
    """
    subtype = event.get("subtype")
    if subtype not in MESSAGE_CHANGE_SUBTYPES:
        return None
    channel_id = str(event.get("channel") or "")
    if subtype == "message_deleted":
        ts = str(event.get("deleted_ts") or "")
        if not channel_id or _epoch(ts) is None:
            return None
        return MessageChange(channel_id=channel_id, ts=ts, deleted=True, message=None)
    message = event.get("message")
    if not isinstance(message, Mapping):
        return None
    if message.get("subtype") == "tombstone":
        ts = str(message.get("ts") or "")
        if not channel_id or _epoch(ts) is None:
            return None
        return MessageChange(channel_id=channel_id, ts=ts, deleted=True, message=None)
    captured = captured_message(channel_id, message)
    if captured is None:
        return None
    return MessageChange(channel_id=channel_id, ts=captured.ts, deleted=False, message=captured)


__all__ = [
    "CAPTURE_REACTION", "MESSAGE_CHANGE_SUBTYPES", "CapturedMessage", "MessageChange",
    "PinnedItem", "ReactionTarget", "captured_message", "message_change", "message_key",
    "message_version", "pinned_item", "pushpin_target",
]  # fmt: skip
