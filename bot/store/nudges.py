"""Overdue nudges: atomic claims on action items, their sends and their escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import ActionItem
from bot.store.connection import Repository, first, to_db_time
from bot.store.items import item_from_row


class Nudges(Repository):
    """The ``nudges`` table, and the nudge columns of ``action_items``."""

    def due(self, *, now: datetime, limit: int = 500) -> list[ActionItem]:
        """Open items whose next nudge is due (the index action_items_to_nudge serves this)."""
        rows = self.db.rows(
            "SELECT * FROM action_items WHERE status = 'open' AND next_nudge_at <= ? "
            "ORDER BY next_nudge_at LIMIT ?",
            [to_db_time(now), limit],
        )
        return [item_from_row(row) for row in rows]

    def _changed(self, sql: str, params: list[Any]) -> bool:
        """Run one conditional write; whether it changed exactly one row."""
        with self.db.write() as db:
            return db.execute(sql, params).rowcount == 1

    def defer(self, *, item: ActionItem, until: datetime) -> bool:
        """Move a due nudge to ``until`` (outside working hours); False if someone moved it."""
        return self._changed(
            "UPDATE action_items SET next_nudge_at = ? WHERE id = ? AND status = 'open' "
            "AND next_nudge_at = ?",
            [to_db_time(until), item.id, to_db_time(item.next_nudge_at)],
        )

    def claim(
        self, *, item: ActionItem, next_nudge_at: datetime, escalate: bool, now: datetime
    ) -> int | None:
        """Atomically take the item's due nudge: the nudge's row ID, or None if another
        scanner took it, or the item changed since it was read."""
        with self.db.write() as db:
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
            row = {
                "item_id": item.id, "number": item.nudge_count + 1, "escalate": int(escalate),
                "status": "claimed", "claimed_at": to_db_time(now), "sent_at": None,
                "dm_channel": None, "dm_ts": None,
            }  # fmt: skip
            return db["nudges"].insert(row).last_pk

    def mark_sent(self, *, nudge_id: int, dm_channel: str, dm_ts: str, now: datetime) -> None:
        """Record that a claimed nudge reached Slack."""
        with self.db.write() as db:
            db.execute(
                "UPDATE nudges SET status = 'sent', sent_at = ?, dm_channel = ?, dm_ts = ? "
                "WHERE id = ?",
                [to_db_time(now), dm_channel, dm_ts, nudge_id],
            )

    def release(self, *, nudge_id: int, now: datetime) -> None:
        """Undo a claim whose send failed, so that the next scan sends it again."""
        with self.db.write() as db:
            nudge = first(db, "SELECT * FROM nudges WHERE id = ?", [nudge_id])
            if nudge is None or nudge["status"] != "claimed":
                return
            db.execute("DELETE FROM nudges WHERE id = ?", [nudge_id])
            db.execute(
                "UPDATE action_items SET next_nudge_at = ?, nudge_count = nudge_count - 1, "
                "escalated = CASE WHEN ? THEN 0 ELSE escalated END WHERE id = ?",
                [to_db_time(now), nudge["escalate"], nudge["item_id"]],
            )

    def pending_escalations(self) -> list[dict[str, Any]]:
        """Sent nudges whose escalation to the incident channel has not gone out."""
        return self.db.rows(
            "SELECT * FROM nudges WHERE escalate = 1 AND status = 'sent' "
            "AND escalation_sent_at IS NULL ORDER BY id"
        )

    def claim_escalation(self, *, nudge_id: int, now: datetime) -> bool:
        """Take a nudge's escalation before posting it; False if it is taken or done."""
        return self._changed(
            "UPDATE nudges SET escalation_sent_at = ? WHERE id = ? AND escalate = 1 "
            "AND escalation_sent_at IS NULL",
            [to_db_time(now), nudge_id],
        )

    def release_escalation(self, *, nudge_id: int) -> None:
        """Undo an escalation claim whose post failed, so that the next scan posts it."""
        self._changed("UPDATE nudges SET escalation_sent_at = NULL WHERE id = ?", [nudge_id])

    def stale(self, *, claimed_before: datetime) -> list[dict[str, Any]]:
        """Claims never marked sent: a process died between claiming and recording the send."""
        return self.db.rows(
            "SELECT * FROM nudges WHERE status = 'claimed' AND claimed_at < ? ORDER BY id",
            [to_db_time(claimed_before)],
        )

    def reclaim(self, *, nudge: dict[str, Any], now: datetime) -> bool:
        """Take over a stale claim; False if another scanner did first."""
        return self._changed(
            "UPDATE nudges SET claimed_at = ? WHERE id = ? AND status = 'claimed' "
            "AND claimed_at = ?",
            [to_db_time(now), nudge["id"], nudge["claimed_at"]],
        )

    def for_item(self, *, item_id: int) -> list[dict[str, Any]]:
        """The nudges of an item, in order."""
        return self.db.rows("SELECT * FROM nudges WHERE item_id = ? ORDER BY number", [item_id])
