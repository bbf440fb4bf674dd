"""Durable jobs: work an ack promised, kept until it is done (see ``bot/jobs.py``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.connection import Repository, from_db_time, to_db_time


@dataclass(frozen=True)
class Job:
    """A job row, as a handler sees it."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    incident_id: str | None
    requested_by: str | None
    notify_channel: str | None
    attempts: int
    created_at: datetime
    token: str | None = None


class JobRows(Repository):
    """Job rows: added with the change they follow, claimed atomically, settled once."""

    def add(
        self,
        *,
        kind: str,
        key: str,
        payload: dict[str, Any],
        now: datetime,
        incident_id: str | None = None,
        requested_by: str | None = None,
        notify_channel: str | None = None,
        run_after: datetime | None = None,
    ) -> int:
        """Add a job (inside the caller's transaction, if any); a key already taken returns
        the existing job's id, so a redelivered request never doubles its work."""
        with self.db.write() as db:
            db.execute(
                """
                INSERT INTO jobs (key, kind, payload, incident_id, requested_by, notify_channel,
                                  state, attempts, run_after, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)
                ON CONFLICT (key) DO NOTHING
                """,
                [key, kind, json.dumps(payload, sort_keys=True), incident_id, requested_by,
                 notify_channel, to_db_time(run_after or now), to_db_time(now)],
            )  # fmt: skip
            row = db.execute("SELECT id FROM jobs WHERE key = ?", [key]).fetchone()
        return int(row[0])

    def claim(
        self, *, job_id: int, now: datetime, stale_before: datetime, token: str
    ) -> Job | None:
        """Take a due job, or one whose claim a dead process left behind; None if it is not
        due, is settled, or someone else holds it."""
        with self.db.write() as db:
            cursor = db.execute(
                """
                UPDATE jobs SET state = 'running', claim_token = ?, claimed_at = ?,
                                attempts = attempts + 1
                WHERE id = ? AND ((state = 'pending' AND run_after <= ?)
                                  OR (state = 'running' AND claimed_at < ?))
                """,
                [token, to_db_time(now), job_id, to_db_time(now), to_db_time(stale_before)],
            )
            if cursor.rowcount != 1:
                return None
            rows = list(db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
        return _job(rows[0])

    def due(self, *, now: datetime, stale_before: datetime, limit: int = 100) -> list[int]:
        """Ids of the jobs to run now: due ones, and abandoned claims, oldest first."""
        rows = self.db.rows(
            """
            SELECT id FROM jobs
            WHERE (state = 'pending' AND run_after <= ?) OR (state = 'running' AND claimed_at < ?)
            ORDER BY run_after, id LIMIT ?
            """,
            [to_db_time(now), to_db_time(stale_before), limit],
        )
        return [row["id"] for row in rows]

    def next_run(self) -> datetime | None:
        """When the earliest pending job is due, or None when none waits."""
        rows = self.db.rows("SELECT MIN(run_after) AS at FROM jobs WHERE state = 'pending'")
        return from_db_time(rows[0]["at"])

    def finish(self, *, job_id: int, token: str | None, now: datetime) -> None:
        """The job is done."""
        self._settle(job_id, token, "done", None, now)

    def fail(self, *, job_id: int, token: str | None, error: str, now: datetime) -> None:
        """The job can never succeed."""
        self._settle(job_id, token, "failed", error, now)

    def retry(self, *, job_id: int, token: str | None, run_after: datetime, error: str) -> None:
        """Hand the job back, to run again at ``run_after``."""
        with self.db.write() as db:
            db.execute(
                """
                UPDATE jobs SET state = 'pending', run_after = ?, last_error = ?,
                                claim_token = NULL, claimed_at = NULL
                WHERE id = ? AND state = 'running' AND claim_token IS ?
                """,
                [to_db_time(run_after), error, job_id, token],
            )

    def get(self, *, job_id: int) -> Job | None:
        """One job, or None."""
        rows = self.db.rows("SELECT * FROM jobs WHERE id = ?", [job_id])
        return _job(rows[0]) if rows else None

    def state(self, *, job_id: int) -> dict[str, Any] | None:
        """A job's row as stored (state, attempts, last_error …), for tests and the shell."""
        rows = self.db.rows("SELECT * FROM jobs WHERE id = ?", [job_id])
        return rows[0] if rows else None

    def with_kind(self, *, kind: str) -> list[dict[str, Any]]:
        """Every job of a kind, oldest first."""
        return self.db.rows("SELECT * FROM jobs WHERE kind = ? ORDER BY id", [kind])

    def _settle(
        self, job_id: int, token: str | None, state: str, error: str | None, now: datetime
    ) -> None:
        with self.db.write() as db:
            db.execute(
                """
                UPDATE jobs SET state = ?, last_error = COALESCE(?, last_error), finished_at = ?,
                                claim_token = NULL
                WHERE id = ? AND state = 'running' AND claim_token IS ?
                """,
                [state, error, to_db_time(now), job_id, token],
            )


def _job(row: dict[str, Any]) -> Job:
    created = from_db_time(row["created_at"])
    assert created is not None
    return Job(
        id=row["id"],
        key=row["key"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        incident_id=row["incident_id"],
        requested_by=row["requested_by"],
        notify_channel=row["notify_channel"],
        attempts=row["attempts"],
        created_at=created,
        token=row["claim_token"],
    )
