"""The job runner's pure rules: backoff and which failures are final."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from bot.jobs import GiveUp, Jobs, RetryLater, backoff, is_expected, is_permanent


def slack_error(error: str) -> SlackApiError:
    response = SlackResponse(
        client=None, http_verb="POST", api_url="http://127.0.0.1/api/chat.postMessage",
        req_args={}, data={"ok": False, "error": error}, headers={}, status_code=200,
    )  # fmt: skip
    return SlackApiError(error, response)


def test_backoff_doubles_from_five_seconds_up_to_ten_minutes() -> None:
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert backoff(30) == timedelta(minutes=10)
    assert backoff(10_000) == timedelta(minutes=10)


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "invalid_auth"])
def test_slack_refusals_that_no_retry_mends_are_final(error: str) -> None:
    assert is_permanent(slack_error(error))


@pytest.mark.parametrize(
    "exc",
    [
        slack_error("ratelimited"),
        slack_error("internal_error"),
        # What slack_sdk raises for a body such as {"ok": tru
        slack_error('Received a response in a non-JSON format: {"ok": tru'),
        TimeoutError("timed out"),
        ConnectionResetError("reset"),
        SlackClientError("connection dropped"),
        json.JSONDecodeError("Expecting value", '{"ok": tru', 7),
        sqlite3.OperationalError("database is locked"),
        RetryLater("tracker down"),
    ],
)
def test_passing_failures_are_retried(exc: Exception) -> None:
    assert not is_permanent(exc)
    assert is_expected(exc)


def test_give_up_is_final_and_a_bug_is_unexpected() -> None:
    assert is_permanent(GiveUp("GITHUB_TOKEN was refused: set a token with repo scope."))
    assert not is_expected(KeyError("oops"))


def test_a_kind_registered_twice_is_a_wiring_bug() -> None:
    jobs = Jobs()
    jobs.register("reply", lambda job, deps, client: None, failure_text=lambda job: "x")
    with pytest.raises(ValueError, match="twice"):
        jobs.register("reply", lambda job, deps, client: None, failure_text=lambda job: "x")
    assert jobs.kinds == {"reply"}
