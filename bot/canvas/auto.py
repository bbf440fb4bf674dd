"""When the canvas refreshes by itself. Pure: the scan and the job call these.

The draft is the measure of "a change the draft shows": the scan renders it and compares a
fingerprint with the one of the last refresh, so an entry, a pin, a status or an action item
counts, and a change the draft does not show (a nudge sent, a snooze) does not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_INTERVAL = timedelta(minutes=1)
# A queued refresh that has not finished by then (Slack down for long) may be queued again.
QUEUE_PATIENCE = timedelta(minutes=10)


def fingerprint(draft: str) -> str:
    return hashlib.sha256(draft.encode()).hexdigest()


@dataclass(frozen=True)
class AutoState:
    """What the canvas row says about the last refresh."""

    refreshed_at: datetime | None
    fingerprint: str | None
    final_done: bool
    queued_at: datetime | None = None


def refresh_due(state: AutoState, *, resolved: bool, draft_fingerprint: str, now: datetime) -> bool:
    """Whether to queue a refresh now: the draft changed, a minute has passed since the last
    one, none is queued already, and the incident is open (or reopened), or resolved without
    its last refresh yet."""
    if (resolved and state.final_done) or not can_check(state, now=now):
        return False
    return draft_fingerprint != state.fingerprint


def can_check(state: AutoState, *, now: datetime) -> bool:
    """Whether the draft is worth rendering to compare: a minute since the last refresh, and
    no refresh queued since then that is still within its patience."""
    if state.refreshed_at is not None and now - state.refreshed_at < MIN_INTERVAL:
        return False
    waiting = state.queued_at is not None and (
        state.refreshed_at is None or state.queued_at > state.refreshed_at
    )
    return not (waiting and state.queued_at is not None and now - state.queued_at < QUEUE_PATIENCE)


def minute_key(incident_id: str, now: datetime) -> str:
    """The job key: one refresh per incident and minute, whoever asks for it."""
    return f"canvas:refresh:{incident_id}:{now.strftime('%Y%m%d%H%M')}"
