"""`incident-bot list`, `render` and `export`: a real database, no Slack token, no network."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot import offline, postmortem
from bot.cli import main
from bot.domain import ActionItem, Incident, TimelineEntry
from bot.store import Store
from tests.conftest import TEMPLATE_SPEC, FakeClock, SlackDriver, reply_text, wait_until
from tests.test_postmortem import GOLDEN, headings, table_rows


@dataclasses.dataclass(frozen=True)
class Seeded:
    db_path: Path
    open_id: str
    resolved_id: str


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory without .env, and no Slack variable: the commands need none."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DB_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TEMPLATES_DIR", raising=False)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture
def seeded(store: Store) -> Seeded:
    """An open incident with a timeline and items, and a resolved one; alice's name cached."""
    now = datetime.now(UTC)
    started = now - timedelta(hours=2, minutes=15)
    inc, _ = store.incidents.create(
        title="Checkout API returning 500s",
        severity="SEV2",
        commander_id="U_ALICE",
        started_at=started,
        channel_id="C_INC",
        channel_name="incident-checkout",
    )
    for minutes, kind, text, actor in (
        (2, "trigger", "v42 deployed", "U_BOB"),
        (5, "detected", "5xx alert fired", "U_ALICE"),
        (9, "acknowledged", "paged <@U_BOB> | on call", "U_ALICE"),
    ):
        store.timeline.add(
            incident_id=inc.id, at=started + timedelta(minutes=minutes), kind=kind, text=text,
            actor_id=actor, actor_name=None, source="command", now=now,
        )  # fmt: skip
    for text, horizon, due in (
        ("Add a canary stage", "immediate", date(2026, 1, 2)),
        ("Rewrite the deploy pipeline", "long-term", date(2027, 3, 1)),
    ):
        store.items.add(
            incident_id=inc.id, text=text, owner_id="U_BOB", horizon=horizon, due_date=due,
            due_at=datetime.combine(due + timedelta(days=1), datetime.min.time(), UTC),
            verification="canary catches a bad build", actor_id="U_ALICE", now=now,
        )  # fmt: skip
    store.users.save(user_id="U_ALICE", name="alice", tz="Europe/Berlin", now=now)
    old, _ = store.incidents.create(
        title="Search index stale",
        severity="SEV4",
        commander_id="U_ALICE",
        started_at=started - timedelta(days=3),
        channel_name="incident-search",
    )
    store.incidents.update(
        incident_id=old.id, actor_id="U_ALICE", now=now, status="resolved",
        resolved_at=started - timedelta(days=3) + timedelta(hours=1, minutes=5),
    )  # fmt: skip
    return Seeded(Path(store.path), inc.id, old.id)


def run(db_path: Path | None, *args: str) -> Result:
    env = {"DB_PATH": str(db_path)} if db_path else {}
    return CliRunner().invoke(main, list(args), env=env)


def assert_one_line_exit_2(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("incident-bot: ")
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0]


# --- list -------------------------------------------------------------------------------------


def test_list_prints_open_incidents_as_an_aligned_table(
    offline_env: Path, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-token")  # never read offline
    result = run(seeded.db_path, "list")
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "SEVERITY", "STATUS", "STARTED", "(UTC)", "DURATION",
                              "OPEN", "FOR", "CHANNEL", "TITLE"]  # fmt: skip
    assert len(rows) == 1
    row = rows[0]
    assert row.startswith(seeded.open_id)
    for column, value in (("SEVERITY", "SEV2"), ("STATUS", "Investigating"),
                          ("DURATION", "ongoing"), ("OPEN FOR", "2h 15m"),
                          ("CHANNEL", "#incident-checkout"),
                          ("TITLE", "Checkout API returning 500s")):  # fmt: skip
        assert row.index(value) == header.index(column), column


def test_list_all_adds_resolved_incidents_with_their_duration(
    offline_env: Path, seeded: Seeded
) -> None:
    result = run(seeded.db_path, "list", "--all")
    assert result.exit_code == 0, result.output
    rows = result.stdout.splitlines()[1:]
    assert [row.split()[0] for row in rows] == [seeded.open_id, seeded.resolved_id]
    assert "Resolved" in rows[1] and "1h 05m" in rows[1]


