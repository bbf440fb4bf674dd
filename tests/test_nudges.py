"""The overdue-nudge scan, driven directly with an injected clock (nothing here sleeps).

Everything is real but Slack: the Store on a SQLite file in ``tmp_path``, the ``WebClient`` from
``bot.app.make_client`` pointed at the fake Slack on loopback, and ``UserDirectory``. The clock
starts on Friday 2026-11-27 at 14:32 UTC: 15:32 for Alice in Berlin, 09:32 for Bob in New York.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.actions import overdue_from
from bot.app import make_client
from bot.domain import ActionItem, Incident
from bot.harness import Call, SlackStandIn
from bot.nudges import (
    NUDGE_EVENT_TYPE,
    STALE_CLAIM,
    NudgePolicy,
    NudgeSender,
    ScanReport,
    next_working_moment,
    scan,
)
from bot.store import Store
from bot.users import UserDirectory
from tests.conftest import BOT_TOKEN, FakeClock

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = {"U_ALICE": BERLIN, "U_BOB": NEW_YORK}
DM = {"U_ALICE": "D_ALICE", "U_BOB": "D_BOB"}  # the fake's conversations.open: "D" + ID[1:]

WORKING_HOURS = NudgePolicy()
ANYTIME = NudgePolicy(anytime=True)

LONG_OVERDUE = date(2026, 11, 20)  # overdue since Saturday 21 November, 00:00 owner-local
NEXT_WEEK = date(2026, 12, 4)
ADDED_AT = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
SCAN_SQL = (
    "SELECT * FROM action_items WHERE status = 'open' AND next_nudge_at <= ? "
    "ORDER BY next_nudge_at LIMIT ?"
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fast_client(fake: SlackStandIn) -> WebClient:
    """The bot's client; its retry handlers keep their counts but skip the backoff waits."""
    client = make_client(BOT_TOKEN, fake.base_url)
    for handler in client.retry_handlers:
        handler.interval_calculator = FixedValueRetryIntervalCalculator(0.0)
    return client


@dataclass
class Scanner:
    """One bot process's view: its Store, Slack client and user directory, on a shared clock."""

    store: Store
    client: WebClient
    users: UserDirectory
    clock: FakeClock

    def __call__(self, policy: NudgePolicy = WORKING_HOURS) -> ScanReport:
        return scan(
            store=self.store,
            client=self.client,
            users=self.users,
            policy=policy,
            now=self.clock(),
        )


def start_process(path: str | Path, fake: SlackStandIn, clock: FakeClock) -> Scanner:
    """What a (re)started bot builds: a new Store on the file, a new client and directory."""
    store = Store(path)
    return Scanner(store, fast_client(fake), UserDirectory(store, clock), clock)


@pytest.fixture
def scanner(store: Store, fake_slack: SlackStandIn, clock: FakeClock) -> Scanner:
    return Scanner(store, fast_client(fake_slack), UserDirectory(store, clock), clock)


@pytest.fixture
def incident(store: Store, fake_slack: SlackStandIn, clock: FakeClock) -> Incident:
    channel_id = fake_slack.add_channel("incident-20261117-1432")
    created, _ = store.incidents.create(
        title="Checkout API returning 500s",
        severity="SEV2",
        commander_id="U_BOB",
        started_at=clock() - timedelta(days=10),
        channel_id=channel_id,
        channel_name="incident-20261117-1432",
    )
    return created


def add_item(
    store: Store,
    incident: Incident,
    *,
    due: date = LONG_OVERDUE,
    owner: str = "U_ALICE",
    text: str = "Fix the alert threshold",
    now: datetime = ADDED_AT,
) -> ActionItem:
    item, created = store.items.add(
        incident_id=incident.id,
        text=text,
        owner_id=owner,
        horizon="immediate",
        due_date=due,
        due_at=overdue_from(due, ZONES[owner]),
        verification="alert fires in staging",
        actor_id="U_BOB",
        now=now,
    )
    assert created
    return item


def dms(fake: SlackStandIn, user: str | None = None) -> list[Call]:
    """chat.postMessage calls that Slack accepted into a DM (to ``user``'s DM if given)."""
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if not c.faulted
        and str(c.params.get("channel", "")).startswith("D")
        and (user is None or c.params["channel"] == DM[user])
    ]


def channel_posts(fake: SlackStandIn, channel_id: str) -> list[Call]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if not c.faulted and c.params.get("channel") == channel_id
    ]


def nudge_id_of(call: Call) -> int:
    metadata = call.params["metadata"]
    assert metadata["event_type"] == NUDGE_EVENT_TYPE
    return int(metadata["event_payload"]["nudge_id"])


