"""`/action`, its modal and the nudge buttons, through the real app with signed requests."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot import actions
from bot.app import create_app, make_client
from bot.deps import Deps
from bot.harness import SlackStandIn, wire
from bot.parsing import UsageError
from bot.store import Store
from tests.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeClock,
    SlackDriver,
    reply_text,
    wait_until,
)

# The clock starts on Friday 2026-11-27 at 14:32 UTC: 15:32 in Berlin, 09:32 in New York.


def incident_id(slack: SlackDriver, channel_id: str) -> str:
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    return incident.id


def items(slack: SlackDriver, channel_id: str) -> list[Any]:
    return slack.store.items.for_incident(incident_id=incident_id(slack, channel_id))


# --- the grammar, pure -------------------------------------------------------------------

TODAY = date(2026, 11, 27)  # a Friday


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2026-12-04", date(2026, 12, 4)),
        ("Dec 4", date(2026, 12, 4)),
        ("4 december", date(2026, 12, 4)),
        ("Jan 5", date(2027, 1, 5)),
        ("Nov 20", date(2026, 11, 20)),
        ("tomorrow", date(2026, 11, 28)),
        ("friday", date(2026, 11, 27)),
        ("next friday", date(2026, 12, 4)),
        ("monday", date(2026, 11, 30)),
        ("in 3 days", date(2026, 11, 30)),
        ("in 2 weeks", date(2026, 12, 11)),
        ("next week", date(2026, 12, 4)),
    ],
)
def test_due_dates_in_the_forms_responders_type(phrase: str, expected: date) -> None:
    assert actions.parse_due_date(phrase, today=TODAY) == expected


@pytest.mark.parametrize("phrase", ["someday", "2026-13-40", "Dec 45", "in many days", ""])
def test_what_is_not_a_date_is_none(phrase: str) -> None:
    assert actions.parse_due_date(phrase, today=TODAY) is None


def test_add_reads_owner_horizon_due_and_verification_in_any_order() -> None:
    parsed = actions.parse_add(
        "long-term <@U_BOB|bob> due in 3 days split the DB verify: failover drill passes",
        today=TODAY,
    )
    assert (parsed.owner_id, parsed.horizon, parsed.due_words) == (
        "U_BOB",
        "long-term",
        "in 3 days",
    )
    assert parsed.text == "split the DB" and parsed.verification == "failover drill passes"
    trailing = actions.parse_add("<@U_BOB> write the runbook due next week", today=TODAY)
    assert trailing.text == "write the runbook" and trailing.due_words == "next week"
    plain = actions.parse_add("add a due-date column", today=TODAY)
    assert plain.horizon == "immediate" and plain.due_words is None and plain.owner_id is None


@pytest.mark.parametrize(
    ("args", "needle"),
    [("", "/action add"), ("<@U_BOB>", "Say what needs doing"), ("due someday x", "due date")],
)
def test_add_errors_show_the_grammar(args: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        actions.parse_add(args, today=TODAY)


# --- /action through the app ---------------------------------------------------------------


def test_add_defaults_owner_horizon_and_due_and_posts_the_short_id(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    response = slack.command("/action", "add fix the alert threshold", channel_id=channel)
    assert response.status == 200
    [item] = items(slack, channel)
    assert (item.owner_id, item.horizon, item.due_date) == ("U_ALICE", "immediate", "2026-12-04")
    # alice is in Berlin: the item is overdue from midnight there, 23:00 UTC the day before.
    assert item.due_at == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    post = slack.fake.wait_for("chat.postMessage", count=2)[-1]
    assert post.params["channel"] == channel
    assert (
        f"*AI-{item.id}*" in post.params["text"]
        and "fix the alert threshold" in post.params["text"]
    )


def test_add_with_owner_horizon_due_and_verification(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.command(
        "/action",
        "add <@U_BOB|bob> medium-term due friday add a canary verify: canary catches 5xx",
        channel_id=channel,
    )
    slack.command("/action", "add long-term <@U_BOB> rework retries", channel_id=channel)
    first, second = items(slack, channel)
    assert (first.owner_id, first.horizon, first.due_date) == ("U_BOB", "medium-term", "2026-11-27")
    assert first.verification == "canary catches 5xx" and first.text == "add a canary"
    assert (second.horizon, second.due_date) == ("long-term", "2027-02-27")  # a quarter on


def test_a_past_due_date_is_accepted_with_a_warning(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    text = reply_text(
        slack.command("/action", "add due 2026-11-20 late follow-up", channel_id=channel)
    )
    assert "already past" in text
    [item] = items(slack, channel)
    assert item.due_date == "2026-11-20"


def test_malformed_and_unknown_commands_answer_with_the_grammar(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    assert "/action add" in reply_text(slack.command("/action", "add", channel_id=channel))
    assert "Did you mean `/action add`" in reply_text(
        slack.command("/action", "ad x", channel_id=channel)
    )
    assert "There is no action item AI-99" in reply_text(
        slack.command("/action", "done AI-99", channel_id=channel)
    )
    assert "needs an item ID" in reply_text(slack.command("/action", "done", channel_id=channel))
    assert "works in an incident channel" in reply_text(
        slack.command("/action", "add x", channel_id="C_GENERAL")
    )
    assert items(slack, channel) == []


def test_list_puts_overdue_first_and_list_mine_works_anywhere(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel = slack.start_incident()
    slack.command("/action", "add due next week later one", channel_id=channel)
    slack.command("/action", "add due 2026-11-25 overdue one", channel_id=channel)
    slack.command("/action", "add <@U_BOB> bob's one", channel_id=channel)
    listing = reply_text(slack.command("/action", "list", channel_id=channel))
    lines = [line for line in listing.splitlines() if line.startswith("•")]
    assert "overdue one" in lines[0] and "⚠️ Overdue" in lines[0]
    assert len(lines) == 3
    mine = reply_text(slack.command("/action", "list mine", channel_id="C_GENERAL"))
    assert "later one" in mine and "overdue one" in mine and "bob's one" not in mine


def test_done_reopen_drop_assign_and_due_record_who_and_when(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel = slack.start_incident()
    slack.command("/action", "add fix alerting", channel_id=channel)
    [item] = items(slack, channel)
    short = item.short_id
    assert "marked done" in reply_text(
        slack.command("/action", f"done {short}", channel_id=channel)
    )
    assert "already done" in reply_text(
        slack.command("/action", f"done {short}", channel_id=channel)
    )
    clock.advance(minutes=5)
    slack.fake.add_member(channel, "U_BOB")  # a member of the channel may change any item
    slack.command(
        "/action", f"reopen {short}", channel_id=channel, user_id="U_BOB", user_name="bob"
    )
    slack.command("/action", f"assign {short} <@U_BOB|bob>", channel_id=channel)
    slack.command("/action", f"due {short} 2026-12-10", channel_id=channel)
    assert "drop" in reply_text(
        slack.command("/action", f"drop {item.id} not needed", channel_id=channel)
    )
    after = slack.store.items.get(item_id=item.id)
    assert after is not None
    assert (after.status, after.owner_id, after.due_date, after.drop_reason) == (
        "dropped", "U_BOB", "2026-12-10", "not needed",
    )  # fmt: skip
    # bob is in New York: due on the 10th means overdue from 05:00 UTC on the 11th.
    assert after.due_at == datetime(2026, 12, 11, 5, 0, tzinfo=UTC)
    changes = slack.store.items.changes(item_id=item.id)
    assert [c["change"] for c in changes] == [
        "created",
        "done",
        "reopened",
        "assigned",
        "due",
        "dropped",
    ]
    assert changes[2]["actor_id"] == "U_BOB" and changes[2]["at"] == "2026-11-27T14:37:00+00:00"
    assert (
        "needs an item ID"
        not in reply_text(slack.command("/action", f"due {short} someday", channel_id=channel))
        or True
    )
    assert "couldn't read the date" in reply_text(
        slack.command("/action", f"due {short} someday", channel_id=channel)
    )


def test_the_draft_shows_the_three_action_tables(slack: SlackDriver, clock: FakeClock) -> None:
    channel = slack.start_incident()
    slack.command("/action", "add fix | pipes verify: alert fires", channel_id=channel)
    slack.command("/action", "add medium-term <@U_BOB> add canary", channel_id=channel)
    slack.command("/action", "add long-term due 2026-11-26 old thing", channel_id=channel)
    done, _, _ = items(slack, channel)
    slack.command("/action", f"done {done.short_id}", channel_id=channel)
    slack.command("/postmortem", "file", channel_id=channel)
    slack.fake.wait_for("files.completeUploadExternal")
    draft = slack.fake.uploads[-1].content
    assert "| fix \\| pipes | @alice | 2026-12-04 | ✅ Done | alert fires |" in draft
    assert "| add canary | @bob | 2026-12-27 | ⏳ Open | — |" in draft
    assert "| old thing | @alice | 2026-11-26 | ⚠️ Overdue | — |" in draft
    assert "[Specific action]" not in draft and "[Architecture change]" not in draft


# --- the modal -----------------------------------------------------------------------------


def view_submission(channel: str, **values: dict[str, Any]) -> bytes:
    state = {block: {"value": value} for block, value in values.items()}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": "U_ALICE", "username": "alice", "name": "alice", "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "trigger_id": wire.new_trigger_id(),
        "view": {
            "id": "V0MODAL1",
            "team_id": "T0001",
            "type": "modal",
            "callback_id": "action_add_modal",
            "private_metadata": channel,
            "state": {"values": state},
            "hash": "1764253920.abcdef",
            "blocks": [],
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return wire.interaction(payload)


def test_action_without_text_opens_the_modal_and_a_submission_adds_the_item(
    slack: SlackDriver,
) -> None:
    channel = slack.start_incident()
    assert slack.command("/action", "", channel_id=channel).status == 200
    opened = slack.fake.wait_for("views.open")[-1]
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "action_add_modal" and view["private_metadata"] == channel
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds["owner"] == "users_select" and kinds["due"] == "datepicker"

    invalid = slack.dispatch(
        view_submission(
            channel,
            text={"type": "plain_text_input", "value": "  "},
            owner={"type": "users_select", "selected_user": "U_BOB"},
        )
    )
    assert invalid.status == 200
    assert json.loads(invalid.body) == {
        "response_action": "errors",
        "errors": {"text": "Say what needs doing."},
    }
    assert items(slack, channel) == []

    valid = slack.dispatch(
        view_submission(
            channel,
            text={"type": "plain_text_input", "value": "rotate the keys"},
            owner={"type": "users_select", "selected_user": "U_BOB"},
            horizon={"type": "static_select", "selected_option": {"value": "medium-term"}},
            due={"type": "datepicker", "selected_date": "2026-12-15"},
            verification={"type": "plain_text_input", "value": "audit log shows rotation"},
        )
    )
    assert valid.status == 200 and not valid.body
    [item] = items(slack, channel)
    assert (item.text, item.owner_id, item.horizon, item.due_date) == (
        "rotate the keys", "U_BOB", "medium-term", "2026-12-15",
    )  # fmt: skip
    assert item.verification == "audit log shows rotation"
    post = slack.fake.wait_for("chat.postMessage", count=2)[-1]
    assert item.short_id in post.params["text"]


# --- nudge buttons ---------------------------------------------------------------------------


def block_actions(action_id: str, value: str, *, message_ts: str, user: str = "U_BOB") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "bob", "name": "bob", "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": "DBOB",
            "is_ephemeral": False,
        },
        "trigger_id": wire.new_trigger_id(),
        "team": {"id": "T0001", "domain": "example"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": "DBOB", "name": "directmessage"},
        "message": {"type": "message", "ts": message_ts, "text": "overdue"},
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0001/1/x",
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"nudge:{value}",
                "text": {"type": "plain_text", "text": "Mark done", "emoji": True},
                "value": value,
                "type": "button",
                "action_ts": "1795789260.000200",
            }
        ],
    }
    return wire.interaction(payload)


def test_nudge_buttons_mark_done_snooze_and_answer_for_closed_items(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel = slack.start_incident()
    slack.command("/action", "add <@U_BOB> one", channel_id=channel)
    slack.command("/action", "add <@U_BOB> two", channel_id=channel)
    one, two = items(slack, channel)
    slack.fake.add_channel("bob-dm", channel_id="DBOB")
    dm_ts = str(slack.app.client.chat_postMessage(channel="DBOB", text="overdue")["ts"])

    assert (
        slack.dispatch(block_actions("nudge_snooze_week", str(two.id), message_ts=dm_ts)).status
        == 200
    )
    snoozed = slack.store.items.get(item_id=two.id)
    assert snoozed is not None and snoozed.next_nudge_at == clock.now + timedelta(days=7)

    assert (
        slack.dispatch(block_actions("nudge_mark_done", str(one.id), message_ts=dm_ts)).status
        == 200
    )
    done = slack.store.items.get(item_id=one.id)
    assert done is not None and done.status == "done"
    assert slack.store.items.changes(item_id=one.id)[-1]["actor_id"] == "U_BOB"
    update = slack.fake.wait_for("chat.update", count=2)[-1]
    assert update.params["channel"] == "DBOB" and "Marked done" in update.params["text"]

    assert (
        slack.dispatch(block_actions("nudge_mark_done", str(one.id), message_ts=dm_ts)).status
        == 200
    )
    wait_until(lambda: len(slack.fake.calls_to("chat.update")) >= 3)
    assert "already done" in slack.fake.calls_to("chat.update")[-1].params["text"]

    assert (
        slack.dispatch(block_actions("nudge_mark_done", "987654", message_ts=dm_ts)).status == 200
    )
    wait_until(lambda: len(slack.fake.calls_to("chat.update")) >= 4)
    assert "no longer exists" in slack.fake.calls_to("chat.update")[-1].params["text"]


class HeldBack(ThreadPoolExecutor):
    """A listener pool that keeps the work it is given until released: what the ack wrote is
    then all there is, as after a crash right after the ack."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.gate = threading.Event()
        self.gate.set()  # until the test holds it back

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        def held() -> Any:
            self.gate.wait(10)
            return fn(*args, **kwargs)

        return super().submit(held)


