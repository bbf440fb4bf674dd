"""Durable jobs over a real SQLite file and the fake Slack: claimed once, retried, settled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.app import make_client
from bot.deps import Deps
from bot.harness import SlackStandIn
from bot.jobs import LEASE, GiveUp, Job, RetryLater, new_token, promise, run_promised
from tests.conftest import BOT_TOKEN, FakeClock


@pytest.fixture
def client(fake_slack: SlackStandIn) -> WebClient:
    return make_client(BOT_TOKEN, fake_slack.base_url)


def add_job(deps: Deps, key: str = "reply:1", kind: str = "work", **kwargs: Any) -> int:
    return deps.store.jobs.add(
        kind=kind, key=key, payload={"n": 1}, now=deps.clock(), requested_by="U_ALICE",
        notify_channel="C_INCIDENT", **kwargs,
    )  # fmt: skip


def register(deps: Deps, run: Any, kind: str = "work") -> list[Job]:
    calls: list[Job] = []

    def handler(job: Job, deps_: Deps, client: WebClient) -> None:
        calls.append(job)
        run(job)

    deps.jobs.register(kind, handler, failure_text=lambda job: "The reply could not be posted.")
    return calls


def state(deps: Deps, job_id: int) -> dict[str, Any]:
    row = deps.store.jobs.state(job_id=job_id)
    assert row is not None
    return row


def test_a_job_and_the_change_it_follows_commit_together_or_not_at_all(deps: Deps) -> None:
    def declare(title: str) -> None:
        deps.store.incidents.create(
            title=title, severity="sev2", commander_id="U_ALICE", started_at=deps.clock()
        )
        add_job(deps, key=title)

    with pytest.raises(RuntimeError), deps.store.transaction():
        declare("rolled back")
        raise RuntimeError("the change failed")
    with deps.store.transaction():
        declare("kept")
    assert [i.title for i in deps.store.incidents.all()] == ["kept"]
    assert [job["key"] for job in deps.store.jobs.with_kind(kind="work")] == ["kept"]


def test_adding_a_job_twice_with_one_key_gives_one_job(deps: Deps) -> None:
    assert add_job(deps) == add_job(deps)
    assert len(deps.store.jobs.with_kind(kind="work")) == 1


def test_a_job_runs_once_and_is_done(deps: Deps, client: WebClient) -> None:
    calls = register(deps, lambda job: None)
    job_id = add_job(deps)
    assert deps.jobs.run(job_id, deps=deps, client=client) == "done"
    assert deps.jobs.run(job_id, deps=deps, client=client) is None
    assert deps.jobs.sweep(deps=deps, client=client).done == []
    assert [job.payload for job in calls] == [{"n": 1}]
    assert state(deps, job_id)["state"] == "done"


def test_a_job_claimed_by_one_runner_is_not_claimed_by_another(deps: Deps) -> None:
    job_id = add_job(deps)
    now = deps.clock()
    first = deps.store.jobs.claim(job_id=job_id, now=now, stale_before=now - LEASE, token="a")
    second = deps.store.jobs.claim(job_id=job_id, now=now, stale_before=now - LEASE, token="b")
    assert first is not None and first.token == "a"
    assert second is None


def test_a_passing_failure_is_retried_with_backoff_until_it_succeeds(
    deps: Deps, client: WebClient, clock: FakeClock
) -> None:
    outcomes = [ConnectionResetError("dropped"), None]

    def run(job: Job) -> None:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    calls = register(deps, run)
    job_id = add_job(deps)
    assert deps.jobs.run(job_id, deps=deps, client=client) == "pending"
    assert "ConnectionResetError" in state(deps, job_id)["last_error"]
    clock.advance(seconds=4)
    assert deps.jobs.sweep(deps=deps, client=client).done == []  # backoff: 5 s
    clock.advance(seconds=1)
    assert deps.jobs.sweep(deps=deps, client=client).done == [job_id]
    assert len(calls) == 2


def test_retry_later_waits_as_long_as_the_handler_says(
    deps: Deps, client: WebClient, clock: FakeClock
) -> None:
    def run(job: Job) -> None:
        if job.attempts == 1:
            raise RetryLater("rate limited", after=timedelta(minutes=3))

    register(deps, run)
    job_id = add_job(deps)
    deps.jobs.run(job_id, deps=deps, client=client)
    clock.advance(minutes=2, seconds=59)
    assert deps.jobs.sweep(deps=deps, client=client).done == []
    clock.advance(seconds=1)
    assert deps.jobs.sweep(deps=deps, client=client).done == [job_id]


def test_a_claim_left_by_a_dead_process_is_taken_over_after_the_lease(
    deps: Deps, client: WebClient, clock: FakeClock
) -> None:
    calls = register(deps, lambda job: None)
    job_id = add_job(deps)
    now = clock()
    # A process claimed it, then died before settling it.
    assert deps.store.jobs.claim(job_id=job_id, now=now, stale_before=now, token=new_token())
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert deps.jobs.sweep(deps=deps, client=client).done == []
    clock.advance(seconds=2)
    assert deps.jobs.sweep(deps=deps, client=client).done == [job_id]
    assert len(calls) == 1
    assert state(deps, job_id)["attempts"] == 2


def test_a_final_refusal_fails_the_job_and_tells_the_requester_once(
    deps: Deps, client: WebClient, fake_slack: SlackStandIn
) -> None:
    fake_slack.add_channel("incident-1", channel_id="C_INCIDENT", members={"U_ALICE"})

    def run(job: Job) -> None:
        raise GiveUp("GITHUB_TOKEN was refused (401): set a token with the repo scope.")

    register(deps, run)
    job_id = add_job(deps)
    assert deps.jobs.run(job_id, deps=deps, client=client) == "failed"
    assert deps.jobs.sweep(deps=deps, client=client).failed == []
    told = fake_slack.calls_to("chat.postEphemeral")
    assert [(c.params["user"], c.params["text"]) for c in told] == [
        ("U_ALICE", "GITHUB_TOKEN was refused (401): set a token with the repo scope.")
    ]
    assert state(deps, job_id)["state"] == "failed"


def test_slack_refusing_for_good_fails_with_the_kinds_own_sentence(
    deps: Deps, client: WebClient, fake_slack: SlackStandIn
) -> None:
    fake_slack.add_channel("incident-1", channel_id="C_INCIDENT", members={"U_ALICE"})
    fake_slack.fail("chat.postMessage", error="channel_not_found")
    register(deps, lambda job: client.chat_postMessage(channel="C_INCIDENT", text="hi"))
    job_id = add_job(deps)
    assert deps.jobs.run(job_id, deps=deps, client=client) == "failed"
    assert state(deps, job_id)["last_error"] == "Slack: channel_not_found"
    told = fake_slack.calls_to("chat.postEphemeral")
    assert [c.params["text"] for c in told] == ["The reply could not be posted."]


def test_a_job_still_failing_after_a_day_fails_for_good(
    deps: Deps, client: WebClient, clock: FakeClock
) -> None:
    def run(job: Job) -> None:
        raise TimeoutError("Slack is down")

    register(deps, run)
    started = clock()
    job_id = add_job(deps)
    deps.jobs.run(job_id, deps=deps, client=client)
    while state(deps, job_id)["state"] != "failed" and clock() - started < timedelta(hours=30):
        clock.advance(minutes=10)
        deps.jobs.sweep(deps=deps, client=client)
    assert state(deps, job_id)["state"] == "failed"
    assert timedelta(hours=24) <= clock() - started <= timedelta(hours=24, minutes=10)


def test_a_bug_in_a_handler_is_tried_three_times_then_fails(
    deps: Deps, client: WebClient, clock: FakeClock
) -> None:
    def run(job: Job) -> None:
        raise KeyError("a bug")

    calls = register(deps, run)
    job_id = add_job(deps)
    for _ in range(5):
        deps.jobs.run(job_id, deps=deps, client=client)
        clock.advance(minutes=10)
    assert len(calls) == 3
    assert state(deps, job_id)["state"] == "failed"


def test_a_job_of_an_unknown_kind_fails_instead_of_looping(deps: Deps, client: WebClient) -> None:
    job_id = add_job(deps, kind="retired")
    assert deps.jobs.run(job_id, deps=deps, client=client) == "failed"


def test_the_lazy_listener_runs_the_jobs_its_ack_promised(deps: Deps, client: WebClient) -> None:
    calls = register(deps, lambda job: None)
    context: dict[str, Any] = {}
    promise(context, add_job(deps, key="a"))
    promise(context, add_job(deps, key="b"))
    run_promised(context, client, deps)
    assert [job.key for job in calls] == ["a", "b"]