def block_texts(value: Any) -> str:
    """Every string in a Block Kit structure, joined: what a reader can see or click."""
    if isinstance(value, dict):
        return "\n".join(block_texts(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(block_texts(v) for v in value)
    return value if isinstance(value, str) else ""


def get(store: Store, item: ActionItem) -> ActionItem:
    fresh = store.items.get(item_id=item.id)
    assert fresh is not None
    return fresh


# --- next_working_moment, pure ----------------------------------------------------------


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (berlin(2026, 11, 25, 9, 0), berlin(2026, 11, 25, 9, 0)),  # Wednesday, opening time
        (berlin(2026, 11, 25, 12, 30), berlin(2026, 11, 25, 12, 30)),
        (berlin(2026, 11, 25, 17, 59), berlin(2026, 11, 25, 17, 59)),
        (berlin(2026, 11, 25, 0, 0), berlin(2026, 11, 25, 9, 0)),  # before 09:00: same day
        (berlin(2026, 11, 25, 8, 59), berlin(2026, 11, 25, 9, 0)),
        (berlin(2026, 11, 25, 18, 0), berlin(2026, 11, 26, 9, 0)),  # 18:00 is closed
        (berlin(2026, 11, 25, 23, 59), berlin(2026, 11, 26, 9, 0)),
        (berlin(2026, 11, 27, 18, 30), berlin(2026, 11, 30, 9, 0)),  # Friday evening → Monday
        (berlin(2026, 11, 28, 0, 0), berlin(2026, 11, 30, 9, 0)),  # Saturday
        (berlin(2026, 11, 28, 11, 0), berlin(2026, 11, 30, 9, 0)),
        (berlin(2026, 11, 29, 23, 59), berlin(2026, 11, 30, 9, 0)),  # Sunday
        (berlin(2026, 11, 30, 8, 0), berlin(2026, 11, 30, 9, 0)),  # Monday morning
    ],
)
def test_next_working_moment_in_berlin(local: datetime, expected: datetime) -> None:
    now = local.astimezone(UTC)  # the scan passes UTC instants
    moment = next_working_moment(now, BERLIN)
    assert moment == expected
    if expected == local:
        assert moment is now  # inside working hours the scan's own instant comes back


@pytest.mark.parametrize(
    ("now", "berlin_moment", "new_york_moment"),
    [
        # 15:32 in Berlin, 09:32 in New York: both at work.
        (utc(2026, 11, 27, 14, 32), utc(2026, 11, 27, 14, 32), utc(2026, 11, 27, 14, 32)),
        # 08:00 in Berlin (wait an hour), 02:00 in New York (wait until 09:00 EST = 14:00 UTC).
        (utc(2026, 11, 27, 7, 0), utc(2026, 11, 27, 8, 0), utc(2026, 11, 27, 14, 0)),
        # Friday 23:00 in Berlin (Monday 09:00 CET), 17:00 in New York (still at work).
        (utc(2026, 11, 27, 22, 0), utc(2026, 11, 30, 8, 0), utc(2026, 11, 27, 22, 0)),
        # Monday 00:30 UTC: already Monday in Berlin (09:00 CET), still Sunday in New York.
        (utc(2026, 11, 30, 0, 30), utc(2026, 11, 30, 8, 0), utc(2026, 11, 30, 14, 0)),
        # Saturday before Berlin's DST change: Monday 09:00 is CET, not CEST.
        (utc(2026, 10, 24, 10, 0), utc(2026, 10, 26, 8, 0), utc(2026, 10, 26, 13, 0)),
    ],
)
def test_next_working_moment_across_timezones(
    now: datetime, berlin_moment: datetime, new_york_moment: datetime
) -> None:
    assert next_working_moment(now, BERLIN) == berlin_moment
    assert next_working_moment(now, NEW_YORK) == new_york_moment
    for zone in (BERLIN, NEW_YORK):
        local = next_working_moment(now, zone).astimezone(zone)
        assert local.weekday() < 5 and time(9, 0) <= local.time() < time(18, 0)


# --- which items are nudged, and what the DM says ---------------------------------------


