"""The pure decisions behind `/incident role|sev|status|resolve` and `/timeline`'s warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import lifecycle
from bot.domain import Incident, TimelineEntry, new_order_problems
from bot.parsing import UsageError

START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
INCIDENT = Incident("INCIDENT-20261127-1400", "Checkout 500s", "SEV2", "investigating", "U1", START)


def entry(n: int, kind: str, minutes: int) -> TimelineEntry:
    at = START + timedelta(minutes=minutes)
    return TimelineEntry(n, INCIDENT.id, at, kind, kind, "U1", None, "command")


def test_a_role_records_no_entry_and_only_the_commander_refreshes_the_channel() -> None:
    scribe = lifecycle.plan_role_change(INCIDENT, "scribe <@U_CAROL|carol>")
    assert scribe == lifecycle.Change("👤 <@U_CAROL> is now the scribe.", {"scribe_id": "U_CAROL"})
    commander = lifecycle.plan_role_change(INCIDENT, "Commander <@U_BOB>")
    assert commander.columns == {"commander_id": "U_BOB"}
    assert commander.entry is None and commander.refresh_channel
    with pytest.raises(UsageError, match="Name the role and the person"):
        lifecycle.plan_role_change(INCIDENT, "scribe carol")


def test_plan_change_sends_each_subcommand_to_its_plan() -> None:
    assert lifecycle.plan_change("role", INCIDENT, "comms <@U_D>", START).columns == {
        "comms_id": "U_D"
    }
    assert lifecycle.plan_change("sev", INCIDENT, "sev1", START).columns == {"severity": "SEV1"}
    status = lifecycle.plan_change("status", INCIDENT, "mitigated", START)
    assert status.columns == {"status": "mitigated"}
    resolve = lifecycle.plan_change("resolve", INCIDENT, "rolled back", START)
    assert resolve.columns == {"status": "resolved", "resolved_at": START}
    assert resolve.fields == {"resolution": "rolled back"}
    closed = replace(INCIDENT, status="resolved", resolved_at=START)
    with pytest.raises(UsageError, match="already resolved"):
        lifecycle.plan_change("resolve", closed, "", START)


def test_only_the_problems_a_new_entry_brings_are_warned_about() -> None:
    before = [entry(1, "detected", 30), entry(2, "acknowledged", 20)]  # already out of order
    after = [*before, entry(3, "mitigated", 10)]
    problems = new_order_problems(INCIDENT, before, after)
    assert problems == [
        "mitigated (2026-11-27 14:10 UTC) is before detected (2026-11-27 14:30 UTC)"
    ]
    assert new_order_problems(INCIDENT, before, before) == []
    assert new_order_problems(INCIDENT, [], [entry(1, "detected", 30)]) == []
