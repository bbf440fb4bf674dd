"""Faults Slack throws: rate limits, 5xx, slow answers, refusals; nothing acknowledged is lost."""

from __future__ import annotations

import logging
import time

import pytest

from tests.conftest import SlackDriver, reply_text, wait_until


def entries_of(slack: SlackDriver, channel: str) -> list[object]:
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return list(slack.store.timeline.for_incident(incident_id=incident.id))


def test_a_429_is_waited_out_and_the_reply_posted_once(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", retry_after=1)
    slack.command("/timeline", "detected alert fired", channel_id=channel)
    posts = slack.fake.wait_for("chat.postMessage", count=3, timeout=10)
    replies = [c for c in posts[1:] if not c.faulted]
    assert len(replies) == 1 and "alert fired" in replies[0].params["text"]
    assert posts[-1].at - posts[-2].at >= 0.9  # it waited for Retry-After
    time.sleep(0.3)
    assert len(slack.fake.calls_to("chat.postMessage")) == 3


def test_5xx_answers_are_retried_with_backoff(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", status=503, times=2)
    slack.command("/timeline", "note retried", channel_id=channel)
    posts = slack.fake.wait_for("chat.postMessage", count=4, timeout=10)
    assert [c.faulted for c in posts[1:]] == [True, True, False]


def test_a_slack_call_that_still_fails_never_loses_the_entry(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", status=500, times=10)
    caplog.set_level(logging.ERROR)
    response = slack.command("/timeline", "mitigated rolled back", channel_id=channel)
    assert response.status == 200
    assert [e.text for e in entries_of(slack, channel)] == ["rolled back"]  # type: ignore[attr-defined]
    wait_until(lambda: any("chat.postMessage" in r.getMessage() for r in caplog.records), 10)


def test_a_slow_slack_never_holds_the_ack(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.fake.fail("users.info", delay=3, times=1)
    started = time.monotonic()
    response = slack.command(
        "/timeline", "14:05 detected x", channel_id=channel, user_id="U_NEW", user_name="new"
    )
    elapsed = time.monotonic() - started
    assert elapsed < 2.9, f"the ack took {elapsed:.2f}s"
    assert "add the zone" in reply_text(response)
    assert entries_of(slack, channel) == []
    # With the zone given, Slack is not needed before the ack at all.
    started = time.monotonic()
    slack.command(
        "/timeline", "14:05 UTC detected x", channel_id=channel, user_id="U_NEW", user_name="new"
    )
    assert time.monotonic() - started < 1.0
    assert len(entries_of(slack, channel)) == 1


def test_a_refused_channel_is_explained_and_the_incident_kept(slack: SlackDriver) -> None:
    slack.fake.fail("conversations.create", error="restricted_action", times=1)
    response = slack.command("/incident", "start sev1 Payments down")
    assert "Declared" in reply_text(response)
    told = slack.fake.wait_for("response_url", timeout=10)[-1]
    assert "restricted_action" in told.params["text"] and "/incident start" in told.params["text"]
    assert [i.title for i in slack.store.incidents.all()] == ["Payments down"]


def test_a_reply_slack_refused_is_posted_once_slack_answers_again(
    slack: SlackDriver, clock: object
) -> None:
    from bot import slackio

    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", status=500, times=3)  # the first try and both retries
    slack.command("/timeline", "fixed cert renewed", channel_id=channel)
    wait_until(lambda: len(slack.store.outbox.queued()) == 1, 10)
    [queued] = slack.store.outbox.queued()
    assert queued["channel"] == channel and "cert renewed" in queued["text"]

    now = slack.store.incidents.for_channel(channel_id=channel).started_at  # type: ignore[union-attr]
    assert slackio.deliver_queued(slack.app.client, slack.store, now=now) == 1
    assert slackio.deliver_queued(slack.app.client, slack.store, now=now) == 0
    posted = [c for c in slack.fake.calls_to("chat.postMessage") if not c.faulted]
    assert sum("cert renewed" in c.params["text"] for c in posted) == 1
    assert slack.store.outbox.queued() == []


def test_a_queued_reply_still_refused_waits_and_is_not_lost(slack: SlackDriver) -> None:
    from datetime import UTC, datetime, timedelta

    from bot import slackio

    now = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    slack.store.outbox.queue(channel="C_X", text="held", now=now)
    slack.fake.fail("chat.postMessage", status=500, times=3)
    assert slackio.deliver_queued(slack.app.client, slack.store, now=now) == 0
    assert slackio.deliver_queued(slack.app.client, slack.store, now=now) == 0  # waits a minute
    assert len(slack.store.outbox.queued()) == 1
    assert (
        slackio.deliver_queued(slack.app.client, slack.store, now=now + timedelta(minutes=1)) == 1
    )


def test_a_dropped_connection_is_retried_and_the_reply_posted_once(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", drop=True, times=1)
    slack.command("/timeline", "escalated paged the DBA", channel_id=channel)
    posts = slack.fake.wait_for("chat.postMessage", count=3, timeout=10)
    assert [c.faulted for c in posts[1:]] == [True, False]
    assert "paged the DBA" in posts[-1].params["text"]
    assert slack.store.outbox.queued() == []
