"""Alert deliveries and the links from alert groups to incidents (migration ``0012_alerts``).

``alert_keys`` remembers every key a delivery or an alert event is known by (PagerDuty's
``event.id`` and ``X-Webhook-Id``; Alertmanager and Grafana's fingerprint + start + status;
Opsgenie's alert id + action + time) with the incident it went to, or NULL when none took it:
the durable deduplication and the unlinked count in one table. ``alert_links`` maps a source's
key (a group key, an alert's own id, an alert name) to the incident its alerts go to.

Every write joins the caller's ``store.transaction()``, so a delivery's keys, links, timeline
entries and its channel post's job commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from bot.store.connection import Repository, to_db_time

UNLINKED_WINDOW = timedelta(hours=24)
EVENT_KINDS = ("firing", "resolved", "acknowledged", "note")


class Alerts(Repository):
    """The ``alert_keys`` and ``alert_links`` tables."""

    def seen(self, *, keys: Iterable[str]) -> bool:
        """True when any of these keys was stored before (a redelivery)."""
        wanted = [k for k in keys if k]
        if not wanted:
            return False
        marks = ", ".join("?" for _ in wanted)
        with self.db.write() as db:
            row = db.execute(f"SELECT 1 FROM alert_keys WHERE key IN ({marks})", wanted)
            return row.fetchone() is not None

    def remember(
        self,
        *,
        key: str,
        source: str,
        kind: str,
        name: str,
        incident_id: str | None,
        received_at: datetime,
    ) -> bool:
        """Store a key; False when it was already there."""
        with self.db.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO alert_keys "
                "(key, source, kind, name, incident_id, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                [key, source, kind, name[:300], incident_id, to_db_time(received_at)],
            )
            return cursor.rowcount == 1

    def link(self, *, source: str, key: str, incident_id: str, how: str, now: datetime) -> None:
        """Send ``source``'s alerts known by ``key`` to this incident from now on (replacing
        an older link: a group whose incident was resolved starts a new one)."""
        with self.db.write() as db:
            db.execute(
                "INSERT INTO alert_links (source, key, incident_id, how, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, key) DO UPDATE SET "
                "incident_id = excluded.incident_id, how = excluded.how, "
                "created_at = excluded.created_at",
                [source, key[:500], incident_id, how, to_db_time(now)],
            )

    def linked_incident_id(self, *, source: str, keys: Iterable[str]) -> str | None:
        """The incident of the first of ``keys`` that is linked, or None."""
        with self.db.write() as db:
            for key in keys:
                row = db.execute(
                    "SELECT incident_id FROM alert_links WHERE source = ? AND key = ?",
                    [source, key[:500]],
                ).fetchone()
                if row is not None:
                    return str(row[0])
        return None

    def links_for(self, *, source: str, keys: Iterable[str]) -> list[tuple[str, str]]:
        """Every link of these keys as ``(incident_id, how)``, in the order of ``keys``."""
        found = []
        with self.db.write() as db:
            for key in keys:
                row = db.execute(
                    "SELECT incident_id, how FROM alert_links WHERE source = ? AND key = ?",
                    [source, key[:500]],
                ).fetchone()
                if row is not None:
                    found.append((str(row[0]), str(row[1])))
        return found

    def incident_id_for_channel_name(self, *, name: str) -> str | None:
        """The incident whose channel has this name (``#`` and case ignored), newest first."""
        rows = self.db.rows(
            "SELECT id FROM incidents WHERE lower(channel_name) = ? ORDER BY created_at DESC "
            "LIMIT 1",
            [name.strip().lstrip("#").lower()],
        )
        return str(rows[0]["id"]) if rows else None

    def unlinked_count(self, *, now: datetime) -> int:
        """Alert events no incident took, received in the last 24 hours."""
        marks = ", ".join("?" for _ in EVENT_KINDS)
        rows = self.db.rows(
            f"SELECT COUNT(*) AS n FROM alert_keys WHERE incident_id IS NULL "
            f"AND kind IN ({marks}) AND received_at >= ?",
            [*EVENT_KINDS, to_db_time(now - UNLINKED_WINDOW)],
        )
        return int(rows[0]["n"])

    def for_incident(self, *, incident_id: str) -> list[dict[str, Any]]:
        """The alert events an incident took, in the order they arrived."""
        return self.db.rows(
            "SELECT * FROM alert_keys WHERE incident_id = ? ORDER BY received_at, rowid",
            [incident_id],
        )
