"""The tracker seam: one interface over GitHub Issues, Jira and Linear.

The bot speaks to a tracker only through :class:`Tracker`: create an issue carrying the item's
marker, find it again by that marker, update its text, close it (done or not planned), reopen
it, assign it, set its due date, and find a tracker user by email. Each tracker module maps its
library's failures onto three errors, so the durable jobs decide retry or give up in one place:

- :class:`RateLimited`: wait ``after`` (from ``Retry-After`` or the reset header), then retry;
- :class:`Unavailable`: the tracker is down or the connection dropped; retry with backoff;
- :class:`Refused`: 401, 403 or 404 on the repository or project: no retry can mend it, and
  ``setting`` names the variable to fix.

Creates are never re-sent by a library on a dropped connection (each client turns its library's
retries off): the job searches for the marker first, so a create whose answer was lost is found
instead of made twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.trackers.settings import TrackerSettings

if TYPE_CHECKING:
    from bot.domain import ActionItem, Incident

DISPLAY_NAMES = {"github": "GitHub", "jira": "Jira", "linear": "Linear"}


@dataclass(frozen=True)
class IssueRef:
    """Where an item's issue lives. ``key`` is what people read (``acme/ops#12``, ``OPS-12``,
    ``ENG-42``); ``id`` is what the tracker's API takes (the number, the key, the UUID)."""

    tracker: str
    id: str
    key: str
    url: str
    # False when a create had to leave out the assignee the tracker refused (GitHub's 422,
    # Jira's 400 on ``assignee``): the issue exists, unassigned, and the channel is told.
    assigned: bool = field(default=True, compare=False)


@dataclass(frozen=True)
class NewIssue:
    """An issue to create, already rendered (see :mod:`bot.trackers.render`)."""

    title: str
    body: Any  # what the tracker's API takes: Markdown, wiki text or an ADF document
    marker: str
    labels: tuple[str, ...]
    due_date: str | None = None  # YYYY-MM-DD
    assignee: str | None = None  # the tracker's user id or login, when one was found


@dataclass(frozen=True)
class IssueState:
    """What the tracker says about an issue now, read back after a lost answer."""

    ref: IssueRef
    open: bool


class TrackerError(Exception):
    """A tracker call that did not succeed; ``str()`` never holds a token."""


class RateLimited(TrackerError):
    def __init__(self, message: str, *, after: timedelta | None) -> None:
        super().__init__(message)
        self.after = after


class Unavailable(TrackerError):
    """A passing failure: 5xx, a timeout, a dropped connection, an answer that is not JSON."""


class Refused(TrackerError):
    """A refusal no retry mends; ``setting`` is the variable the operator should check."""

    def __init__(self, message: str, *, status: int, setting: str) -> None:
        super().__init__(message)
        self.status = status
        self.setting = setting


class Tracker(Protocol):
    """One tracker, as the jobs use it. Every method may raise a :class:`TrackerError`."""

    kind: str

    def render_body(self, item: ActionItem, incident: Incident) -> Any: ...

    def create(self, issue: NewIssue) -> IssueRef: ...

    def find_by_marker(self, marker: str) -> IssueRef | None: ...

    def update_text(self, ref: IssueRef, *, title: str, body: Any) -> None: ...

    def close_done(self, ref: IssueRef, *, comment: str) -> None: ...

    def close_not_planned(self, ref: IssueRef, *, comment: str) -> None: ...

    def reopen(self, ref: IssueRef, *, comment: str) -> None: ...

    def assign(self, ref: IssueRef, assignee: str | None) -> None: ...

    def set_due(self, ref: IssueRef, due_date: str) -> None: ...

    def find_user(self, *, email: str | None, slack_id: str) -> str | None: ...

    def user_email(self, user: str) -> str | None:
        """The email of a tracker user (login, account ID, user ID), when the tracker shows
        it: a webhook's assignee often comes without one."""
        ...


Clock = Callable[[], datetime]


def seconds_until(reset: str | None, *, now: datetime, millis: bool = False) -> timedelta | None:
    """How long until an epoch ``reset`` header (seconds, or milliseconds for Linear)."""
    if not reset:
        return None
    try:
        moment = float(reset) / (1000 if millis else 1)
    except ValueError:
        return None
    return max(timedelta(seconds=moment - now.timestamp()), timedelta(seconds=1))


def retry_after(value: str | None) -> timedelta | None:
    """``Retry-After`` in seconds (the form GitHub, Jira and Linear send)."""
    if not value:
        return None
    try:
        return max(timedelta(seconds=float(value)), timedelta(seconds=1))
    except ValueError:
        return None


def make_tracker(settings: TrackerSettings, *, clock: Clock, throttle: bool = True) -> Tracker:
    """The configured tracker's client. Nothing is sent until a method is called.
    ``throttle`` False drops PyGithub's pause between writes (tests on loopback)."""
    if settings.kind == "github":
        from bot.trackers.github import GitHubTracker

        return GitHubTracker(settings, clock=clock, throttle=throttle)
    if settings.kind == "jira":
        from bot.trackers.jira import JiraTracker

        return JiraTracker(settings, clock=clock)
    if settings.kind == "linear":
        from bot.trackers.linear import LinearTracker

        return LinearTracker(settings, clock=clock)
    raise ValueError("no tracker is configured (TRACKER is unset)")
