"""Items and their tracker issues, end to end: signed Slack requests into the real app, the
tracker's fake on 127.0.0.1, the durable jobs, and the trackers' webhooks over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from bot import blocks, postmortem
from bot.app import create_app, make_client
from bot.deps import Deps, build_deps
from bot.harness import SlackStandIn
from bot.harness.alerts import serving
from bot.harness.fakeapi import FakeAPI
from bot.harness.github import FakeGitHub
from bot.harness.jira import FakeJira
from bot.harness.linear import FakeLinear
from bot.hooks import Hook, routes
from bot.hooks.registry import enabled_hooks
from bot.hooks.wsgi import make_hooks_app
from bot.server import make_wsgi_app
from bot.settings import from_env
from bot.store import Store
from bot.trackers import make_tracker
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, FakeClock, SlackDriver, wait_until

SECRET = "hook-secret"
FIXTURES = Path(__file__).parent / "fixtures" / "trackers"


def settings_for(kind: str, url: str) -> Any:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-test",
        "TRACKER": kind,
        "GITHUB_TOKEN": "ghp-test",
        "GITHUB_REPO": "acme/ops",
        "GITHUB_API_URL": url,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_USERS": "U_BOB=bob-gh",
        "JIRA_URL": url,
        "JIRA_EMAIL": "bot@example.com",
        "JIRA_API_TOKEN": "jira-token",
        "JIRA_PROJECT": "OPS",
        "JIRA_DUE_DATE": "1",
        "JIRA_WEBHOOK_SECRET": SECRET,
        "LINEAR_API_KEY": "lin_api_test",
        "LINEAR_TEAM_ID": "team-1",
        "LINEAR_API_URL": url + "/graphql",
        "LINEAR_WEBHOOK_SECRET": SECRET,
    }
    return from_env(env)


def fake_for(kind: str) -> FakeAPI:
    if kind == "github":
        return FakeGitHub(users=("bob-gh", "carol-gh"))
    if kind == "jira":
        return FakeJira(users=(("acc-bob", "Bob Baker", "bob@example.com"), DAVE_JIRA))
    return FakeLinear(users=(("u-bob", "Bob Baker", "bob@example.com"), DAVE_LINEAR))


# A user the bot has never assigned anything to: known to Slack and the tracker by email.
DAVE_JIRA = ("acc-dave", "Dave Dunn", "dave@example.com")
DAVE_LINEAR = ("u-dave", "Dave Dunn", "dave@example.com")


class World:
    """A workspace, a tracker fake and the bot wired to both."""

    def __init__(self, kind: str, tmp_path: Path, clock: FakeClock) -> None:
        self.kind = kind
        self.clock = clock
        self.tracker_fake = fake_for(kind).start()
        self.settings = settings_for(kind, self.tracker_fake.url)
        self.store = Store(tmp_path / "incidents.db")
        self.store.migrate()
        self.deps: Deps = build_deps(
            store=self.store,
            templates=postmortem.make_environment(),
            clock=clock,
            tracker=make_tracker(self.settings.trackers, clock=clock, throttle=False),
        )
        self.slack_fake = SlackStandIn().start()
        self.slack_fake.add_user("U_ALICE", "alice", tz="Europe/Berlin", email="alice@example.com")
        self.slack_fake.add_user("U_BOB", "bob", tz="America/New_York", email="bob@example.com")
        self.slack_fake.add_user("U_CAROL", "carol", tz="UTC", email="carol@example.com")
        self.slack_fake.add_user("U_DAVE", "dave", tz="UTC", email="dave@example.com")
        self.slack_fake.on("users.lookupByEmail", self._lookup_by_email)
        self.client = make_client(BOT_TOKEN, self.slack_fake.base_url)
        self.app = create_app(self.deps, client=self.client, signing_secret=SIGNING_SECRET)
        self.slack = SlackDriver(
            app=self.app, signing_secret=SIGNING_SECRET, fake=self.slack_fake, store=self.store
        )
        self.channel = self.slack.start_incident(user_id="U_ALICE")

    def _lookup_by_email(self, call: Any) -> dict[str, Any]:
        """``users.lookupByEmail`` as Slack answers it (``users:read.email``)."""
        email = str(call.params.get("email", "")).lower()
        for user in self.slack_fake.users.values():
            if str(user.get("profile", {}).get("email", "")).lower() == email:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def close(self) -> None:
        self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.slack_fake.stop()
        self.tracker_fake.stop()
        self.store.close()

    def action(self, text: str, user: str = "U_ALICE") -> str:
        response = self.slack.command("/action", text, user_id=user, channel_id=self.channel)
        assert response.status == 200, response.body
        return response.body or ""

    def issues(self) -> dict[Any, dict[str, Any]]:
        return self.tracker_fake.issues  # type: ignore[attr-defined,no-any-return]

    def said(self, needle: str) -> list[str]:
        return [
            m.get("text", "") for m in self.slack_fake.messages_in(self.channel)
            if needle in m.get("text", "")
        ]  # fmt: skip

    def item(self, item_id: int = 1) -> Any:
        return self.store.items.get(item_id=item_id)

    def sweep_later(self, **after: float) -> None:
        self.clock.advance(**after)
        self.deps.jobs.sweep(deps=self.deps, client=self.client)

    def jobs(self) -> list[dict[str, Any]]:
        return self.store.connections.rows("SELECT * FROM jobs ORDER BY id")


@pytest.fixture(params=["github", "jira", "linear"])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[World]:
    w = World(request.param, tmp_path, clock)
    yield w
    w.close()


@pytest.fixture
def github(tmp_path: Path, clock: FakeClock) -> Iterator[World]:
    w = World("github", tmp_path, clock)
    yield w
    w.close()


CREATE = {"github": "create", "jira": "create", "linear": "issueCreate"}


# --- out: an item becomes an issue ---------------------------------------------------------


def test_a_new_item_becomes_one_issue_assigned_to_its_owner(world: World) -> None:
    world.action("add <@U_BOB> medium-term due 2026-12-04 add a canary stage verify: two deploys")
    wait_until(lambda: world.said("🔗"))
    [issue] = world.issues().values()
    if world.kind == "github":
        assert issue["title"] == "add a canary stage"
        assert [x["name"] for x in issue["labels"]] == ["incident", "postmortem", "medium-term"]
        assert issue["assignee"]["login"] == "bob-gh"
        body = issue["body"]
    elif world.kind == "jira":
        fields = issue["fields"]
        assert fields["summary"] == "add a canary stage"
        assert fields["labels"] == ["incident", "postmortem", "medium-term"]
        assert fields["assignee"]["accountId"] == "acc-bob"
        assert fields["duedate"] == "2026-12-04"
        body = json.dumps(fields["description"])
    else:
        assert issue["title"] == "add a canary stage"
        assert issue["assigneeId"] == "u-bob" and issue["dueDate"] == "2026-12-04"
        body = issue["description"]
    for fact in ("INCIDENT-", "SEV2", "medium-term", "2026-12-04", "two deploys", "AI-1"):
        assert fact in body
    assert "managed by incident-bot: AI-1" in body
    [line] = world.said("🔗")
    item = world.item()
    assert item.issue_key and item.issue_key in line and "unassigned" not in line
    listing = world.action("list")
    assert f"AI-1 · <{item.issue_url}|{item.issue_key}>" in listing


def test_an_owner_without_a_tracker_account_gets_an_unassigned_issue(world: World) -> None:
    world.action("add <@U_CAROL> rotate the keys")
    wait_until(lambda: world.said("🔗"))
    [line] = world.said("🔗")
    assert "unassigned" in line and "<@U_CAROL>" in line
    assert len(world.issues()) == 1


def test_a_lost_answer_after_the_create_makes_exactly_one_issue(world: World) -> None:
    world.tracker_fake.lose_answer(CREATE[world.kind])
    world.action("add fix the alert threshold")
    wait_until(lambda: world.jobs() and world.jobs()[-1]["state"] == "pending"
               and world.jobs()[-1]["attempts"] >= 1)  # fmt: skip
    assert len(world.issues()) == 1  # created once, answer lost
    assert world.item().issue_key is None
    world.sweep_later(minutes=1)
    assert len(world.issues()) == 1  # found by its marker, not made again
    assert len(world.tracker_fake.calls_to(CREATE[world.kind])) == 1
    assert world.item().issue_key is not None
    assert len(world.said("🔗")) == 1


def test_a_429_waits_for_its_reset_then_creates(world: World) -> None:
    world.tracker_fake.fail(CREATE[world.kind], 429, headers={"Retry-After": "120"})
    world.action("add fix the alert threshold")
    wait_until(lambda: world.jobs()[-1]["attempts"] >= 1 and world.jobs()[-1]["state"] == "pending")
    job = world.jobs()[-1]
    wanted = world.clock() + timedelta(seconds=120)
    assert datetime.fromisoformat(job["run_after"]) == wanted.replace(microsecond=0)
    world.sweep_later(seconds=60)
    assert world.issues() == {}  # not before the reset
    world.sweep_later(seconds=61)
    assert len(world.issues()) == 1
    assert world.jobs()[-1]["state"] == "done"


def test_the_tracker_down_is_retried_with_backoff(world: World) -> None:
    world.tracker_fake.fail(CREATE[world.kind], 503, times=2)
    world.action("add fix the alert threshold")
    wait_until(lambda: world.jobs()[-1]["attempts"] >= 1 and world.jobs()[-1]["state"] == "pending")
    world.sweep_later(seconds=6)
    world.sweep_later(seconds=11)
    assert len(world.issues()) == 1
    assert "AI-1" in world.said("🔗")[0]


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_permanent_refusal_is_one_line_naming_the_setting(world: World, status: int) -> None:
    world.tracker_fake.fail(CREATE[world.kind], status, times=5)
    world.action("add fix the alert threshold")
    wait_until(lambda: [j["state"] for j in world.jobs() if j["kind"] == "tracker_create"]
               == ["failed"])  # fmt: skip
    setting = {
        ("github", 401): "GITHUB_TOKEN", ("github", 403): "GITHUB_TOKEN",
        ("github", 404): "GITHUB_REPO", ("jira", 401): "JIRA_API_TOKEN",
        ("jira", 403): "JIRA_API_TOKEN", ("jira", 404): "JIRA_PROJECT",
        ("linear", 401): "LINEAR_API_KEY", ("linear", 403): "LINEAR_API_KEY",
        ("linear", 404): "LINEAR_TEAM_ID",
    }[(world.kind, status)]  # fmt: skip
    [line] = world.said("refused")
    assert setting in line and "AI-1" in line
    assert world.item().status == "open" and world.item().issue_key is None
    world.sweep_later(hours=1)
    assert len(world.said("refused")) == 1


def test_item_changes_follow_in_the_tracker(world: World) -> None:
    world.action("add <@U_BOB> add a canary stage")
    wait_until(lambda: world.item().issue_key is not None)

    def status() -> Any:
        issue = next(iter(world.issues().values()))
        if world.kind == "github":
            return issue["state"], issue["state_reason"]
        if world.kind == "jira":
            return issue["fields"]["status"]["name"]
        return world.tracker_fake.state_of(issue["id"])  # type: ignore[attr-defined]

    world.action("done AI-1")
    wait_until(lambda: status() in (("closed", "completed"), "Done", "completed"))
    world.action("reopen AI-1")
    wait_until(lambda: status() in (("open", "reopened"), "To Do", "unstarted"))
    world.action("drop AI-1 superseded by the new pipeline")
    wait_until(lambda: status() in (("closed", "not_planned"), "Won't Do", "canceled"))
    comments = next(iter(world.tracker_fake.comments.values()))  # type: ignore[attr-defined]
    assert len(comments) == 3 and "superseded" in json.dumps(comments[-1])
    world.action("due AI-1 2026-12-20")
    issue = next(iter(world.issues().values()))
    if world.kind == "jira":
        wait_until(lambda: issue["fields"]["duedate"] == "2026-12-20")
    elif world.kind == "linear":
        wait_until(lambda: issue["dueDate"] == "2026-12-20")
    else:
        wait_until(lambda: "2026-12-20" in issue["body"])
    if world.kind == "github":
        world.action("assign AI-1 <@U_CAROL>")
        wait_until(lambda: world.jobs()[-1]["state"] == "done")
        assert issue["assignees"] == []  # carol has no GitHub login in GITHUB_USERS


def test_sync_pushes_the_items_without_an_issue(github: World) -> None:
    tracker, github.deps.tracker = github.deps.tracker, None
    github.action("add first")
    github.action("add second")
    assert github.issues() == {}
    reply = github.action("sync")
    assert "No tracker" in reply
    github.deps.tracker = tracker
    reply = github.action("sync")
    assert "AI-1, AI-2" in reply
    wait_until(lambda: len(github.said("🔗")) == 2)
    assert len(github.issues()) == 2
    assert "already has" in github.action("sync")


def test_the_draft_nudges_and_home_show_the_issue(github: World) -> None:
    github.action("add add a canary stage")
    wait_until(lambda: github.item().issue_key is not None)
    item = github.item()
    incident = github.store.incidents.for_channel(channel_id=github.channel)
    assert incident is not None
    link = f"AI-1 · <{item.issue_url}|acme/ops#1>"
    assert link in blocks.home_item_text(item, github.clock())
    assert link in blocks.nudge_text(item, incident, github.clock())
    context = postmortem.draft_for(github.store, incident, names=lambda ids: {}, now=github.clock())
    draft = postmortem.render(github.deps.templates, context)
    assert f"AI-1 · [acme/ops#1]({item.issue_url})" in draft


# --- in: the tracker's webhooks, over HTTP ---------------------------------------------------


class HookServer:
    """``POST /hooks/<source>`` on 127.0.0.1 through the bot's own stack: the server's routing
    (``bot.server.make_wsgi_app``), the hooks' WSGI app (``bot.hooks.wsgi``) and waitress."""

    def __init__(self, hooks: list[Hook], deps: Deps, client: Any) -> None:
        hooks_app = make_hooks_app(routes(hooks), deps, client)
        slack_app = create_app(deps, client=client, signing_secret=SIGNING_SECRET)
        wsgi = make_wsgi_app(slack_app, deps.store, signing_secret=SIGNING_SECRET, hooks=hooks_app)
        self._serving = serving(wsgi)
        self.url = self._serving.__enter__()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        return requests.post(self.url + path, data=body, headers=headers, timeout=5)

    def close(self) -> None:
        self._serving.__exit__(None, None, None)


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(world: World, name: str) -> dict[str, Any]:
    payload = json.loads((FIXTURES / name).read_text())
    item = world.item()
    issue_id = world.store.trackers.row(item_id=item.id, tracker=world.kind)["issue_id"]
    if world.kind == "github":
        payload["issue"]["number"] = int(issue_id)
    elif world.kind == "jira":
        payload["issue"]["key"] = issue_id
        payload["timestamp"] = int(world.clock().timestamp() * 1000)
    else:
        payload["data"]["id"] = issue_id
        payload["webhookTimestamp"] = int(world.clock().timestamp() * 1000)
    return payload


