"""The review's steps as the listeners run them: decide (pure), store the outcome and the jobs
that follow it in one transaction, and say what the person who acted sees.

No Slack calls here: the jobs (``bot/review/jobs.py``) make them after the ack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.canvas import service as canvas
from bot.domain import Incident
from bot.membership import REPLAYED
from bot.review import blocks
from bot.review import workflow as wf
from bot.review.settings import ReviewSettings
from bot.store.connection import to_db_time

if TYPE_CHECKING:
    from bot.deps import Deps

REQUEST_JOB = "review_request"
REMIND_JOB = "review_remind"
POST_JOB = "review_post"


@dataclass(frozen=True)
class Step:
    """What one review action did: the sentence for the person, and the jobs to run now."""

    text: str
    job_ids: list[int] = field(default_factory=list)
    outcome: wf.Outcome | None = None


def author_of(incident: Incident) -> str | None:
    """Who wrote the post-mortem: the scribe, else the commander (as the draft names them)."""
    return incident.scribe_id or incident.commander_id


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def _apply(
    deps: Deps,
    incident: Incident,
    decide: Callable[[wf.Review], wf.Outcome],
    follow: Callable[[wf.Outcome, list[int]], None],
    *,
    trigger_id: str | None = None,
) -> Step:
    """Decide and store; ``follow`` adds the outcome's jobs in the same transaction, with the
    refresh of the canvas that shows the new status. A replayed request (its ``trigger_id``
    handled already) changes nothing; a refusal leaves no trace, not even the claim."""
    job_ids: list[int] = []
    now = deps.clock()

    def then(outcome: wf.Outcome) -> None:
        follow(outcome, job_ids)
        key = f"{incident.id}:review:{outcome.event}:{_iso(now)}:{outcome.review.updated_by}"
        refresh = canvas.queue_refresh(deps, incident.id, key=key, now=now)
        job_ids.extend([refresh] if refresh is not None else [])

    try:
        with deps.store.transaction():
            if not deps.store.commands.claim(trigger_id=trigger_id, now=now):
                return Step(text=REPLAYED)
            outcome = deps.store.reviews.change(incident_id=incident.id, decide=decide, then=then)
    except wf.ReviewRefusal as refusal:
        return Step(text=str(refusal))
    return Step(
        text=blocks.review_status_text(incident, outcome.review, outcome.event),
        job_ids=job_ids,
        outcome=outcome,
    )


def _post(
    deps: Deps, incident: Incident, *, key: str, text: str, by: str, now: datetime
) -> int | None:
    if not incident.channel_id:
        return None
    return deps.store.jobs.add(
        kind=POST_JOB, key=key, payload={"channel": incident.channel_id, "text": text}, now=now,
        incident_id=incident.id, requested_by=by, notify_channel=incident.channel_id,
    )  # fmt: skip


def _announce_approval(
    deps: Deps, incident: Incident, outcome: wf.Outcome, by: str, now: datetime, job_ids: list[int]
) -> None:
    if outcome.event != "fully_approved":
        return
    key = f"review:approved:{incident.id}:{outcome.review.rounds}"
    text = blocks.approved_text(incident, outcome.review)
    job_id = _post(deps, incident, key=key, text=text, by=by, now=now)
    job_ids.extend([job_id] if job_id else [])


def request(
    deps: Deps,
    incident: Incident,
    assignments: list[tuple[str, str]],
    *,
    user_id: str,
    settings: ReviewSettings,
    channel_id: str,
    workspace: Mapping[str, str | None] | None = None,
    trigger_id: str | None = None,
) -> Step:
    """Name reviewers (or ask the named ones again): DMs now, one reminder later.
    ``workspace`` (``team_id``, ``team_domain``) makes the canvas's address for the DMs."""
    now = deps.clock()

    def follow(outcome: wf.Outcome, job_ids: list[int]) -> None:
        # Unique per request: the roles asked and the moment (a shell's clock may stand still).
        key = f"review:request:{incident.id}:{'+'.join(outcome.notify)}:{_iso(now)}"
        job_ids.append(
            deps.store.jobs.add(
                kind=REQUEST_JOB,
                key=key,
                payload={"roles": outcome.notify, **dict(workspace or {})},
                now=now,
                incident_id=incident.id,
                requested_by=user_id,
                notify_channel=channel_id,
            )
        )
        for role in outcome.notify:
            reviewer = outcome.review.reviewers[role]
            deps.store.jobs.add(
                kind=REMIND_JOB,
                key=f"review:remind:{incident.id}:{role}:{_iso(reviewer.requested_at)}",
                payload={"role": role, "user_id": reviewer.user_id,
                         "requested_at": to_db_time(reviewer.requested_at),
                         **dict(workspace or {})},
                now=now,
                incident_id=incident.id,
                run_after=wf.add_working_days(reviewer.requested_at, settings.reminder_days),
            )  # fmt: skip

    def decide(review: wf.Review) -> wf.Outcome:
        return wf.request(review, assignments, by=user_id, author_id=author_of(incident), now=now)

    return _apply(deps, incident, decide, follow, trigger_id=trigger_id)


def approve(
    deps: Deps,
    incident: Incident,
    *,
    user_id: str,
    role: str | None = None,
    trigger_id: str | None = None,
) -> Step:
    """Sign the reviewer's line; the last signature tells the channel."""
    now = deps.clock()
    return _apply(
        deps,
        incident,
        lambda review: wf.approve(
            review, user_id=user_id, now=now, role=role, author_id=author_of(incident)
        ),
        lambda outcome, job_ids: _announce_approval(deps, incident, outcome, user_id, now, job_ids),
        trigger_id=trigger_id,
    )


def check_can_answer(deps: Deps, incident_id: str, *, user_id: str, role: str) -> str | None:
    """Why ``user_id`` may not answer for ``role`` (a sentence), or None when they may."""
    review = deps.store.reviews.get(incident_id=incident_id) or wf.Review(incident_id)
    try:
        wf.request_changes(review, user_id=user_id, now=deps.clock(), role=role)
    except wf.ReviewRefusal as refusal:
        return str(refusal)
    return None


def request_changes(
    deps: Deps,
    incident: Incident,
    *,
    user_id: str,
    role: str,
    comment: str,
    trigger_id: str | None = None,
) -> Step:
    """Back to DRAFT, and the comment in the incident channel, to the author."""
    now = deps.clock()

    def follow(outcome: wf.Outcome, job_ids: list[int]) -> None:
        text = blocks.changes_requested_text(incident, role, user_id, author_of(incident), comment)
        key = f"review:changes:{incident.id}:{role}:{_iso(now)}"
        job_id = _post(deps, incident, key=key, text=text, by=user_id, now=now)
        job_ids.extend([job_id] if job_id else [])

    return _apply(
        deps,
        incident,
        lambda review: wf.request_changes(review, user_id=user_id, now=now, role=role),
        follow,
        trigger_id=trigger_id,
    )


def archive(deps: Deps, incident: Incident, *, user_id: str, trigger_id: str | None = None) -> Step:
    now = deps.clock()
    return _apply(
        deps,
        incident,
        lambda review: wf.archive(review, user_id=user_id, now=now),
        lambda outcome, job_ids: None,
        trigger_id=trigger_id,
    )
