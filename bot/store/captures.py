"""Captured messages: pins, 📌 reactions and the "Add to timeline" shortcut.

A message is one entry however many captures hold it: its pin, each person's 📌, each use of
the shortcut (one ``message_captures`` row each). The entry is live while any capture holds it
and the message is not deleted. Each capture keeps the ts of the last event applied to it, so
an older event arriving late never undoes a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlite_utils import Database

from bot.domain import TimelineEntry
from bot.store import events
from bot.store.connection import Repository, first, keywords, to_db_time
from bot.store.timeline import entry_by_key, entry_from_row, insert_entry

# A held, undeleted message, by its source_key.
LIVE = (
    "m.source_key = ? AND m.deleted_at IS NULL AND EXISTS "
    "(SELECT 1 FROM message_captures c WHERE c.source_key = m.source_key AND c.held = 1)"
)


class Content(TypedDict, total=False):
    """What is known of a captured message; a pin's event carries it, a 📌's does not."""

    at: datetime | None
    text: str | None
    actor_id: str | None
    actor_name: str | None
    permalink: str | None
    version_ts: str | None
    source: str  # "pin" unless given


class Capture(TypedDict):
    """An event that changes one capture (``via``) of one message (``source_key``)."""

    event_id: str | None
    event_ts: str | None
    incident_id: str
    source_key: str
    via: str
    now: datetime


class Held(Capture, Content):
    """A capture that holds its message, with what its event carried of the message."""


class Captures(Repository):
    """The ``captured_messages`` and ``message_captures`` tables, and the entries they hold."""

    def hold(self, **capture: Unpack[Held]) -> bool:
        """Record that ``via`` holds a message and, given its content, create or complete its
        entry; False if the event was seen or stale, or the message deleted."""
        keywords(Held, capture)
        with self.db.write() as db:
            message = _apply(db, capture, held=True)
            if message is None:
                return False
            if _fill_entry(db, message, capture["now"], capture) != "inserted":
                # This capture now holds the undeleted message, so it is live: no need to
                # read that again (_sync_entry), only to undo an earlier removal. A new
                # entry was inserted live.
                _restore_entry(db, capture["source_key"])
        return True

    def release(self, **capture: Unpack[Capture]) -> bool:
        """Record that ``via`` no longer holds a message (unpinned, 📌 removed); the entry goes
        when nothing holds it. False if the event was seen or is older than the capture."""
        keywords(Capture, capture)
        with self.db.write() as db:
            if _apply(db, capture, held=False) is None:
                return False
            _sync_entry(db, capture["source_key"], capture["now"])
        return True

    def gaps(self, *, source_key: str) -> set[str]:
        """What a held, undeleted message's entry still lacks: ``text`` (no entry yet, as after
        a 📌, whose event does not carry the message) and ``permalink``."""
        rows = self.db.rows(
            "SELECT e.id, e.permalink FROM captured_messages m "
            "LEFT JOIN timeline_entries e ON e.source_key = m.source_key WHERE " + LIVE,
            [source_key],
        )
        if not rows:
            return set()
        if rows[0]["id"] is None:
            return {"text", "permalink"}
        return set() if rows[0]["permalink"] else {"permalink"}

    def fill(
        self,
        *,
        source_key: str,
        now: datetime,
        **content: Unpack[Content],
    ) -> TimelineEntry | None:
        """Complete a held message's entry with what was fetched after the ack; None if
        nothing holds the message any more, it was deleted, or it still has no entry."""
        keywords(Content, content)
        with self.db.write() as db:
            message = _captured_row(db, source_key)
            if message is None or message["deleted_at"] is not None:
                return None
            held = db.execute(
                "SELECT 1 FROM message_captures WHERE source_key = ? AND held = 1 LIMIT 1",
                [source_key],
            ).fetchone()
            if held is None:
                return None
            _fill_entry(db, message, now, content)
            _sync_entry(db, source_key, now)
            entry = entry_by_key(db, source_key)
        return entry_from_row(entry) if entry is not None else None

    def exists(self, *, source_key: str) -> bool:
        """Whether a message was ever captured: one indexed read, for the flood of message
        events that concern nothing on a timeline."""
        rows = self.db.rows("SELECT 1 FROM captured_messages WHERE source_key = ?", [source_key])
        return bool(rows)

    def edit(
        self, *, event_id: str | None, source_key: str, text: str, version_ts: str, now: datetime
    ) -> bool:
        """Show an edited message's new text; False if the event was seen, the message has
        no entry or was deleted, or this version is not newer than the one shown."""
        with self.db.write() as db:
            message = _undeleted(db, event_id, source_key, now)
            if message is None or entry_by_key(db, source_key) is None:
                return False  # without an entry, the fetch after a 📌 reads the message as now
            if not _later(version_ts, message["version_ts"]):
                return False
            db.execute(
                "UPDATE timeline_entries SET text = ? WHERE source_key = ?", [text, source_key]
            )
            _set_version(db, source_key, version_ts)
        return True

    def delete(self, *, event_id: str | None, source_key: str, now: datetime) -> bool:
        """A deleted message leaves the timeline for good, whatever held it; False if the
        event was seen or the message was never captured or is already deleted."""
        with self.db.write() as db:
            if _undeleted(db, event_id, source_key, now) is None:
                return False
            db.execute(
                "UPDATE captured_messages SET deleted_at = ? WHERE source_key = ?",
                [to_db_time(now), source_key],
            )
            _sync_entry(db, source_key, now)
        return True

    # --- pins that are not messages (files): the entry alone records them ----------------

    def pin(
        self,
        *,
        event_id: str | None,
        event_ts: str,
        incident_id: str,
        source_key: str,
        at: datetime,
        text: str,
        actor_id: str | None,
        actor_name: str | None,
        source: str,
        permalink: str | None,
        now: datetime,
    ) -> TimelineEntry | None:
        """Store a pin once: None if the event was seen, or the pin is already recorded.

        A pin after an unpin restores the entry; an older event never undoes a newer one.
        """
        with self.db.write() as db:
            if not events.claim(db, event_id=event_id, now=now):
                return None
            existing = entry_by_key(db, source_key)
            if existing is None and _unpinned_later(db, source_key, event_ts):
                return None  # its unpin, newer, arrived first: the file is no longer pinned
            if existing is not None:
                if existing["removed_at"] is None or _newer(existing, event_ts) is False:
                    return None
                db.execute(
                    "UPDATE timeline_entries SET removed_at = NULL, source_event_ts = ?, text = ?, "
                    "permalink = ? WHERE id = ?",
                    [event_ts, text, permalink, existing["id"]],
                )
                return entry_from_row(entry_by_key(db, source_key) or existing)
            row = insert_entry(
                db, incident_id=incident_id, at=at, kind="pin", text=text, actor_id=actor_id,
                actor_name=actor_name, source=source, source_key=source_key,
                source_event_ts=event_ts, permalink=permalink, now=now,
            )  # fmt: skip
        return entry_from_row(row)

    def unpin(
        self,
        *,
        event_id: str | None,
        event_ts: str,
        source_key: str,
        now: datetime,
        incident_id: str | None = None,
    ) -> bool:
        """Mark a pinned entry removed; False if the event was seen or nothing changed.

        An unpin that arrives before its pin (Slack does not order events) is remembered, with
        the incident it belongs to, so that the older pin arriving late stays undone."""
        with self.db.write() as db:
            if not events.claim(db, event_id=event_id, now=now):
                return False
            existing = entry_by_key(db, source_key)
            if existing is None and incident_id is not None:
                if _captured_row(db, source_key) is None:
                    _new_captured_row(db, source_key, incident_id, now)
                _set_capture(db, source_key, "pin", False, event_ts, now)
                return False
            if existing is None or existing["removed_at"] is not None:
                return False
            if _newer(existing, event_ts) is False:
                return False
            db.execute(
                "UPDATE timeline_entries SET removed_at = ?, source_event_ts = ? WHERE id = ?",
                [to_db_time(now), event_ts, existing["id"]],
            )
        return True


def _apply(db: Database, capture: Capture, *, held: bool) -> dict[str, Any] | None:
    """Claim the event and hold or release the capture: the message's row, or None if the
    event was seen or is stale, or a hold finds the message deleted."""
    source_key, now = capture["source_key"], capture["now"]
    if not events.claim(db, event_id=capture["event_id"], now=now):
        return None
    message = _captured_row(db, source_key)
    new = message is None
    if message is None:
        # A release is remembered too, so that its capture arriving late stays undone.
        message = _new_captured_row(db, source_key, capture["incident_id"], now)
    elif held and message["deleted_at"] is not None:
        return None
    if not _set_capture(db, source_key, capture["via"], held, capture["event_ts"], now, new=new):
        return None
    return message


def _undeleted(
    db: Database, event_id: str | None, source_key: str, now: datetime
) -> dict[str, Any] | None:
    """Claim the event: the captured message's row, or None if the event was seen or the
    message was never captured or is deleted."""
    if not events.claim(db, event_id=event_id, now=now):
        return None
    message = _captured_row(db, source_key)
    return message if message is not None and message["deleted_at"] is None else None


def _captured_row(db: Database, source_key: str) -> dict[str, Any] | None:
    return first(db, "SELECT * FROM captured_messages WHERE source_key = ?", [source_key])


def _new_captured_row(
    db: Database, source_key: str, incident_id: str, now: datetime
) -> dict[str, Any]:
    row = {
        "source_key": source_key, "incident_id": incident_id, "version_ts": None,
        "deleted_at": None, "created_at": to_db_time(now),
    }  # fmt: skip
    db.execute(
        "INSERT INTO captured_messages (source_key, incident_id, version_ts, deleted_at, "
        "created_at) VALUES (:source_key, :incident_id, :version_ts, :deleted_at, :created_at)",
        row,
    )
    return row


def _set_version(db: Database, source_key: str, version_ts: str | None) -> None:
    db.execute(
        "UPDATE captured_messages SET version_ts = ? WHERE source_key = ?",
        [version_ts, source_key],
    )


def _set_capture(
    db: Database,
    source_key: str,
    via: str,
    held: bool,
    event_ts: str | None,
    now: datetime,
    *,
    new: bool = False,
) -> bool:
    """Hold or release; False, changing nothing, for an event older than the last one.
    ``new``: the message's row was inserted just now, so it has no capture to compare with
    (``message_captures`` references ``captured_messages``)."""
    if not new:
        row = db.execute(
            "SELECT event_ts FROM message_captures WHERE source_key = ? AND via = ?",
            [source_key, via],
        ).fetchone()
        last = row[0] if row else None
        if event_ts and last and _later(last, event_ts):
            return False
    db.execute(
        "INSERT INTO message_captures (source_key, via, held, event_ts, changed_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_key, via) DO UPDATE SET "
        "held = excluded.held, event_ts = COALESCE(excluded.event_ts, event_ts), "
        "changed_at = excluded.changed_at",
        [source_key, via, int(held), event_ts or None, to_db_time(now)],
    )
    return True


def _fill_entry(
    db: Database, message: dict[str, Any], now: datetime, content: Content
) -> str | None:
    """Create the message's entry from its content, or add what it lacks: a permalink,
    or the text of a newer version. ``"inserted"`` when it created the entry."""
    source_key = message["source_key"]
    at, text, version_ts = content.get("at"), content.get("text"), content.get("version_ts")
    permalink = content.get("permalink")
    entry = entry_by_key(db, source_key)
    if entry is None:
        if at is None or text is None:
            return None
        insert_entry(
            db, incident_id=message["incident_id"], at=at, kind="pin", text=text,
            actor_id=content.get("actor_id"), actor_name=content.get("actor_name"),
            source=content.get("source", "pin"), source_key=source_key, permalink=permalink,
            now=now,
        )  # fmt: skip
        _set_version(db, source_key, version_ts)
        return "inserted"
    if permalink and not entry["permalink"]:
        db.execute(
            "UPDATE timeline_entries SET permalink = ? WHERE id = ?", [permalink, entry["id"]]
        )
    if text is None or not _later(version_ts, message["version_ts"]):
        return None
    db.execute("UPDATE timeline_entries SET text = ? WHERE id = ?", [text, entry["id"]])
    _set_version(db, source_key, version_ts)
    return None


def _restore_entry(db: Database, source_key: str) -> None:
    """The held message's entry is live again (if it was removed)."""
    db.execute(
        "UPDATE timeline_entries SET removed_at = NULL WHERE source_key = ? "
        "AND removed_at IS NOT NULL",
        [source_key],
    )


