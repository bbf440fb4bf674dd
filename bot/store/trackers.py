"""Tracker links and webhook deliveries: which issue is each item's, and what came in.

- ``tracker_links``: one row per item and tracker, with what the bot last pushed (status,
  owner, due date), so an update job sends only what changed and a webhook's echo of the
  bot's own change is recognised;
- ``tracker_deliveries``: every webhook delivery's key, stored in the transaction of the
  change it caused, before the 2xx, so a redelivery changes nothing even after a restart;
- ``tracker_users``: Slack user ↔ tracker user pairs the bot has found, so a reassignment in
  the tracker finds its Slack user again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.store.connection import Repository, to_db_time
from bot.trackers import IssueRef


class Trackers(Repository):
    """The ``tracker_links``, ``tracker_deliveries`` and ``tracker_users`` tables."""

    def link(self, *, item_id: int, tracker: str) -> IssueRef | None:
        """The item's issue in ``tracker``, or None."""
        row = self.row(item_id=item_id, tracker=tracker)
        return _ref(row) if row else None

    def row(self, *, item_id: int, tracker: str) -> dict[str, Any] | None:
        """The link with what was last pushed, or None."""
        rows = self.db.rows(
            "SELECT * FROM tracker_links WHERE item_id = ? AND tracker = ?", [item_id, tracker]
        )
        return rows[0] if rows else None

    def links(self, *, item_ids: list[int], tracker: str) -> dict[int, IssueRef]:
        """The issues of these items, by item id (items without one are absent)."""
        if not item_ids:
            return {}
        marks = ",".join("?" * len(item_ids))
        rows = self.db.rows(
            f"SELECT * FROM tracker_links WHERE tracker = ? AND item_id IN ({marks})",
            [tracker, *item_ids],
        )
        return {row["item_id"]: _ref(row) for row in rows}

    def item_for_issue(self, *, tracker: str, issue_id: str) -> int | None:
        rows = self.db.rows(
            "SELECT item_id FROM tracker_links WHERE tracker = ? AND issue_id = ?",
            [tracker, issue_id],
        )
        return int(rows[0]["item_id"]) if rows else None

    def add_link(
        self, *, item_id: int, ref: IssueRef, pushed: dict[str, Any], now: datetime
    ) -> None:
        """Record the item's issue; a second call for the same item keeps the first."""
        with self.db.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO tracker_links (item_id, tracker, issue_id, issue_key, url, "
                "pushed_status, pushed_owner, pushed_due, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    item_id, ref.tracker, ref.id, ref.key, ref.url, pushed.get("status"),
                    pushed.get("owner"), pushed.get("due"), to_db_time(now),
                ],
            )  # fmt: skip

    def pushed(self, *, item_id: int, tracker: str, **values: str | None) -> None:
        """What the tracker now shows (``status``, ``owner``, ``due``)."""
        allowed = {"status", "owner", "due"}
        if set(values) - allowed:
            raise ValueError(f"not pushed fields: {sorted(set(values) - allowed)}")
        sets = ", ".join(f"pushed_{name} = :{name}" for name in values)
        with self.db.write() as db:
            db.execute(
                f"UPDATE tracker_links SET {sets} WHERE item_id = :item_id AND tracker = :tracker",
                {**values, "item_id": item_id, "tracker": tracker},
            )

    def claim_delivery(self, *, delivery: str, now: datetime) -> bool:
        """Record a webhook delivery; False if it was recorded before."""
        with self.db.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO tracker_deliveries (delivery, received_at) VALUES (?, ?)",
                [delivery, to_db_time(now)],
            )
            return cursor.rowcount == 1

    def remember_user(
        self, *, tracker: str, slack_id: str, tracker_user: str, now: datetime
    ) -> None:
        with self.db.write() as db:
            db.execute(
                "INSERT INTO tracker_users (tracker, slack_id, tracker_user, seen_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (tracker, slack_id) DO UPDATE SET "
                "tracker_user = excluded.tracker_user, seen_at = excluded.seen_at",
                [tracker, slack_id, tracker_user, to_db_time(now)],
            )

    def slack_user_for(self, *, tracker: str, tracker_user: str) -> str | None:
        rows = self.db.rows(
            "SELECT slack_id FROM tracker_users WHERE tracker = ? AND tracker_user = ? "
            "ORDER BY seen_at DESC LIMIT 1",
            [tracker, tracker_user],
        )
        return str(rows[0]["slack_id"]) if rows else None


def _ref(row: dict[str, Any]) -> IssueRef:
    return IssueRef(row["tracker"], row["issue_id"], row["issue_key"], row["url"])