def send(world: World, server: HookServer, payload: dict[str, Any], *, delivery: str) -> Any:
    body = json.dumps(payload).encode()
    if world.kind == "github":
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": f"sha256={sign(body)}",
        }
    elif world.kind == "jira":
        headers = {"X-Hub-Signature": f"sha256={sign(body)}",
                   "X-Atlassian-Webhook-Identifier": delivery}  # fmt: skip
    else:
        headers = {"Linear-Signature": sign(body), "Linear-Delivery": delivery}
    headers["Content-Type"] = "application/json"
    return server.post(f"/hooks/{world.kind}", body, headers)


@pytest.fixture
def hooked(world: World) -> Iterator[tuple[World, HookServer]]:
    hooks = enabled_hooks(world.settings)  # the registry the server routes from
    assert [h.path for h in hooks] == [f"/hooks/{world.kind}"]
    server = HookServer(hooks, world.deps, world.client)
    world.action("add <@U_BOB> add a canary stage")
    wait_until(lambda: world.item() is not None and world.item().issue_key is not None)
    yield world, server
    server.close()


CLOSED = {
    "github": "github_issues_closed.json",
    "jira": "jira_issue_updated_done.json",
    "linear": "linear_issue_update_done.json",
}
REOPENED = {"github": "github_issues_reopened.json", "jira": "jira_issue_updated_reopened.json"}
ACTOR = {"github": "Codertocat", "jira": "Mia Krystof", "linear": "Mia Krystof"}


