"""Issue 4's lifecycle: severity, status, roles, fields, show/list, milestones and metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot import lifecycle
from bot.domain import Incident, TimelineEntry, milestones, out_of_order, response_metrics
from bot.harness.driver import ack_body
from bot.parsing import UsageError
from bot.postmortem import build_context
from tests.conftest import FakeClock, SlackDriver, reply_text, typed

START = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def the_incident(slack: SlackDriver, channel: str) -> Incident:
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return incident


def entry(n: int, minutes: float, kind: str) -> TimelineEntry:
    return TimelineEntry(n, "I", START + timedelta(minutes=minutes), kind, kind, "U1", None, "x")


# --- pure arithmetic ------------------------------------------------------------------------


def test_metrics_with_missing_milestones_and_a_multi_day_incident() -> None:
    incident = Incident("I", "t", "SEV2", "investigating", "U1", START)
    m = milestones(incident, [entry(1, 10, "acknowledged"), entry(2, 3 * 24 * 60 + 5, "resolved")])
    metrics = response_metrics(m)
    assert metrics.time_to_detect is None and metrics.time_to_acknowledge is None
    assert metrics.time_to_mitigate is None
    assert metrics.time_to_resolve == timedelta(days=3, minutes=5)
    context = build_context(incident=incident, entries=[], names={}, now=START)
    assert context.time_to_resolve is None and context.duration == "ongoing"
    resolved = build_context(
        incident=incident, entries=[entry(1, 3 * 24 * 60 + 5, "resolved")], names={}, now=START
    )
    assert resolved.duration == "72 hours 5 minutes" and resolved.status == "RESOLVED"


def test_started_is_the_set_time_then_the_first_trigger_then_the_declaration() -> None:
    plain = Incident("I", "t", "SEV2", "investigating", "U1", START)
    assert milestones(plain, []).started == START
    triggered = milestones(plain, [entry(1, -20, "trigger"), entry(2, -30, "trigger")])
    assert triggered.started == START - timedelta(minutes=30)
    set_started = Incident(
        "I", "t", "SEV2", "investigating", "U1", START,
        fields={"started": (START - timedelta(hours=1)).isoformat()},
    )  # fmt: skip
    assert milestones(set_started, [entry(1, -20, "trigger")]).started == START - timedelta(hours=1)


def test_out_of_order_milestones_are_named() -> None:
    incident = Incident("I", "t", "SEV2", "investigating", "U1", START)
    m = milestones(incident, [entry(1, 10, "detected"), entry(2, 5, "acknowledged")])
    [problem] = out_of_order(m)
    assert problem.startswith("acknowledged (2026-11-27 14:37 UTC) is before detected")
    context = build_context(
        incident=incident, entries=[entry(1, 10, "detected"), entry(2, 5, "acknowledged")],
        names={}, now=START,
    )  # fmt: skip
    assert context.time_to_acknowledge is not None and "out of order" in context.time_to_acknowledge
    assert context.order_warnings == [problem]


@pytest.mark.parametrize(
    ("slo", "downtime", "budget", "consumed", "remaining"),
    [
        ("99.9", "37", "43 minutes (99.9%)", "86%", "6 minutes"),
        ("99.5", "60", "216 minutes (99.5%)", "28%", "156 minutes"),
        ("99.99", "10", "4 minutes (99.99%)", "231%", "0 minutes (6 minutes over budget)"),
    ],
)
def test_slo_budget_over_a_30_day_month(
    slo: str, downtime: str, budget: str, consumed: str, remaining: str
) -> None:
    incident = Incident(
        "I", "t", "SEV2", "investigating", "U1", START, fields={"slo": slo, "downtime": downtime}
    )
    impact = build_context(incident=incident, entries=[], names={}, now=START).slo
    assert impact is not None
    assert (impact.downtime, impact.budget, impact.consumed, impact.remaining) == (
        f"{downtime} minutes", budget, consumed, remaining,
    )  # fmt: skip


def test_downtime_defaults_to_mitigated_minus_started() -> None:
    incident = Incident("I", "t", "SEV2", "investigating", "U1", START)
    impact = build_context(
        incident=incident, entries=[entry(1, -5, "trigger"), entry(2, 20, "mitigated")],
        names={}, now=START,
    ).slo  # fmt: skip
    assert impact is not None and impact.downtime == "25 minutes"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("impact 31% of checkouts failing", ("impact", "31% of checkouts failing")),
        ("Root-Cause pool exhausted", ("root-cause", "pool exhausted")),
        ("downtime 1h 5m", ("downtime", "65")),
        ("downtime 37m", ("downtime", "37")),
        ("slo 99.95%", ("slo", "99.95")),
        ("started 14:05 UTC", ("started", "2026-11-27T14:05:00+00:00")),
    ],
)
def test_set_fields_are_read_and_normalised(args: str, expected: tuple[str, str]) -> None:
    assert lifecycle.parse_field(args, now=START, tz=UTC) == expected


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ("colour red", "isn't a field I know: use `/incident set"),
        ("impact", "Give a value for impact"),
        ("downtime forever", "37m"),
        ("slo 120", "below 100"),
        ("started whenever", "/incident set started 14:05"),
    ],
)
def test_bad_set_input_is_one_sentence_with_the_syntax(args: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        lifecycle.parse_field(args, now=START, tz=UTC)


def test_unknown_field_lists_every_valid_one() -> None:
    with pytest.raises(UsageError) as caught:
        lifecycle.parse_field("colour red", now=START, tz=UTC)
    for name in ("impact", "root-cause", "sla-breaches", "data-sources", "downtime", "slo"):
        assert name in str(caught.value)


# --- through the app ------------------------------------------------------------------------


def test_severity_and_status_changes_join_the_timeline_topic_and_intro(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel = slack.start_incident()
    clock.advance(minutes=3)
    response = slack.command("/incident", "sev sev1", channel_id=channel)
    assert "from SEV2 to SEV1" in reply_text(response)
    slack.fake.wait_for("chat.update")
    topics = slack.fake.wait_for("conversations.setTopic", count=2)
    assert topics[-1].params["topic"] == "Checkout API returning 500s · SEV1 · Investigating"
    intro = slack.fake.calls_to("chat.update")[-1]
    assert "SEV1" in str(intro.params["blocks"])
    assert intro.params["ts"] == the_incident(slack, channel).intro_ts

    clock.advance(minutes=7)
    slack.command("/incident", "status mitigated", channel_id=channel)
    slack.fake.wait_for("conversations.setTopic", count=3)
    assert slack.fake.calls_to("conversations.setTopic")[-1].params["topic"].endswith("Mitigated")
    assert "already SEV1" in reply_text(slack.command("/incident", "sev sev1", channel_id=channel))
    entries = typed(slack.store.timeline.for_incident(incident_id=the_incident(slack, channel).id))
    assert [(e.kind, e.text) for e in entries] == [
        ("note", "Severity changed from SEV2 to SEV1"),
        ("mitigated", "Status changed to Mitigated"),
    ]
    assert entries[1].at == datetime(2026, 11, 27, 14, 42, tzinfo=UTC)


def test_resolve_twice_and_changing_a_resolved_incident_answer_sensibly(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel = slack.start_incident()
    clock.advance(hours=1)
    resolved = slack.command("/incident", "resolve rolled back v42", channel_id=channel)
    assert "resolved" in reply_text(resolved)
    incident = the_incident(slack, channel)
    assert incident.status == "resolved" and incident.resolved_at == clock.now
    assert incident.fields["resolution"] == "rolled back v42"
    again = reply_text(slack.command("/incident", "resolve", channel_id=channel))
    assert "already resolved" in again and "/incident status investigating" in again
    sev = reply_text(slack.command("/incident", "sev sev1", channel_id=channel))
    assert "/incident status investigating" in sev
    assert the_incident(slack, channel).severity == "SEV2"

    reopened = slack.command("/incident", "status investigating", channel_id=channel)
    assert "reopened" in reply_text(reopened)
    incident = the_incident(slack, channel)
    assert incident.status == "investigating" and incident.resolved_at is None
    kinds = [e.kind for e in slack.store.timeline.for_incident(incident_id=incident.id)]
    assert kinds == ["declared", "resolved", "reopened"]  # the declaration and resolution stay


def test_roles_fields_and_the_draft(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.command("/incident", "role scribe <@U_BOB|bob>", channel_id=channel)
    slack.command("/incident", "role comms <@U_BOB>", channel_id=channel)
    slack.command("/incident", "set impact 31% of checkouts | failing", channel_id=channel)
    slack.command("/incident", "set regions eu-west-1", channel_id=channel)
    # alice is in Berlin: 15:05 there is 14:05 UTC.
    slack.command("/incident", "set started 15:05", channel_id=channel)
    bad = reply_text(slack.command("/incident", "set colour red", channel_id=channel))
    assert "isn't a field I know" in bad and "data-sources" in bad
    assert "Name the role" in reply_text(
        slack.command("/incident", "role boss", channel_id=channel)
    )
    incident = the_incident(slack, channel)
    assert (incident.scribe_id, incident.comms_id) == ("U_BOB", "U_BOB")
    assert incident.fields["started"] == "2026-11-27T14:05:00+00:00"

    slack.command("/postmortem", "file", channel_id=channel)
    slack.fake.wait_for("files.completeUploadExternal")
    draft = slack.fake.uploads[-1].content
    assert "- Impact: 31% of checkouts | failing" in draft
    assert "- **Regions**: eu-west-1" in draft
    # Nobody has submitted or reviewed anything yet: no line carries a date.
    assert "- **Author**: @bob (Date: YYYY-MM-DD)" in draft
    assert "- **Technical Review**: @username (Date: YYYY-MM-DD)" in draft
    assert "- When: 2026-11-27 14:05 UTC to [End time] (ongoing)" in draft
    assert '["Started<br/>14:05"]' in draft


def test_show_list_and_postmortem_status(slack: SlackDriver, clock: FakeClock) -> None:
    channel = slack.start_incident()
    other = slack.start_incident("sev4 Search slow", channel_id="C_OTHER", channel_name="random")
    clock.advance(hours=2, minutes=15)
    slack.command("/incident", "resolve", channel_id=other)
    show = reply_text(slack.command("/incident", "show", channel_id=channel))
    assert "INCIDENT-20261127-1432" in show and "commander <@U_ALICE>" in show
    assert "open for 2h 15m since declared" in show
    listing = reply_text(slack.command("/incident", "list", channel_id="C_GENERAL"))
    assert f"<#{channel}>" in listing and "open for 2h 15m since declared" in listing
    assert "Search slow" not in listing

    status = reply_text(slack.command("/postmortem", "status", channel_id=channel))
    assert "⬜ Executive Summary" in status and "✅ Detection and Response" in status
    assert "⬜ Immediate Actions" in status
    slack.command("/action", "add fix it", channel_id=channel)
    status = reply_text(slack.command("/postmortem", "status", channel_id=channel))
    assert "✅ Immediate Actions" in status


def test_a_timeline_entry_that_breaks_the_order_is_flagged_in_its_reply(
    slack: SlackDriver,
) -> None:
    channel = slack.start_incident()
    # The author's zone is not cached yet: the echo is posted by a reply job, after the ack.
    slack.command("/timeline", "14:20 UTC detected alert", channel_id=channel)
    slack.fake.wait_for("chat.postMessage", count=2)
    assert "Out of order" not in slack.fake.calls_to("chat.postMessage")[-1].params["text"]
    # Now it is: the echo is the ack's own answer, shown in the channel.
    response = slack.command("/timeline", "14:10 UTC ack on it", channel_id=channel)
    body = ack_body(response)
    assert body is not None and body["response_type"] == "in_channel"
    reply = body["text"]
    assert "⚠️ Out of order: acknowledged (2026-11-27 14:10 UTC) is before detected" in reply
    assert len(slack.fake.calls_to("chat.postMessage")) == 2  # no second round trip


def test_lifecycle_commands_outside_an_incident_channel(slack: SlackDriver) -> None:
    for text in ("sev sev1", "status resolved", "resolve", "role scribe <@U_BOB>", "show"):
        answer = reply_text(slack.command("/incident", text, channel_id="C_GENERAL"))
        assert "works in an incident channel" in answer, text


def test_the_echo_in_the_ack_quiets_group_mentions_and_keeps_people(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.command("/timeline", "note warm-up", channel_id=channel)  # caches alice's zone
    slack.fake.wait_for("chat.postMessage", count=2)
    typed = "note <!channel> <!here|here> <!subteam^S0ONCALL|@oncall> ask <@U_BOB>"
    body = ack_body(slack.command("/timeline", typed, channel_id=channel))
    assert body is not None and body["response_type"] == "in_channel"
    assert "@channel" in body["text"] and "@here" in body["text"] and "@oncall" in body["text"]
    assert "<!" not in body["text"] and "<@U_BOB>" in body["text"]
    assert len(slack.fake.calls_to("chat.postMessage")) == 2  # nothing posted after the ack