def test_only_the_due_open_item_gets_a_dm(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    due = add_item(store, incident, text="Fix the alert threshold")
    add_item(store, incident, due=NEXT_WEEK, text="Not yet due")
    done = add_item(store, incident, text="Already done")
    dropped = add_item(store, incident, text="Won't do")
    snoozed = add_item(store, incident, text="Snoozed")
    now = clock()
    store.items.update(item_id=done.id, actor_id="U_ALICE", now=now, change="done", status="done")
    store.items.update(
        item_id=dropped.id, actor_id="U_ALICE", now=now, change="dropped", status="dropped"
    )
    store.items.update(
        item_id=snoozed.id,
        actor_id="U_ALICE",
        now=now,
        change="snoozed",
        next_nudge_at=now + timedelta(days=1),
    )

    report = scanner()

    assert report.sent == [due.id] and not report.failed and not report.deferred
    opens = fake_slack.calls_to("conversations.open")
    assert [c.params["users"] for c in opens] == ["U_ALICE"]
    assert [c.method for c in fake_slack.calls if c.method != "users.info"] == [
        "conversations.open",
        "chat.postMessage",
    ]
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm.params["channel"] == DM["U_ALICE"]
    shown = block_texts(dm.params["blocks"])
    assert f"{due.short_id} is 7 days overdue" in shown
    assert "Fix the alert threshold" in shown
    assert incident.id in shown and "2026-11-20" in shown
    assert f"<#{incident.channel_id}>" in shown
    [actions] = [b for b in dm.params["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "nudge_mark_done",
        "nudge_snooze_day",
        "nudge_snooze_week",
    ]
    assert {e["value"] for e in actions["elements"]} == {str(due.id)}
    assert "overdue" in dm.params["text"] and due.short_id in dm.params["text"]

    [nudge] = store.nudges.for_item(item_id=due.id)
    assert nudge["status"] == "sent" and nudge["number"] == 1 and not nudge["escalate"]
    assert nudge_id_of(dm) == nudge["id"]
    assert (nudge["dm_channel"], nudge["dm_ts"]) == (DM["U_ALICE"], dm_ts(fake_slack, dm))
    fresh = get(store, due)
    assert fresh.nudge_count == 1 and fresh.next_nudge_at == now + timedelta(hours=24)
    for other in (done, dropped, snoozed):
        assert store.nudges.for_item(item_id=other.id) == []
        assert get(store, other).nudge_count == 0
    assert channel_posts(fake_slack, str(incident.channel_id)) == []  # no escalation yet


def dm_ts(fake: SlackStandIn, call: Call) -> str:
    """The ts Slack gave the message that ``call`` posted."""
    [message] = [
        m
        for m in fake.messages_in(call.params["channel"])
        if m.get("metadata") == call.params["metadata"]
    ]
    return str(message["ts"])


def test_snoozed_and_not_yet_due_items_are_nudged_when_their_time_comes(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    snoozed = add_item(store, incident, text="Snoozed")
    store.items.update(
        item_id=snoozed.id,
        actor_id="U_ALICE",
        now=clock(),
        change="snoozed",
        next_nudge_at=utc(2026, 11, 30, 10, 0),
    )
    later = add_item(store, incident, due=date(2026, 11, 29), text="Due Sunday")  # Mon 00:00

    assert scanner(ANYTIME).sent == []
    clock.now = utc(2026, 11, 29, 22, 59)  # Sunday 23:59 in Berlin
    assert scanner(ANYTIME).sent == []
    clock.now = utc(2026, 11, 29, 23, 0)  # Monday 00:00 in Berlin: overdue
    assert scanner(ANYTIME).sent == [later.id]
    clock.now = utc(2026, 11, 30, 9, 59)
    assert scanner(ANYTIME).sent == []
    clock.now = utc(2026, 11, 30, 10, 0)
    assert scanner(ANYTIME).sent == [snoozed.id]
    assert len(dms(fake_slack)) == 2


def test_a_dm_goes_to_each_owner(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn
) -> None:
    alices = add_item(store, incident, owner="U_ALICE")
    bobs = add_item(store, incident, owner="U_BOB", text="Rotate the keys")

    assert sorted(scanner().sent) == sorted([alices.id, bobs.id])

    [to_alice] = dms(fake_slack, "U_ALICE")
    [to_bob] = dms(fake_slack, "U_BOB")
    assert alices.short_id in to_alice.params["text"]
    assert bobs.short_id in to_bob.params["text"] and "Rotate the keys" in to_bob.params["text"]


@pytest.mark.parametrize("change", ["done", "snoozed"])
def test_an_item_changed_during_the_scan_is_not_nudged(
    change: str,
    scanner: Scanner,
    store: Store,
    incident: Incident,
    fake_slack: SlackStandIn,
    clock: FakeClock,
) -> None:
    item = add_item(store, incident)

    def click_then_answer(call: Call) -> dict[str, Any]:
        # The owner clicks while the scan looks up their timezone, after it read the item.
        fields: dict[str, Any] = (
            {"status": "done"}
            if change == "done"
            else {"next_nudge_at": clock() + timedelta(days=7)}
        )
        store.items.update(
            item_id=item.id, actor_id="U_ALICE", now=clock(), change=change, **fields
        )
        return {"ok": True, "user": fake_slack.users[call.params["user"]]}

    fake_slack.on("users.info", click_then_answer)

    report = scanner()

    assert fake_slack.calls_to("users.info"), "the scan should have looked the owner up"
    assert report.sent == [] and report.failed == []
    assert dms(fake_slack) == [] and store.nudges.for_item(item_id=item.id) == []
    assert get(store, item).nudge_count == 0


def test_a_snooze_during_a_night_scan_is_not_overwritten_by_the_deferral(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident, due=date(2026, 11, 25))
    clock.now = utc(2026, 11, 26, 2, 0)  # 03:00 in Berlin: the scan will defer to 09:00
    snoozed_until = utc(2026, 12, 3, 2, 0)

    def snooze_then_answer(call: Call) -> dict[str, Any]:
        store.items.update(
            item_id=item.id,
            actor_id="U_ALICE",
            now=clock(),
            change="snoozed",
            next_nudge_at=snoozed_until,
        )
        return {"ok": True, "user": fake_slack.users[call.params["user"]]}

    fake_slack.on("users.info", snooze_then_answer)

    report = scanner()

    assert report.deferred == [] and report.sent == []
    assert get(store, item).next_nudge_at == snoozed_until
    clock.now = utc(2026, 11, 26, 8, 0)  # 09:00 in Berlin: still snoozed
    assert scanner().sent == [] and dms(fake_slack) == []


# --- repeats and escalation --------------------------------------------------------------


def test_repeats_every_24_hours_and_escalates_once_on_the_third(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    channel = str(incident.channel_id)
    policy = NudgePolicy(repeat=timedelta(hours=24), escalate_after=3, anytime=True)

    assert scanner(policy).sent == [item.id]
    assert scanner(policy).sent == []  # same moment: nothing new
    clock.advance(hours=23, minutes=59)
    assert scanner(policy).sent == []
    assert len(dms(fake_slack)) == 1

    clock.advance(minutes=1)
    assert scanner(policy).sent == [item.id]
    assert scanner(policy).sent == []
    assert len(dms(fake_slack)) == 2 and channel_posts(fake_slack, channel) == []

    clock.advance(hours=24)
    assert scanner(policy).sent == [item.id]
    assert len(dms(fake_slack)) == 3
    [escalation] = channel_posts(fake_slack, channel)
    assert "<@U_ALICE>" in escalation.params["text"]  # the owner
    assert "<@U_BOB>" in escalation.params["text"]  # the commander
    assert item.short_id in escalation.params["text"]
    assert "3 reminders" in escalation.params["text"]
    assert get(store, item).escalated

    clock.advance(hours=24)
    assert scanner(policy).sent == [item.id]
    clock.advance(hours=24)
    assert scanner(policy).sent == [item.id]
    assert len(dms(fake_slack)) == 5
    assert len(channel_posts(fake_slack, channel)) == 1  # 4th and 5th nudges: DM only
    numbers = [
        (n["number"], n["escalate"], n["status"]) for n in store.nudges.for_item(item_id=item.id)
    ]
    assert numbers == [
        (1, 0, "sent"),
        (2, 0, "sent"),
        (3, 1, "sent"),
        (4, 0, "sent"),
        (5, 0, "sent"),
    ]


def test_repeat_interval_comes_from_the_policy(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    add_item(store, incident)
    policy = NudgePolicy(repeat=timedelta(hours=2), escalate_after=2, anytime=True)

    scanner(policy)
    clock.advance(hours=1, minutes=59)
    scanner(policy)
    assert len(dms(fake_slack)) == 1
    clock.advance(minutes=1)
    scanner(policy)
    assert len(dms(fake_slack)) == 2
    assert len(channel_posts(fake_slack, str(incident.channel_id))) == 1


# --- working hours -----------------------------------------------------------------------


def test_a_nudge_due_at_night_waits_for_09_00_in_each_owners_timezone(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    # Due Wednesday 25 November: overdue from Thursday 00:00 local.
    alices = add_item(store, incident, due=date(2026, 11, 25), owner="U_ALICE")
    bobs = add_item(store, incident, due=date(2026, 11, 25), owner="U_BOB")

    clock.now = utc(2026, 11, 26, 2, 0)  # 03:00 Thursday in Berlin
    report = scanner()
    assert report.deferred == [alices.id] and report.sent == []
    assert dms(fake_slack) == []
    assert get(store, alices).next_nudge_at == utc(2026, 11, 26, 8, 0)  # 09:00 Berlin

    clock.now = utc(2026, 11, 26, 7, 59)  # 08:59 in Berlin; 02:59 in New York, Bob overdue
    report = scanner()
    assert report.sent == [] and report.deferred == [bobs.id]
    assert get(store, bobs).next_nudge_at == utc(2026, 11, 26, 14, 0)  # 09:00 New York
    clock.now = utc(2026, 11, 26, 8, 0)  # 09:00 in Berlin
    report = scanner()
    assert report.sent == [alices.id] and report.deferred == []
    assert len(dms(fake_slack, "U_ALICE")) == 1 and dms(fake_slack, "U_BOB") == []

    clock.now = utc(2026, 11, 26, 13, 55)
    assert scanner().sent == []
    clock.now = utc(2026, 11, 26, 14, 3)  # the first scan after 09:00 in New York
    assert scanner().sent == [bobs.id]
    assert len(dms(fake_slack, "U_BOB")) == 1 and len(dms(fake_slack, "U_ALICE")) == 1


def test_weekend_nudges_wait_for_monday_morning(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    assert scanner().sent == [item.id]  # Friday 15:32 in Berlin
    clock.advance(hours=24)  # Saturday: the repeat is due, but not on a weekend
    assert scanner().deferred == [item.id]
    assert get(store, item).next_nudge_at == utc(2026, 11, 30, 8, 0)  # Monday 09:00 CET
    clock.now = utc(2026, 11, 29, 12, 0)
    assert scanner().sent == []
    clock.now = utc(2026, 11, 30, 8, 0)
    assert scanner().sent == [item.id]
    assert len(dms(fake_slack)) == 2


def test_anytime_sends_at_once(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident, due=date(2026, 11, 25))
    clock.now = utc(2026, 11, 26, 2, 0)  # 03:00 in Berlin
    report = scanner(ANYTIME)
    assert report.sent == [item.id] and report.deferred == []
    assert len(dms(fake_slack, "U_ALICE")) == 1
    clock.now = utc(2026, 11, 28, 22, 0)  # Saturday 23:00 in Berlin, a repeat is due
    assert scanner(ANYTIME).sent == [item.id]


# --- restarts and racing scanners ---------------------------------------------------------


def test_a_restart_between_scans_neither_repeats_nor_loses_a_nudge(
    store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    first = start_process(store.path, fake_slack, clock)
    assert first().sent == [item.id]
    first.store.close()

    second = start_process(store.path, fake_slack, clock)
    assert second().sent == []
    clock.advance(hours=1)
    assert second().sent == []
    clock.advance(hours=23)  # Saturday: the repeat is deferred to Monday, in the database
    assert second().deferred == [item.id]
    second.store.close()

    third = start_process(store.path, fake_slack, clock)
    clock.now = utc(2026, 11, 30, 7, 59)
    assert third().sent == []
    clock.now = utc(2026, 11, 30, 8, 0)  # Monday 09:00 in Berlin
    assert third().sent == [item.id]
    assert third().sent == []
    third.store.close()
    assert len(dms(fake_slack)) == 2
    assert [n["number"] for n in store.nudges.for_item(item_id=item.id)] == [1, 2]


def race(
    path: str | Path, fake: SlackStandIn, clock: FakeClock, policy: NudgePolicy, scanners: int = 2
) -> list[ScanReport]:
    """Run ``scanners`` processes' scans at the same instant, each in its own thread."""
    start = threading.Barrier(scanners)
    reports: list[ScanReport] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        process = start_process(path, fake, clock)
        try:
            start.wait(timeout=5)
            report = process(policy)
            with lock:
                reports.append(report)
        except BaseException as exc:  # surfaced to the test below
            with lock:
                errors.append(exc)
        finally:
            process.store.close()

    threads = [threading.Thread(target=run) for _ in range(scanners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a scanner hung"
    assert errors == []
    return reports


def test_two_scanners_racing_on_one_file_send_each_nudge_once(
    store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    items = [
        add_item(store, incident, owner=("U_ALICE", "U_BOB")[i % 2], text=f"Item {i}")
        for i in range(30)
    ]
    ids = sorted(i.id for i in items)

    reports = race(store.path, fake_slack, clock, WORKING_HOURS)
    sent = [item_id for r in reports for item_id in r.sent]
    assert sorted(sent) == ids  # each item by exactly one scanner
    assert len(dms(fake_slack)) == 30
    assert not any(r.failed for r in reports)

    clock.advance(hours=24)  # the repeats, raced again (anytime: it is Saturday)
    reports = race(store.path, fake_slack, clock, ANYTIME)
    assert sorted(item_id for r in reports for item_id in r.sent) == ids
    assert len(dms(fake_slack)) == 60
    nudge_ids = [nudge_id_of(c) for c in dms(fake_slack)]
    assert len(set(nudge_ids)) == 60
    for item in items:
        nudges = store.nudges.for_item(item_id=item.id)
        assert [(n["number"], n["status"]) for n in nudges] == [(1, "sent"), (2, "sent")]
        assert get(store, item).nudge_count == 2


# --- Slack failing, then recovering --------------------------------------------------------


def test_a_slack_5xx_beyond_the_clients_retries_is_retried_at_the_next_scan(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    # make_client retries a 5xx twice: three answers of 500 exhaust it.
    fake_slack.fail("chat.postMessage", status=500, times=3)

    report = scanner()

    assert report.failed == [item.id] and report.sent == []
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 3 and all(c.faulted for c in posts)
    assert fake_slack.messages_in(DM["U_ALICE"]) == []
    assert store.nudges.for_item(item_id=item.id) == []  # nothing recorded as sent
    fresh = get(store, item)
    assert fresh.nudge_count == 0 and fresh.next_nudge_at is not None
    assert fresh.next_nudge_at <= clock()

    report = scanner()  # the next scan, at the same instant

    assert report.sent == [item.id] and report.failed == []
    assert len(dms(fake_slack)) == 1 and len(fake_slack.messages_in(DM["U_ALICE"])) == 1
    [nudge] = store.nudges.for_item(item_id=item.id)
    assert nudge["status"] == "sent" and nudge["number"] == 1
    clock.advance(minutes=5)
    assert scanner().sent == []
    assert len(dms(fake_slack)) == 1


@pytest.mark.parametrize(
    "method", ["chat.postMessage", "conversations.open"], ids=["post", "open-dm"]
)
def test_a_slack_error_then_success_sends_exactly_once(
    method: str,
    scanner: Scanner,
    store: Store,
    incident: Incident,
    fake_slack: SlackStandIn,
    clock: FakeClock,
) -> None:
    item = add_item(store, incident)
    fake_slack.fail(method, error="internal_error")

    report = scanner()
    assert report.failed == [item.id] and report.sent == []
    assert dms(fake_slack) == [] and store.nudges.for_item(item_id=item.id) == []
    assert get(store, item).nudge_count == 0

    clock.advance(minutes=5)
    assert scanner().sent == [item.id]
    assert scanner().sent == []
    assert len(dms(fake_slack)) == 1


def test_a_failed_escalating_nudge_is_retried_with_its_escalation(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    channel = str(incident.channel_id)
    for _ in range(2):
        assert scanner(ANYTIME).sent == [item.id]
        clock.advance(hours=24)
    fake_slack.fail("chat.postMessage", error="internal_error")  # the 3rd nudge's DM

    assert scanner(ANYTIME).failed == [item.id]
    fresh = get(store, item)
    assert fresh.nudge_count == 2 and not fresh.escalated
    assert channel_posts(fake_slack, channel) == []

    clock.advance(minutes=5)
    assert scanner(ANYTIME).sent == [item.id]
    assert len(dms(fake_slack)) == 3 and len(channel_posts(fake_slack, channel)) == 1
    clock.advance(hours=24)
    assert scanner(ANYTIME).sent == [item.id]
    assert len(channel_posts(fake_slack, channel)) == 1


# --- a process that died between claiming and recording ------------------------------------


def claim(store: Store, item: ActionItem, now: datetime, *, escalate: bool = False) -> int:
    """Claim the item's due nudge as the scan would, then (like a crash) do nothing more."""
    fresh = get(store, item)
    nudge_id = store.nudges.claim(
        item=fresh, next_nudge_at=now + ANYTIME.repeat, escalate=escalate, now=now
    )
    assert nudge_id is not None
    return nudge_id


def test_a_stale_claim_is_sent_once_after_five_minutes(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    claimed_at = clock()
    nudge_id = claim(store, item, claimed_at)
    assert timedelta(minutes=5) == STALE_CLAIM

    clock.advance(minutes=4)
    assert scanner(ANYTIME) == ScanReport()  # a live claim: someone may be sending it
    clock.now = claimed_at + STALE_CLAIM
    assert scanner(ANYTIME) == ScanReport()  # exactly five minutes is not stale yet
    assert dms(fake_slack) == []

    clock.advance(seconds=1)
    report = scanner(ANYTIME)

    assert report.recovered == [item.id] and report.sent == []
    [history] = fake_slack.calls_to("conversations.history")
    assert history.params["channel"] == DM["U_ALICE"]
    assert history.params["include_all_metadata"] in ("1", "true", "True")
    [dm] = dms(fake_slack)
    assert nudge_id_of(dm) == nudge_id and item.short_id in dm.params["text"]
    [nudge] = store.nudges.for_item(item_id=item.id)
    assert nudge["status"] == "sent" and nudge["dm_ts"] == dm_ts(fake_slack, dm)
    assert get(store, item).nudge_count == 1

    clock.advance(minutes=10)
    assert scanner(ANYTIME) == ScanReport()
    assert len(dms(fake_slack)) == 1


def wall_clock(clock: FakeClock, *, hours_ago: float = 0) -> datetime:
    """Start the test clock from the real time: the fake stamps message ts from the wall clock,
    and the marker search looks only at messages newer than the claim (less 5 minutes)."""
    clock.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return clock.now


def test_a_stale_claim_whose_dm_reached_slack_is_recorded_not_resent(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    now = wall_clock(clock)
    nudge_id = claim(store, item, now)
    # The process posts the DM, then dies before recording it.
    channel, ts = NudgeSender(store, scanner.client).send(
        nudge_id=nudge_id, item=get(store, item), number=1, escalate=False, now=now
    )
    [message] = fake_slack.messages_in(DM["U_ALICE"])
    assert message["metadata"]["event_payload"]["nudge_id"] == nudge_id
    assert store.nudges.for_item(item_id=item.id)[0]["status"] == "claimed"

    clock.advance(minutes=6)
    report = scanner(ANYTIME)

    assert report.recovered == [item.id]
    assert len(dms(fake_slack)) == 1  # only the one sent before the crash
    assert fake_slack.calls_to("conversations.history")
    [nudge] = store.nudges.for_item(item_id=item.id)
    assert (nudge["status"], nudge["dm_channel"], nudge["dm_ts"]) == ("sent", channel, ts)
    clock.advance(minutes=10)
    assert scanner(ANYTIME) == ScanReport()
    assert len(dms(fake_slack)) == 1


def test_the_marker_of_an_earlier_nudge_does_not_count_as_this_one(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    # 25 hours back, so that nudge 1's DM (stamped now by the fake) falls inside the window
    # in which the recovery of nudge 2 looks for its marker.
    wall_clock(clock, hours_ago=25)
    assert scanner(ANYTIME).sent == [item.id]
    clock.advance(hours=24)
    second = claim(store, item, clock())

    clock.advance(minutes=6)
    report = scanner(ANYTIME)

    assert report.recovered == [item.id]
    first_dm, second_dm = dms(fake_slack)
    assert nudge_id_of(second_dm) == second != nudge_id_of(first_dm)
    assert [n["status"] for n in store.nudges.for_item(item_id=item.id)] == ["sent", "sent"]


def test_a_stale_claim_on_an_item_closed_meanwhile_is_not_sent(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    claim(store, item, clock())
    store.items.update(
        item_id=item.id, actor_id="U_ALICE", now=clock(), change="done", status="done"
    )

    clock.advance(minutes=6)
    report = scanner(ANYTIME)

    assert report.recovered == [] and dms(fake_slack) == []
    assert store.nudges.for_item(item_id=item.id) == []  # the claim is released
    assert get(store, item).status == "done"
    clock.advance(days=2)
    assert scanner(ANYTIME) == ScanReport()


def test_a_stale_claim_is_recovered_by_one_of_two_racing_scanners(
    store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    items = [add_item(store, incident, text=f"Item {i}") for i in range(5)]
    for item in items:
        claim(store, item, clock())
    clock.advance(minutes=6)

    reports = race(store.path, fake_slack, clock, ANYTIME)

    recovered = sorted(item_id for r in reports for item_id in r.recovered)
    assert recovered == sorted(i.id for i in items)
    assert len(dms(fake_slack)) == 5
    assert all(r.sent == [] for r in reports)


# --- the scan's query ----------------------------------------------------------------------


def test_the_scan_query_is_served_by_its_index(
    store: Store, incident: Incident, clock: FakeClock
) -> None:
    issued: list[str] = []
    # The store's own connection, to check that nudges.due runs the query explained below.
    store.connections.current().conn.set_trace_callback(issued.append)
    early = add_item(store, incident, due=date(2026, 11, 10))
    late = add_item(store, incident, due=date(2026, 11, 20))
    add_item(store, incident, due=NEXT_WEEK)
    closed = add_item(store, incident, due=date(2026, 11, 1))
    store.items.update(
        item_id=closed.id, actor_id="U_BOB", now=clock(), change="done", status="done"
    )
    issued.clear()

    assert [i.id for i in store.nudges.due(now=clock())] == [early.id, late.id]
    assert [i.id for i in store.nudges.due(now=clock(), limit=1)] == [early.id]
    # The trace shows the statement with its parameters bound.
    bound = SCAN_SQL.replace("?", "'2026-11-27T14:32:00+00:00'", 1).replace("?", "500")
    assert bound in issued, issued

    with sqlite3.connect(store.path) as db:
        plan = db.execute(f"EXPLAIN QUERY PLAN {SCAN_SQL}", ["2026-11-27", 500]).fetchall()
    details = " | ".join(row[3] for row in plan)
    assert "USING INDEX action_items_to_nudge" in details
    assert "TEMP B-TREE" not in details  # the index also gives the order
    assert "SCAN action_items" not in details


def test_a_stale_escalating_claim_is_recovered_with_its_escalation(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    store.items.update(item_id=item.id, actor_id="U_BOB", now=clock(), change="test", nudge_count=2)
    nudge_id = claim(store, item, clock(), escalate=True)

    clock.advance(minutes=6)
    assert scanner(ANYTIME).recovered == [item.id]
    clock.advance(minutes=5)
    assert scanner(ANYTIME) == ScanReport()

    [dm] = dms(fake_slack)
    assert nudge_id_of(dm) == nudge_id
    [escalation] = channel_posts(fake_slack, str(incident.channel_id))
    assert "<@U_ALICE>" in escalation.params["text"] and "<@U_BOB>" in escalation.params["text"]


def test_an_escalation_left_behind_after_its_dm_is_posted_once(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    store.items.update(item_id=item.id, actor_id="U_BOB", now=clock(), change="test", nudge_count=2)
    nudge_id = claim(store, item, clock(), escalate=True)
    # The DM goes out and is recorded; the process dies before the escalation.
    channel, ts = NudgeSender(store, scanner.client).send(
        nudge_id=nudge_id, item=get(store, item), number=3, escalate=True, now=clock()
    )
    store.nudges.mark_sent(nudge_id=nudge_id, dm_channel=channel, dm_ts=ts, now=clock())
    assert channel_posts(fake_slack, str(incident.channel_id)) == []

    clock.advance(minutes=5)
    assert scanner(ANYTIME) == ScanReport()
    assert scanner(ANYTIME) == ScanReport()

    assert len(dms(fake_slack)) == 1
    [escalation] = channel_posts(fake_slack, str(incident.channel_id))
    assert item.short_id in escalation.params["text"] and "3 reminders" in escalation.params["text"]


def test_racing_scanners_escalate_each_item_once(
    store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    items = [add_item(store, incident, text=f"Item {i}") for i in range(10)]
    for item in items:  # two reminders already went out
        store.items.update(
            item_id=item.id, actor_id="U_BOB", now=clock(), change="test", nudge_count=2
        )

    reports = race(store.path, fake_slack, clock, NudgePolicy(escalate_after=3), scanners=3)

    assert sorted(i for r in reports for i in r.sent) == sorted(i.id for i in items)
    assert len(dms(fake_slack)) == 10
    posts = channel_posts(fake_slack, str(incident.channel_id))
    assert sorted(p.params["text"].split()[1] for p in posts) == sorted(i.short_id for i in items)


# --- regressions: bugs these tests found ---------------------------------------------------


def test_an_item_whose_due_date_changed_after_a_nudge_is_nudged_again(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    assert scanner(ANYTIME).sent == [item.id]
    # What `/action due AI-n 2026-11-25` stores (bot/listeners/actions.py, _change).
    due_at = overdue_from(date(2026, 11, 25), BERLIN)
    store.items.update(
        item_id=item.id,
        actor_id="U_BOB",
        now=clock(),
        change="due",
        detail="2026-11-25",
        due_date="2026-11-25",
        due_at=due_at,
        next_nudge_at=due_at,
        nudge_count=0,
        escalated=0,
    )
    behind = add_item(store, incident, due=date(2026, 11, 26), text="Due later, scanned after")

    clock.advance(minutes=5)
    report = scanner(ANYTIME)

    assert sorted(report.sent) == sorted([item.id, behind.id])
    assert len(dms(fake_slack)) == 3
    assert get(store, item).nudge_count == 1
    for _ in range(2):  # the count restarted, so the third reminder after the change escalates
        clock.advance(hours=24)
        assert item.id in scanner(ANYTIME).sent
    posts = channel_posts(fake_slack, str(incident.channel_id))
    assert len([p for p in posts if f"{item.short_id} is" in p.params["text"]]) == 1


def test_a_failed_escalation_is_posted_by_a_later_scan(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    channel = str(incident.channel_id)
    refused: list[Call] = []

    def post(call: Call) -> dict[str, Any]:
        target = call.params["channel"]
        if target == channel and not refused:
            refused.append(call)
            return {"ok": False, "error": "internal_error"}
        return {"ok": True, "channel": target, "ts": fake_slack.next_ts()}

    fake_slack.on("chat.postMessage", post)
    for _ in range(3):
        assert scanner(ANYTIME).sent == [item.id]
        clock.advance(hours=24)
    assert len(refused) == 1  # the 3rd nudge's escalation was refused once

    def escalations() -> list[Call]:
        return [
            c
            for c in fake_slack.calls_to("chat.postMessage")
            if c.params["channel"] == channel and c not in refused
        ]

    clock.now -= timedelta(hours=24) - timedelta(minutes=5)  # the next scan after the 3rd
    assert scanner(ANYTIME) == ScanReport()
    assert len(escalations()) == 1 and len(dms(fake_slack)) == 3
    assert "3 reminders" in escalations()[0].params["text"]
    clock.advance(hours=24)
    assert scanner(ANYTIME).sent == [item.id]
    assert len(escalations()) == 1 and len(dms(fake_slack)) == 4


def test_a_failed_escalation_is_dropped_once_the_item_is_done(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    channel = str(incident.channel_id)
    for _ in range(2):
        scanner(ANYTIME)
        clock.advance(hours=24)
    refused: list[Call] = []

    def post(call: Call) -> dict[str, Any]:
        if call.params["channel"] == channel and not refused:
            refused.append(call)
            return {"ok": False, "error": "internal_error"}
        return {"ok": True, "channel": call.params["channel"], "ts": fake_slack.next_ts()}

    fake_slack.on("chat.postMessage", post)
    assert scanner(ANYTIME).sent == [item.id]
    assert len(refused) == 1
    store.items.update(
        item_id=item.id, actor_id="U_ALICE", now=clock(), change="done", status="done"
    )

    clock.advance(minutes=5)
    scanner(ANYTIME)

    assert [
        c
        for c in fake_slack.calls_to("chat.postMessage")
        if c.params["channel"] == channel and c not in refused
    ] == []


@pytest.mark.xfail(
    strict=True,
    reason=(
        "claim_escalation writes escalation_sent_at before posting and nothing ever treats an "
        "old claim as stale: a process that dies between claiming and posting the escalation "
        "loses it for good (the DM path recovers the same crash through its marker)"
    ),
)
def test_an_escalation_claimed_by_a_process_that_died_is_posted_later(
    scanner: Scanner, store: Store, incident: Incident, fake_slack: SlackStandIn, clock: FakeClock
) -> None:
    item = add_item(store, incident)
    store.items.update(item_id=item.id, actor_id="U_BOB", now=clock(), change="test", nudge_count=2)
    nudge_id = claim(store, item, clock(), escalate=True)
    channel, ts = NudgeSender(store, scanner.client).send(
        nudge_id=nudge_id, item=get(store, item), number=3, escalate=True, now=clock()
    )
    store.nudges.mark_sent(nudge_id=nudge_id, dm_channel=channel, dm_ts=ts, now=clock())
    assert store.nudges.claim_escalation(nudge_id=nudge_id, now=clock())  # ...and the process dies

    for minutes in (6, 60, 24 * 60):
        clock.advance(minutes=minutes)
        scanner(ANYTIME)

    assert len(channel_posts(fake_slack, str(incident.channel_id))) == 1