def test_closing_the_issue_marks_the_item_done_once(hooked: tuple[World, HookServer]) -> None:
    world, server = hooked
    payload = webhook_body(world, CLOSED[world.kind])
    answer = send(world, server, payload, delivery="d-1")
    assert answer.status_code == 200, answer.text
    item = world.item()
    assert item.status == "done"
    last = world.store.items.changes(item_id=item.id)[-1]
    assert last["change"] == "done"
    assert last["actor_id"] == f"{world.kind}:{ACTOR[world.kind]}"
    assert ACTOR[world.kind] in last["detail"]
    wait_until(lambda: world.said("was closed by"))
    # The same delivery again: recorded once, nothing changes, nothing is said twice.
    history = world.store.items.changes(item_id=item.id)
    again = send(world, server, payload, delivery="d-1")
    assert again.status_code == 200 and again.json().get("duplicate") is True
    assert world.store.items.changes(item_id=item.id) == history
    world.sweep_later(seconds=30)
    assert len(world.said("was closed by")) == 1
    # Nudges stop: the item is no longer open.
    assert world.store.nudges.due(now=world.clock() + timedelta(days=400)) == []


def test_reopening_the_issue_reopens_the_item(hooked: tuple[World, HookServer]) -> None:
    world, server = hooked
    send(world, server, webhook_body(world, CLOSED[world.kind]), delivery="d-1")
    if world.kind == "linear":
        payload = webhook_body(world, "linear_issue_update_done.json")
        payload["data"]["state"] = {"id": "state-unstarted", "name": "Todo", "type": "unstarted"}
        payload["updatedFrom"] = {"stateId": "state-completed"}
    else:
        payload = webhook_body(world, REOPENED[world.kind])
    assert send(world, server, payload, delivery="d-2").status_code == 200
    assert world.item().status == "open"
    wait_until(lambda: world.said("was reopened by"))


