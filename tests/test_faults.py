"""Faults Slack throws: rate limits, 5xx, slow answers, refusals; nothing acknowledged is lost."""

from __future__ import annotations

import time

from bot.deps import Deps
from bot.jobs import SweepReport
from tests.conftest import FakeClock, SlackDriver, reply_text, typed, wait_until


def entries_of(slack: SlackDriver, channel: str) -> list[object]:
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return list(typed(slack.store.timeline.for_incident(incident_id=incident.id)))


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
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", status=500, times=3)  # the first try and both retries
    response = slack.command("/timeline", "mitigated rolled back", channel_id=channel)
    assert response.status == 200
    assert [e.text for e in entries_of(slack, channel)] == ["rolled back"]  # type: ignore[attr-defined]
    [job] = slack.store.jobs.with_kind(kind="timeline_reply")
    wait_retried(slack, job["id"])
    assert "internal_error" in slack.store.jobs.state(job_id=job["id"])["last_error"]
    clock.advance(seconds=5)  # the backoff
    assert sweep(slack, deps).done == [job["id"]]
    assert sum("rolled back" in (m.get("text") or "") for m in slack.fake.messages_in(channel)) == 1


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
    response = slack.command("/incident", "start sev1 Payments down", channel_id="C_GENERAL")
    assert "Declared" in reply_text(response)
    told = slack.fake.wait_for("chat.postEphemeral", timeout=10)[-1]
    assert told.params["channel"] == "C_GENERAL" and told.params["user"]
    assert "restricted_action" in told.params["text"] and "/incident start" in told.params["text"]
    assert [i.title for i in slack.store.incidents.all()] == ["Payments down"]
    [job] = slack.store.jobs.with_kind(kind="channel_setup")
    assert job["state"] == "failed" and "restricted_action" in job["last_error"]


def test_a_reply_whose_answer_was_lost_is_not_posted_again(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    """Slack posted the reply, the connection dropped before its answer: the client does not
    repeat the post, and the job's retry finds the post by its metadata and stops."""
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", lose_answer=True)
    slack.command("/timeline", "escalated paged the DBA", channel_id=channel)
    [job] = slack.store.jobs.with_kind(kind="timeline_reply")
    wait_retried(slack, job["id"])
    posted = [
        m for m in slack.fake.messages_in(channel) if "paged the DBA" in (m.get("text") or "")
    ]
    assert len(posted) == 1  # Slack acted
    assert posted[0]["metadata"]["event_payload"] == {"job_key": job["key"]}
    clock.advance(seconds=5)
    assert sweep(slack, deps).done == [job["id"]]
    assert [
        m for m in slack.fake.messages_in(channel) if "paged the DBA" in (m.get("text") or "")
    ] == posted
    history = slack.fake.calls_to("conversations.history")[-1].params
    assert history["include_all_metadata"] in (True, "true", "1", 1)


def test_broken_json_is_a_failed_call_retried_not_lost(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", broken_json=True)
    slack.command("/timeline", "fixed cert renewed", channel_id=channel)
    [job] = slack.store.jobs.with_kind(kind="timeline_reply")
    wait_retried(slack, job["id"])
    assert "JSON" in slack.store.jobs.state(job_id=job["id"])["last_error"]
    clock.advance(seconds=5)
    assert sweep(slack, deps).done == [job["id"]]
    assert (
        sum("cert renewed" in (m.get("text") or "") for m in slack.fake.messages_in(channel)) == 1
    )


def test_broken_json_and_a_lost_answer_after_slack_acted_post_once(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    channel = slack.start_incident()
    slack.fake.fail("chat.postMessage", lose_answer=True, broken_json=True)
    slack.command("/timeline", "note garbled", channel_id=channel)
    [job] = slack.store.jobs.with_kind(kind="timeline_reply")
    wait_retried(slack, job["id"])
    clock.advance(seconds=5)
    assert sweep(slack, deps).done == [job["id"]]
    assert sum("garbled" in (m.get("text") or "") for m in slack.fake.messages_in(channel)) == 1


def test_a_channel_created_whose_answer_was_lost_is_adopted_not_doubled(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    slack.fake.fail("conversations.create", lose_answer=True)
    slack.command("/incident", "start sev2 Search is slow", channel_id="C_GENERAL")
    [job] = slack.store.jobs.with_kind(kind="channel_setup")
    wait_retried(slack, job["id"])
    created = [c for c in slack.fake.channels.values() if c["name"].startswith("incident-")]
    assert len(created) == 1  # Slack made it; the bot never heard
    clock.advance(seconds=5)
    assert sweep(slack, deps).done == [job["id"]]
    [incident] = slack.store.incidents.all()
    assert incident.channel_id == created[0]["id"] and incident.intro_ts
    assert len(slack.fake.calls_to("conversations.create")) == 1
    assert [c for c in slack.fake.channels.values() if c["name"].startswith("incident-")] == created


def wait_retried(slack: SlackDriver, job_id: int) -> None:
    """Until the job's first try has failed and it waits for its retry."""

    def retrying() -> bool:
        state = slack.store.jobs.state(job_id=job_id)
        return state is not None and state["state"] == "pending" and state["attempts"] >= 1

    wait_until(retrying, 10)


def sweep(slack: SlackDriver, deps: Deps) -> SweepReport:
    """What the scheduler does every few seconds."""
    return deps.jobs.sweep(deps=deps, client=slack.app.client)
