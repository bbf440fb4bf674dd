"""The App Home tab: the pure view builder, and app_home_opened through the real app."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot import blocks
from bot.domain import ActionItem, Incident
from bot.harness import wire
from bot.store import Store
from tests.conftest import FakeClock, SlackDriver

NOW = datetime(2026, 11, 27, 16, 47, tzinfo=UTC)


def incident(n: int = 1, **changes: Any) -> Incident:
    values: dict[str, Any] = {
        "id": f"INCIDENT-20261127-14{n:02d}",
        "title": f"Checkout API returning 500s ({n})",
        "severity": "SEV2",
        "status": "investigating",
        "commander_id": "U_ALICE",
        "started_at": NOW - timedelta(hours=2, minutes=15),
        "channel_id": f"C{n:04d}",
        "channel_name": f"incident-20261127-14{n:02d}",
    }
    return Incident(**{**values, **changes})


def item(n: int, due_at: datetime, status: str = "open", text: str = "") -> ActionItem:
    return ActionItem(
        id=n,
        incident_id="INCIDENT-20261127-1401",
        text=text or f"Fix thing {n}",
        owner_id="U_ALICE",
        horizon="immediate",
        due_date=(due_at - timedelta(days=1)).date().isoformat(),
        due_at=due_at,
        verification=None,
        status=status,
    )


def texts(view: dict[str, Any]) -> list[str]:
    """Every text of the view, block by block, in order."""
    found = []
    for block in view["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(element["text"] for element in block.get("elements", []))
    return found


def test_open_incidents_show_severity_status_age_and_channel_link() -> None:
    view = blocks.home_view([incident(1), incident(2, status="resolved", resolved_at=NOW)], [], NOW)
    assert view["type"] == "home"
    shown = texts(view)
    assert shown[0] == "🚨 Open incidents (1)"
    row = shown[1]
    assert "*SEV2*" in row and "Investigating" in row
    assert "open 2h 15m" in row
    assert "<#C0001>" in row and "`INCIDENT-20261127-1401`" in row
    assert not any("INCIDENT-20261127-1402" in text for text in shown)


def test_an_incident_open_for_days_and_one_without_a_channel() -> None:
    view = blocks.home_view(
        [incident(1, started_at=NOW - timedelta(days=2, hours=3, minutes=4), channel_id=None)],
        [],
        NOW,
    )
    assert "open 2d 3h 04m · no channel yet" in texts(view)[1]


def test_the_viewers_items_come_overdue_first_and_only_open_ones() -> None:
    later = item(1, NOW + timedelta(days=3))
    overdue = item(2, NOW - timedelta(days=2))
    done = item(3, NOW - timedelta(days=5), status="done")
    shown = texts(blocks.home_view([], [later, overdue, done], NOW))
    start = shown.index("📋 Your open action items (2)")
    assert shown[start + 1].startswith("*AI-2* ⚠️ Overdue")
    assert shown[start + 2].startswith("*AI-1* ⏳ Open")
    assert "`INCIDENT-20261127-1401`" in shown[start + 1]
    assert not any("AI-3" in text for text in shown)


def test_empty_home_says_so() -> None:
    shown = texts(blocks.home_view([], [], NOW))
    assert shown[0] == "🚨 Open incidents (0)"
    assert shown[1].startswith("No open incidents. Declare one with `/incident start")
    assert "Nothing assigned to you is open." in shown
    assert shown[-1] == "As of 2026-11-27 16:47 UTC, when you opened this tab."


def test_long_lists_stay_within_block_kit_limits_and_say_how_many_more() -> None:
    incidents = [incident(n, title="x" * 5000) for n in range(1, 201)]
    items = [item(n, NOW + timedelta(hours=n), text="y" * 5000) for n in range(1, 151)]
    view = blocks.home_view(incidents, items, NOW)
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    shown = texts(view)
    assert f"…and {200 - blocks.HOME_MAX_INCIDENTS} more" in shown
    assert f"…and {150 - blocks.HOME_MAX_ITEMS} more" in shown
    assert "Open incidents (200)" in shown[0]


# --- through the real app ---------------------------------------------------------------------


def seed(store: Store, clock: FakeClock) -> str:
    created, _ = store.incidents.create(
        title="Checkout API returning 500s",
        severity="SEV2",
        commander_id="U_ALICE",
        started_at=clock.now - timedelta(hours=2, minutes=15),
        channel_id="C_INC",
        channel_name="incident-checkout",
    )
    for text, due in (
        ("Add a canary stage", date(2026, 12, 4)),
        ("Page on 5xx", date(2026, 11, 20)),
    ):
        store.items.add(
            incident_id=created.id,
            text=text,
            owner_id="U_ALICE",
            horizon="immediate",
            due_date=due,
            due_at=datetime.combine(due + timedelta(days=1), datetime.min.time(), UTC),
            verification=None,
            actor_id="U_ALICE",
            now=clock.now,
        )
    return created.id


def test_opening_the_home_tab_publishes_incidents_and_overdue_items_first(
    slack: SlackDriver, store: Store, clock: FakeClock
) -> None:
    incident_id = seed(store, clock)
    response = slack.event(wire.app_home_opened("U_ALICE"))
    assert response.status == 200
    call = slack.fake.wait_for("views.publish")[0]
    assert call.params["user_id"] == "U_ALICE"
    view = call.params["view"]
    assert view["type"] == "home"
    shown = texts(view)
    row = next(text for text in shown if incident_id in text)
    assert "<#C_INC>" in row and "SEV2" in row and "open 2h 15m" in row
    items = [text for text in shown if text.startswith("*AI-")]
    assert [text.split()[0] for text in items] == ["*AI-2*", "*AI-1*"]
    assert "⚠️ Overdue" in items[0] and "Page on 5xx" in items[0]
    assert "home:U_ALICE" in slack.fake.views  # the fake accepted it as a valid home view


def test_the_messages_tab_is_acknowledged_and_left_alone(
    slack: SlackDriver, store: Store, clock: FakeClock
) -> None:
    seed(store, clock)
    response = slack.event(wire.app_home_opened("U_ALICE", tab="messages"))
    assert response.status == 200
    slack.app.listener_runner.listener_executor.shutdown(wait=True)  # lazy work is done
    assert slack.fake.calls_to("views.publish") == []