def _sync_entry(db: Database, source_key: str, now: datetime) -> None:
    """Live while a capture holds the message and it is not deleted; removed otherwise."""
    live = db.execute("SELECT 1 FROM captured_messages m WHERE " + LIVE, [source_key]).fetchone()
    if live is not None:
        _restore_entry(db, source_key)
    else:
        db.execute(
            "UPDATE timeline_entries SET removed_at = ? WHERE source_key = ? "
            "AND removed_at IS NULL",
            [to_db_time(now), source_key],
        )


def _unpinned_later(db: Database, source_key: str, event_ts: str) -> bool:
    """Whether an unpin newer than ``event_ts`` was remembered for a pin not yet recorded."""
    row = first(
        db,
        "SELECT event_ts FROM message_captures WHERE source_key = ? AND via = 'pin' AND held = 0",
        [source_key],
    )
    return row is not None and _later(row["event_ts"], event_ts)


def _later(ts: str | None, than: str | None) -> bool:
    """Whether Slack ts ``ts`` comes after ``than``; anything is later than nothing."""
    if not than:
        return True
    if not ts:
        return False
    try:
        return float(ts) > float(than)
    except ValueError:
        return False


def _newer(row: dict[str, Any], event_ts: str) -> bool | None:
    """Whether ``event_ts`` is later than the last pin event applied to ``row``."""
    last = row.get("source_event_ts")
    if not last or not event_ts:
        return None
    try:
        return float(event_ts) > float(last)
    except ValueError:
        return None
