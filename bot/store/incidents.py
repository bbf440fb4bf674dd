"""Incidents: their declaration, lifecycle columns, channel and ``/incident set`` fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import Incident, allocate_incident_id, incident_id_base
from bot.store import timeline
from bot.store.connection import Repository, first, record, to_db_time

LIFECYCLE_COLUMNS = frozenset(
    {"severity", "status", "resolved_at", "commander_id", "comms_id", "scribe_id"}
)


class Incidents(Repository):
    """The ``incidents`` and ``incident_fields`` tables."""

    def create(
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
        with self.db.write() as db:
            if request_key:
                existing = first(db, "SELECT * FROM incidents WHERE request_key = ?", [request_key])
                if existing is not None:
                    return incident_from_row(existing), False
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
        return incident_from_row(row), True

    def get(self, *, incident_id: str) -> Incident | None:
        """The incident with this ID, or None."""
        rows = self.db.rows("SELECT * FROM incidents WHERE id = ?", [incident_id])
        return self._with_fields(rows[0]) if rows else None

    def _with_fields(self, row: dict[str, Any]) -> Incident:
        fields = self.db.rows(
            "SELECT name, value FROM incident_fields WHERE incident_id = ?", [row["id"]]
        )
        return incident_from_row(row, {f["name"]: f["value"] for f in fields})

    def _reread(self, incident_id: str) -> Incident:
        incident = self.get(incident_id=incident_id)
        assert incident is not None
        return incident

    def update(
        self,
        *,
        incident_id: str,
        actor_id: str,
        now: datetime,
        entry: tuple[str, str] | None = None,
        **columns: Any,
    ) -> Incident:
        """Change lifecycle columns and add the entry ``(kind, text)`` that records it, at once."""
        unknown = set(columns) - LIFECYCLE_COLUMNS
        if unknown:
            raise ValueError(f"not incident columns: {sorted(unknown)}")
        values = {k: to_db_time(v) if isinstance(v, datetime) else v for k, v in columns.items()}
        with self.db.write() as db:
            if values:
                assignments = ", ".join(f"{name} = :{name}" for name in values)
                db.execute(
                    f"UPDATE incidents SET {assignments} WHERE id = :incident_id",
                    {**values, "incident_id": incident_id},
                )
            if entry is not None:
                timeline.insert_entry(
                    db, incident_id=incident_id, at=now, kind=entry[0], text=entry[1],
                    actor_id=actor_id, source="lifecycle", now=now,
                )  # fmt: skip
        return self._reread(incident_id)

    def set_field(
        self, *, incident_id: str, name: str, value: str, actor_id: str, now: datetime
    ) -> Incident:
        """Fill one of the template's fields (``/incident set``)."""
        with self.db.write() as db:
            db["incident_fields"].upsert(
                {"incident_id": incident_id, "name": name, "value": value, "set_by": actor_id,
                 "set_at": to_db_time(now)},
                pk=("incident_id", "name"),
            )  # fmt: skip
        return self._reread(incident_id)

    def all(self, *, open_only: bool = False) -> list[Incident]:
        """Incidents, newest first; only those not resolved with ``open_only``."""
        where = "WHERE status != 'resolved'" if open_only else ""
        rows = self.db.rows(f"SELECT * FROM incidents {where} ORDER BY created_at DESC, rowid DESC")
        return [self._with_fields(row) for row in rows]

    def for_channel(self, *, channel_id: str) -> Incident | None:
        """The most recent incident whose channel this is, or None."""
        rows = self.db.rows(
            "SELECT * FROM incidents WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC "
            "LIMIT 1",
            [channel_id],
        )
        return self._with_fields(rows[0]) if rows else None

    def set_channel(self, *, incident_id: str, channel_id: str, channel_name: str) -> None:
        """Record the Slack channel opened or adopted for an incident."""
        with self.db.write() as db:
            db.execute(
                "UPDATE incidents SET channel_id = ?, channel_name = ? WHERE id = ?",
                [channel_id, channel_name, incident_id],
            )

    def set_intro(self, *, incident_id: str, intro_ts: str) -> None:
        """Remember the pinned intro message, so that its own pin is not a timeline entry."""
        with self.db.write() as db:
            db.execute("UPDATE incidents SET intro_ts = ? WHERE id = ?", [intro_ts, incident_id])


def incident_from_row(row: dict[str, Any], fields: dict[str, str] | None = None) -> Incident:
    """An incident from its row and its ``/incident set`` fields."""
    return record(Incident, row, fields=fields or {})
