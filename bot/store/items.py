"""Action items and the record of every change made to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlite_utils import Database

from bot.domain import ActionItem
from bot.store.connection import Repository, first, record, to_db_time

ITEM_FIELDS = frozenset(
    {
        "status", "drop_reason", "owner_id", "due_date", "due_at", "next_nudge_at",
        "nudge_count", "escalated",
    }
)  # fmt: skip


class Items(Repository):
    """The ``action_items`` and ``action_item_changes`` tables."""

    def add(
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
        with self.db.write() as db:
            if request_key:
                existing = first(
                    db, "SELECT * FROM action_items WHERE request_key = ?", [request_key]
                )
                if existing is not None:
                    return item_from_row(existing), False
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
        return item_from_row(row), True

    def get(self, *, item_id: int) -> ActionItem | None:
        """The item with this number, or None."""
        rows = self.db.rows("SELECT * FROM action_items WHERE id = ?", [item_id])
        return item_from_row(rows[0]) if rows else None

    def for_incident(self, *, incident_id: str) -> list[ActionItem]:
        """Every item of an incident, oldest first."""
        rows = self.db.rows(
            "SELECT * FROM action_items WHERE incident_id = ? ORDER BY id", [incident_id]
        )
        return [item_from_row(row) for row in rows]

    def open_for_owner(self, *, owner_id: str) -> list[ActionItem]:
        """An owner's open items across all incidents."""
        rows = self.db.rows(
            "SELECT * FROM action_items WHERE owner_id = ? AND status = 'open' ORDER BY due_at, id",
            [owner_id],
        )
        return [item_from_row(row) for row in rows]

    def update(
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
        unknown = set(fields) - ITEM_FIELDS
        if unknown:
            raise ValueError(f"not item fields: {sorted(unknown)}")
        values = {k: to_db_time(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        values.update(updated_by=actor_id, updated_at=to_db_time(now))
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        with self.db.write() as db:
            cursor = db.execute(
                f"UPDATE action_items SET {assignments} WHERE id = :item_id",
                {**values, "item_id": item_id},
            )
            if cursor.rowcount != 1:
                return None
            _record_change(db, item_id, actor_id, now, change, detail)
            row = first(db, "SELECT * FROM action_items WHERE id = ?", [item_id])
        assert row is not None
        return item_from_row(row)

    def changes(self, *, item_id: int) -> list[dict[str, Any]]:
        """Who changed an item, when and how, oldest first."""
        return self.db.rows(
            "SELECT at, actor_id, change, detail FROM action_item_changes WHERE item_id = ? "
            "ORDER BY id",
            [item_id],
        )


def item_from_row(row: dict[str, Any]) -> ActionItem:
    """An action item from its row."""
    return record(ActionItem, row)


def _record_change(
    db: Database, item_id: int, actor_id: str, now: datetime, change: str, detail: str | None
) -> None:
    db["action_item_changes"].insert(
        {"item_id": item_id, "at": to_db_time(now), "actor_id": actor_id, "change": change,
         "detail": detail}
    )  # fmt: skip
