"""The real Bolt app, driven with signed requests exactly as Slack sends them."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.harness import wire
from bot.store import Store
from tests.conftest import FakeClock, SlackDriver, reply_text, typed, wait_until

INCIDENT_ID = "INCIDENT-20261127-1432"


def test_start_opens_channel_invites_sets_topic_and_pins_intro(slack: SlackDriver) -> None:
    response = slack.command("/incident", "start sev2 Checkout API returning 500s")

    assert response.status == 200
    assert INCIDENT_ID in reply_text(response)
    pin = slack.fake.wait_for("pins.add")[-1]
    channel_id = str(pin.params["channel"])
    wait_until(lambda: slack._intro_stored(channel_id))
    create = slack.fake.calls_to("conversations.create")[0]
    assert create.params["name"] == "incident-20261127-1432"
    invite = slack.fake.calls_to("conversations.invite")[0]
    assert invite.params["users"] == "U_ALICE"
    topic = slack.fake.calls_to("conversations.setTopic")[0]
    assert topic.params["topic"] == "Checkout API returning 500s · SEV2 · Investigating"
    intro = slack.fake.calls_to("chat.postMessage")[0]
    intro_text = str(intro.params["blocks"])
    assert INCIDENT_ID in intro_text and "<@U_ALICE>" in intro_text and "/timeline" in intro_text
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    assert (incident.id, incident.severity, incident.title) == (
        INCIDENT_ID,
        "SEV2",
        "Checkout API returning 500s",
    )
    assert incident.intro_ts == pin.params["timestamp"]
    assert intro.params["channel"] == channel_id


def test_start_defaults_to_sev3(slack: SlackDriver) -> None:
    channel_id = slack.start_incident("Search is slow")
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None and incident.severity == "SEV3"
    assert incident.title == "Search is slow"


def test_second_incident_in_the_same_minute_gets_a_suffix_and_channel_name_taken_is_handled(
    slack: SlackDriver,
) -> None:
    slack.fake.add_channel("incident-20261127-1432-2")  # someone made this channel by hand
    first = slack.start_incident("First")
    second = slack.start_incident("Second", channel_id="C_OTHER", channel_name="random")

    first_incident = slack.store.incidents.for_channel(channel_id=first)
    second_incident = slack.store.incidents.for_channel(channel_id=second)
    assert first_incident is not None and second_incident is not None
    assert first_incident.id == INCIDENT_ID
    assert second_incident.id == INCIDENT_ID + "-2"
    assert second_incident.channel_name == "incident-20261127-1432-2-2"


def test_start_inside_an_incident_named_channel_adopts_it(slack: SlackDriver) -> None:
    channel = slack.fake.add_channel("incident-db-outage")
    response = slack.command(
        "/incident", "start sev1 DB outage", channel_id=channel, channel_name="incident-db-outage"
    )
    assert response.status == 200
    slack.fake.wait_for("pins.add")
    assert slack.fake.calls_to("conversations.create") == []
    assert slack.fake.calls_to("conversations.join")[0].params["channel"] == channel
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.severity == "SEV1"


def test_start_refuses_a_channel_with_an_active_incident(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    response = slack.command(
        "/incident", "start Another one", channel_id=channel_id, channel_name="incident-x"
    )
    assert "already has an active incident" in reply_text(response)
    assert INCIDENT_ID in reply_text(response)
    assert len(slack.fake.calls_to("conversations.create")) == 1


def test_incident_help_and_errors_show_the_syntax(slack: SlackDriver) -> None:
    help_text = reply_text(slack.command("/incident", "help"))
    for command in ("/incident start", "/timeline", "/postmortem draft"):
        assert command in help_text
    assert "/incident start" in reply_text(slack.command("/incident", ""))
    typo = reply_text(slack.command("/incident", "strat sev2 oops"))
    assert "Did you mean `/incident start`" in typo
    no_title = reply_text(slack.command("/incident", "start sev2"))
    # Slack reads a bare <…> as a link: the placeholder goes out escaped, and shows as <title>.
    assert "/incident start [sev1|sev2|sev3|sev4] &lt;title&gt;" in no_title
    assert slack.fake.calls_to("conversations.create") == []


def test_timeline_records_kind_and_replies_in_the_channel(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    response = slack.command(
        "/timeline", "detected alert acknowledged", channel_id=channel_id, channel_name="x"
    )
    assert response.status == 200
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    entries = typed(slack.store.timeline.for_incident(incident_id=incident.id))
    assert [(e.kind, e.text, e.actor_id) for e in entries] == [
        ("detected", "alert acknowledged", "U_ALICE")
    ]
    assert entries[0].at == datetime(2026, 11, 27, 14, 32, tzinfo=UTC)
    reply = slack.fake.wait_for("chat.postMessage", count=2)[-1]
    assert reply.params["channel"] == channel_id
    assert "Detection" in reply.params["text"] and "2026-11-27 14:32 UTC" in reply.params["text"]
    assert "alert acknowledged" in reply.params["text"]


def test_timeline_time_without_zone_is_in_the_users_slack_timezone(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel_id = slack.start_incident()
    # alice is in Europe/Berlin (UTC+1 in November): 14:05 there is 13:05 UTC.
    slack.command("/timeline", "14:05 trigger error rate alert", channel_id=channel_id)
    # bob is in America/New_York (UTC-5): 09:10 there is 14:10 UTC.
    slack.command(
        "/timeline", "at 09:10 ack on it", channel_id=channel_id, user_id="U_BOB", user_name="bob"
    )
    slack.command("/timeline", "14:20 UTC mitigated rolled back", channel_id=channel_id)
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    got = [
        (e.at.strftime("%H:%M"), e.kind)
        for e in typed(slack.store.timeline.for_incident(incident_id=incident.id))
    ]
    assert got == [("13:05", "trigger"), ("14:10", "acknowledged"), ("14:20", "mitigated")]


def test_timeline_bad_input_gets_one_sentence_and_changes_nothing(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    response = slack.command("/timeline", "25:99 detected nope", channel_id=channel_id)
    text = reply_text(response)
    assert response.status == 200
    assert "25:99" in text and "/timeline [TIME] [KIND]" in text
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert (
        incident is not None
        and typed(slack.store.timeline.for_incident(incident_id=incident.id)) == []
    )


def test_timeline_outside_an_incident_channel_is_a_clear_error(slack: SlackDriver) -> None:
    response = slack.command("/timeline", "detected something", channel_id="C_GENERAL")
    assert "works in an incident channel" in reply_text(response)
    assert slack.fake.calls_to("chat.postMessage") == []


def test_timeline_without_text_lists_the_timeline(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    # The declaration is its first entry (issue 10).
    first = reply_text(slack.command("/timeline", "", channel_id=channel_id))
    assert "Incident declared" in first and "SEV2 incident opened" in first
    slack.command("/timeline", "fix deployed v1.2.3", channel_id=channel_id)
    listing = reply_text(slack.command("/timeline", "  ", channel_id=channel_id))
    assert "Solution implemented" in listing and "deployed v1.2.3" in listing


def test_the_same_slash_command_delivered_twice_is_recorded_once(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    body = wire.slash_command(
        "/timeline", "note checking dashboards", channel_id=channel_id, trigger_id="123.456.abc"
    )
    assert slack.dispatch(body).status == 200
    assert slack.dispatch(body).status == 200
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    assert len(typed(slack.store.timeline.for_incident(incident_id=incident.id))) == 1


def _pin(channel_id: str, ts: str, text: str, **kwargs: object) -> dict[str, object]:
    return wire.pin_added(
        channel_id,
        user="U_BOB",
        message_ts=ts,
        message_user="U_ALICE",
        text=text,
        permalink=f"https://example.slack.com/archives/{channel_id}/p{ts.replace('.', '')}",
        **kwargs,  # type: ignore[arg-type]
    )


def test_pins_are_recorded_once_and_unpins_remove_them(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    pin = _pin(
        channel_id,
        "1795789200.000200",
        "<@U_BOB> says <https://grafana.x/d/1|the graph>",
        event_ts="1795789250.000100",
    )
    envelope = wire.event_callback(pin, event_id="Ev01PIN")

    assert slack.dispatch(envelope).status == 200
    retried = slack.dispatch(envelope, wire.retry_headers(1, "http_timeout"))
    assert retried.status == 200
    entries = typed(slack.store.timeline.for_incident(incident_id=incident.id))
    assert len(entries) == 1
    assert entries[0].kind == "pin" and entries[0].actor_id == "U_ALICE"
    assert entries[0].at == datetime.fromtimestamp(1795789200.0002, tz=UTC).replace(microsecond=0)
    assert entries[0].permalink and entries[0].permalink.startswith("https://example.slack.com")

    unpin = wire.pin_removed(
        channel_id,
        user="U_BOB",
        message_ts="1795789200.000200",
        message_user="U_ALICE",
        text="x",
        event_ts="1795789300.000100",
    )
    assert slack.event(unpin).status == 200
    assert typed(slack.store.timeline.for_incident(incident_id=incident.id)) == []

    again = _pin(channel_id, "1795789200.000200", "pinned again", event_ts="1795789400.000100")
    assert slack.event(again).status == 200
    assert len(typed(slack.store.timeline.for_incident(incident_id=incident.id))) == 1


def test_the_bots_own_intro_pin_and_other_channels_pins_are_not_recorded(
    slack: SlackDriver,
) -> None:
    channel_id = slack.start_incident()
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None and incident.intro_ts
    intro_pin = _pin(channel_id, incident.intro_ts, "intro")
    assert slack.event(intro_pin).status == 200
    elsewhere = _pin("C_GENERAL", "1795789200.000300", "not an incident")
    assert slack.event(elsewhere).status == 200
    assert typed(slack.store.timeline.for_incident(incident_id=incident.id)) == []


def test_a_pinned_file_records_its_title_and_permalink(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    file_pin = wire.pin_added_file(
        channel_id,
        user="U_ALICE",
        file_id="F0DASH",
        title="error-rate.png",
        permalink="https://example.slack.com/files/U_ALICE/F0DASH/error-rate.png",
        created=1795789100,
    )
    assert slack.event(file_pin).status == 200
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    [entry] = typed(slack.store.timeline.for_incident(incident_id=incident.id))
    assert entry.text == "error-rate.png" and entry.source == "file"
    assert entry.permalink == "https://example.slack.com/files/U_ALICE/F0DASH/error-rate.png"


def test_a_file_unpinned_before_its_older_pin_arrives_stays_off_the_timeline(
    slack: SlackDriver,
) -> None:
    channel_id = slack.start_incident()
    shape = dict(
        user="U_ALICE", file_id="F0DASH", title="error-rate.png", created=1795789100,
        permalink="https://example.slack.com/files/U_ALICE/F0DASH/error-rate.png",
    )  # fmt: skip
    file_pin = wire.pin_added_file(channel_id, event_ts="1795789300.000100", **shape)
    # Slack does not order events: the unpin (same item, newer) can come first.
    file_unpin = {
        **wire.pin_added_file(channel_id, event_ts="1795789400.000100", **shape),
        "type": "pin_removed",
        "pin_count": 0,
        "has_pins": False,
    }
    assert slack.event(file_unpin).status == 200
    assert slack.event(file_pin).status == 200
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None
    assert typed(slack.store.timeline.for_incident(incident_id=incident.id)) == []


def test_postmortem_file_uploads_the_filled_template(slack: SlackDriver, store: Store) -> None:
    channel_id = slack.start_incident()
    slack.command("/timeline", "14:05 UTC trigger error rate alert", channel_id=channel_id)
    slack.command("/timeline", "14:10 UTC detected pager went off", channel_id=channel_id)
    slack.event(_pin(channel_id, "1795789560.000100", "root cause: bad <config|cfg> deploy"))

    response = slack.command("/postmortem", "file", channel_id=channel_id)

    assert "Drafting the post-mortem" in reply_text(response)
    slack.fake.wait_for("files.completeUploadExternal")
    upload = slack.fake.uploads[-1]
    assert upload.filename == f"{INCIDENT_ID}-postmortem.md"
    assert upload.channel_id == channel_id
    assert upload.initial_comment.startswith("4 timeline entries · ")
    assert "sections still to fill" in upload.initial_comment
    draft = upload.content
    assert f"**Incident ID**: `{INCIDENT_ID}`" in draft
    assert "| 2026-11-27 14:05 | Initial trigger | @alice | error rate alert |" in draft
    assert "| 2026-11-27 14:10 | Detection | @alice | pager went off |" in draft
    assert "**Time to Detect**: 0 hours 5 minutes" in draft
    assert "- **Incident Slack Channel**: #incident-20261127-1432" in draft
    assert "root cause: bad cfg (config)" in draft


def test_postmortem_outside_an_incident_channel_and_unknown_subcommand(slack: SlackDriver) -> None:
    assert "works in an incident channel" in reply_text(
        slack.command("/postmortem", "draft", channel_id="C_GENERAL")
    )
    assert "/postmortem draft" in reply_text(slack.command("/postmortem", "drfat"))
    assert slack.fake.uploads == []


def test_forged_and_stale_requests_get_401_and_change_nothing(slack: SlackDriver) -> None:
    from slack_bolt import BoltRequest

    body = wire.slash_command("/incident", "start sev1 forged").decode()
    forged = wire.sign(body, "not-the-secret")
    assert slack.app.dispatch(BoltRequest(body=body, headers=forged)).status == 401
    stale = wire.sign(body, "test-signing-secret", timestamp=1_600_000_000)
    assert slack.app.dispatch(BoltRequest(body=body, headers=stale)).status == 401
    assert slack.fake.calls_to("conversations.create") == []
