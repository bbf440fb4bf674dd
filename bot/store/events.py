"""Events API deduplication: every ``event_id`` recorded with the change it caused."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bot.store.connection import Repository, to_db_time


class Events(Repository):
    """The ``processed_events`` table."""

    def seen(self, *, event_id: str) -> bool:
        """Whether an Events API ``event_id`` has been processed already."""
        return bool(self.db.rows("SELECT 1 FROM processed_events WHERE event_id = ?", [event_id]))

    def claim(self, *, event_id: str, now: datetime) -> bool:
        """Record an ``event_id``; False if it was recorded before."""
        with self.db.write() as db:
            return claim(db, event_id=event_id, now=now)


def claim(db: Database, *, event_id: str | None, now: datetime) -> bool:
    """Record an ``event_id`` inside the caller's transaction; False if it was seen before."""
    if not event_id:
        return True  # nothing to deduplicate on; the source_key still guards doubles
    cursor = db.execute(
        "INSERT OR IGNORE INTO processed_events (event_id, received_at) VALUES (?, ?)",
        [event_id, to_db_time(now)],
    )
    return cursor.rowcount == 1
