"""The outbox: replies Slack refused, kept to be posted again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.connection import Repository, first, to_db_time


class Outbox(Repository):
    """The ``outbox`` table."""

    def queue(self, *, channel: str, text: str, now: datetime) -> int:
        """Keep a reply Slack refused, to post it again at the next scan."""
        with self.db.write() as db:
            row = {"channel": channel, "text": text, "queued_at": to_db_time(now),
                   "attempts": 0, "next_attempt_at": to_db_time(now)}  # fmt: skip
            return int(db["outbox"].insert(row).last_pk)

    def take(self, *, now: datetime, retry_at: datetime) -> dict[str, Any] | None:
        """Claim the oldest due message by moving its next attempt to ``retry_at``."""
        with self.db.write() as db:
            row = first(
                db,
                "SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY id LIMIT 1",
                [to_db_time(now)],
            )
            if row is None:
                return None
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                [to_db_time(retry_at), row["id"]],
            )
            return row

    def delivered(self, *, message_id: int) -> None:
        """Forget a queued message once Slack took it."""
        with self.db.write() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", [message_id])

    def queued(self) -> list[dict[str, Any]]:
        """What is waiting for Slack, oldest first."""
        return self.db.rows("SELECT * FROM outbox ORDER BY id")
