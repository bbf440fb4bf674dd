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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot import migrations
from bot.domain import Incident, TimelineEntry, allocate_incident_id, incident_id_base

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
        return _incident(rows[0]) if rows else None

    def incident_for_channel(self, *, channel_id: str) -> Incident | None:
        """The most recent incident whose channel this is, or None."""
        rows = self._rows(
            "SELECT * FROM incidents WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC "
            "LIMIT 1",
            [channel_id],
        )
        return _incident(rows[0]) if rows else None

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
            row = {
                "incident_id": incident_id,
                "at": to_db_time(at),
                "kind": kind,
                "text": text,
                "actor_id": actor_id,
                "actor_name": actor_name,
                "source": source,
                "source_key": source_key,
                "source_event_ts": None,
                "permalink": permalink,
                "removed_at": None,
                "created_at": to_db_time(now),
            }
            row["id"] = db["timeline_entries"].insert(row).last_pk
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
            row = {
                "incident_id": incident_id,
                "at": to_db_time(at),
                "kind": "pin",
                "text": text,
                "actor_id": actor_id,
                "actor_name": actor_name,
                "source": source,
                "source_key": source_key,
                "source_event_ts": event_ts,
                "permalink": permalink,
                "removed_at": None,
                "created_at": to_db_time(now),
            }
            row["id"] = db["timeline_entries"].insert(row).last_pk
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

    # --- events -------------------------------------------------------------------------

    def event_seen(self, *, event_id: str) -> bool:
        """Whether an Events API ``event_id`` has been processed already."""
        return bool(self._rows("SELECT 1 FROM processed_events WHERE event_id = ?", [event_id]))

    def claim_event(self, *, event_id: str, now: datetime) -> bool:
        """Record an ``event_id``; False if it was recorded before."""
        with self._write() as db:
            return _claim_event(db, event_id, now)

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


def _claim_event(db: Database, event_id: str | None, now: datetime) -> bool:
    if not event_id:
        return True  # nothing to deduplicate on; the source_key still guards doubles
    cursor = db.execute(
        "INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
        [event_id, to_db_time(now)],
    )
    return cursor.rowcount == 1


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


def _incident(row: dict[str, Any]) -> Incident:
    started = from_db_time(row["started_at"])
    assert started is not None
    return Incident(
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
