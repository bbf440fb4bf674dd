"""The post-mortem's review as a pure state machine: DRAFT → UNDER REVIEW → APPROVED → ARCHIVED.

Every decision is a function of the state, the person acting and ``now``; a refusal is a
``ReviewRefusal`` whose message is the sentence for that person, and leaves the state alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

DRAFT = "DRAFT"
UNDER_REVIEW = "UNDER REVIEW"
APPROVED = "APPROVED"
ARCHIVED = "ARCHIVED"
STATUSES = (DRAFT, UNDER_REVIEW, APPROVED, ARCHIVED)

TECHNICAL = "technical"
MANAGEMENT = "management"
FINAL = "final"
ROLES = (TECHNICAL, MANAGEMENT, FINAL)  # the order `/postmortem review @a @b @c` names them
ROLE_LABELS = {
    TECHNICAL: "Technical Review",
    MANAGEMENT: "Management Review",
    FINAL: "Final Approval",
}
# What the template writes on a line nobody has signed.
ROLE_PLACEHOLDERS = {TECHNICAL: "@username", MANAGEMENT: "@manager", FINAL: "@director"}


class ReviewRefusal(ValueError):
    """An action the review does not allow; ``str(error)`` is the sentence to show."""


@dataclass(frozen=True)
class Reviewer:
    user_id: str
    requested_at: datetime
    approved_at: datetime | None = None


@dataclass(frozen=True)
class Review:
    """One post-mortem's review. ``rounds`` counts the times it became APPROVED: the version
    is ``1.0`` for the first and goes up by ``0.1`` with each approval after a change."""

    incident_id: str
    status: str = DRAFT
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    rounds: int = 0
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    @property
    def version(self) -> str:
        return f"1.{max(self.rounds - 1, 0)}"

    def role_of(self, user_id: str) -> str | None:
        return next((r for r, rev in self.reviewers.items() if rev.user_id == user_id), None)

    @property
    def pending(self) -> list[str]:
        """The roles still waiting for their reviewer, in sign-off order."""
        return [r for r in ROLES if r in self.reviewers and self.reviewers[r].approved_at is None]


@dataclass(frozen=True)
class Outcome:
    """The new review, who must get a review DM, and what happened in one word."""

    review: Review
    notify: list[str] = field(default_factory=list)  # roles whose reviewer gets a DM
    event: str = ""  # "requested", "approved", "fully_approved", "changes_requested", "archived"


def _touch(review: Review, user_id: str, now: datetime) -> Review:
    return replace(review, updated_at=now, updated_by=user_id)


def _refuse_if_archived(review: Review) -> None:
    if review.status == ARCHIVED:
        raise ReviewRefusal(
            f"The post-mortem of {review.incident_id} is archived: it takes no more reviews."
        )


def request(
    review: Review,
    assignments: list[tuple[str, str]],
    *,
    by: str,
    author_id: str | None,
    now: datetime,
) -> Outcome:
    """Name reviewers (``[(role, user_id)]``; empty asks the named ones again) and put the
    post-mortem UNDER REVIEW. Asking again once it is APPROVED starts a new round: the lines
    asked are signed afresh, and the next approval is the next version."""
    _refuse_if_archived(review)
    reviewers = dict(review.reviewers)
    for role, user_id in assignments:
        if author_id and user_id == author_id:
            raise ReviewRefusal(
                f"<@{user_id}> wrote this post-mortem, so cannot review it: name someone else."
            )
        other = next((r for r, rev in reviewers.items() if rev.user_id == user_id), None)
        if other is not None and other != role:
            raise ReviewRefusal(
                f"<@{user_id}> already holds the {ROLE_LABELS[other]}: one person signs one line."
            )
        current = reviewers.get(role)
        if current is None or current.user_id != user_id:
            reviewers[role] = Reviewer(user_id=user_id, requested_at=now)
    if not reviewers:
        raise ReviewRefusal(
            "Name the reviewers: `/postmortem review @tech [@manager] [@director]`."
        )
    if review.status == APPROVED:  # changed since: those asked sign again, for a new version
        for role in [role for role, _ in assignments] or list(reviewers):
            reviewers[role] = replace(reviewers[role], approved_at=None)
    if assignments:
        notify = [role for role, _ in assignments if reviewers[role].approved_at is None]
    else:
        notify = [r for r in ROLES if r in reviewers and reviewers[r].approved_at is None]
    if not notify:
        raise ReviewRefusal("Every reviewer named has already approved: nothing to ask.")
    for role in notify:  # asking again starts the reminder clock again
        reviewers[role] = replace(reviewers[role], requested_at=now)
    new = replace(
        review,
        status=UNDER_REVIEW,
        reviewers=reviewers,
        submitted_at=review.submitted_at or now,
    )
    return Outcome(
        _touch(new, by, now), notify=sorted(set(notify), key=ROLES.index), event="requested"
    )


def _reviewer_for(review: Review, user_id: str, role: str | None) -> str:
    """The role ``user_id`` may act on: their own, and only their own."""
    own = review.role_of(user_id)
    if role is not None and role in review.reviewers and review.reviewers[role].user_id != user_id:
        asked = review.reviewers[role].user_id
        raise ReviewRefusal(
            f"The {ROLE_LABELS[role]} was asked of <@{asked}>: only they can answer it."
        )
    if own is None:
        raise ReviewRefusal(
            f"You are not a reviewer of the post-mortem of {review.incident_id}: only the people "
            "named by `/postmortem review` approve it or ask for changes."
        )
    if role is not None and role != own:  # a line nobody was asked for
        raise ReviewRefusal(
            f"Nobody was asked for the {ROLE_LABELS[role]}; yours is the {ROLE_LABELS[own]}: "
            "`/postmortem approve` signs it."
        )
    return own


def approve(
    review: Review,
    *,
    user_id: str,
    now: datetime,
    role: str | None = None,
    author_id: str | None = None,
) -> Outcome:
    """Sign the reviewer's own line; the last signature makes the post-mortem APPROVED. The
    author (who may have become it since being asked) signs only the Author line."""
    _refuse_if_archived(review)
    own = _reviewer_for(review, user_id, role)
    if author_id and user_id == author_id:
        raise ReviewRefusal(
            f"You are the author of this post-mortem now, so you cannot sign its "
            f"{ROLE_LABELS[own]}: ask for someone else with `/postmortem review {own} @user`."
        )
    current = review.reviewers[own]
    if current.approved_at is not None:
        raise ReviewRefusal(
            f"You already approved the {ROLE_LABELS[own]} on {current.approved_at:%Y-%m-%d}."
        )
    reviewers = {**review.reviewers, own: replace(current, approved_at=now)}
    new = replace(review, reviewers=reviewers)
    if not new.pending:
        new = replace(new, status=APPROVED, rounds=review.rounds + 1)
        return Outcome(_touch(new, user_id, now), event="fully_approved")
    new = replace(new, status=UNDER_REVIEW)
    return Outcome(_touch(new, user_id, now), event="approved")


def request_changes(
    review: Review, *, user_id: str, now: datetime, role: str | None = None
) -> Outcome:
    """Back to DRAFT; the reviewer's own approval, if any, no longer stands."""
    _refuse_if_archived(review)
    own = _reviewer_for(review, user_id, role)
    reviewers = {**review.reviewers, own: replace(review.reviewers[own], approved_at=None)}
    new = replace(review, status=DRAFT, reviewers=reviewers)
    return Outcome(_touch(new, user_id, now), event="changes_requested")