def test_reassigning_to_a_known_user_moves_the_item(hooked: tuple[World, HookServer]) -> None:
    world, server = hooked
    world.action("assign AI-1 <@U_ALICE>")
    wait_until(lambda: world.jobs()[-1]["state"] in ("done", "failed"))
    assert world.item().owner_id == "U_ALICE"
    name = {"github": "github_issues_assigned.json", "jira": "jira_issue_updated_assignee.json",
            "linear": "linear_issue_update_assignee.json"}[world.kind]  # fmt: skip
    payload = webhook_body(world, name)
    if world.kind == "github":
        payload["assignee"]["login"] = "bob-gh"
    elif world.kind == "jira":
        payload["issue"]["fields"]["assignee"]["accountId"] = "acc-bob"
    else:
        payload["data"]["assigneeId"] = "u-bob"
    assert send(world, server, payload, delivery="d-3").status_code == 200
    assert world.item().owner_id == "U_BOB"
    wait_until(lambda: world.said("is now owned by <@U_BOB>"))


def test_forged_or_stale_webhooks_change_nothing(hooked: tuple[World, HookServer]) -> None:
    world, server = hooked
    payload = webhook_body(world, CLOSED[world.kind])
    body = json.dumps(payload).encode()
    bad = {"github": {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "x",
                      "X-Hub-Signature-256": "sha256=" + "0" * 64},
           "jira": {"X-Hub-Signature": "sha256=" + "0" * 64},
           "linear": {"Linear-Signature": "0" * 64}}[world.kind]  # fmt: skip
    assert server.post(f"/hooks/{world.kind}", body, bad).status_code == 401
    assert server.post(f"/hooks/{world.kind}", b"not json", {}).status_code == 401
    if world.kind == "linear":
        payload["webhookTimestamp"] -= 61_000
        assert send(world, server, payload, delivery="old").status_code == 401
    assert world.item().status == "open"


