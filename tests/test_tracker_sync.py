"""What a tracker's change does to an item, decided without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.domain import ActionItem
from bot.trackers import IssueRef
from bot.trackers.sync import decide_inbound, markdown_link, tracker_actor, with_issue
from bot.trackers.webhooks import TrackerChange

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)
ITEM = ActionItem(
    id=7,
    incident_id="INCIDENT-20261127-1420",
    text="Add a canary stage",
    owner_id="U0BOB",
    horizon="immediate",
    due_date="2026-12-04",
    due_at=datetime(2026, 12, 5, tzinfo=UTC),
    verification=None,
    status="open",
)
CLOSED = TrackerChange(
    tracker="github",
    delivery="github:1",
    action="closed",
    issue_id="12",
    issue_key="acme/ops#12",
    actor="octocat",
    at=datetime(2026, 11, 28, 9, 15, tzinfo=UTC),
)


def test_closing_marks_done_with_who_and_where() -> None:
    decision = decide_inbound(CLOSED, ITEM, now=NOW)
    assert decision.change == "done" and decision.fields == {"status": "done"}
    assert decision.detail == "closed in GitHub (acme/ops#12) by octocat"
    assert decision.line is not None and "AI-7" in decision.line and "octocat" in decision.line
    assert tracker_actor(CLOSED) == "github:octocat"


def test_closing_as_not_planned_drops() -> None:
    decision = decide_inbound(replace(CLOSED, not_planned=True), ITEM, now=NOW)
    assert decision.change == "dropped" and decision.fields["status"] == "dropped"


def test_echoes_of_the_bots_own_changes_do_nothing() -> None:
    assert decide_inbound(CLOSED, replace(ITEM, status="done"), now=NOW).change is None
    assert decide_inbound(CLOSED, replace(ITEM, status="dropped"), now=NOW).change is None
    assert decide_inbound(replace(CLOSED, action="reopened"), ITEM, now=NOW).change is None
    assigned = replace(CLOSED, action="assigned")
    assert decide_inbound(assigned, ITEM, new_owner="U0BOB", now=NOW).change is None
    assert decide_inbound(assigned, ITEM, new_owner=None, now=NOW).change is None
    assert decide_inbound(replace(CLOSED, action="edited"), ITEM, now=NOW).change is None


def test_reopen_and_reassign() -> None:
    reopened = decide_inbound(
        replace(CLOSED, action="reopened"), replace(ITEM, status="done"), now=NOW
    )
    assert reopened.change == "reopened" and reopened.fields["status"] == "open"
    moved = decide_inbound(replace(CLOSED, action="assigned"), ITEM, new_owner="U0CAROL", now=NOW)
    assert moved.change == "assigned" and moved.fields["owner_id"] == "U0CAROL"
    assert moved.line is not None and "<@U0CAROL>" in moved.line


def test_links() -> None:
    ref = IssueRef("github", "12", "acme/ops#12", "https://github.com/acme/ops/issues/12")
    assert with_issue("AI-7", ref) == "AI-7 · <https://github.com/acme/ops/issues/12|acme/ops#12>"
    assert with_issue("AI-7", None) == "AI-7"
    assert (
        markdown_link("AI-7", ref) == "AI-7 · [acme/ops#12](https://github.com/acme/ops/issues/12)"
    )


def test_the_trackers_names_cannot_ping_the_channel() -> None:
    decision = decide_inbound(replace(CLOSED, actor="<!channel> & co"), ITEM, now=NOW)
    assert decision.line is not None
    assert "<!channel>" not in decision.line and "&lt;!channel&gt; &amp; co" in decision.line
