"""Deciding where an alert goes, what it writes, and how the channel shows it (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain import Incident, TimelineEntry
from bot.hooks import alertmanager, opsgenie, pagerduty
from bot.hooks.autodeclare import parse_rules
from bot.hooks.linking import (
    Declare,
    Linked,
    Unlinked,
    decide,
    detected_entry,
    entries_for,
    link_keys,
)
from bot.hooks.render import delivery_message, unlinked_line
from bot.parsing import UsageError, parse_link

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
RECEIVED = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)
OPEN = Incident(
    id="INCIDENT-20261127-1400",
    title="Checkout down",
    severity="SEV2",
    status="investigating",
    commander_id="U1",
    started_at=RECEIVED,
    channel_id="C1",
    channel_name="incident-20261127-1400",
)
RESOLVED_INCIDENT = replace(OPEN, id="INCIDENT-20261126-0900", status="resolved")


def event(path: str, **changes):
    parse = {
        "alertmanager": alertmanager.parse,
        "pagerduty": pagerduty.parse,
        "opsgenie": opsgenie.parse,
    }[path.split("/")[0]]
    ev = parse((FIXTURES / path).read_bytes(), received_at=RECEIVED).events[0]
    return replace(ev, **changes)


def nothing(*_args):
    return None


def test_the_alert_naming_its_incident_wins():
    ev = event("alertmanager/firing.json", incident_ref="incident-20261127-1400")
    seen = []

    def find(ref):
        seen.append(ref)
        return OPEN

    decision = decide(
        ev, find_incident=find, find_link=nothing, rules=parse_rules("severity=critical:sev1")
    )
    assert decision == Linked(OPEN, "named") and seen == ["incident-20261127-1400"]


def test_a_name_no_incident_has_falls_through_to_the_group_link():
    ev = event("alertmanager/firing.json", incident_ref="INCIDENT-19990101-0000")
    decision = decide(ev, find_incident=nothing, find_link=lambda s, k: OPEN, rules=())
    assert decision == Linked(OPEN, "group")


def test_group_link_looked_up_by_group_then_id_then_name():
    ev = event("pagerduty/incident_triggered.json")
    asked = []
    decide(ev, find_incident=nothing, find_link=lambda s, k: asked.append((s, k)), rules=())
    assert asked == [("pagerduty", ["PGR0VU2", "A little bump in the road"])]
    am = event("alertmanager/firing.json")
    assert link_keys(am) == [am.group_key, "1a30ba71cca2921f", "ProbeFailure"]


def test_auto_declare_when_rules_match_and_nothing_links():
    ev = event("alertmanager/firing.json")
    decision = decide(
        ev,
        find_incident=nothing,
        find_link=nothing,
        rules=parse_rules("severity=warning:sev3,severity=critical:sev1"),
    )
    assert isinstance(decision, Declare)
    assert decision.severity == "SEV1"
    assert decision.title == "ProbeFailure: BlackBox Probe Failure: https://server.example.org"
    assert "Alertmanager" in decision.reason and "AUTO_DECLARE" in decision.reason
    assert "severity=critical" in decision.reason


def test_pagerduty_urgency_rule():
    ev = event("pagerduty/incident_triggered.json")
    decision = decide(
        ev, find_incident=nothing, find_link=nothing, rules=parse_rules("urgency=high:sev2")
    )
    assert isinstance(decision, Declare) and decision.severity == "SEV2"


def test_unmatched_is_unlinked():
    ev = event("alertmanager/firing.json")
    assert (
        decide(
            ev, find_incident=nothing, find_link=nothing, rules=parse_rules("severity=page:sev1")
        )
        == Unlinked()
    )
    assert decide(ev, find_incident=nothing, find_link=nothing, rules=()) == Unlinked()


def test_a_resolution_never_declares():
    ev = event("alertmanager/resolved.json")
    rules = parse_rules("severity=critical:sev1")
    assert decide(ev, find_incident=nothing, find_link=nothing, rules=rules) == Unlinked()


def test_one_open_incident_per_group():
    rules = parse_rules("severity=critical:sev1")
    firing = event("alertmanager/firing.json")
    # the group's incident was resolved: a new firing declares a new incident
    again = decide(
        firing, find_incident=nothing, find_link=lambda s, k: RESOLVED_INCIDENT, rules=rules
    )
    assert isinstance(again, Declare)
    # but its resolution still lands on the incident it belonged to
    resolved = event("alertmanager/resolved.json")
    follows = decide(
        resolved, find_incident=nothing, find_link=lambda s, k: RESOLVED_INCIDENT, rules=rules
    )
    assert follows == Linked(RESOLVED_INCIDENT, "group")


def test_entries_for_each_kind():
    (trigger,) = entries_for(event("alertmanager/firing.json"))
    assert (trigger.kind, trigger.actor_name) == ("trigger", "System")
    assert trigger.at == datetime(2023, 2, 6, 13, 8, 45, 828000, tzinfo=UTC)
    assert trigger.permalink.startswith("http://prometheus.example.org:9090/")
    assert trigger.text == "ProbeFailure: BlackBox Probe Failure: https://server.example.org"

    (ack,) = entries_for(event("pagerduty/incident_acknowledged.json"))
    assert (ack.kind, ack.actor_name) == ("acknowledged", "PIG 208")
    assert ack.at == datetime(2021, 6, 4, 13, 55, 30, 394000, tzinfo=UTC)

    (resolved,) = entries_for(event("alertmanager/resolved.json"))
    assert resolved.kind == "note" and resolved.text.startswith("alert resolved")

    (note,) = entries_for(event("pagerduty/incident_escalated.json"))
    assert note.kind == "note" and "escalated to Harsh Santwani" in note.text

    (og_ack,) = entries_for(event("opsgenie/acknowledge.json"))
    assert (og_ack.kind, og_ack.actor_name) == ("acknowledged", "fili@ifountain.com")

    detected = detected_entry("alertmanager", RECEIVED)
    assert (detected.kind, detected.at, detected.actor_name) == ("detected", RECEIVED, "System")


def _entry(n, **kw):
    base = dict(
        id=n,
        incident_id=OPEN.id,
        at=datetime(2026, 11, 27, 14, n, tzinfo=UTC),
        kind="trigger",
        text=f"Alert {n} &lt;b&gt;",
        actor_id=None,
        actor_name="System",
        source="alert",
        permalink="https://example.org/x",
    )
    base.update(kw)
    return TimelineEntry(**base)


def test_several_entries_are_one_compact_message():
    text = delivery_message(
        "grafana", [_entry(1), _entry(2, kind="acknowledged", actor_name="Ann")]
    )
    lines = text.splitlines()
    assert lines[0] == "🔔 Grafana · 2 timeline entries"
    assert lines[1] == "• *Initial trigger* 14:01 UTC: <https://example.org/x|Alert 1 &lt;b&gt;>"
    assert lines[2].startswith("• *Acknowledged* 14:02 UTC by Ann: ")
    who = delivery_message("pagerduty", [_entry(3, kind="acknowledged", actor_name="<!here>")])
    assert "by &lt;!here&gt;:" in who


def test_a_huge_delivery_is_summarised():
    text = delivery_message("alertmanager", [_entry(n % 60, id=n) for n in range(45)])
    assert len(text.splitlines()) == 22 and "25 more" in text


def test_unlinked_line():
    assert unlinked_line(0) is None
    assert "1 alert arrived unlinked in the last 24 hours" in unlinked_line(1)
    assert "3 alerts arrived" in unlinked_line(3)


@pytest.mark.parametrize(
    ("args", "source", "key"),
    [
        ("pagerduty PGR0VU2", "pagerduty", "PGR0VU2"),
        ("PagerDuty <https://acme.pagerduty.com/incidents/PGR0VU2>", "pagerduty", "PGR0VU2"),
        (
            "opsgenie 052652ac-5d1c-464a-812a-7dd18bbfba8c",
            "opsgenie",
            "052652ac-5d1c-464a-812a-7dd18bbfba8c",
        ),
        ("alertmanager High memory usage", "alertmanager", "High memory usage"),
        ("grafana  HighCPU ", "grafana", "HighCPU"),
    ],
)
def test_parse_link(args, source, key):
    parsed = parse_link(args)
    assert (parsed.source, parsed.key) == (source, key)


@pytest.mark.parametrize("args", ["", "pagerduty", "nagios CPU", "   "])
def test_parse_link_usage(args):
    with pytest.raises(UsageError, match="/incident link"):
        parse_link(args)


def test_alert_words_are_stored_as_slack_text_that_pings_nobody():
    ev = event(
        "alertmanager/firing.json",
        name="Disk <!channel>",
        summary="a & b \u202e<https://evil.example|https://bank.example>",
    )
    (trigger,) = entries_for(ev)
    assert "<" not in trigger.text and "\u202e" not in trigger.text
    assert trigger.text == (
        "Disk &lt;!channel&gt;: a &amp; b &lt;https://evil.example|https://bank.example&gt;"
    )
    decision = decide(
        ev, find_incident=nothing, find_link=nothing, rules=parse_rules("severity=critical:sev1")
    )
    assert "<!channel>" not in decision.title and "<!channel>" not in decision.reason
