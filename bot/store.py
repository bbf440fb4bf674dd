"""All SQL lives here: sqlite-utils over one SQLite file, knowing nothing of Slack.

Each thread gets its own connection (SQLite connections must not cross threads), in WAL mode
with a busy timeout. Writes run in ``BEGIN IMMEDIATE`` transactions so that concurrent writers
queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot import migrations
from bot.domain import ActionItem, Incident, TimelineEntry, allocate_incident_id, incident_id_base

BUSY_TIMEOUT_SECONDS = 30.0


def to_db_time(value: datetime) -> str:
    """UTC ISO-8601 with seconds, e.g. ``2026-11-27T14:32:00+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


@dataclass(frozen=True)
class CachedUser:
    id: str
    name: str
    tz: str | None
    fetched_at: datetime


class Store:
    """The database: one instance per process, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers in this process queue here rather than on SQLite's busy handler, which
        # sleeps in growing steps (up to 100 ms) and so let an ack wait a second or more.
        self._writer = threading.RLock()

    # --- connections --------------------------------------------------------------------

    def _db(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            db = Database(conn, execute_plugins=False)
            self._local.db = db
            with self._lock:
                self._all.append(conn)
        return db

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """A write transaction that takes the write lock up front."""
        db = self._db()
        with self._writer:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")

    def _rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        return list(self._db().query(sql, params or []))

    def migrate(self) -> list[str]:
        """Create or upgrade the schema; return the migrations applied."""
        db = self._db()
        with db.ensure_autocommit_on():
            db.conn.execute("PRAGMA journal_mode = WAL")
        return migrations.apply(db)

    def ping(self) -> bool:
        """True while the database answers a query."""
        try:
            return self._rows("SELECT 1 AS ok")[0]["ok"] == 1
        except sqlite3.Error:
            return False

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()  # another thread's connection may refuse; the OS reclaims it
            self._all.clear()
        self._local = threading.local()

    # --- incidents ----------------------------------------------------------------------

    def create_incident(
        self,
        *,
        title: str,
        severity: str,
        commander_id: str,
        started_at: datetime,
        channel_id: str | None = None,
        channel_name: str | None = None,
        request_key: str | None = None,
    ) -> tuple[Incident, bool]:
        """Insert an incident with the next free ID; (incident, False) if ``request_key`` exists."""
        base = incident_id_base(started_at)
        with self._write() as db:
            if request_key:
                existing = list(
                    db.query("SELECT * FROM incidents WHERE request_key = ?", [request_key])
                )
                if existing:
                    return _incident(existing[0]), False
            taken = {
                row["id"]
                for row in db.query(
                    "SELECT id FROM incidents WHERE id = ? OR id LIKE ?", [base, base + "-%"]
                )
            }
            incident_id = allocate_incident_id(base, taken)
            row = {
                "id": incident_id,
                "title": title,
                "severity": severity,
                "status": "investigating",
                "commander_id": commander_id,
                "started_at": to_db_time(started_at),
                "resolved_at": None,
                "channel_id": channel_id,
                "channel_name": channel_name,
                "intro_ts": None,
                "request_key": request_key,
                "created_at": to_db_time(started_at),
            }
            db["incidents"].insert(row)
        return _incident(row), True

    def get_incident(self, *, incident_id: str) -> Incident | None:
        """The incident with this ID, or None."""
        rows = self._rows("SELECT * FROM incidents WHERE id = ?", [incident_id])
        return self._with_fields(rows[0]) if rows else None

    def _with_fields(self, row: dict[str, Any]) -> Incident:
        fields = self._rows(
            "SELECT name, value FROM incident_fields WHERE incident_id = ?", [row["id"]]
        )
        return _incident(row, {f["name"]: f["value"] for f in fields})

    def update_incident(
        self,
        *,
        incident_id: str,
        actor_id: str,
        now: datetime,
        entry: tuple[str, str] | None = None,
        **columns: Any,
    ) -> Incident:
        """Change severity, status, roles or resolution time, and add the timeline entry
        ``(kind, text)`` that records the change, in one transaction."""
        allowed = {"severity", "status", "resolved_at", "commander_id", "comms_id", "scribe_id"}
        unknown = set(columns) - allowed
        if unknown:
            raise ValueError(f"not incident columns: {sorted(unknown)}")
        values = {k: to_db_time(v) if isinstance(v, datetime) else v for k, v in columns.items()}
        with self._write() as db:
            if values:
                assignments = ", ".join(f"{name} = :{name}" for name in values)
                db.execute(
                    f"UPDATE incidents SET {assignments} WHERE id = :incident_id",
                    {**values, "incident_id": incident_id},
                )
            if entry is not None:
                _insert_entry(
                    db, incident_id=incident_id, at=now, kind=entry[0], text=entry[1],
                    actor_id=actor_id, source="lifecycle", now=now,
                )  # fmt: skip
        incident = self.get_incident(incident_id=incident_id)
        assert incident is not None
        return incident

    def set_field(
        self, *, incident_id: str, name: str, value: str, actor_id: str, now: datetime
    ) -> Incident:
        """Fill one of the template's fields (``/incident set``)."""
        with self._write() as db:
            db["incident_fields"].upsert(
                {"incident_id": incident_id, "name": name, "value": value, "set_by": actor_id,
                 "set_at": to_db_time(now)},
                pk=("incident_id", "name"),
            )  # fmt: skip
        incident = self.get_incident(incident_id=incident_id)
        assert incident is not None
        return incident

    def incidents(self, *, open_only: bool = False) -> list[Incident]:
        """Incidents, newest first; only those not resolved with ``open_only``."""
        where = "WHERE status != 'resolved'" if open_only else ""
        rows = self._rows(f"SELECT * FROM incidents {where} ORDER BY created_at DESC, rowid DESC")
        return [self._with_fields(row) for row in rows]

    def incident_for_channel(self, *, channel_id: str) -> Incident | None:
        """The most recent incident whose channel this is, or None."""
        rows = self._rows(
            "SELECT * FROM incidents WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC "
            "LIMIT 1",
            [channel_id],
        )
        return self._with_fields(rows[0]) if rows else None

    def set_incident_channel(self, *, incident_id: str, channel_id: str, channel_name: str) -> None:
        """Record the Slack channel opened or adopted for an incident."""
        with self._write() as db:
            db.execute(
                "UPDATE incidents SET channel_id = ?, channel_name = ? WHERE id = ?",
                [channel_id, channel_name, incident_id],
            )

    def set_intro(self, *, incident_id: str, intro_ts: str) -> None:
        """Remember the pinned intro message, so that its own pin is not a timeline entry."""
        with self._write() as db:
            db.execute("UPDATE incidents SET intro_ts = ? WHERE id = ?", [intro_ts, incident_id])

    # --- timeline -----------------------------------------------------------------------

    def add_entry(
        self,
        *,
        incident_id: str,
        at: datetime,
        kind: str,
        text: str,
        actor_id: str | None,
        actor_name: str | None,
        source: str,
        now: datetime,
        source_key: str | None = None,
        permalink: str | None = None,
    ) -> tuple[TimelineEntry, bool]:
        """Add an entry; with a ``source_key`` already stored, (that entry, False)."""
        with self._write() as db:
            if source_key:
                existing = _entry_by_key(db, source_key)
                if existing is not None:
                    return _entry(existing), False
            row = _insert_entry(
                db, incident_id=incident_id, at=at, kind=kind, text=text, actor_id=actor_id,
                actor_name=actor_name, source=source, source_key=source_key,
                permalink=permalink, now=now,
            )  # fmt: skip
        return _entry(row), True

    def record_pin(
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
        with self._write() as db:
            if not _claim_event(db, event_id, now):
                return None
            existing = _entry_by_key(db, source_key)
            if existing is not None:
                if existing["removed_at"] is None or _newer(existing, event_ts) is False:
                    return None
                db.execute(
                    "UPDATE timeline_entries SET removed_at = NULL, source_event_ts = ?, text = ?, "
                    "permalink = ? WHERE id = ?",
                    [event_ts, text, permalink, existing["id"]],
                )
                return _entry(_entry_by_key(db, source_key) or existing)
            row = _insert_entry(
                db, incident_id=incident_id, at=at, kind="pin", text=text, actor_id=actor_id,
                actor_name=actor_name, source=source, source_key=source_key,
                source_event_ts=event_ts, permalink=permalink, now=now,
            )  # fmt: skip
        return _entry(row)

    def remove_pin(
        self, *, event_id: str | None, event_ts: str, source_key: str, now: datetime
    ) -> bool:
        """Mark a pinned entry removed; False if the event was seen or nothing changed."""
        with self._write() as db:
            if not _claim_event(db, event_id, now):
                return False
            existing = _entry_by_key(db, source_key)
            if existing is None or existing["removed_at"] is not None:
                return False
            if _newer(existing, event_ts) is False:
                return False
            db.execute(
                "UPDATE timeline_entries SET removed_at = ?, source_event_ts = ? WHERE id = ?",
                [to_db_time(now), event_ts, existing["id"]],
            )
        return True

    def entries(self, *, incident_id: str) -> list[TimelineEntry]:
        """The incident's live entries in time order."""
        rows = self._rows(
            "SELECT * FROM timeline_entries WHERE incident_id = ? AND removed_at IS NULL "
            "ORDER BY at, id",
            [incident_id],
        )
        return [_entry(row) for row in rows]

    # --- captured messages: pins, 📌 reactions and the "Add to timeline" shortcut -----------
    # A message is one entry however many captures hold it: its pin, each person's 📌, each
    # use of the shortcut (one ``message_captures`` row each). The entry is live while any
    # capture holds it and the message is not deleted. Each capture keeps the ts of the last
    # event applied to it, so an older event arriving late never undoes a newer one.

    def capture_message(
        self,
        *,
        event_id: str | None,
        event_ts: str | None,
        incident_id: str,
        source_key: str,
        via: str,
        now: datetime,
        at: datetime | None = None,
        text: str | None = None,
        actor_id: str | None = None,
        actor_name: str | None = None,
        permalink: str | None = None,
        version_ts: str | None = None,
        source: str = "pin",
    ) -> bool:
        """Record that ``via`` holds a message and, given its ``at`` and ``text``, create or
        complete its entry; False if the event was seen or stale, or the message deleted."""
        with self._write() as db:
            if not _claim_event(db, event_id, now):
                return False
            message = self._captured_row(db, source_key)
            if message is None:
                message = self._new_captured_row(db, source_key, incident_id, now)
            elif message["deleted_at"] is not None:
                return False
            if not self._set_capture(db, source_key, via, True, event_ts, now):
                return False
            self._fill_entry(
                db, message, now, at=at, text=text, actor_id=actor_id, actor_name=actor_name,
                permalink=permalink, version_ts=version_ts, source=source,
            )  # fmt: skip
            self._sync_entry(db, source_key, now)
        return True

    def release_capture(
        self,
        *,
        event_id: str | None,
        event_ts: str | None,
        incident_id: str,
        source_key: str,
        via: str,
        now: datetime,
    ) -> bool:
        """Record that ``via`` no longer holds a message (unpinned, 📌 removed); the entry goes
        when nothing holds it. False if the event was seen or is older than the capture."""
        with self._write() as db:
            if not _claim_event(db, event_id, now):
                return False
            if self._captured_row(db, source_key) is None:
                # Remember the release, so that its capture arriving late stays undone.
                self._new_captured_row(db, source_key, incident_id, now)
            if not self._set_capture(db, source_key, via, False, event_ts, now):
                return False
            self._sync_entry(db, source_key, now)
        return True

    def capture_gaps(self, *, source_key: str) -> set[str]:
        """What a held, undeleted message's entry still lacks: ``text`` (no entry yet, as after
        a 📌, whose event does not carry the message) and ``permalink``."""
        rows = self._rows(
            "SELECT e.id, e.permalink FROM captured_messages m "
            "LEFT JOIN timeline_entries e ON e.source_key = m.source_key "
            "WHERE m.source_key = ? AND m.deleted_at IS NULL AND EXISTS "
            "(SELECT 1 FROM message_captures c WHERE c.source_key = m.source_key AND c.held = 1)",
            [source_key],
        )
        if not rows:
            return set()
        if rows[0]["id"] is None:
            return {"text", "permalink"}
        return set() if rows[0]["permalink"] else {"permalink"}

    def fill_captured_message(
        self,
        *,
        source_key: str,
        now: datetime,
        at: datetime | None = None,
        text: str | None = None,
        actor_id: str | None = None,
        actor_name: str | None = None,
        permalink: str | None = None,
        version_ts: str | None = None,
        source: str = "pin",
    ) -> TimelineEntry | None:
        """Complete a held message's entry with what was fetched after the ack; None if
        nothing holds the message any more, it was deleted, or it still has no entry."""
        with self._write() as db:
            message = self._captured_row(db, source_key)
            if message is None or message["deleted_at"] is not None:
                return None
            held = db.execute(
                "SELECT 1 FROM message_captures WHERE source_key = ? AND held = 1 LIMIT 1",
                [source_key],
            ).fetchone()
            if held is None:
                return None
            self._fill_entry(
                db, message, now, at=at, text=text, actor_id=actor_id, actor_name=actor_name,
                permalink=permalink, version_ts=version_ts, source=source,
            )  # fmt: skip
            self._sync_entry(db, source_key, now)
            entry = _entry_by_key(db, source_key)
        return _entry(entry) if entry is not None else None

    def is_captured(self, *, source_key: str) -> bool:
        """Whether a message was ever captured: one indexed read, for the flood of message
        events that concern nothing on a timeline."""
        rows = self._rows("SELECT 1 FROM captured_messages WHERE source_key = ?", [source_key])
        return bool(rows)

    def edit_captured_message(
        self, *, event_id: str | None, source_key: str, text: str, version_ts: str, now: datetime
    ) -> bool:
        """Show an edited message's new text; False if the event was seen, the message has
        no entry or was deleted, or this version is not newer than the one shown."""
        with self._write() as db:
            if not _claim_event(db, event_id, now):
                return False
            message = self._captured_row(db, source_key)
            if message is None or message["deleted_at"] is not None:
                return False
            if _entry_by_key(db, source_key) is None:
                return False  # the fetch after a 📌 reads the message as it is now
            if not self._later(version_ts, message["version_ts"]):
                return False
            db.execute(
                "UPDATE timeline_entries SET text = ? WHERE source_key = ?", [text, source_key]
            )
            db.execute(
                "UPDATE captured_messages SET version_ts = ? WHERE source_key = ?",
                [version_ts, source_key],
            )
        return True

    def delete_captured_message(
        self, *, event_id: str | None, source_key: str, now: datetime
    ) -> bool:
        """A deleted message leaves the timeline for good, whatever held it; False if the
        event was seen or the message was never captured or is already deleted."""
        with self._write() as db:
            if not _claim_event(db, event_id, now):
                return False
            message = self._captured_row(db, source_key)
            if message is None or message["deleted_at"] is not None:
                return False
            db.execute(
                "UPDATE captured_messages SET deleted_at = ? WHERE source_key = ?",
                [to_db_time(now), source_key],
            )
            self._sync_entry(db, source_key, now)
        return True

    @staticmethod
    def _captured_row(db: Database, source_key: str) -> dict[str, Any] | None:
        rows = list(db.query("SELECT * FROM captured_messages WHERE source_key = ?", [source_key]))
        return rows[0] if rows else None

    @staticmethod
    def _new_captured_row(
        db: Database, source_key: str, incident_id: str, now: datetime
    ) -> dict[str, Any]:
        row = {
            "source_key": source_key, "incident_id": incident_id, "version_ts": None,
            "deleted_at": None, "created_at": to_db_time(now),
        }  # fmt: skip
        db["captured_messages"].insert(row)
        return row

    @classmethod
    def _set_capture(
        cls,
        db: Database,
        source_key: str,
        via: str,
        held: bool,
        event_ts: str | None,
        now: datetime,
    ) -> bool:
        """Hold or release; False, changing nothing, for an event older than the last one."""
        rows = list(
            db.query(
                "SELECT event_ts FROM message_captures WHERE source_key = ? AND via = ?",
                [source_key, via],
            )
        )
        last = rows[0]["event_ts"] if rows else None
        if event_ts and last and cls._later(last, event_ts):
            return False
        db.execute(
            "INSERT INTO message_captures (source_key, via, held, event_ts, changed_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_key, via) DO UPDATE SET "
            "held = excluded.held, event_ts = COALESCE(excluded.event_ts, event_ts), "
            "changed_at = excluded.changed_at",
            [source_key, via, int(held), event_ts or None, to_db_time(now)],
        )
        return True

    @classmethod
    def _fill_entry(
        cls,
        db: Database,
        message: dict[str, Any],
        now: datetime,
        *,
        at: datetime | None,
        text: str | None,
        actor_id: str | None,
        actor_name: str | None,
        permalink: str | None,
        version_ts: str | None,
        source: str,
    ) -> None:
        """Create the message's entry from its content, or add what it lacks: a permalink,
        or the text of a newer version."""
        source_key = message["source_key"]
        entry = _entry_by_key(db, source_key)
        if entry is None:
            if at is None or text is None:
                return
            _insert_entry(
                db, incident_id=message["incident_id"], at=at, kind="pin", text=text,
                actor_id=actor_id, actor_name=actor_name, source=source, source_key=source_key,
                permalink=permalink, now=now,
            )  # fmt: skip
        else:
            if permalink and not entry["permalink"]:
                db.execute(
                    "UPDATE timeline_entries SET permalink = ? WHERE id = ?",
                    [permalink, entry["id"]],
                )
            if text is None or not cls._later(version_ts, message["version_ts"]):
                return
            db.execute("UPDATE timeline_entries SET text = ? WHERE id = ?", [text, entry["id"]])
        db.execute(
            "UPDATE captured_messages SET version_ts = ? WHERE source_key = ?",
            [version_ts, source_key],
        )

    @staticmethod
    def _sync_entry(db: Database, source_key: str, now: datetime) -> None:
        """Live while a capture holds the message and it is not deleted; removed otherwise."""
        live = db.execute(
            "SELECT 1 FROM captured_messages m WHERE m.source_key = ? AND m.deleted_at IS NULL "
            "AND EXISTS (SELECT 1 FROM message_captures c WHERE c.source_key = m.source_key "
            "AND c.held = 1)",
            [source_key],
        ).fetchone()
        if live is not None:
            db.execute(
                "UPDATE timeline_entries SET removed_at = NULL WHERE source_key = ? "
                "AND removed_at IS NOT NULL",
                [source_key],
            )
        else:
            db.execute(
                "UPDATE timeline_entries SET removed_at = ? WHERE source_key = ? "
                "AND removed_at IS NULL",
                [to_db_time(now), source_key],
            )

    @staticmethod
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

    # --- events -------------------------------------------------------------------------

    def event_seen(self, *, event_id: str) -> bool:
        """Whether an Events API ``event_id`` has been processed already."""
        return bool(self._rows("SELECT 1 FROM processed_events WHERE event_id = ?", [event_id]))

    def claim_event(self, *, event_id: str, now: datetime) -> bool:
        """Record an ``event_id``; False if it was recorded before."""
        with self._write() as db:
            return _claim_event(db, event_id, now)

    # --- action items -------------------------------------------------------------------

    def add_item(
        self,
        *,
        incident_id: str,
        text: str,
        owner_id: str,
        horizon: str,
        due_date: date,
        due_at: datetime,
        verification: str | None,
        actor_id: str,
        now: datetime,
        request_key: str | None = None,
    ) -> tuple[ActionItem, bool]:
        """Add an open item whose first nudge is due when it becomes overdue."""
        with self._write() as db:
            if request_key:
                rows = list(
                    db.query("SELECT * FROM action_items WHERE request_key = ?", [request_key])
                )
                if rows:
                    return _item(rows[0]), False
            row = {
                "incident_id": incident_id,
                "text": text,
                "owner_id": owner_id,
                "horizon": horizon,
                "due_date": due_date.isoformat(),
                "due_at": to_db_time(due_at),
                "verification": verification,
                "status": "open",
                "drop_reason": None,
                "next_nudge_at": to_db_time(due_at),
                "nudge_count": 0,
                "escalated": 0,
                "request_key": request_key,
                "created_by": actor_id,
                "created_at": to_db_time(now),
                "updated_by": actor_id,
                "updated_at": to_db_time(now),
            }
            row["id"] = db["action_items"].insert(row).last_pk
            _record_change(db, row["id"], actor_id, now, "created", text)
        return _item(row), True

    def get_item(self, *, item_id: int) -> ActionItem | None:
        """The item with this number, or None."""
        rows = self._rows("SELECT * FROM action_items WHERE id = ?", [item_id])
        return _item(rows[0]) if rows else None

    def items_for_incident(self, *, incident_id: str) -> list[ActionItem]:
        """Every item of an incident, oldest first."""
        rows = self._rows(
            "SELECT * FROM action_items WHERE incident_id = ? ORDER BY id", [incident_id]
        )
        return [_item(row) for row in rows]

    def open_items_for_owner(self, *, owner_id: str) -> list[ActionItem]:
        """An owner's open items across all incidents."""
        rows = self._rows(
            "SELECT * FROM action_items WHERE owner_id = ? AND status = 'open' ORDER BY due_at, id",
            [owner_id],
        )
        return [_item(row) for row in rows]

    def update_item(
        self,
        *,
        item_id: int,
        actor_id: str,
        now: datetime,
        change: str,
        detail: str | None = None,
        **fields: Any,
    ) -> ActionItem | None:
        """Change an item's fields and record who changed what, when; None if there is none."""
        allowed = {
            "status", "drop_reason", "owner_id", "due_date", "due_at", "next_nudge_at",
            "nudge_count", "escalated",
        }  # fmt: skip
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not item fields: {sorted(unknown)}")
        values = {k: to_db_time(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        values.update(updated_by=actor_id, updated_at=to_db_time(now))
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE action_items SET {assignments} WHERE id = :item_id",
                {**values, "item_id": item_id},
            )
            if cursor.rowcount != 1:
                return None
            _record_change(db, item_id, actor_id, now, change, detail)
            rows = list(db.query("SELECT * FROM action_items WHERE id = ?", [item_id]))
        return _item(rows[0])

    def item_changes(self, *, item_id: int) -> list[dict[str, Any]]:
        """Who changed an item, when and how, oldest first."""
        return self._rows(
            "SELECT at, actor_id, change, detail FROM action_item_changes WHERE item_id = ? "
            "ORDER BY id",
            [item_id],
        )

    # --- nudges -------------------------------------------------------------------------

    def items_to_nudge(self, *, now: datetime, limit: int = 500) -> list[ActionItem]:
        """Open items whose next nudge is due (the index action_items_to_nudge serves this)."""
        rows = self._rows(
            "SELECT * FROM action_items WHERE status = 'open' AND next_nudge_at <= ? "
            "ORDER BY next_nudge_at LIMIT ?",
            [to_db_time(now), limit],
        )
        return [_item(row) for row in rows]

    def defer_nudge(self, *, item: ActionItem, until: datetime) -> bool:
        """Move a due nudge to ``until`` (outside working hours); False if someone moved it."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE action_items SET next_nudge_at = ? WHERE id = ? AND status = 'open' "
                "AND next_nudge_at = ?",
                [to_db_time(until), item.id, to_db_time(item.next_nudge_at)],
            )
            return cursor.rowcount == 1

    def claim_nudge(
        self, *, item: ActionItem, next_nudge_at: datetime, escalate: bool, now: datetime
    ) -> int | None:
        """Atomically take the item's due nudge: the nudge's row ID, or None if another
        scanner took it, or the item changed since it was read."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE action_items SET next_nudge_at = ?, nudge_count = nudge_count + 1, "
                "escalated = escalated OR ? WHERE id = ? AND status = 'open' "
                "AND next_nudge_at = ? AND nudge_count = ?",
                [
                    to_db_time(next_nudge_at),
                    int(escalate),
                    item.id,
                    to_db_time(item.next_nudge_at),
                    item.nudge_count,
                ],
            )
            if cursor.rowcount != 1:
                return None
            return (
                db["nudges"]
                .insert(
                    {
                        "item_id": item.id,
                        "number": item.nudge_count + 1,
                        "escalate": int(escalate),
                        "status": "claimed",
                        "claimed_at": to_db_time(now),
                        "sent_at": None,
                        "dm_channel": None,
                        "dm_ts": None,
                    }
                )
                .last_pk
            )

    def mark_nudge_sent(self, *, nudge_id: int, dm_channel: str, dm_ts: str, now: datetime) -> None:
        """Record that a claimed nudge reached Slack."""
        with self._write() as db:
            db.execute(
                "UPDATE nudges SET status = 'sent', sent_at = ?, dm_channel = ?, dm_ts = ? "
                "WHERE id = ?",
                [to_db_time(now), dm_channel, dm_ts, nudge_id],
            )

    def release_nudge(self, *, nudge_id: int, now: datetime) -> None:
        """Undo a claim whose send failed, so that the next scan sends it again."""
        with self._write() as db:
            rows = list(db.query("SELECT * FROM nudges WHERE id = ?", [nudge_id]))
            if not rows or rows[0]["status"] != "claimed":
                return
            nudge = rows[0]
            db.execute("DELETE FROM nudges WHERE id = ?", [nudge_id])
            db.execute(
                "UPDATE action_items SET next_nudge_at = ?, nudge_count = nudge_count - 1, "
                "escalated = CASE WHEN ? THEN 0 ELSE escalated END WHERE id = ?",
                [to_db_time(now), nudge["escalate"], nudge["item_id"]],
            )

    def pending_escalations(self) -> list[dict[str, Any]]:
        """Sent nudges whose escalation to the incident channel has not gone out."""
        return self._rows(
            "SELECT * FROM nudges WHERE escalate = 1 AND status = 'sent' "
            "AND escalation_sent_at IS NULL ORDER BY id"
        )

    def claim_escalation(self, *, nudge_id: int, now: datetime) -> bool:
        """Take a nudge's escalation before posting it; False if it is taken or done."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE nudges SET escalation_sent_at = ? WHERE id = ? AND escalate = 1 "
                "AND escalation_sent_at IS NULL",
                [to_db_time(now), nudge_id],
            )
            return cursor.rowcount == 1

    def release_escalation(self, *, nudge_id: int) -> None:
        """Undo an escalation claim whose post failed, so that the next scan posts it."""
        with self._write() as db:
            db.execute("UPDATE nudges SET escalation_sent_at = NULL WHERE id = ?", [nudge_id])

    def stale_nudges(self, *, claimed_before: datetime) -> list[dict[str, Any]]:
        """Claims never marked sent: a process died between claiming and recording the send."""
        return self._rows(
            "SELECT * FROM nudges WHERE status = 'claimed' AND claimed_at < ? ORDER BY id",
            [to_db_time(claimed_before)],
        )

    def reclaim_nudge(self, *, nudge: dict[str, Any], now: datetime) -> bool:
        """Take over a stale claim; False if another scanner did first."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE nudges SET claimed_at = ? WHERE id = ? AND status = 'claimed' "
                "AND claimed_at = ?",
                [to_db_time(now), nudge["id"], nudge["claimed_at"]],
            )
            return cursor.rowcount == 1

    def nudges_for_item(self, *, item_id: int) -> list[dict[str, Any]]:
        """The nudges of an item, in order."""
        return self._rows("SELECT * FROM nudges WHERE item_id = ? ORDER BY number", [item_id])

    # --- outbox -------------------------------------------------------------------------

    def queue_message(self, *, channel: str, text: str, now: datetime) -> int:
        """Keep a reply Slack refused, to post it again at the next scan."""
        with self._write() as db:
            row = {"channel": channel, "text": text, "queued_at": to_db_time(now),
                   "attempts": 0, "next_attempt_at": to_db_time(now)}  # fmt: skip
            return int(db["outbox"].insert(row).last_pk)

    def take_queued_message(self, *, now: datetime, retry_at: datetime) -> dict[str, Any] | None:
        """Claim the oldest due message by moving its next attempt to ``retry_at``."""
        with self._write() as db:
            rows = list(
                db.query(
                    "SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY id LIMIT 1",
                    [to_db_time(now)],
                )
            )
            if not rows:
                return None
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                [to_db_time(retry_at), rows[0]["id"]],
            )
            return rows[0]

    def delivered(self, *, message_id: int) -> None:
        """Forget a queued message once Slack took it."""
        with self._write() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", [message_id])

    def queued_messages(self) -> list[dict[str, Any]]:
        """What is waiting for Slack, oldest first."""
        return self._rows("SELECT * FROM outbox ORDER BY id")

    # --- users --------------------------------------------------------------------------

    def cached_user(self, *, user_id: str) -> CachedUser | None:
        """The cached name and timezone of a Slack user, or None."""
        rows = self._rows("SELECT * FROM slack_users WHERE id = ?", [user_id])
        if not rows:
            return None
        row = rows[0]
        fetched = from_db_time(row["fetched_at"])
        assert fetched is not None
        return CachedUser(id=row["id"], name=row["name"], tz=row["tz"], fetched_at=fetched)

    def save_user(self, *, user_id: str, name: str, tz: str | None, now: datetime) -> None:
        """Cache a Slack user's name and timezone."""
        with self._write() as db:
            db["slack_users"].upsert(
                {"id": user_id, "name": name, "tz": tz, "fetched_at": to_db_time(now)}, pk="id"
            )


