"""The pure decisions behind `/action`, its form and the nudge buttons: no store, no Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import actions
from bot.domain import ActionItem
from bot.parsing import UsageError

NOW = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # already Saturday the 28th in Tokyo
STARTED = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")
ITEM = ActionItem(
    id=7,
    incident_id="INCIDENT-20261127-1400",
    text="Fix the alert threshold",
    owner_id="U_BOB",
    horizon="immediate",
    due_date="2026-12-04",
    due_at=datetime(2026, 12, 5, tzinfo=UTC),
    verification=None,
    status="open",
)


def command(verb: str, rest: str = "") -> actions.ItemCommand:
    return actions.ItemCommand(verb=verb, item_id=7, rest=rest)


def test_a_new_item_without_a_due_date_gets_its_horizons_deadline_in_the_owners_zone() -> None:
    new = actions.plan_new_item(
        text="Canary deploys", owner_id="U_BOB", horizon="medium-term", due=None,
        verification=None, zone=TOKYO, now=NOW, incident_started_at=STARTED,
    )  # fmt: skip
    assert new.due == date(2026, 12, 27)
    assert new.due_at == datetime(2026, 12, 28, tzinfo=TOKYO)
    assert not new.past_due


def test_a_typed_due_date_is_read_against_the_owners_today() -> None:
    parsed = actions.parse_add("due tomorrow fix it", today=NOW.date())
    new = actions.plan_add(
        parsed, owner_id="U_BOB", zone=TOKYO, now=NOW, incident_started_at=STARTED
    )
    assert new.due == date(2026, 11, 29)  # Tokyo's tomorrow, not UTC's
    assert new.text == "fix it"
    assert new.owner_id == "U_BOB"


def test_a_past_due_date_is_kept_with_a_warning() -> None:
    parsed = actions.parse_add("due 2026-11-01 fix it", today=NOW.date())
    new = actions.plan_add(parsed, owner_id="U_BOB", zone=UTC, now=NOW, incident_started_at=STARTED)
    assert new.past_due
    assert actions.past_due_warning(new, "AI-3") == (
        "The due date 2026-11-01 is already past; AI-3 is recorded as overdue."
    )
    assert actions.past_due_warning(replace(new, past_due=False), "AI-3") is None


def form_view(**answers: dict[str, object]) -> dict[str, object]:
    return {"state": {"values": {block: {"value": value} for block, value in answers.items()}}}


def test_the_form_reads_every_answer() -> None:
    view = form_view(
        text={"value": "  Page the DBA  "},
        owner={"selected_user": "U_CAROL"},
        horizon={"selected_option": {"value": "long-term"}},
        due={"selected_date": "2026-12-24"},
        verification={"value": " drill passes "},
    )
    form = actions.read_add_modal(view, user_id="U_ALICE", has_incident=True, today=NOW.date())
    assert form == actions.ModalForm(
        text="Page the DBA",
        owner_id="U_CAROL",
        horizon="long-term",
        due=date(2026, 12, 24),
        verification="drill passes",
    )


def test_the_form_defaults_to_the_submitter_and_the_immediate_horizon() -> None:
    form = actions.read_add_modal(
        form_view(text={"value": "x"}), user_id="U_ALICE", has_incident=True, today=NOW.date()
    )
    assert (form.owner_id, form.horizon, form.due, form.verification) == (
        "U_ALICE", "immediate", None, None,
    )  # fmt: skip
    assert form.errors == {}


def test_the_form_flags_every_bad_field_and_a_lost_incident_last() -> None:
    view = form_view(horizon={"selected_option": {"value": "someday"}}, due={"selected_date": "x"})
    form = actions.read_add_modal(view, user_id="U_ALICE", has_incident=True, today=NOW.date())
    assert set(form.errors) == {"text", "horizon", "due"}
    assert form.errors["text"] == "Say what needs doing."
    lost = actions.read_add_modal(view, user_id="U_ALICE", has_incident=False, today=NOW.date())
    assert lost.errors["text"].startswith("This channel no longer has an incident")


def test_only_assign_and_due_need_a_timezone() -> None:
    assert actions.zone_owner(command("assign", "<@U_CAROL|carol>"), ITEM) == "U_CAROL"
    assert actions.zone_owner(command("due", "friday"), ITEM) == "U_BOB"
    assert actions.zone_owner(command("done"), ITEM) is None
    assert actions.zone_owner(command("due", "friday"), None) is None


def plan(verb: str, rest: str = "", item: ActionItem | None = ITEM) -> actions.ItemChange:
    return actions.plan_item_change(
        command(verb, rest), item, actor_id="U_ALICE", now=NOW, zone=TOKYO
    )


def test_done_reopen_and_drop_write_their_status_or_say_it_is_already_so() -> None:
    assert plan("done").fields == {"change": "done", "status": "done"}
    assert plan("done", item=replace(ITEM, status="done")) == actions.ItemChange(
        "AI-7 is already done."
    )
    reopened = plan("reopen", item=replace(ITEM, status="dropped", drop_reason="later"))
    assert reopened.fields["status"] == "open"
    assert reopened.fields["next_nudge_at"] == ITEM.due_at
    overdue = replace(ITEM, status="done", due_at=NOW - timedelta(days=2))
    assert plan("reopen", item=overdue).fields["next_nudge_at"] == NOW  # nudge from now on
    assert plan("reopen").fields == {}
    dropped = plan("drop", "duplicate of AI-3")
    assert dropped.message == "❌ AI-7 dropped by <@U_ALICE>: duplicate of AI-3"
    assert dropped.fields["drop_reason"] == "duplicate of AI-3"
    assert plan("drop").fields["drop_reason"] is None


def test_assign_moves_the_overdue_moment_to_the_new_owners_midnight() -> None:
    change = plan("assign", "<@U_CAROL>")
    assert change.fields["owner_id"] == "U_CAROL"
    assert change.fields["due_at"] == datetime(2026, 12, 5, tzinfo=TOKYO)
    assert change.fields["next_nudge_at"] == change.fields["due_at"]
    assert change.fields["nudge_count"] == 0


def test_due_reads_the_date_in_the_owners_zone_and_says_when_it_is_past() -> None:
    change = plan("due", "tomorrow")
    assert change.fields["due_date"] == "2026-11-29"
    assert "(already past" not in change.message
    assert "(already past, so it is overdue)" in plan("due", "2026-11-01").message
    with pytest.raises(UsageError, match="couldn't read the date `someday`"):
        plan("due", "someday")


def test_a_missing_item_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no action item AI-7"):
        plan("done", item=None)


def test_a_nudge_click_marks_done_snoozes_or_says_why_not() -> None:
    done = actions.plan_nudge_click(ITEM, snooze=None, user_id="U_BOB", now=NOW)
    assert done.fields == {"change": "done", "status": "done"}
    assert done.message == "✅ Marked done by <@U_BOB> on 2026-11-27 23:30 UTC."
    snoozed = actions.plan_nudge_click(ITEM, snooze=timedelta(days=7), user_id="U_BOB", now=NOW)
    assert snoozed.fields["next_nudge_at"] == NOW + timedelta(days=7)
    assert "2026-12-04 23:30 UTC" in snoozed.message
    closed = actions.plan_nudge_click(
        replace(ITEM, status="done"), snooze=None, user_id="U_BOB", now=NOW
    )
    assert closed == actions.ItemChange("AI-7 is already done; nothing to do.")
    gone = actions.plan_nudge_click(None, snooze=None, user_id="U_BOB", now=NOW)
    assert gone.message == "This action item no longer exists." and not gone.fields