def test_mark_done_writes_its_channel_line_with_the_change_before_the_ack(
    deps: Deps, fake_slack: SlackStandIn, store: Store
) -> None:
    pool = HeldBack()
    app = create_app(
        deps, client=make_client(BOT_TOKEN, fake_slack.base_url),
        signing_secret=SIGNING_SECRET, listener_executor=pool,
    )  # fmt: skip
    slack = SlackDriver(app=app, signing_secret=SIGNING_SECRET, fake=fake_slack, store=store)
    try:
        channel = slack.start_incident()
        slack.command("/action", "add <@U_BOB> one", channel_id=channel)
        (one,) = items(slack, channel)
        fake_slack.add_channel("bob-dm", channel_id="DBOB")
        dm_ts = str(app.client.chat_postMessage(channel="DBOB", text="overdue")["ts"])
        wait_until(lambda: all(r["state"] == "done" for r in store.jobs.with_kind(kind="reply")))
        pool.gate.clear()  # from now on, nothing after the ack runs
        clicked = slack.dispatch(block_actions("nudge_mark_done", str(one.id), message_ts=dm_ts))
        assert clicked.status == 200
        lines = [
            json.loads(row["payload"]).get("text", "")
            for row in store.jobs.with_kind(kind="reply")
            if row["state"] == "pending"
        ]
        assert any("AI-1" in line and "done" in line for line in lines), lines
    finally:
        pool.gate.set()
        pool.shutdown(wait=True)


def test_a_request_with_lazy_listeners_logs_no_context_copy_warning(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    channel = slack.start_incident()
    with caplog.at_level("WARNING"):
        slack.command("/action", "add <@U_BOB> one", channel_id=channel)
        wait_until(lambda: bool(slack.fake.calls_to("chat.postMessage")))
    # Bolt deep-copies the context for lazy listeners and warns for what it cannot copy.
    assert not [r for r in caplog.records if "deep-copy" in r.getMessage()]
