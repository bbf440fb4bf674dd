"""Issue 10b over signed HTTP: the real WSGI stack on 127.0.0.1 (``http_slack``), the
harness's stand-in Slack, and the bot's database as the record."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain import incident_span
from bot.store import Store
from tests.conftest import FakeClock, HttpSlack

START = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def entries(http_slack: HttpSlack, channel: str) -> list:
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return http_slack.store.timeline.for_incident(incident_id=incident.id)


# --- Bolt's body parsing: "payload" anywhere in a slash command's form ----------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", "finding ~200,000 webhook payloads dropped"),
        ("channel_name", "payload-team"),
        ("user_name", "payload.pete"),
        ("team_domain", "payloadco"),
    ],
)
def test_a_slash_command_mentioning_payload_is_recorded(
    http_slack: HttpSlack, field: str, value: str
) -> None:
    channel = http_slack.start_incident()
    before = len(entries(http_slack, channel))
    fields = {"channel_id": channel, field: value}
    text = fields.pop("text", "finding queue backed up")
    status, reply = http_slack.command("/timeline", text, **fields)
    assert status == 200, reply
    after = entries(http_slack, channel)
    assert len(after) == before + 1
    assert (after[-1].kind, after[-1].text) == ("finding", text.removeprefix("finding "))


def test_a_forged_slash_command_mentioning_payload_is_still_refused(http_slack: HttpSlack) -> None:
    from bot.harness import wire

    channel = http_slack.start_incident()
    before = len(entries(http_slack, channel))
    body = wire.slash_command("/timeline", "finding payloads dropped", channel_id=channel)
    status, _ = http_slack.post(body, secret="not-the-signing-secret")
    assert status == 401
    assert len(entries(http_slack, channel)) == before


# --- the record is history, not the current state ------------------------------------------


def test_the_declaration_names_who_declared_it_and_the_severity_then(
    http_slack: HttpSlack,
) -> None:
    channel = http_slack.start_incident("sev2 Checkout API returning 500s", user_id="U_ALICE")
    http_slack.command("/incident", "sev sev1", channel_id=channel, user_id="U_BOB")
    http_slack.command("/incident", "role commander <@U_BOB|bob>", channel_id=channel)
    [declared] = [e for e in entries(http_slack, channel) if e.kind == "declared"]
    assert declared.actor_id == "U_ALICE"
    assert declared.text == "SEV2 incident opened: Checkout API returning 500s"
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.severity == "SEV1"
    assert incident.commander_id == "U_BOB"


def test_reopening_adds_an_entry_and_keeps_every_earlier_one(
    http_slack: HttpSlack, clock: FakeClock
) -> None:
    channel = http_slack.start_incident()
    clock.advance(minutes=30)
    http_slack.command("/incident", "resolve rolled back", channel_id=channel)
    clock.advance(minutes=10)
    http_slack.command("/incident", "status investigating", channel_id=channel)
    clock.advance(minutes=20)
    http_slack.command("/incident", "resolve fixed for real", channel_id=channel)
    kinds = [e.kind for e in entries(http_slack, channel)]
    assert kinds == ["declared", "resolved", "reopened", "resolved"]
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    span = incident_span(incident, entries(http_slack, channel))
    assert span.length == timedelta(minutes=60)  # to the LAST resolution


def test_migration_0007_gives_each_incident_its_declaration(tmp_path: Path) -> None:
    store = Store(tmp_path / "old.db")
    store.migrate()
    # An incident as stored before 0007: no declaration entry; a later severity change; and
    # a reopening recorded as a "declared" entry, as the bot used to.
    incident, _ = store.incidents.create(
        title="Old", severity="SEV2", commander_id="U_ALICE", started_at=START
    )
    with sqlite3.connect(store.path) as db:  # back to the shape before 0007
        db.execute("DELETE FROM timeline_entries")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = '0007_record_truth'")
    store.incidents.update(
        incident_id=incident.id, actor_id="U_BOB", now=START + timedelta(minutes=5),
        entry=("note", "Severity changed from SEV2 to SEV1"), severity="SEV1",
    )  # fmt: skip
    store.timeline.add(
        incident_id=incident.id, at=START + timedelta(minutes=9), kind="declared",
        text="Incident reopened: Investigating", actor_id="U_BOB", actor_name=None,
        source="lifecycle", now=START,
    )  # fmt: skip
    store.migrate()
    got = [
        (e.kind, e.text, e.actor_id) for e in store.timeline.for_incident(incident_id=incident.id)
    ]
    assert got == [
        ("declared", "SEV2 incident opened: Old", "U_ALICE"),
        ("note", "Severity changed from SEV2 to SEV1", "U_BOB"),
        ("reopened", "Incident reopened: Investigating", "U_BOB"),
    ]
    store.close()


# --- smaller things -------------------------------------------------------------------------


def test_a_severity_raised_and_one_lowered_get_different_markers(http_slack: HttpSlack) -> None:
    channel = http_slack.start_incident("sev2 Checkout")
    _, raised = http_slack.command("/incident", "sev sev1", channel_id=channel)
    _, lowered = http_slack.command("/incident", "sev sev3", channel_id=channel)
    assert raised.startswith("🔺 Severity changed from SEV2 to SEV1")
    assert lowered.startswith("🔻 Severity changed from SEV1 to SEV3")


def test_postmortem_status_shows_a_partly_filled_section_with_counts(
    http_slack: HttpSlack,
) -> None:
    channel = http_slack.start_incident()
    http_slack.command("/incident", "set revenue about $2k", channel_id=channel)
    _, status = http_slack.command("/postmortem", "status", channel_id=channel)
    assert "◐ Business Impact 1/4" in status
    assert "⬜ Service Level Impact" in status


def test_an_edit_whose_message_has_no_ts_is_matched_by_the_previous_message(
    http_slack: HttpSlack,
) -> None:
    from bot.harness import wire

    channel = http_slack.start_incident()
    message = wire.user_message(ts="1795789200.000200", user="U_BOB", text="DB at 90% CPU")
    http_slack.event(
        wire.pin_added(
            channel, user="U_ALICE", message_ts=message["ts"], message_user="U_BOB",
            text=message["text"],
        )
    )  # fmt: skip
    edit = wire.message_changed(
        channel, previous=message, text="DB at 99% CPU", edited_ts="1795789400.000100"
    )
    del edit["message"]["ts"]  # as in bolt-python's tests/scenario_tests/test_message_changed.py
    status, _ = http_slack.event(edit)
    assert status == 200
    assert [e.text for e in entries(http_slack, channel) if e.kind == "pin"] == ["DB at 99% CPU"]


def test_incident_show_gives_the_duration_and_dates_milestones_off_the_start_date(
    http_slack: HttpSlack, clock: FakeClock
) -> None:
    channel = http_slack.start_incident()
    clock.advance(hours=12)  # 2026-11-28 02:32 UTC
    http_slack.command("/incident", "resolve rolled back", channel_id=channel)
    _, shown = http_slack.command("/incident", "show", channel_id=channel)
    assert "Duration 12 hours 0 minutes" in shown
    assert "resolved 11-28 02:32" in shown
    http_slack.command("/incident", "status investigating", channel_id=channel)
    _, shown = http_slack.command("/incident", "show", channel_id=channel)
    assert "Duration ongoing (open for 12h 00m since declared)" in shown


def test_incident_list_labels_its_span_since_declared(http_slack: HttpSlack) -> None:
    http_slack.start_incident()
    _, listing = http_slack.command("/incident", "list")
    assert "open for 0h 00m since declared" in listing


# --- owners and due dates -------------------------------------------------------------------


def items(http_slack: HttpSlack, channel: str) -> list:
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return http_slack.store.items.for_incident(incident_id=incident.id)


def test_a_horizons_default_due_date_counts_from_the_utc_start_date(
    http_slack: HttpSlack, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # already the 28th in Berlin
    channel = http_slack.start_incident()
    http_slack.command("/action", "add <@U_ALICE|alice> rotate the keys", channel_id=channel)
    http_slack.command("/action", "add <@U_BOB|bob> fix the alert", channel_id=channel)
    assert [i.due_date for i in items(http_slack, channel)] == ["2026-12-04", "2026-12-04"]


def test_a_plain_at_name_is_refused_not_replaced_by_the_caller(http_slack: HttpSlack) -> None:
    channel = http_slack.start_incident()
    _, reply = http_slack.command("/action", "add @dave rotate the keys", channel_id=channel)
    assert "`@dave` isn't a Slack mention" in reply
    assert items(http_slack, channel) == []


def test_in_n_days_among_the_options_is_a_due_date_and_in_the_text_is_not(
    http_slack: HttpSlack,
) -> None:
    channel = http_slack.start_incident()  # 2026-11-27, alice in Berlin
    http_slack.command("/action", "add <@U_ALICE|alice> in 3 days rotate keys", channel_id=channel)
    http_slack.command(
        "/action", "add <@U_ALICE|alice> retry the job in 3 days", channel_id=channel
    )
    first, second = items(http_slack, channel)
    assert (first.text, first.due_date) == ("rotate keys", "2026-11-30")
    assert (second.text, second.due_date) == ("retry the job in 3 days", "2026-12-04")


def test_mark_done_from_a_nudge_dm_says_so_in_the_incident_channel(
    http_slack: HttpSlack,
) -> None:
    from tests.test_actions import block_actions

    channel = http_slack.start_incident()
    http_slack.command("/action", "add <@U_BOB|bob> rotate the keys", channel_id=channel)
    [item] = items(http_slack, channel)
    http_slack.fake.add_channel("bob-dm", channel_id="DBOB")
    status, _ = http_slack.post(block_actions("nudge_mark_done", str(item.id), message_ts="1.2"))
    assert status == 200
    said = [c.params["text"] for c in http_slack.fake.calls_to("chat.postMessage")
            if c.params.get("channel") == channel]  # fmt: skip
    assert f"✅ {item.short_id} marked done by <@U_BOB>: rotate the keys" in said


def draft_text(http_slack: HttpSlack, channel: str) -> str:
    http_slack.command("/postmortem", "file", channel_id=channel)
    return http_slack.fake.uploads[-1].content


def test_the_set_slo_is_in_every_slo_figure_and_an_overrun_is_minutes_over_budget(
    http_slack: HttpSlack,
) -> None:
    channel = http_slack.start_incident()
    http_slack.command("/incident", "set slo 99.99", channel_id=channel)
    draft = draft_text(http_slack, channel)
    assert "- Monthly SLO budget: 4 minutes (99.99%)" in draft
    assert "(SLO: 99.99%)" in draft and "99.9%)" not in draft.replace("99.99%", "")
    http_slack.command("/incident", "set downtime 10m", channel_id=channel)
    draft = draft_text(http_slack, channel)
    assert "- Remaining budget: 0 minutes (6 minutes over budget)" in draft


def test_text_cut_at_the_length_limit_says_so_in_the_reply(http_slack: HttpSlack) -> None:
    channel = http_slack.start_incident()
    status, reply = http_slack.command("/timeline", "note " + "x" * 3500, channel_id=channel)
    assert status == 200 and "cut to 3000 characters" in reply
    assert entries(http_slack, channel)[-1].text.endswith("x…")
    # The cut entry's echo went by a reply job (the ack carried the note); once it is posted,
    # the author's zone is cached and the next echo is the ack itself: no note, nothing cut.
    http_slack.fake.wait_for("chat.postMessage", count=2)
    _, short = http_slack.command("/timeline", "note fine", channel_id=channel)
    assert "cut to" not in short
    assert short.startswith("🕒 Timeline · *Note*") and short.endswith(": fine")


@pytest.mark.parametrize("name", ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
def test_run_recognises_the_env_example_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no .env here
    env = {
        "SLACK_BOT_TOKEN": "xoxb-your-bot-token" if name == "SLACK_BOT_TOKEN" else "xoxb-1-real",
        "SLACK_APP_TOKEN": "xapp-your-app-token" if name == "SLACK_APP_TOKEN" else "xapp-1-real",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens: nothing may be sent
        "DB_PATH": str(tmp_path / "bot.db"),
    }
    result = CliRunner().invoke(main, ["run"], env=env)
    assert result.exit_code != 0
    assert f"{name} is still the placeholder from .env.example" in result.output
    assert "Traceback" not in result.output


def test_run_when_slack_cannot_be_reached_logs_one_line_and_retries_with_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from bot import cli

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise SystemExit(9)  # stop the test after three retries

    monkeypatch.setattr(cli, "startup_sleep", sleep)
    monkeypatch.chdir(tmp_path)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-real",
        "SLACK_APP_TOKEN": "xapp-1-real",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens on the discard port
        "DB_PATH": str(tmp_path / "bot.db"),
    }
    result = CliRunner().invoke(cli.main, ["run"], env=env)
    assert result.exit_code == 9, result.output
    assert waits == [1, 2, 4]
    assert result.output.count("Slack cannot be reached at http://127.0.0.1:9/api/") == 3
    assert "Traceback" not in result.output
