"""When the canvas refreshes by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.canvas.auto import AutoState, fingerprint, minute_key, refresh_due

NOW = datetime(2026, 11, 27, 15, 0, 30, tzinfo=UTC)
OLD = fingerprint("draft 1")
NEW = fingerprint("draft 2")


def state(ago: timedelta | None, fp: str | None = OLD, final: bool = False) -> AutoState:
    return AutoState(refreshed_at=None if ago is None else NOW - ago, fingerprint=fp,
                     final_done=final)  # fmt: skip


def test_a_change_refreshes_once_a_minute_at_most():
    assert refresh_due(state(timedelta(minutes=1)), resolved=False, draft_fingerprint=NEW, now=NOW)
    assert not refresh_due(
        state(timedelta(seconds=59)), resolved=False, draft_fingerprint=NEW, now=NOW
    )
    assert refresh_due(state(None, None), resolved=False, draft_fingerprint=NEW, now=NOW)


def test_no_change_no_refresh():
    assert not refresh_due(state(timedelta(hours=1)), resolved=False, draft_fingerprint=OLD,
                           now=NOW)  # fmt: skip


def test_a_queued_refresh_is_not_queued_again_until_it_is_overdue():
    queued = AutoState(NOW - timedelta(minutes=3), OLD, False, queued_at=NOW - timedelta(minutes=2))
    assert not refresh_due(queued, resolved=False, draft_fingerprint=NEW, now=NOW)
    late = AutoState(NOW - timedelta(minutes=30), OLD, False, queued_at=NOW - timedelta(minutes=20))
    assert refresh_due(late, resolved=False, draft_fingerprint=NEW, now=NOW)
    done = AutoState(NOW - timedelta(minutes=1), OLD, False, queued_at=NOW - timedelta(minutes=2))
    assert refresh_due(done, resolved=False, draft_fingerprint=NEW, now=NOW)


def test_resolved_refreshes_once_more_then_stops():
    assert refresh_due(state(timedelta(minutes=5)), resolved=True, draft_fingerprint=NEW, now=NOW)
    assert not refresh_due(
        state(timedelta(minutes=5), final=True), resolved=True, draft_fingerprint=NEW, now=NOW
    )


def test_a_reopened_incident_refreshes_again():
    reopened = state(timedelta(minutes=5), final=True)
    assert refresh_due(reopened, resolved=False, draft_fingerprint=NEW, now=NOW)


def test_one_job_key_per_incident_and_minute():
    assert minute_key("INC-1", NOW) == minute_key("INC-1", NOW + timedelta(seconds=29))
    assert minute_key("INC-1", NOW) != minute_key("INC-1", NOW + timedelta(seconds=30))
    assert minute_key("INC-1", NOW) != minute_key("INC-2", NOW)
