"""Each tracker's client against its fake on 127.0.0.1: the calls the jobs make, the faults
the issue names (429 with reset headers, a lost answer after a create, permanent refusals)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.harness.fakeapi import FakeAPI
from bot.harness.github import FakeGitHub
from bot.harness.jira import FakeJira
from bot.harness.linear import FakeLinear
from bot.trackers import NewIssue, RateLimited, Refused, Tracker, Unavailable, make_tracker
from bot.trackers.render import adf_paragraph
from bot.trackers.settings import from_env

NOW = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)
MARK = "managed by incident-bot: AI-7"
CREATE_ROUTE = {"github": "create", "jira": "create", "linear": "issueCreate"}


def env_for(kind: str, url: str, **over: str) -> dict[str, str]:
    base = {
        "github": {"GITHUB_TOKEN": "ghp-test", "GITHUB_REPO": "acme/ops", "GITHUB_API_URL": url},
        "jira": {
            "JIRA_URL": url,
            "JIRA_EMAIL": "bot@example.com",
            "JIRA_API_TOKEN": "jira-token",
            "JIRA_PROJECT": "OPS",
            "JIRA_DUE_DATE": "1",
        },
        "linear": {
            "LINEAR_API_KEY": "lin_api_test",
            "LINEAR_TEAM_ID": "team-1",
            "LINEAR_API_URL": url + "/graphql",
        },
    }[kind]
    return {"TRACKER": kind, **base, **over}


def fake_for(kind: str) -> FakeAPI:
    if kind == "github":
        return FakeGitHub(users=("bob-gh",))
    if kind == "jira":
        return FakeJira(users=(("acc-bob", "Bob Baker", "bob@example.com"),))
    return FakeLinear(users=(("u-bob", "Bob Baker", "bob@example.com"),))


@pytest.fixture(params=["github", "jira", "linear"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fake(kind: str) -> Iterator[FakeAPI]:
    with fake_for(kind) as running:
        yield running


def tracker_for(kind: str, fake: FakeAPI, **over: str) -> Tracker:
    settings = from_env(env_for(kind, fake.url, **over))
    return make_tracker(settings, clock=lambda: NOW, throttle=False)


def new_issue(kind: str, mark: str = MARK, **kw: object) -> NewIssue:
    text = f"Corrective action AI-7.\n\n{mark}\n"
    body = adf_paragraph(mark) if kind == "jira" else text
    return NewIssue(
        title="Add a canary stage",
        body=body,
        marker=mark,
        labels=("incident", "postmortem", "immediate"),
        **kw,  # type: ignore[arg-type]
    )


def issues_of(fake: FakeAPI) -> dict:
    return fake.issues  # type: ignore[attr-defined,no-any-return]


def test_create_then_find_by_marker(kind: str, fake: FakeAPI) -> None:
    tracker = tracker_for(kind, fake)
    ref = tracker.create(new_issue(kind))
    assert tracker.find_by_marker(MARK) == ref
    # AI-7's marker is a whole line: AI-70's issue is not AI-7's.
    assert tracker.find_by_marker("managed by incident-bot: AI-70") is None
    assert ref.key in {"acme/ops#1", "OPS-1", "ENG-1"}


def test_assignee_found_by_email_and_set(kind: str, fake: FakeAPI) -> None:
    tracker = tracker_for(kind, fake, GITHUB_USERS="U0BOB=bob-gh")
    who = tracker.find_user(email="bob@example.com", slack_id="U0BOB")
    assert who in ("bob-gh", "acc-bob", "u-bob")
    assert tracker.find_user(email="nobody@example.com", slack_id="U0NOBODY") is None
    tracker.create(new_issue(kind, assignee=who, due_date="2026-12-04"))
    stored = next(iter(issues_of(fake).values()))
    shown = {
        "github": lambda: stored["assignee"]["login"],
        "jira": lambda: stored["fields"]["assignee"]["accountId"],
        "linear": lambda: stored["assigneeId"],
    }[kind]()
    assert shown == who


def test_lost_answer_after_create_leaves_exactly_one_issue(kind: str, fake: FakeAPI) -> None:
    """The fake creates, then drops the connection: the client must not send the POST again
    (PyGithub's GithubRetry and jira's ResilientSession would), and the marker finds it."""
    tracker = tracker_for(kind, fake)
    fake.lose_answer(CREATE_ROUTE[kind])
    with pytest.raises(Unavailable):
        tracker.create(new_issue(kind))
    assert len(fake.calls_to(CREATE_ROUTE[kind])) == 1
    assert len(issues_of(fake)) == 1
    found = tracker.find_by_marker(MARK)
    assert found is not None


def test_dropped_connection_is_unavailable_and_creates_nothing(kind: str, fake: FakeAPI) -> None:
    tracker = tracker_for(kind, fake)
    fake.drop(CREATE_ROUTE[kind])
    with pytest.raises(Unavailable):
        tracker.create(new_issue(kind))
    assert issues_of(fake) == {}
    assert len(fake.calls_to(CREATE_ROUTE[kind])) == 1


@pytest.mark.parametrize("header", ["retry-after", "reset"])
def test_429_carries_the_wait_from_its_headers(kind: str, fake: FakeAPI, header: str) -> None:
    tracker = tracker_for(kind, fake)
    if header == "retry-after":
        headers = {"Retry-After": "42"}
    elif kind == "github":
        headers = {
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(NOW.timestamp()) + 90),
        }
    elif kind == "jira":
        headers = {"X-RateLimit-Reset": (NOW + timedelta(seconds=90)).isoformat()}
    else:
        headers = {"X-RateLimit-Requests-Reset": str(int(NOW.timestamp() * 1000) + 90_000)}
    fake.fail(CREATE_ROUTE[kind], 429, headers=headers)
    with pytest.raises(RateLimited) as raised:
        tracker.create(new_issue(kind))
    wanted = timedelta(seconds=42 if header == "retry-after" else 90)
    assert raised.value.after == wanted
    assert issues_of(fake) == {}
    tracker.create(new_issue(kind))  # the limit passed: the same call now works
    assert len(issues_of(fake)) == 1


def test_github_403_rate_limit_is_a_wait_not_a_refusal() -> None:
    with FakeGitHub() as fake:
        tracker = tracker_for("github", fake)
        reset = str(int(NOW.timestamp()) + 60)
        fake.fail(
            "create",
            403,
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
            body={"message": "API rate limit exceeded"},
        )
        with pytest.raises(RateLimited) as raised:
            tracker.create(new_issue("github"))
        assert raised.value.after == timedelta(seconds=60)


SETTING_FOR = {
    ("github", 401): "GITHUB_TOKEN",
    ("github", 403): "GITHUB_TOKEN",
    ("github", 404): "GITHUB_REPO",
    ("jira", 401): "JIRA_API_TOKEN",
    ("jira", 403): "JIRA_API_TOKEN",
    ("jira", 404): "JIRA_PROJECT",
    ("linear", 401): "LINEAR_API_KEY",
    ("linear", 403): "LINEAR_API_KEY",
    ("linear", 404): "LINEAR_TEAM_ID",
}


@pytest.mark.parametrize("status", [401, 403, 404])
def test_permanent_refusals_name_the_setting(kind: str, fake: FakeAPI, status: int) -> None:
    tracker = tracker_for(kind, fake)
    fake.fail(CREATE_ROUTE[kind], status)
    with pytest.raises(Refused) as raised:
        tracker.create(new_issue(kind))
    assert raised.value.setting == SETTING_FOR[(kind, status)]
    assert issues_of(fake) == {}


def test_wrong_credentials_and_unknown_project_are_refused(kind: str, fake: FakeAPI) -> None:
    wrong_key = {
        "github": {"GITHUB_TOKEN": "ghp-wrong"},
        "jira": {"JIRA_API_TOKEN": "wrong"},
        "linear": {"LINEAR_API_KEY": "lin_api_wrong"},
    }[kind]
    with pytest.raises(Refused) as raised:
        tracker_for(kind, fake, **wrong_key).create(new_issue(kind))
    assert raised.value.setting == SETTING_FOR[(kind, 401)]
    unknown = {
        "github": {"GITHUB_REPO": "acme/nope"},
        "jira": {"JIRA_PROJECT": "NOPE"},
        "linear": {"LINEAR_TEAM_ID": "team-nope"},
    }[kind]
    with pytest.raises(Refused) as raised:
        tracker_for(kind, fake, **unknown).create(new_issue(kind))
    assert raised.value.setting == SETTING_FOR[(kind, 404)]
    assert issues_of(fake) == {}


def test_close_reopen_drop_assign_due(kind: str, fake: FakeAPI) -> None:
    tracker = tracker_for(kind, fake)
    ref = tracker.create(new_issue(kind))
    state = {
        "github": lambda: (lambda i: (i["state"], i["state_reason"]))(issues_of(fake)[1]),
        "jira": lambda: issues_of(fake)["OPS-1"]["fields"]["status"]["name"],
        "linear": lambda: fake.state_of(ref.id),  # type: ignore[attr-defined]
    }[kind]
    tracker.close_done(ref, comment="AI-7 was marked done in Slack by alice.")
    assert state() in (("closed", "completed"), "Done", "completed")
    tracker.reopen(ref, comment="AI-7 was reopened in Slack by alice.")
    assert state() in (("open", "reopened"), "To Do", "unstarted")
    tracker.close_not_planned(ref, comment="AI-7 was dropped in Slack by alice.")
    assert state() in (("closed", "not_planned"), "Won't Do", "canceled")
    comments = fake.comments  # type: ignore[attr-defined]
    assert len(next(iter(comments.values()))) == 3
    who = tracker.find_user(email="bob@example.com", slack_id="U0BOB") or "bob-gh"
    tracker.assign(ref, who)
    tracker.set_due(ref, "2026-12-10")
    tracker.update_text(ref, title="Add a canary stage (v2)", body=new_issue(kind).body)
    issue = next(iter(issues_of(fake).values()))
    if kind == "jira":
        assert issue["fields"]["duedate"] == "2026-12-10"
        assert issue["fields"]["summary"] == "Add a canary stage (v2)"
    elif kind == "linear":
        assert issue["dueDate"] == "2026-12-10"
        assert issue["assigneeId"] == "u-bob"
    else:
        assert issue["assignee"]["login"] == "bob-gh"
        assert issue["title"] == "Add a canary stage (v2)"


def test_github_unknown_assignee_creates_the_issue_unassigned() -> None:
    with FakeGitHub() as fake:
        tracker = tracker_for("github", fake)
        ref = tracker.create(new_issue("github", assignee="not-a-member"))
        assert ref.key == "acme/ops#1"
        assert fake.issues[1]["assignees"] == []
        assert [c.status for c in fake.calls_to("create")] == [422, 201]


def test_jira_data_center_uses_v2_and_the_pat() -> None:
    with FakeJira(pat="dc-pat", users=(("bob", "Bob Baker", "bob@example.com"),)) as fake:
        env = env_for("jira", fake.url, JIRA_PAT="dc-pat")
        del env["JIRA_EMAIL"], env["JIRA_API_TOKEN"]
        tracker = make_tracker(from_env(env), clock=lambda: NOW)
        assert tracker.find_user(email="bob@example.com", slack_id="U1") == "bob"
        ref = tracker.create(new_issue("github", assignee="bob"))
        assert tracker.find_by_marker(MARK) == ref
        assert all(c.request.path.startswith("/rest/api/2/") for c in fake.calls)
        assert fake.issues["OPS-1"]["fields"]["assignee"]["name"] == "bob"
