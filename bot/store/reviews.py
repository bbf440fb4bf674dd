"""The post-mortem's review, the data its draft reads, and the scans' claims.

``change`` runs a pure decision (``bot.review.workflow``) inside one write transaction, so two
reviewers answering at once never overwrite each other; a refusal rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.review.workflow import Outcome, Review, Reviewer
from bot.store.connection import Repository, first, from_db_time, to_db_time


def _review(db: Database, incident_id: str) -> Review | None:
    row = first(db, "SELECT * FROM reviews WHERE incident_id = ?", [incident_id])
    if row is None:
        return None
    signers = db.query("SELECT * FROM review_signers WHERE incident_id = ?", [incident_id])
    return Review(
        incident_id=incident_id,
        status=row["status"],
        rounds=row["rounds"],
        submitted_at=from_db_time(row["submitted_at"]),
        updated_at=from_db_time(row["updated_at"]),
        updated_by=row["updated_by"],
        reviewers={
            s["role"]: Reviewer(
                user_id=s["user_id"],
                requested_at=from_db_time(s["requested_at"]),  # type: ignore[arg-type]
                approved_at=from_db_time(s["approved_at"]),
            )
            for s in signers
        },
    )


def _save(db: Database, review: Review) -> None:
    db["reviews"].upsert(
        {  # upsert keeps the columns it is not given (the draft link)
            "incident_id": review.incident_id,
            "status": review.status,
            "rounds": review.rounds,
            "submitted_at": to_db_time(review.submitted_at) if review.submitted_at else None,
            "updated_at": to_db_time(review.updated_at) if review.updated_at else None,
            "updated_by": review.updated_by,
        },
        pk="incident_id",
    )
    for role, rev in review.reviewers.items():
        old = first(
            db,
            "SELECT * FROM review_signers WHERE incident_id = ? AND role = ?",
            [review.incident_id, role],
        )
        row = {
            "incident_id": review.incident_id,
            "role": role,
            "user_id": rev.user_id,
            "requested_at": to_db_time(rev.requested_at),
            "approved_at": to_db_time(rev.approved_at) if rev.approved_at else None,
            "dm_key": old["dm_key"] if old else None,
        }
        db["review_signers"].upsert(row, pk=("incident_id", "role"))


class Reviews(Repository):
    """The ``reviews``, ``review_signers``, ``pinned_images`` and ``followups`` tables."""

    def get(self, *, incident_id: str) -> Review | None:
        """The review of an incident's post-mortem, or None before anyone asked for one."""
        return _review(self.db.current(), incident_id)

    def change(
        self,
        *,
        incident_id: str,
        decide: Callable[[Review], Outcome],
        then: Callable[[Outcome], None] | None = None,
    ) -> Outcome:
        """Read, decide and save in one transaction; ``then`` writes what follows from the
        outcome (its jobs) in that same transaction. A ``ReviewRefusal`` changes nothing."""
        with self.db.write() as db:
            current = _review(db, incident_id) or Review(incident_id=incident_id)
            outcome = decide(current)
            _save(db, outcome.review)
            if then is not None:
                then(outcome)
        return outcome

    # --- the jobs' progress ----------------------------------------------------------

    def draft_link(self, *, incident_id: str) -> tuple[str | None, str | None]:
        """(the URL of the draft uploaded for review, the key of the job that uploaded it)."""
        rows = self.db.rows(
            "SELECT draft_url, draft_key FROM reviews WHERE incident_id = ?", [incident_id]
        )
        return (rows[0]["draft_url"], rows[0]["draft_key"]) if rows else (None, None)

    def set_draft_link(self, *, incident_id: str, url: str, key: str) -> None:
        with self.db.write() as db:
            db.execute(
                "UPDATE reviews SET draft_url = ?, draft_key = ? WHERE incident_id = ?",
                [url, key, incident_id],
            )

    def dm_sent(self, *, incident_id: str, role: str, key: str) -> bool:
        rows = self.db.rows(
            "SELECT 1 FROM review_signers WHERE incident_id = ? AND role = ? AND dm_key = ?",
            [incident_id, role, key],
        )
        return bool(rows)

    def mark_dm_sent(self, *, incident_id: str, role: str, key: str) -> None:
        with self.db.write() as db:
            db.execute(
                "UPDATE review_signers SET dm_key = ? WHERE incident_id = ? AND role = ?",
                [key, incident_id, role],
            )

    # --- pinned images ----------------------------------------------------------------

    def add_images(
        self, *, source_key: str, incident_id: str, images: list[tuple[str, str]]
    ) -> None:
        """Remember the images (title, permalink) a pinned message carries."""
        if not images:
            return  # most pins: not even a savepoint
        with self.db.write() as db:
            for title, permalink in images:
                db["pinned_images"].upsert(
                    {"source_key": source_key, "incident_id": incident_id, "title": title,
                     "permalink": permalink},
                    pk=("source_key", "permalink"),
                )  # fmt: skip

    def images(self, *, incident_id: str) -> list[tuple[str, str, datetime]]:
        """(title, permalink, when) of the images of messages still on the timeline."""
        rows = self.db.rows(
            "SELECT i.title, i.permalink, e.at FROM pinned_images i "
            "JOIN timeline_entries e ON e.source_key = i.source_key "
            "WHERE i.incident_id = ? AND e.removed_at IS NULL ORDER BY e.at, i.rowid",
            [incident_id],
        )
        return [(r["title"], r["permalink"], from_db_time(r["at"])) for r in rows]  # type: ignore[misc]

    # --- who changed the document last -------------------------------------------------

    def changes(self, *, incident_id: str) -> list[tuple[datetime, str | None]]:
        """The latest change by a person in each of the tables the draft is made from."""
        rows = self.db.rows(
            "SELECT * FROM ("
            " SELECT created_at AS at, actor_id AS who FROM timeline_entries "
            "  WHERE incident_id = :i AND actor_id IS NOT NULL ORDER BY created_at DESC LIMIT 1)"
            " UNION ALL SELECT * FROM ("
            " SELECT c.at, c.actor_id FROM action_item_changes c JOIN action_items a "
            "  ON a.id = c.item_id WHERE a.incident_id = :i ORDER BY c.at DESC LIMIT 1)"
            " UNION ALL SELECT * FROM ("
            " SELECT set_at, set_by FROM incident_fields WHERE incident_id = :i "
            "  ORDER BY set_at DESC LIMIT 1)",
            {"i": incident_id},
        )
        return [(from_db_time(row["at"]), row["who"]) for row in rows]  # type: ignore[misc]

    # --- the 30-day follow-up -----------------------------------------------------------

    def followup_due(self, *, resolved_between: tuple[datetime, datetime]) -> list[str]:
        """Incidents resolved in the window whose follow-up nobody has claimed."""
        rows = self.db.rows(
            "SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at > ? "
            "AND resolved_at <= ? AND id NOT IN (SELECT incident_id FROM followups) "
            "ORDER BY resolved_at LIMIT 500",
            [to_db_time(resolved_between[0]), to_db_time(resolved_between[1])],
        )
        return [row["id"] for row in rows]

    def next_unclaimed_resolution(self, *, after: datetime) -> datetime | None:
        """The earliest resolution after ``after`` whose follow-up nobody has claimed yet."""
        rows = self.db.rows(
            "SELECT MIN(resolved_at) AS at FROM incidents WHERE status = 'resolved' "
            "AND resolved_at > ? AND id NOT IN (SELECT incident_id FROM followups)",
            [to_db_time(after)],
        )
        return from_db_time(rows[0]["at"]) if rows else None

    def claim_followup(
        self, *, incident_id: str, now: datetime, then: Callable[[], None] | None = None
    ) -> bool:
        """Take an incident's follow-up: True for exactly one caller, ever."""
        with self.db.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO followups (incident_id, claimed_at) VALUES (?, ?)",
                [incident_id, to_db_time(now)],
            )
            if cursor.rowcount != 1:
                return False
            if then is not None:
                then()
        return True

    def mark_followup_posted(self, *, incident_id: str, now: datetime) -> None:
        with self.db.write() as db:
            db.execute(
                "UPDATE followups SET posted_at = ? WHERE incident_id = ?",
                [to_db_time(now), incident_id],
            )

    def followup_posted(self, *, incident_id: str) -> bool:
        rows = self.db.rows(
            "SELECT 1 FROM followups WHERE incident_id = ? AND posted_at IS NOT NULL",
            [incident_id],
        )
        return bool(rows)

    # --- earlier incidents for the comparison -----------------------------------------

    def earlier_with_services(self, *, before: datetime) -> list[dict[str, Any]]:
        """Incidents started before ``before`` whose services were set, with those services."""
        return self.db.rows(
            "SELECT i.id, f.value AS services FROM incidents i JOIN incident_fields f "
            "ON f.incident_id = i.id AND f.name = 'services' WHERE i.started_at < ? "
            "ORDER BY i.started_at DESC LIMIT 200",
            [to_db_time(before)],
        )