def _item(row: dict[str, Any]) -> ActionItem:
    due_at = from_db_time(row["due_at"])
    assert due_at is not None
    return ActionItem(
        id=int(row["id"]),
        incident_id=row["incident_id"],
        text=row["text"],
        owner_id=row["owner_id"],
        horizon=row["horizon"],
        due_date=row["due_date"],
        due_at=due_at,
        verification=row["verification"],
        status=row["status"],
        drop_reason=row["drop_reason"],
        next_nudge_at=from_db_time(row["next_nudge_at"]),
        nudge_count=int(row["nudge_count"]),
        escalated=bool(row["escalated"]),
    )


def _insert_entry(
    db: Database,
    *,
    incident_id: str,
    at: datetime,
    kind: str,
    text: str,
    actor_id: str | None,
    source: str,
    now: datetime,
    actor_name: str | None = None,
    source_key: str | None = None,
    source_event_ts: str | None = None,
    permalink: str | None = None,
) -> dict[str, Any]:
    """Insert one timeline row inside the caller's transaction; return it with its ID."""
    row: dict[str, Any] = {
        "incident_id": incident_id,
        "at": to_db_time(at),
        "kind": kind,
        "text": text,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "source": source,
        "source_key": source_key,
        "source_event_ts": source_event_ts,
        "permalink": permalink,
        "removed_at": None,
        "created_at": to_db_time(now),
    }
    row["id"] = db["timeline_entries"].insert(row).last_pk
    return row