def test_mark_done_in_a_nudge_closes_the_issue(github: World) -> None:
    from tests.test_actions import block_actions

    github.action("add <@U_BOB> add a canary stage")
    wait_until(lambda: github.item().issue_key is not None)
    click = block_actions("nudge_mark_done", "1", message_ts="1795789200.000100")
    assert github.slack.dispatch(click).status == 200
    wait_until(lambda: github.issues()[1]["state"] == "closed")
    assert github.issues()[1]["state_reason"] == "completed"
    assert "marked done in Slack by bob" in github.tracker_fake.comments[1][-1]  # type: ignore[attr-defined]


def test_slack_failing_the_announcement_neither_loses_nor_doubles_it(github: World) -> None:
    github.slack_fake.fail("chat.postMessage", error="internal_error", times=2)
    github.action("add add a canary stage")
    wait_until(lambda: github.item().issue_key is not None)
    wait_until(lambda: any(j["kind"] == "reply" and j["state"] == "pending"
                           and j["attempts"] >= 1 for j in github.jobs()))  # fmt: skip
    assert github.said("🔗") == []
    github.sweep_later(seconds=10)
    github.sweep_later(seconds=30)
    assert len(github.said("🔗")) == 1
    assert len(github.issues()) == 1


def test_an_item_from_the_form_becomes_an_issue_too(github: World) -> None:
    from tests.test_actions import view_submission

    answer = github.slack.dispatch(
        view_submission(
            github.channel,
            text={"type": "plain_text_input", "value": "rotate the keys"},
            owner={"type": "users_select", "selected_user": "U_BOB"},
        )
    )
    assert answer.status == 200
    wait_until(lambda: github.said("🔗"))
    [issue] = github.issues().values()
    assert issue["title"] == "rotate the keys" and issue["assignee"]["login"] == "bob-gh"