def test_list_reads_db_path_from_dot_env(offline_env: Path, seeded: Seeded) -> None:
    (offline_env / ".env").write_text(f"DB_PATH={seeded.db_path}\n")
    result = run(None, "list")
    assert result.exit_code == 0, result.output
    assert seeded.open_id in result.stdout


def test_list_with_nothing_open(offline_env: Path, tmp_path: Path) -> None:
    empty = Store(tmp_path / "empty.db")
    empty.migrate()
    empty.close()
    result = run(tmp_path / "empty.db", "list")
    assert result.exit_code == 0
    assert result.stdout == "No open incidents.\n"


def test_incident_table_is_pure_and_aligned() -> None:
    now = datetime(2026, 11, 27, 16, 47, tzinfo=UTC)
    incidents = [
        Incident("INCIDENT-20261127-1432-2", "Title <@U_BOB>", "SEV1", "mitigated", "U_A",
                 now - timedelta(days=1, minutes=7), channel_name="incident-a"),
        Incident("INCIDENT-20261120-0900", "Old\nnews", "SEV3", "resolved", "U_A",
                 now - timedelta(days=7), resolved_at=now - timedelta(days=7) + timedelta(hours=3)),
    ]  # fmt: skip
    lines = offline.incident_table(incidents, now, {"U_BOB": "bob"}).splitlines()
    assert lines[1].split("  ")[0] == "INCIDENT-20261127-1432-2"
    assert "1d 0h 07m" in lines[1] and lines[1].endswith("Title @bob")
    assert "3h 00m" in lines[2] and lines[2].endswith("Old news") and "  —  " in lines[2]
    assert len({line.index("SEV") for line in lines[1:]} | {lines[0].index("SEVERITY")}) == 1


# --- render -----------------------------------------------------------------------------------


def test_render_to_a_file_follows_the_template_and_holds_the_timeline(
    offline_env: Path, seeded: Seeded
) -> None:
    out = offline_env / "draft.md"
    result = run(seeded.db_path, "render", seeded.open_id.lower(), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{out}: 4 timeline entries · ")
    markdown = out.read_text()
    # The shared template where this clone has it beside it; else the golden draft, whose
    # headings test_postmortem checks against that template wherever it is present.
    reference = TEMPLATE_SPEC if TEMPLATE_SPEC.is_file() else GOLDEN
    assert headings(markdown)[0] == (
        "h1",
        f"Post-Mortem: {seeded.open_id} — Checkout API returning 500s",
    )
    assert headings(markdown)[1:] == headings(reference.read_text())[1:]
    rows = table_rows(markdown)
    assert any(r[1:3] == ["Detection", "@alice"] and "5xx alert fired" in r[3] for r in rows)
    # Bob was never looked up in Slack: his ID stands in, and the pipe stays inside its cell.
    assert any(r[1:3] == ["Initial trigger", "@U_BOB"] for r in rows)
    assert any(r[1] == "Acknowledged" and r[3] == "paged @U_BOB | on call" for r in rows)
    assert any(r[0] == "Add a canary stage" and "Overdue" in r[3] for r in rows)


def test_render_to_stdout_is_just_the_draft(offline_env: Path, seeded: Seeded) -> None:
    result = run(seeded.db_path, "render", seeded.open_id)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"# Post-Mortem: {seeded.open_id} — ")
    assert f"`{seeded.open_id}`" in result.stdout
    assert result.stderr == ""


def test_the_draft_names_roles_actors_owners_and_everyone_mentioned() -> None:
    at = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)
    incident = Incident(
        "INCIDENT-1",
        "Ping <@U_T>",
        "SEV2",
        "investigating",
        "U_CMD",
        at,
        comms_id="U_COMMS",
        scribe_id="U_SCRIBE",
        fields={"impact": "<@U_F|f>"},
    )
    entries = [TimelineEntry(1, "INCIDENT-1", at, "note", "ask <@U_M>", "U_ACTOR", None, "pin")]
    items = [ActionItem(1, "INCIDENT-1", "with <@U_I>", "U_OWNER", "immediate", "2026-12-01", at,
                        "ask <@U_V>", "open")]  # fmt: skip
    assert postmortem.people_in(incident, entries, items) == {
        "U_CMD", "U_COMMS", "U_SCRIBE", "U_T", "U_F", "U_M", "U_ACTOR", "U_I", "U_OWNER", "U_V",
    }  # fmt: skip


