"""Slash-command replays: every state-changing command's ``trigger_id``, recorded in the same
transaction as the change it made, so that a captured request sent again changes nothing."""

from __future__ import annotations

from datetime import datetime

from bot.store.connection import Repository, to_db_time


class Commands(Repository):
    """The ``handled_commands`` table."""

    def claim(self, *, trigger_id: str | None, now: datetime) -> bool:
        """Record a command's ``trigger_id`` (inside the caller's transaction, when there is
        one); False if it was recorded before, i.e. this request is a replay."""
        if not trigger_id:
            return True  # Slack always sends one; without it there is nothing to key on
        with self.db.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO handled_commands (trigger_id, handled_at) VALUES (?, ?)",
                [trigger_id, to_db_time(now)],
            )
            return cursor.rowcount == 1