def _claim_event(db: Database, event_id: str | None, now: datetime) -> bool:
    if not event_id:
        return True  # nothing to deduplicate on; the source_key still guards doubles
    cursor = db.execute(
        "INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
        [event_id, to_db_time(now)],
    )
    return cursor.rowcount == 1


def _record_change(
    db: Database, item_id: int, actor_id: str, now: datetime, change: str, detail: str | None
) -> None:
    db["action_item_changes"].insert(
        {"item_id": item_id, "at": to_db_time(now), "actor_id": actor_id, "change": change,
         "detail": detail}
    )  # fmt: skip


def _entry_by_key(db: Database, source_key: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM timeline_entries WHERE source_key = ?", [source_key]))
    return rows[0] if rows else None


def _newer(row: dict[str, Any], event_ts: str) -> bool | None:
    """Whether ``event_ts`` is later than the last pin event applied to ``row``."""
    last = row.get("source_event_ts")
    if not last or not event_ts:
        return None
    try:
        return float(event_ts) > float(last)
    except ValueError:
        return None


def _incident(row: dict[str, Any], fields: dict[str, str] | None = None) -> Incident:
    started = from_db_time(row["started_at"])
    assert started is not None
    return Incident(
        comms_id=row.get("comms_id"),
        scribe_id=row.get("scribe_id"),
        fields=fields or {},
        id=row["id"],
        title=row["title"],
        severity=row["severity"],
        status=row["status"],
        commander_id=row["commander_id"],
        started_at=started,
        channel_id=row["channel_id"],
        channel_name=row["channel_name"],
        intro_ts=row["intro_ts"],
        resolved_at=from_db_time(row["resolved_at"]),
    )


def _entry(row: dict[str, Any]) -> TimelineEntry:
    at = from_db_time(row["at"])
    assert at is not None
    return TimelineEntry(
        id=int(row["id"]),
        incident_id=row["incident_id"],
        at=at,
        kind=row["kind"],
        text=row["text"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        source=row["source"],
        permalink=row["permalink"],
    )
