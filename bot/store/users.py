"""The cache of Slack users' names and timezones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.store.connection import Repository, record, to_db_time


@dataclass(frozen=True)
class CachedUser:
    id: str
    name: str
    tz: str | None
    fetched_at: datetime


class Users(Repository):
    """The ``slack_users`` table."""

    def cached(self, *, user_id: str) -> CachedUser | None:
        """The cached name and timezone of a Slack user, or None."""
        rows = self.db.rows("SELECT * FROM slack_users WHERE id = ?", [user_id])
        return record(CachedUser, rows[0]) if rows else None

    def save(self, *, user_id: str, name: str, tz: str | None, now: datetime) -> None:
        """Cache a Slack user's name and timezone."""
        with self.db.write() as db:
            db["slack_users"].upsert(
                {"id": user_id, "name": name, "tz": tz, "fetched_at": to_db_time(now)}, pk="id"
            )
