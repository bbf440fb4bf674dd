"""Each alerting source's real example payloads, read into the bot's one shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.hooks import alertmanager, grafana, opsgenie, pagerduty
from bot.hooks.alerts import ACKNOWLEDGED, FIRING, NOTE, RESOLVED, WrongShape

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
RECEIVED = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def edited(name: str, change) -> bytes:
    payload = json.loads(fixture(name))
    change(payload)
    return json.dumps(payload).encode()


# --- Alertmanager -------------------------------------------------------------------------


def test_alertmanager_firing_alert_starts_at_its_own_start_with_its_link():
    parsed = alertmanager.parse(fixture("alertmanager/firing.json"), received_at=RECEIVED)
    (event,) = parsed.events
    assert event.kind == FIRING
    assert event.at == datetime(2023, 2, 6, 13, 8, 45, 828000, tzinfo=UTC)
    assert event.name == "ProbeFailure"
    assert event.summary == "BlackBox Probe Failure: https://server.example.org"
    assert event.text == "ProbeFailure: BlackBox Probe Failure: https://server.example.org"
    assert event.link.startswith("http://prometheus.example.org:9090/graph?g0.expr=")
    assert event.group_key == '{}/{severity="critical"}:{alertname="ProbeFailure"}'
    assert event.labels["severity"] == "critical"
    assert event.alert_ref == "1a30ba71cca2921f"
    assert event.actor is None and event.incident_ref is None


def test_alertmanager_resolved_alert_is_at_its_end_and_dedups_apart_from_its_firing():
    firing = alertmanager.parse(fixture("alertmanager/firing.json"), received_at=RECEIVED)
    resolved = alertmanager.parse(fixture("alertmanager/resolved.json"), received_at=RECEIVED)
    (event,) = resolved.events
    assert event.kind == RESOLVED
    assert event.at == datetime(2023, 2, 6, 13, 31, 15, 828000, tzinfo=UTC)
    assert event.dedup_key != firing.events[0].dedup_key
    assert event.group_key == firing.events[0].group_key


def test_alertmanager_dedup_key_is_fingerprint_start_and_status():
    once = alertmanager.parse(fixture("alertmanager/firing.json"), received_at=RECEIVED)
    again = alertmanager.parse(fixture("alertmanager/firing.json"), received_at=RECEIVED)
    assert once.events[0].dedup_key == again.events[0].dedup_key
    later = alertmanager.parse(
        edited(
            "alertmanager/firing.json",
            lambda p: p["alerts"][0].update(startsAt="2023-02-07T13:08:45.828Z"),
        ),
        received_at=RECEIVED,
    )
    assert later.events[0].dedup_key != once.events[0].dedup_key


def test_alertmanager_two_alerts_nanosecond_times_and_offsets():
    parsed = alertmanager.parse(fixture("alertmanager/firing_two.json"), received_at=RECEIVED)
    assert [e.labels["instance"] for e in parsed.events] == ["localhost:9090", "localhost:9091"]
    # 09:52:26.739266876+02:00, read to the microsecond, in UTC
    assert parsed.events[0].at == datetime(2018, 8, 3, 7, 52, 26, 739266, tzinfo=UTC)
    assert parsed.events[0].summary == "some description"  # no summary: the description
    assert len({e.dedup_key for e in parsed.events}) == 2


def test_alertmanager_incident_label_or_annotation_names_the_incident():
    by_label = edited(
        "alertmanager/firing.json",
        lambda p: p["alerts"][0]["labels"].update(incident="INCIDENT-20261127-1420"),
    )
    by_annotation = edited(
        "alertmanager/firing.json",
        lambda p: p["alerts"][0]["annotations"].update(incident="incident-20261127-1420"),
    )
    for body, ref in (
        (by_label, "INCIDENT-20261127-1420"),
        (by_annotation, "incident-20261127-1420"),
    ):
        assert alertmanager.parse(body, received_at=RECEIVED).events[0].incident_ref == ref


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda p: p.update(version="3"), "version"),
        (lambda p: p.pop("groupKey"), "groupKey"),
        (lambda p: p.update(alerts={"a": 1}), "alerts"),
        (lambda p: p["alerts"].append("x"), "alerts[1]"),
        (lambda p: p["alerts"][0].update(status="pending"), "status"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "startsAt"),
        (lambda p: p["alerts"][0].update(labels=["a"]), "labels"),
    ],
)
def test_alertmanager_wrong_shape_says_what(change, says):
    with pytest.raises(WrongShape, match=says.replace("[", r"\[").replace("]", r"\]")):
        alertmanager.parse(edited("alertmanager/firing.json", change), received_at=RECEIVED)


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"x"', b"\xff\xfe", b"null"])
def test_not_a_json_object_is_wrong_shape_for_every_source(body):
    for parse in (alertmanager.parse, grafana.parse, pagerduty.parse, opsgenie.parse):
        with pytest.raises(WrongShape):
            parse(body, received_at=RECEIVED)


# --- Grafana ------------------------------------------------------------------------------


def test_grafana_docs_example_two_alerts_one_group():
    parsed = grafana.parse(fixture("grafana/firing.json"), received_at=RECEIVED)
    assert [e.name for e in parsed.events] == ["High memory usage", "High CPU usage"]
    first = parsed.events[0]
    assert first.source == "grafana" and first.kind == FIRING
    assert first.at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert first.summary == "This alert was triggered for zone us-1"
    # dashboardURL is empty in the example: the rule's own page is the link
    assert first.link == "https://play.grafana.org/alerting/1afz29v7z/edit"
    assert {e.group_key for e in parsed.events} == {"{}:{}"}


def test_grafana_prefers_the_dashboard_link():
    body = edited(
        "grafana/firing.json",
        lambda p: p["alerts"][0].update(dashboardURL="https://play.grafana.org/d/abc"),
    )
    assert (
        grafana.parse(body, received_at=RECEIVED).events[0].link == "https://play.grafana.org/d/abc"
    )


# --- PagerDuty ----------------------------------------------------------------------------


def test_pagerduty_triggered_is_a_firing_alert_at_created_at():
    parsed = pagerduty.parse(
        fixture("pagerduty/incident_triggered.json"), received_at=RECEIVED, webhook_id="w-1"
    )
    (event,) = parsed.events
    assert event.kind == FIRING
    assert event.at == datetime(2020, 4, 9, 15, 16, 27, tzinfo=UTC)
    assert event.name == "A little bump in the road"
    assert event.link == "https://acme.pagerduty.com/incidents/PGR0VU2"
    assert event.group_key == event.alert_ref == "PGR0VU2"
    assert event.labels == {"urgency": "high", "priority": "P1", "service": "API Service"}
    assert parsed.delivery_keys == (
        "pagerduty:event:5ac64822-4adc-4fda-ade0-410becf0de4f",
        "pagerduty:webhook:w-1",
    )


def test_pagerduty_triggered_without_created_at_uses_occurred_at():
    parsed = pagerduty.parse(
        fixture("pagerduty/incident_triggered_zulip.json"), received_at=RECEIVED
    )
    assert parsed.events[0].at == datetime(2021, 6, 4, 13, 35, 29, 781000, tzinfo=UTC)


def test_pagerduty_acknowledged_by_the_agent_at_occurred_at():
    (event,) = pagerduty.parse(
        fixture("pagerduty/incident_acknowledged.json"), received_at=RECEIVED
    ).events
    assert event.kind == ACKNOWLEDGED
    assert event.at == datetime(2021, 6, 4, 13, 55, 30, 394000, tzinfo=UTC)
    assert event.actor == "PIG 208"
    assert event.group_key == "PQ1K5C8"


def test_pagerduty_resolved_escalated_reassigned_annotated():
    resolved = pagerduty.parse(fixture("pagerduty/incident_resolved.json"), received_at=RECEIVED)
    assert resolved.events[0].kind == RESOLVED
    escalated = pagerduty.parse(fixture("pagerduty/incident_escalated.json"), received_at=RECEIVED)
    assert escalated.events[0].kind == NOTE
    assert escalated.events[0].summary == "escalated to Harsh Santwani"
    reassigned = pagerduty.parse(
        fixture("pagerduty/incident_reassigned.json"), received_at=RECEIVED
    )
    assert reassigned.events[0].summary == "reassigned to Test User"
    annotated = pagerduty.parse(fixture("pagerduty/incident_annotated.json"), received_at=RECEIVED)
    (note,) = annotated.events
    assert note.kind == NOTE and note.actor == "Harsh Santwani"
    assert note.group_key == "Q3B15VLMF3ASBD"
    assert note.summary == "note: Running KILL on long-running queries from the reporting-service."
    assert note.link == "https://harsh0303.pagerduty.com/incidents/Q3B15VLMF3ASBD"


@pytest.mark.parametrize("name", ["incident_priority_updated.json", "service_updated.json"])
def test_pagerduty_event_types_without_a_timeline_line_are_ignored(name):
    parsed = pagerduty.parse(fixture(f"pagerduty/{name}"), received_at=RECEIVED)
    assert parsed.events == ()
    assert parsed.ignored in ("incident.priority_updated", "service.updated")
    assert parsed.delivery_keys  # still remembered, so a retry is known


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.pop("event"),
        lambda p: p["event"].pop("id"),
        lambda p: p["event"].update(event_type=7),
        lambda p: p["event"].update(occurred_at="soon"),
        lambda p: p["event"].update(data=None),
        lambda p: p["event"]["data"].pop("id"),
    ],
)
def test_pagerduty_wrong_shape(change):
    with pytest.raises(WrongShape):
        pagerduty.parse(edited("pagerduty/incident_triggered.json", change), received_at=RECEIVED)


# --- Opsgenie -----------------------------------------------------------------------------


def test_opsgenie_create_at_created_at_in_milliseconds():
    (event,) = opsgenie.parse(fixture("opsgenie/create.json"), received_at=RECEIVED).events
    assert event.kind == FIRING
    assert event.at == datetime.fromtimestamp(1420452191.104, tz=UTC)
    assert event.name == "test alert"
    assert event.group_key == "aliastest"
    assert event.alert_ref == "052652ac-5d1c-464a-812a-7dd18bbfba8c"
    assert event.actor is None


def test_opsgenie_acknowledge_at_updated_at_in_nanoseconds_by_the_user():
    (event,) = opsgenie.parse(fixture("opsgenie/acknowledge.json"), received_at=RECEIVED).events
    assert event.kind == ACKNOWLEDGED
    assert event.at == datetime(2015, 1, 5, 10, 3, 44, 764002, tzinfo=UTC)
    assert event.actor == "fili@ifountain.com"
    assert event.dedup_key == (
        "opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c:Acknowledge:1420452224764002246"
    )


def test_opsgenie_close_and_add_note():
    (closed,) = opsgenie.parse(fixture("opsgenie/close.json"), received_at=RECEIVED).events
    assert closed.kind == RESOLVED
    assert closed.at == datetime(2015, 1, 5, 10, 6, 14, 669001, tzinfo=UTC)
    (note,) = opsgenie.parse(fixture("opsgenie/addnote.json"), received_at=RECEIVED).events
    assert note.kind == NOTE and note.summary == "note: note to test alert"


def test_opsgenie_newer_capture_with_priority():
    (event,) = opsgenie.parse(fixture("opsgenie/create_webhook.json"), received_at=RECEIVED).events
    assert event.labels["priority"] == "P3"
    assert event.labels["entity"] == "Server"
    assert event.group_key == "alert-alias"


def test_opsgenie_incident_tag_names_the_incident():
    body = edited(
        "opsgenie/create.json",
        lambda p: p["alert"].update(tags=["db", "incident:INCIDENT-20261127-1420"]),
    )
    event = opsgenie.parse(body, received_at=RECEIVED).events[0]
    assert event.incident_ref == "INCIDENT-20261127-1420"
    assert event.labels["incident"] == "INCIDENT-20261127-1420"


def test_opsgenie_actions_without_a_timeline_line_are_ignored():
    body = edited("opsgenie/create.json", lambda p: p.update(action="AddTags"))
    parsed = opsgenie.parse(body, received_at=RECEIVED)
    assert parsed.events == () and parsed.ignored == "AddTags"


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.pop("alert"),
        lambda p: p.update(action=None),
        lambda p: p["alert"].pop("alertId"),
        lambda p: p["alert"].update(createdAt="yesterday"),
        # nanoseconds where milliseconds belong: a time 45 years off is not accepted
        lambda p: p["alert"].update(createdAt=p["alert"]["updatedAt"]),
    ],
)
def test_opsgenie_wrong_shape(change):
    with pytest.raises(WrongShape):
        opsgenie.parse(edited("opsgenie/create.json", change), received_at=RECEIVED)
