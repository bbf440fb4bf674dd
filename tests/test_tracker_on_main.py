"""The tracker on main's mechanisms: authorization and replays before any tracker job, the
channel's lines as the bot's reply jobs, and the issue shown in the canvas and escalations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import blocks
from bot.hooks import github as github_hook
from tests.conftest import FakeClock, wait_until
from tests.test_tracker_e2e import CLOSED, HookServer, World, send, webhook_body


@pytest.fixture
def github(tmp_path: Path, clock: FakeClock) -> Iterator[World]:
    w = World("github", tmp_path, clock)
    w.action("add <@U_BOB> add a canary stage")
    wait_until(lambda: w.item() is not None and w.item().issue_key is not None)
    yield w
    w.close()


def tracker_jobs(world: World, kind: str) -> list[dict[str, object]]:
    return [j for j in world.jobs() if j["kind"] == kind]


def test_an_outsider_changes_neither_the_item_nor_its_issue(github: World) -> None:
    response = github.slack.command(
        "/action", "done AI-1", user_id="U_CAROL", channel_id="C_GENERAL"
    )
    assert "Only" in (response.body or "")
    assert github.item().status == "open"
    assert tracker_jobs(github, "tracker_update") == []
    assert github.issues()[1]["state"] == "open"


def test_a_replayed_done_or_sync_adds_no_second_job(github: World) -> None:
    for _ in range(2):
        github.slack.command(
            "/action", "done AI-1", channel_id=github.channel, trigger_id="trig-done"
        )
    wait_until(lambda: github.issues()[1]["state"] == "closed")
    assert len(tracker_jobs(github, "tracker_update")) == 1
    github.action("reopen AI-1")
    tracker, github.deps.tracker = github.deps.tracker, None
    github.action("add rotate the keys")  # recorded while the tracker is off: no issue
    github.deps.tracker = tracker
    answers = [
        github.slack.command("/action", "sync", channel_id=github.channel, trigger_id="trig-s")
        for _ in range(2)
    ]
    assert "AI-2" in (answers[0].body or "")
    assert "handled already" in (answers[1].body or "")
    wait_until(lambda: github.item(2).issue_key is not None)
    assert len(github.issues()) == 2
    assert len(tracker_jobs(github, "tracker_create")) == 2  # AI-1's, then AI-2's sync


def test_the_canvas_escalation_and_reply_show_the_issue(github: World) -> None:
    item = github.item()
    incident = github.store.incidents.for_channel(channel_id=github.channel)
    assert incident is not None
    link = f"AI-1 · <{item.issue_url}|acme/ops#1>"
    assert link in blocks.escalation_text(item, incident, 3, github.clock())
    assert link in blocks.item_added_text(item, incident, None)
    assert link in json.dumps(blocks.nudge_outcome_blocks(item, "Done."), ensure_ascii=False)
    github.slack.command("/postmortem", "draft", channel_id=github.channel)
    wait_until(lambda: github.slack_fake.canvases.for_channel(github.channel) is not None)
    canvas = github.slack_fake.canvases.for_channel(github.channel)
    assert canvas is not None
    assert f"AI-1 · [acme/ops#1]({item.issue_url})" in canvas.markdown


def test_a_tracker_line_is_a_reply_job_that_pings_no_group(github: World) -> None:
    hook = github_hook.hook(github.settings)
    assert hook is not None
    server = HookServer([hook], github.deps, github.client)
    try:
        payload = webhook_body(github, CLOSED["github"])
        payload["sender"]["login"] = "<!channel> mallory"
        assert send(github, server, payload, delivery="d-ping").status_code == 200
        wait_until(lambda: github.said("was closed by"))
    finally:
        server.close()
    [line] = github.said("was closed by")
    assert "<!channel>" not in line and "&lt;!channel&gt; mallory" in line
    notices = [j for j in github.jobs() if str(j["key"]).startswith("tracker:notice:")]
    assert {j["kind"] for j in notices} == {"reply"}
    last = github.store.items.changes(item_id=1)[-1]
    assert last["actor_id"] == "github:@channel mallory"  # quieted as stored text is
