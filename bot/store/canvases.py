"""The channel canvas of each incident, and per section the text the bot last wrote there.

A section's ``pending`` text is what the bot is about to write; ``written`` what Slack took.
Both count as the bot's own when the canvas is read back, so a refresh cut short between an
edit and its record never takes its own words for a person's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.canvas.plan import Written
from bot.store.connection import Repository, record, to_db_time


@dataclass(frozen=True)
class CanvasRow:
    incident_id: str
    channel_id: str
    canvas_id: str | None
    created_at: datetime
    refreshed_at: datetime | None
    requested_by: str | None
    fingerprint: str | None
    final_done: bool
    queued_at: datetime | None
    auto_off: bool


class CanvasRepository(Repository):
    """The ``canvases`` and ``canvas_sections`` tables."""

    def get(self, *, incident_id: str) -> CanvasRow | None:
        """The incident's canvas, or None before the first draft."""
        rows = self.db.rows("SELECT * FROM canvases WHERE incident_id = ?", [incident_id])
        return record(CanvasRow, rows[0]) if rows else None

    def all(self) -> list[CanvasRow]:
        """Every incident's canvas that exists in Slack, oldest first."""
        rows = self.db.rows(
            "SELECT * FROM canvases WHERE canvas_id IS NOT NULL ORDER BY created_at, incident_id"
        )
        return [record(CanvasRow, row) for row in rows]

    def begin(
        self, *, incident_id: str, channel_id: str, now: datetime, sections: dict[str, str]
    ) -> None:
        """A canvas is about to be made with these sections: forget any earlier one."""
        with self.db.write() as db:
            db.execute("DELETE FROM canvas_sections WHERE incident_id = ?", [incident_id])
            db.execute(
                """
                INSERT INTO canvases (incident_id, channel_id, canvas_id, created_at)
                VALUES (?, ?, NULL, ?)
                ON CONFLICT (incident_id) DO UPDATE SET channel_id = excluded.channel_id,
                    canvas_id = NULL, created_at = excluded.created_at, refreshed_at = NULL,
                    fingerprint = NULL, final_done = 0, queued_at = NULL, auto_off = 0
                """,
                [incident_id, channel_id, to_db_time(now)],
            )
            db["canvas_sections"].insert_all(
                {"incident_id": incident_id, "key": key, "pending": text, "written": None}
                for key, text in sections.items()
            )

    def created(self, *, incident_id: str, canvas_id: str, now: datetime) -> None:
        """Slack made the canvas: it holds what was pending."""
        with self.db.write() as db:
            db.execute(
                "UPDATE canvases SET canvas_id = ?, refreshed_at = ? WHERE incident_id = ?",
                [canvas_id, to_db_time(now), incident_id],
            )
            db.execute(
                """
                UPDATE canvas_sections SET written = pending, pending = NULL, written_at = ?
                WHERE incident_id = ? AND pending IS NOT NULL
                """,
                [to_db_time(now), incident_id],
            )

    def forget(self, *, incident_id: str) -> None:
        """No canvas after all (canvases are unavailable here); its claim goes with it."""
        with self.db.write() as db:
            db.execute("DELETE FROM canvas_sections WHERE incident_id = ?", [incident_id])
            db.execute("DELETE FROM canvases WHERE incident_id = ?", [incident_id])

    def sections(self, *, incident_id: str) -> dict[str, Written]:
        """What the bot wrote (and was about to write) in each section."""
        rows = self.db.rows(
            "SELECT key, written, pending FROM canvas_sections WHERE incident_id = ?",
            [incident_id],
        )
        return {row["key"]: Written(row["written"], row["pending"]) for row in rows}

    def pending(self, *, incident_id: str, key: str, text: str) -> None:
        """The bot is about to write ``text`` in a section."""
        with self.db.write() as db:
            db.execute(
                """
                INSERT INTO canvas_sections (incident_id, key, pending) VALUES (?, ?, ?)
                ON CONFLICT (incident_id, key) DO UPDATE SET pending = excluded.pending
                """,
                [incident_id, key, text],
            )

    def wrote(self, *, incident_id: str, key: str, text: str, now: datetime) -> None:
        """Slack took ``text`` for a section."""
        with self.db.write() as db:
            db.execute(
                """
                UPDATE canvas_sections SET written = ?, pending = NULL, written_at = ?
                WHERE incident_id = ? AND key = ?
                """,
                [text, to_db_time(now), incident_id, key],
            )

    def refreshed(
        self,
        *,
        incident_id: str,
        now: datetime,
        fingerprint: str | None = None,
        requested_by: str | None = None,
        final: bool = False,
        auto_off: bool = False,
    ) -> None:
        """A refresh finished: when, of which draft, for whom, whether it was the last one of
        a resolved incident (``final``; a reopened incident's next refresh clears it), and
        whether refreshes stop until the next draft (``auto_off``: the canvas is gone)."""
        with self.db.write() as db:
            db.execute(
                """
                UPDATE canvases SET refreshed_at = ?, fingerprint = COALESCE(?, fingerprint),
                    requested_by = COALESCE(?, requested_by), final_done = ?, auto_off = ?
                WHERE incident_id = ?
                """,
                [
                    to_db_time(now),
                    fingerprint,
                    requested_by,
                    int(final),
                    int(auto_off),
                    incident_id,
                ],
            )

    def unsettle(self, *, incident_id: str) -> None:
        """The draft changed after the last refresh of a resolved incident (a review's step):
        that refresh is no longer the last one, so the scan looks at the draft again."""
        with self.db.write() as db:
            db.execute("UPDATE canvases SET final_done = 0 WHERE incident_id = ?", [incident_id])

    def queued(self, *, incident_id: str, now: datetime) -> None:
        """The scan queued a refresh job."""
        with self.db.write() as db:
            db.execute(
                "UPDATE canvases SET queued_at = ? WHERE incident_id = ?",
                [to_db_time(now), incident_id],
            )

    def claim(
        self,
        *,
        incident_id: str,
        channel_id: str,
        token: str,
        now: datetime,
        stale_before: datetime,
    ) -> bool:
        """Hold the incident's canvas for one draft or refresh; False while another holds it
        (a claim older than ``stale_before`` was left by a process that died). The first
        claim makes the row, so that two first drafts at once make one canvas."""
        with self.db.write() as db:
            db.execute(
                """
                INSERT INTO canvases (incident_id, channel_id, canvas_id, created_at)
                VALUES (?, ?, NULL, ?) ON CONFLICT (incident_id) DO NOTHING
                """,
                [incident_id, channel_id, to_db_time(now)],
            )
            cursor = db.execute(
                """
                UPDATE canvases SET lease_token = ?, leased_at = ?
                WHERE incident_id = ? AND (lease_token IS NULL OR leased_at < ?)
                """,
                [token, to_db_time(now), incident_id, to_db_time(stale_before)],
            )
            return cursor.rowcount == 1

    def release(self, *, incident_id: str, token: str) -> None:
        with self.db.write() as db:
            db.execute(
                """
                UPDATE canvases SET lease_token = NULL, leased_at = NULL
                WHERE incident_id = ? AND lease_token = ?
                """,
                [incident_id, token],
            )
