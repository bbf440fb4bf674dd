"""Pure incident rules: IDs, channel names, severities, milestones and metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain import (
    KIND_ALIASES,
    KINDS,
    TYPED_KINDS,
    Incident,
    Milestones,
    ResponseMetrics,
    TimelineEntry,
    allocate_incident_id,
    channel_name_for,
    format_duration,
    incident_id_base,
    milestones,
    normalize_severity,
    response_metrics,
)

START = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """``minutes`` after the incident was declared."""
    return START + timedelta(minutes=minutes)


INCIDENT = Incident(
    id="INCIDENT-20261127-1432",
    title="Checkout API returning 500s",
    severity="SEV2",
    status="investigating",
    commander_id="U1",
    started_at=START,
)


def make_incident(**overrides: Any) -> Incident:
    return replace(INCIDENT, **overrides)


def make_entry(entry_id: int, kind: str, when: datetime) -> TimelineEntry:
    return TimelineEntry(
        id=entry_id,
        incident_id="INCIDENT-20261127-1432",
        at=when,
        kind=kind,
        text=f"{kind} #{entry_id}",
        actor_id="U1",
        actor_name="alice",
        source="command",
    )


# --- IDs and names ----------------------------------------------------------------------------


def test_incident_id_base_from_utc() -> None:
    assert incident_id_base(START) == "INCIDENT-20261127-1432"


def test_incident_id_base_ignores_seconds() -> None:
    assert incident_id_base(START + timedelta(seconds=59)) == "INCIDENT-20261127-1432"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # 15:32 CET is 14:32 UTC.
        (
            datetime(2026, 11, 27, 15, 32, tzinfo=ZoneInfo("Europe/Berlin")),
            "INCIDENT-20261127-1432",
        ),
        # 21:10 EST on the 27th is already the 28th in UTC.
        (
            datetime(2026, 11, 27, 21, 10, tzinfo=ZoneInfo("America/New_York")),
            "INCIDENT-20261128-0210",
        ),
        # Summer time in Berlin: 00:05 CEST on 1 July is 22:05 UTC on 30 June.
        (datetime(2026, 7, 1, 0, 5, tzinfo=ZoneInfo("Europe/Berlin")), "INCIDENT-20260630-2205"),
    ],
)
def test_incident_id_base_converts_to_utc(local: datetime, expected: str) -> None:
    assert incident_id_base(local) == expected


def test_allocate_incident_id() -> None:
    base = "INCIDENT-20261127-1432"
    assert allocate_incident_id(base, set()) == base
    assert allocate_incident_id(base, {"INCIDENT-20261127-1431"}) == base
    assert allocate_incident_id(base, {base}) == f"{base}-2"
    assert allocate_incident_id(base, {base, f"{base}-2"}) == f"{base}-3"
    assert allocate_incident_id(base, frozenset({base, f"{base}-2", f"{base}-3"})) == f"{base}-4"


def test_allocate_incident_id_fills_the_first_gap() -> None:
    base = "INCIDENT-20261127-1432"
    assert allocate_incident_id(base, {base, f"{base}-3"}) == f"{base}-2"


def test_allocated_ids_in_sequence_are_unique() -> None:
    base = "INCIDENT-20261127-1432"
    taken: set[str] = set()
    for _ in range(5):
        taken.add(allocate_incident_id(base, taken))
    assert taken == {base, f"{base}-2", f"{base}-3", f"{base}-4", f"{base}-5"}


def test_channel_name_for() -> None:
    assert channel_name_for("INCIDENT-20261127-1432") == "incident-20261127-1432"
    assert channel_name_for("INCIDENT-20261127-1432-2") == "incident-20261127-1432-2"
    assert channel_name_for("INCIDENT-20261127-1432", attempt=1) == "incident-20261127-1432"
    assert channel_name_for("INCIDENT-20261127-1432", attempt=2) == "incident-20261127-1432-2"
    assert channel_name_for("INCIDENT-20261127-1432", attempt=3) == "incident-20261127-1432-3"


def test_channel_names_are_valid_slack_names() -> None:
    # Slack: lower case, no spaces or periods, at most 80 characters.
    name = channel_name_for("INCIDENT-20261127-1432-12", attempt=9)
    assert name == name.lower()
    assert " " not in name and "." not in name
    assert len(name) <= 80


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("sev1", "SEV1"),
        ("SEV2", "SEV2"),
        ("Sev3", "SEV3"),
        ("sev-4", "SEV4"),
        ("SEV-1", "SEV1"),
        (" sev2 ", "SEV2"),
        ("sev5", None),
        ("sev0", None),
        ("sev", None),
        ("sev--1", None),
        ("severity1", None),
        ("2", None),
        ("", None),
        ("checkout", None),
    ],
)
def test_normalize_severity(word: str, expected: str | None) -> None:
    assert normalize_severity(word) == expected


def test_every_alias_names_a_known_kind() -> None:
    assert set(KIND_ALIASES.values()) <= set(KINDS)
    for kind in TYPED_KINDS:
        assert KIND_ALIASES[kind] == kind
    assert "pin" not in KIND_ALIASES


def test_entry_kind_info_falls_back_to_note() -> None:
    assert make_entry(1, "detected", START).kind_info.label == "Detection"
    assert make_entry(2, "mystery", START).kind_info == KINDS["note"]


def test_incident_is_active_until_resolved() -> None:
    assert make_incident().is_active
    assert not make_incident(status="resolved").is_active


# --- milestones -------------------------------------------------------------------------------


def test_milestones_with_no_entries() -> None:
    assert milestones(make_incident(), []) == Milestones(
        started=START, detected=None, acknowledged=None, mitigated=None, resolved=None
    )


def test_started_is_the_first_trigger_when_there_is_one() -> None:
    trigger = at(-20)
    m = milestones(
        make_incident(), [make_entry(1, "note", at(-30)), make_entry(2, "trigger", trigger)]
    )
    assert m.started == trigger


def test_started_falls_back_to_the_incident_start_without_a_trigger() -> None:
    m = milestones(make_incident(), [make_entry(1, "detected", at(-5))])
    assert m.started == START
    assert m.detected == at(-5)


def test_first_of_each_kind_wins_whatever_the_insertion_order() -> None:
    entries = [
        make_entry(1, "resolved", at(120)),
        make_entry(2, "trigger", at(-10)),
        make_entry(3, "mitigated", at(60)),
        make_entry(4, "acknowledged", at(8)),
        make_entry(5, "detected", at(5)),
        make_entry(6, "trigger", at(-25)),  # recorded later, happened earlier
        make_entry(7, "detected", at(2)),
        make_entry(8, "acknowledged", at(4)),
        make_entry(9, "mitigated", at(45)),
        make_entry(10, "resolved", at(90)),
        make_entry(11, "note", at(-60)),
    ]
    expected = Milestones(
        started=at(-25),
        detected=at(2),
        acknowledged=at(4),
        mitigated=at(45),
        resolved=at(120),  # the LAST resolution ends the incident (issue 10)
        started_from="trigger",
    )
    assert milestones(make_incident(), entries) == expected
    assert milestones(make_incident(), list(reversed(entries))) == expected


def test_resolved_falls_back_to_the_incident_resolved_time() -> None:
    resolved_at = at(200)
    incident = make_incident(status="resolved", resolved_at=resolved_at)
    assert milestones(incident, []).resolved == resolved_at
    assert milestones(incident, [make_entry(1, "resolved", at(150))]).resolved == at(150)


def test_milestones_compare_instants_not_zones() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    early = datetime(2026, 11, 27, 15, 40, tzinfo=berlin)  # 14:40 UTC
    late = datetime(2026, 11, 27, 14, 50, tzinfo=UTC)
    m = milestones(
        make_incident(), [make_entry(1, "detected", late), make_entry(2, "detected", early)]
    )
    assert m.detected == early


# --- metrics ----------------------------------------------------------------------------------


def test_response_metrics_from_the_milestones() -> None:
    m = Milestones(
        started=at(0), detected=at(5), acknowledged=at(12), mitigated=at(47), resolved=at(125)
    )
    assert response_metrics(m) == ResponseMetrics(
        time_to_detect=timedelta(minutes=5),
        time_to_acknowledge=timedelta(minutes=7),
        time_to_mitigate=timedelta(minutes=35),
        time_to_resolve=timedelta(minutes=125),
    )


def test_response_metrics_are_none_where_a_milestone_is_missing() -> None:
    m = Milestones(started=at(0), detected=None, acknowledged=at(12), mitigated=None, resolved=None)
    assert response_metrics(m) == ResponseMetrics(
        time_to_detect=None, time_to_acknowledge=None, time_to_mitigate=None, time_to_resolve=None
    )


def test_response_metrics_from_entries_end_to_end() -> None:
    entries = [
        make_entry(1, "trigger", at(-10)),
        make_entry(2, "detected", at(-4)),
        make_entry(3, "acknowledged", at(1)),
        make_entry(4, "mitigated", at(31)),
    ]
    metrics = response_metrics(milestones(make_incident(), entries))
    assert metrics.time_to_detect == timedelta(minutes=6)
    assert metrics.time_to_acknowledge == timedelta(minutes=5)
    assert metrics.time_to_mitigate == timedelta(minutes=30)
    assert metrics.time_to_resolve is None


# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "0 hours 0 minutes"),
        (timedelta(minutes=5), "0 hours 5 minutes"),
        (timedelta(minutes=1), "0 hours 1 minute"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute"),
        (timedelta(hours=2), "2 hours 0 minutes"),
        (timedelta(hours=1, minutes=59, seconds=59), "1 hour 59 minutes"),  # rounds down
        (timedelta(seconds=59), "0 hours 0 minutes"),
        (timedelta(days=1, hours=3, minutes=15), "27 hours 15 minutes"),
    ],
)
def test_format_duration(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected
