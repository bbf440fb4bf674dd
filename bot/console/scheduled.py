"""The shell's periodic work, as production's scheduler runs it: each a tick hook that does the
work at the shell clock's time and asks to be woken when there is more to do."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import nudges
from bot.console.clock import TickHook
from bot.review import jobs as review_jobs

if TYPE_CHECKING:
    from bot.console.session import Session

NUDGE_LOOKAHEAD = timedelta(days=3660)


def nudge_scan_hook(session: Session, policy: nudges.NudgePolicy) -> TickHook:
    """The overdue-nudge scan, as production's scheduler runs it; it asks to be woken when the
    next reminder is due."""

    def scan(now: datetime) -> datetime | None:
        report = nudges.scan(
            store=session.deps.store,
            client=session.client,
            users=session.deps.users,
            policy=policy,
            now=now,
            members=session.deps.members,
        )
        said = [
            f"{len(ids)} {label}"
            for ids, label in (
                (report.sent, "sent"),
                (report.recovered, "recovered"),
                (report.deferred, "deferred to the owner's working hours"),
                (report.failed, "failed, to retry"),
            )
            if ids
        ]
        if said:
            session.screen.note(f"⏰ nudge scan at {now:%a %H:%M} UTC: {', '.join(said)}")
        upcoming = session.deps.store.nudges.due(now=now + NUDGE_LOOKAHEAD, limit=1)
        return upcoming[0].next_nudge_at if upcoming else None

    return scan


def job_sweep_hook(session: Session) -> TickHook:
    """The durable-job sweep, as production's scheduler runs it: jobs that failed are retried
    when their backoff is over; it asks to be woken then."""

    def sweep(now: datetime) -> datetime | None:
        review_jobs.followup_scan(session.deps, now=now)  # as production's sweep does
        report = session.deps.jobs.sweep(deps=session.deps, client=session.client)
        if report.retrying or report.failed:
            session.screen.note(
                f"⚙ job sweep at {now:%a %H:%M} UTC: {len(report.done)} done, "
                f"{len(report.retrying)} to retry, {len(report.failed)} failed for good"
            )
        wake = [
            at
            for at in (
                session.deps.store.jobs.next_run(),
                review_jobs.next_followup(session.deps, now=now),
            )
            if at is not None
        ]
        return min(wake) if wake else None

    return sweep
