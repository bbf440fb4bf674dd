"""The real ``incident-bot run`` as a subprocess, with ``TRACKER`` set from the environment:
a signed ``/action add`` becomes an issue in the tracker's fake on 127.0.0.1, and the tracker's
signed webhook (on HTTP mode's port, or Socket Mode's ``--hooks-port``) closes the item."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.harness import Call, SlackStandIn, wire
from bot.harness.fakeapi import FakeAPI
from bot.harness.github import FakeGitHub
from bot.harness.jira import FakeJira
from bot.harness.linear import FakeLinear
from bot.harness.socketmode import SocketModeServer
from tests.test_alert_processes import APP_TOKEN, bot_process, wait_healthy
from tests.test_e2e import SECRET as SIGNING_SECRET
from tests.test_e2e import bot_env, free_port

HOOK_SECRET = "tracker-process-secret-5a"
FIXTURES = Path(__file__).parent / "fixtures" / "trackers"


def tracker_env(kind: str, url: str) -> dict[str, str]:
    return {
        "github": {
            "TRACKER": "github", "GITHUB_TOKEN": "ghp-test", "GITHUB_REPO": "acme/ops",
            "GITHUB_API_URL": url, "GITHUB_WEBHOOK_SECRET": HOOK_SECRET,
            "GITHUB_USERS": "U_BOB=bob-gh",
        },
        "jira": {
            "TRACKER": "jira", "JIRA_URL": url, "JIRA_EMAIL": "bot@example.com",
            "JIRA_API_TOKEN": "jira-token", "JIRA_PROJECT": "OPS",
            "JIRA_WEBHOOK_SECRET": HOOK_SECRET,
        },
        "linear": {
            "TRACKER": "linear", "LINEAR_API_KEY": "lin_api_test", "LINEAR_TEAM_ID": "team-1",
            "LINEAR_API_URL": url + "/graphql", "LINEAR_WEBHOOK_SECRET": HOOK_SECRET,
        },
    }[kind]  # fmt: skip


def fake_for(kind: str) -> FakeAPI:
    if kind == "github":
        return FakeGitHub(users=("bob-gh",))
    if kind == "jira":
        return FakeJira(users=(("acc-bob", "Bob Baker", "bob@example.com"),))
    return FakeLinear(users=(("u-bob", "Bob Baker", "bob@example.com"),))


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def closed_webhook(kind: str, issue_id: str) -> tuple[bytes, dict[str, str]]:
    name = {"github": "github_issues_closed.json", "jira": "jira_issue_updated_done.json",
            "linear": "linear_issue_update_done.json"}[kind]  # fmt: skip
    payload = json.loads((FIXTURES / name).read_text())
    now_ms = int(time.time() * 1000)
    if kind == "github":
        payload["issue"]["number"] = int(issue_id)
    elif kind == "jira":
        payload["issue"]["key"] = issue_id
        payload["timestamp"] = now_ms
    else:
        payload["data"]["id"] = issue_id
        payload["webhookTimestamp"] = now_ms
    body = json.dumps(payload).encode()
    digest = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if kind == "github":
        headers |= {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-proc-1",
                    "X-Hub-Signature-256": f"sha256={digest}"}  # fmt: skip
    elif kind == "jira":
        headers |= {"X-Hub-Signature": f"sha256={digest}",
                    "X-Atlassian-Webhook-Identifier": "d-proc-1"}  # fmt: skip
    else:
        headers |= {"Linear-Signature": digest, "Linear-Delivery": "d-proc-1"}
    return body, headers


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def said(fake: SlackStandIn, channel: str, needle: str) -> list[str]:
    texts = [str(m.get("text", "")) for m in fake.messages_in(channel)]
    return [text for text in texts if needle in text]


def issue_id_of(kind: str, fake: FakeAPI) -> str:
    issues: dict[Any, dict[str, Any]] = fake.issues  # type: ignore[attr-defined]
    [(key, issue)] = issues.items()
    if kind == "jira":
        return str(issue["key"])
    if kind == "linear":
        return str(issue["id"])
    return str(key)


@pytest.mark.parametrize("kind", ["github", "jira", "linear"])
def test_http_mode_creates_the_issue_and_its_webhook_closes_the_item(
    kind: str, tmp_path: Path
) -> None:
    tracker = fake_for(kind).start()
    try:
        with SlackStandIn() as fake:
            fake.add_user("U_ALICE", "alice", tz="Europe/Berlin", email="alice@example.com")
            fake.add_user("U_BOB", "bob", tz="UTC", email="bob@example.com")
            port = free_port()
            env = bot_env(fake, tmp_path / "t.db", **tracker_env(kind, tracker.url))
            url = f"http://127.0.0.1:{port}"
            args = ["--http", "--port", str(port), "--host", "127.0.0.1"]
            with bot_process(args, env, tmp_path) as log:
                wait_healthy(url, log)
                events = url + "/slack/events"
                status, _, _ = wire.post(
                    events, wire.slash_command("/incident", "start sev2 Checkout down"),
                    SIGNING_SECRET,
                )  # fmt: skip
                assert status == 200
                channel = str(fake.wait_for("pins.add")[-1].params["channel"])
                command = wire.slash_command(
                    "/action", "add <@U_BOB> add a canary stage", channel_id=channel
                )
                assert wire.post(events, command, SIGNING_SECRET)[0] == 200
                [line] = wait_until(lambda: said(fake, channel, "🔗"), timeout=30)
                assert "AI-1 · <" in line and "unassigned" not in line, line
                issue_id = issue_id_of(kind, tracker)
                body, headers = closed_webhook(kind, issue_id)
                assert post(url + f"/hooks/{kind}", body, {**headers, "X-Hub-Signature-256":
                            "sha256=" + "0" * 64, "X-Hub-Signature": "sha256=" + "0" * 64,
                            "Linear-Signature": "0" * 64})[0] == 401  # fmt: skip
                status, answer = post(url + f"/hooks/{kind}", body, headers)
                assert status == 200 and answer.get("change") == "done", answer
                assert post(url + f"/hooks/{kind}", body, headers)[1].get("duplicate") is True
                wait_until(lambda: said(fake, channel, "was closed by"))
                listing = wire.slash_command("/action", "list", channel_id=channel)
                _, data, _ = wire.post(events, listing, SIGNING_SECRET)
                assert "AI-1 · <" in data.decode()
            text = log.read_text()
    finally:
        tracker.stop()
    assert HOOK_SECRET not in text and "Traceback" not in text


def test_socket_mode_serves_the_tracker_hook_on_hooks_port(tmp_path: Path) -> None:
    tracker = fake_for("github").start()
    try:
        with SlackStandIn() as fake, SocketModeServer() as server:

            def connections_open(call: Call) -> dict[str, Any]:
                return {"ok": True, "url": server.url}

            fake.on("apps.connections.open", connections_open)
            env = bot_env(fake, tmp_path / "s.db", SLACK_APP_TOKEN=APP_TOKEN,
                          **tracker_env("github", tracker.url))  # fmt: skip
            env.pop("SLACK_SIGNING_SECRET")
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            args = ["--hooks-port", str(port), "--host", "127.0.0.1"]
            with bot_process(args, env, tmp_path) as log:
                server.wait_for_connection(1)
                wait_healthy(url, log)
                body, headers = closed_webhook("github", "1")
                status, answer = post(url + "/hooks/github", body, headers)
                assert status == 200 and answer.get("ignored"), answer  # not an issue of ours
                forged = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
                assert post(url + "/hooks/github", body, forged)[0] == 401
    finally:
        tracker.stop()