def test_a_create_left_by_a_crashed_process_is_finished_by_the_sweep_once(github: World) -> None:
    """The process claimed the job, created the issue, and died before recording it."""
    from bot.trackers import NewIssue
    from bot.trackers.jobs import enqueue_create
    from bot.trackers.render import labels, markdown_body, marker, title

    tracker, github.deps.tracker = github.deps.tracker, None
    github.action("add rotate the keys")  # recorded while no tracker job is written
    github.deps.tracker = tracker
    item = github.item()
    now = github.clock()
    with github.store.transaction():
        job_id = enqueue_create(github.store, item, now=now, requested_by="U_ALICE",
                                channel=github.channel)  # fmt: skip
    assert github.store.jobs.claim(job_id=job_id, now=now, stale_before=now, token="dead")
    incident = github.store.incidents.get(incident_id=item.incident_id)
    assert tracker is not None and incident is not None
    tracker.create(NewIssue(title(item), markdown_body(item, incident), marker(item), labels(item)))
    github.sweep_later(seconds=30)  # still within the dead process's lease
    assert github.said("🔗") == []
    github.sweep_later(minutes=3)
    assert len(github.issues()) == 1
    assert github.item().issue_key == "acme/ops#1"
    assert len(github.said("🔗")) == 1


def test_a_login_github_will_not_assign_is_an_unassigned_issue_and_said_so(
    github: World,
) -> None:
    """GITHUB_USERS names a login the repository cannot take (GitHub answers 422): the
    issue is still made, unassigned, and the item's line says so."""
    from dataclasses import replace

    settings = replace(github.settings.trackers, github_users={"U_CAROL": "ghost-gh"})
    github.deps.tracker = make_tracker(settings, clock=github.clock, throttle=False)
    github.action("add <@U_CAROL> rotate the keys")
    wait_until(lambda: github.said("🔗"))
    [issue] = github.issues().values()
    assert issue["assignees"] == []
    [line] = github.said("🔗")
    assert "unassigned" in line and "<@U_CAROL>" in line and "ghost-gh" in line, line


@pytest.mark.parametrize("kind", ["jira", "linear"])
def test_reassigning_to_a_user_the_bot_never_met_finds_them_by_email(
    kind: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The webhook's assignee carries no email (Jira Cloud hides it, Linear sends id and
    name): the bot asks the tracker for the user's email, then Slack for the user."""
    world = World(kind, tmp_path, clock)
    server = HookServer(enabled_hooks(world.settings), world.deps, world.client)
    try:
        world.action("add <@U_BOB> add a canary stage")
        wait_until(lambda: world.item() is not None and world.item().issue_key is not None)
        if kind == "jira":
            payload = webhook_body(world, "jira_issue_updated_assignee.json")
            payload["issue"]["fields"]["assignee"] = {
                "accountId": "acc-dave", "displayName": "Dave Dunn", "active": True,
            }  # fmt: skip
        else:
            payload = webhook_body(world, "linear_issue_update_assignee.json")
            payload["data"]["assigneeId"] = "u-dave"
            payload["data"]["assignee"] = {"id": "u-dave", "name": "Dave Dunn"}
        answer = send(world, server, payload, delivery="d-dave")
        assert answer.status_code == 200, answer.text
        assert world.item().owner_id == "U_DAVE", answer.text
        wait_until(lambda: world.said("is now owned by <@U_DAVE>"))
    finally:
        server.close()
        world.close()
