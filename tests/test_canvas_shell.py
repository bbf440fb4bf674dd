"""The canvas in the shell (``drafts/`` follows it, ``:edit``) and in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import postmortem
from bot.canvas.plan import Written
from bot.console.canvas import edited_section, parse_edit
from bot.console.session import ShellClock, open_session
from bot.deps import build_deps
from bot.store import Store

NOW = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)


def test_the_shell_keeps_drafts_in_step_with_the_canvas_and_edits_it_as_a_person(
    tmp_path: Path, store: Store
) -> None:
    clock = ShellClock(start=NOW)
    deps = build_deps(store=store, templates=postmortem.make_environment(), clock=clock)
    lines: list[str] = []
    drafts = tmp_path / "drafts"
    with open_session(deps, clock, drafts_dir=drafts, out=lines.append) as s:
        for line in (
            "/incident start sev2 Checkout API returning 500s",
            "/timeline 15:25 detected alert fired",
            "/postmortem draft",
        ):
            assert s.run_line(line).ok, lines
        path = drafts / "INCIDENT-20261127-1430-postmortem.md"
        assert f"    → saved to {path}" in lines
        assert "| 2026-11-27 14:25 | Detection | @alice | alert fired |" in path.read_text()

        assert s.run_line(":edit What Went Well = The pager fired within two minutes").ok
        assert s.run_line(":edit Contributing Factors -= Human").ok
        written = path.read_text()
        assert "### What Went Well\n\nThe pager fired within two minutes" in written
        assert "**Human**" not in written
        assert not s.run_line(":edit No Such Section = x").ok
        assert not s.run_line(":edit What Went Well =").ok

        assert s.run_line("/timeline hypothesis payments pool exhausted").ok
        assert s.run_line(":time +2m").ok  # the scan refreshes the canvas by itself
        refreshed = path.read_text()
        assert "payments pool exhausted" in refreshed
        assert "The pager fired within two minutes" in refreshed
        assert "**Human**" not in refreshed
    assert any("✎ canvas: Investigation and Escalation replaced" in line for line in lines)


def test_edit_grammar() -> None:
    assert parse_edit("What Went Well = a\\nb") == ("What Went Well", "=", "a\nb")
    assert parse_edit("Process Lessons += - more") == ("Process Lessons", "+=", "- more")
    assert parse_edit("Contributing Factors -= Human") == ("Contributing Factors", "-=", "Human")
    assert parse_edit("What Went Well") == ("What Went Well", None, "")
    section = "### T\n\n- a\n- b"
    assert edited_section(section, "=", "x") == "### T\n\nx"
    assert edited_section(section, "+=", "- c") == "### T\n\n- a\n- b\n- c"
    assert edited_section(section, "-=", "b") == "### T\n\n- a"


def test_the_store_keeps_what_the_bot_wrote_and_one_refresh_at_a_time(store: Store) -> None:
    incident, _ = store.incidents.create(
        title="x", severity="SEV3", commander_id="U1", started_at=NOW, channel_id="C1"
    )
    canvases = store.canvases
    assert canvases.get(incident_id=incident.id) is None
    assert canvases.claim(incident_id=incident.id, channel_id="C1", token="a", now=NOW,
                          stale_before=NOW - timedelta(minutes=2))  # fmt: skip
    assert not canvases.claim(incident_id=incident.id, channel_id="C1", token="b", now=NOW,
                              stale_before=NOW - timedelta(minutes=2))  # fmt: skip
    later = NOW + timedelta(minutes=5)  # a claim its process left behind is taken over
    assert canvases.claim(incident_id=incident.id, channel_id="C1", token="c", now=later,
                          stale_before=later - timedelta(minutes=2))  # fmt: skip
    canvases.begin(incident_id=incident.id, channel_id="C1", now=NOW, sections={"a": "# A"})
    assert canvases.sections(incident_id=incident.id) == {"a": Written(None, "# A")}
    assert canvases.get(incident_id=incident.id).canvas_id is None
    canvases.created(incident_id=incident.id, canvas_id="F1", now=NOW)
    assert canvases.sections(incident_id=incident.id) == {"a": Written("# A")}
    canvases.pending(incident_id=incident.id, key="a", text="# A\n\n2")
    assert canvases.sections(incident_id=incident.id) == {"a": Written("# A", "# A\n\n2")}
    canvases.wrote(incident_id=incident.id, key="a", text="# A\n\n2", now=NOW)
    assert canvases.sections(incident_id=incident.id) == {"a": Written("# A\n\n2")}
    canvases.refreshed(incident_id=incident.id, now=later, fingerprint="f", requested_by="U2")
    row = canvases.get(incident_id=incident.id)
    assert (row.canvas_id, row.refreshed_at, row.fingerprint, row.requested_by) == (
        "F1", later, "f", "U2",
    )  # fmt: skip
    assert [r.incident_id for r in canvases.all()] == [incident.id]
    canvases.release(incident_id=incident.id, token="c")
    assert canvases.claim(incident_id=incident.id, channel_id="C1", token="d", now=later,
                          stale_before=later - timedelta(minutes=2))  # fmt: skip