def archive(review: Review, *, user_id: str, now: datetime) -> Outcome:
    _refuse_if_archived(review)
    return Outcome(_touch(replace(review, status=ARCHIVED), user_id, now), event="archived")


# --- what the draft shows ---------------------------------------------------------------


@dataclass(frozen=True)
class SignOffLine:
    label: str
    text: str  # "@bob (Date: 2026-11-30)" or the template's placeholder


def _day(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d") if at else "YYYY-MM-DD"


def sign_off(review: Review | None, names: dict[str, str], author: str | None) -> list[SignOffLine]:
    """The four lines of Review and Approval. A line nobody signed keeps the template's
    placeholder, even when someone was asked (the DMs say who): no name or date comes before
    the event it records."""
    review = review or Review(incident_id="")
    lines = [SignOffLine("Author", f"{author or '@username'} (Date: {_day(review.submitted_at)})")]
    for role in ROLES:
        rev = review.reviewers.get(role)
        if rev is not None and rev.approved_at is not None:
            text = f"@{names.get(rev.user_id, rev.user_id)} (Date: {_day(rev.approved_at)})"
        else:
            text = f"{ROLE_PLACEHOLDERS[role]} (Date: YYYY-MM-DD)"
        lines.append(SignOffLine(ROLE_LABELS[role], text))
    return lines


def last_change(changes: list[tuple[datetime, str | None]]) -> tuple[datetime, str] | None:
    """The latest change made by a person, from (when, user ID) pairs."""
    by_people = [(at, user) for at, user in changes if user]
    return max(by_people, key=lambda change: change[0]) if by_people else None


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday) after ``start``, at the same time of day."""
    at = start
    left = days
    while left > 0:
        at += timedelta(days=1)
        if at.weekday() < 5:
            left -= 1
    return at
