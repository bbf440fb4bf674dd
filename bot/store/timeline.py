"""Timeline entries, and the helpers other aggregates use to add one in their transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.domain import TimelineEntry
from bot.store.connection import Repository, first, record, to_db_time


class Timeline(Repository):
    """The ``timeline_entries`` table."""

    def add(
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
        with self.db.write() as db:
            if source_key:
                existing = entry_by_key(db, source_key)
                if existing is not None:
                    return entry_from_row(existing), False
            row = insert_entry(
                db, incident_id=incident_id, at=at, kind=kind, text=text, actor_id=actor_id,
                actor_name=actor_name, source=source, source_key=source_key,
                permalink=permalink, now=now,
            )  # fmt: skip
        return entry_from_row(row), True

    def for_incident(self, *, incident_id: str) -> list[TimelineEntry]:
        """The incident's live entries in time order."""
        rows = self.db.rows(
            "SELECT * FROM timeline_entries WHERE incident_id = ? AND removed_at IS NULL "
            "ORDER BY at, id",
            [incident_id],
        )
        return [entry_from_row(row) for row in rows]


def insert_entry(
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


def entry_by_key(db: Database, source_key: str) -> dict[str, Any] | None:
    """The row of the entry a captured message made, inside the caller's transaction."""
    return first(db, "SELECT * FROM timeline_entries WHERE source_key = ?", [source_key])


def entry_from_row(row: dict[str, Any]) -> TimelineEntry:
    """A timeline entry from its row."""
    return record(TimelineEntry, row)