def test_render_is_the_draft_that_postmortem_draft_uploads(
    offline_env: Path, slack: SlackDriver, store: Store, clock: FakeClock
) -> None:
    clock.now = datetime.now(UTC).replace(microsecond=0)  # the CLI reads the wall clock
    channel = slack.start_incident()
    for text in ("10m ago detected 5xx alert fired", "acknowledged paging <@U_BOB>"):
        response = slack.command("/timeline", text, channel_id=channel)
        assert response.status == 200, reply_text(response)
    slack.command("/action", "add <@U_BOB|bob> due friday add a canary stage", channel_id=channel)
    response = slack.command("/postmortem", "file", channel_id=channel)
    assert response.status == 200, reply_text(response)
    wait_until(lambda: bool(slack.fake.uploads))
    uploaded = slack.fake.uploads[-1]
    incident = store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    assert uploaded.filename == postmortem.draft_filename(incident.id)

    result = run(Path(store.path), "render", incident.id)
    assert result.exit_code == 0, result.output
    # Last Updated comes from the data, not from who asked: the two are the same file.
    assert "@bob" in result.stdout and "@alice" in result.stdout
    assert result.stdout == uploaded.content


# --- export -----------------------------------------------------------------------------------


def test_export_json_round_trips_the_incident_timeline_and_items(
    offline_env: Path, seeded: Seeded, store: Store
) -> None:
    result = run(seeded.db_path, "export", seeded.open_id, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    incident = store.incidents.get(incident_id=seeded.open_id)
    assert incident is not None
    exported = document["incident"]
    assert {f.name for f in dataclasses.fields(Incident)} <= exported.keys()
    assert exported["id"] == incident.id and exported["severity"] == "SEV2"
    assert exported["started_at"].endswith("+00:00")
    assert datetime.fromisoformat(exported["started_at"]) == incident.started_at
    entries = store.timeline.for_incident(incident_id=incident.id)
    timeline = [
        (datetime.fromisoformat(e["at"]), e["kind"], e["text"]) for e in document["timeline"]
    ]
    assert timeline == [(e.at, e.kind, e.text) for e in entries]
    items = document["action_items"]
    assert {f.name for f in dataclasses.fields(ActionItem)} <= items[0].keys()
    assert [(i["short_id"], i["text"], i["due_date"]) for i in items] == [
        ("AI-1", "Add a canary stage", "2026-01-02"),
        ("AI-2", "Rewrite the deploy pipeline", "2027-03-01"),
    ]
    assert items[0]["overdue"] is True
    assert items[0]["changes"][0]["change"] == "created"
    assert datetime.fromisoformat(items[0]["due_at"]).tzinfo is not None


# --- what goes wrong --------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["render", "INCIDENT-19990101-0000"],
                                     ["export", "INCIDENT-19990101-0000", "--json"]])  # fmt: skip
def test_an_unknown_incident_is_one_line_and_exit_2(
    offline_env: Path, seeded: Seeded, command: list[str]
) -> None:
    assert_one_line_exit_2(run(seeded.db_path, *command), "INCIDENT-19990101-0000", "list --all")


@pytest.mark.parametrize("command", [["list"], ["render", "X"], ["export", "X", "--json"]])
def test_a_missing_database_is_one_line_and_exit_2(
    offline_env: Path, tmp_path: Path, command: list[str]
) -> None:
    result = run(tmp_path / "nowhere.db", *command)
    assert_one_line_exit_2(result, "DB_PATH", "nowhere.db")
    assert not (tmp_path / "nowhere.db").exists()  # not created by looking


def test_a_file_that_is_not_a_database_is_one_line_and_exit_2(
    offline_env: Path, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are not the tables you are looking for\n" * 100)
    assert_one_line_exit_2(run(bogus, "list"), "DB_PATH")
