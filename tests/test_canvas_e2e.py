"""The post-mortem in the channel's canvas, end to end over signed requests: people's edits
survive every refresh, Slack's re-serialising is not taken for an edit, and the file comes
where canvases cannot."""

from __future__ import annotations

import re
import threading
from typing import Any

from bot.canvas import service
from bot.canvas.markdown import normalise, split_sections
from bot.harness import SlackStandIn
from tests.conftest import FakeClock, SlackDriver, reply_text, wait_until

WELL = "### What Went Well\n\n- **Detection**: the pager fired within two minutes\n- Calm hands"
PLACEHOLDER = "- **Human**: [Knowledge gaps, communication failures, decision delays]"


def jobs_settled(slack: SlackDriver, kind: str, count: int) -> None:
    def settled() -> bool:
        rows = slack.store.jobs.with_kind(kind=kind)
        return len(rows) >= count and all(r["state"] in ("done", "failed") for r in rows)

    wait_until(settled, timeout=15)


def draft(slack: SlackDriver, channel: str, user: str = "U_ALICE") -> str:
    """``/postmortem draft``, waited for; the ack's text."""
    done = len(slack.store.jobs.with_kind(kind=service.DRAFT))
    response = slack.command("/postmortem", "draft", channel_id=channel, user_id=user)
    assert response.status == 200
    jobs_settled(slack, service.DRAFT, done + 1)
    return reply_text(response)


def canvas_of(fake: SlackStandIn, channel: str) -> tuple[str, str]:
    canvas = fake.canvases.for_channel(channel)
    assert canvas is not None
    return canvas.id, canvas.markdown


def headings(markdown: str) -> list[str]:
    return [s.title for s in split_sections(markdown) if s.level]


def ephemerals(fake: SlackStandIn, user: str) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in fake.calls_to("chat.postEphemeral")
        if c.params.get("user") == user
    ]


def drafted(slack: SlackDriver) -> tuple[str, str]:
    """An incident whose canvas was drafted: (channel, canvas id)."""
    channel = slack.start_incident()
    draft(slack, channel)
    canvas_id, _ = canvas_of(slack.fake, channel)
    return channel, canvas_id


def timeline(slack: SlackDriver, channel: str, text: str) -> None:
    assert slack.command("/timeline", text, channel_id=channel).status == 200


def test_draft_edits_then_refresh_keeps_people_s_words_and_adds_the_new_rows(
    slack: SlackDriver, clock: FakeClock
) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    timeline(slack, channel, "14:20 detected checkout 5xx above 2%")
    assert "canvas" in draft(slack, channel)

    canvas_id, first = canvas_of(fake, channel)
    [create] = fake.calls_to("conversations.canvases.create")
    assert create.params["channel_id"] == channel
    assert create.params["document_content"]["type"] == "markdown"
    assert not fake.calls_to("files.completeUploadExternal")  # the canvas, not the file
    [posted] = [m for m in fake.messages_in(channel) if "canvas" in m.get("text", "")]
    assert "/docs/T" in posted["text"] and canvas_id in posted["text"]
    template_headings = headings(first)
    assert "What Went Well" in template_headings and len(template_headings) > 30
    assert "checkout 5xx above 2%" in first

    # A person writes "What Went Well" and deletes one placeholder line elsewhere.
    fake.canvases.person_edit(canvas_id, "What Went Well", WELL)
    factors = fake.canvases.section_text(canvas_id, "Contributing Factors")
    assert PLACEHOLDER in factors
    trimmed = "\n".join(line for line in factors.split("\n") if line != PLACEHOLDER)
    fake.canvases.person_edit(canvas_id, "Contributing Factors", trimmed)
    fake.canvases.reserialise = True  # Slack hands the markdown back written its own way

    clock.advance(minutes=5)
    timeline(slack, channel, "14:33 hypothesis payments pool exhausted")
    timeline(slack, channel, "14:36 mitigated rolled back to v41")
    item = "add <@U_BOB|bob> due 2026-12-04 alert on pool saturation"
    slack.command("/action", item, channel_id=channel)
    edits_before = len(fake.calls_to("canvases.edit"))
    draft(slack, channel)

    _, after = canvas_of(fake, channel)
    assert fake.canvases.section_text(canvas_id, "What Went Well") == WELL
    assert fake.canvases.section_text(canvas_id, "Contributing Factors") == trimmed
    assert PLACEHOLDER not in after
    investigation = fake.canvases.section_text(canvas_id, "Investigation and Escalation")
    assert "payments pool exhausted" in investigation
    assert "rolled back to v41" in fake.canvases.section_text(canvas_id, "Detection and Response")
    immediate = fake.canvases.section_text(canvas_id, "Immediate Actions")
    assert re.search(r"\| alert on pool saturation \| @bob \| 2026-12-04 \| ⏳ Open \|", immediate)
    assert "[Specific action]" not in immediate
    assert headings(after) == template_headings  # no section duplicated, none lost
    # One section per call, each found by lookup; the whole canvas is never replaced.
    edits = fake.calls_to("canvases.edit")[edits_before:]
    assert edits and all(len(c.params["changes"]) == 1 for c in edits)
    assert all(c.params["changes"][0].get("section_id") for c in edits)
    assert len(fake.calls_to("canvases.sections.lookup")) >= len(edits)
    touched = {c.params["changes"][0]["document_content"]["markdown"].split("\n")[0] for c in edits}
    assert not any("What Went Well" in t or "Contributing Factors" in t for t in touched)
    assert any("up to date" in text for text in ephemerals(fake, "U_ALICE"))


def test_a_refresh_with_nothing_new_writes_nothing_even_when_slack_reserialises(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    draft(slack, channel)
    fake.canvases.reserialise = True
    draft(slack, channel)
    sections = [
        c.params["changes"][0]["document_content"]["markdown"].split("\n")[0]
        for c in fake.calls_to("canvases.edit")
    ]
    # Only the sign-off's "Last Updated … by" may differ between two drafts by one person.
    assert all("Sign-off" in s or "Distribution" in s for s in sections), sections


def test_an_edited_section_whose_data_changed_gets_one_line_to_who_asked(
    slack: SlackDriver, clock: FakeClock
) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    timeline(slack, channel, "14:20 detected checkout 5xx above 2%")
    draft(slack, channel)
    canvas_id, _ = canvas_of(fake, channel)
    detection = fake.canvases.section_text(canvas_id, "Detection and Response")
    mine = detection.replace("checkout 5xx above 2%", "checkout 5xx above 2% (EU only)")
    fake.canvases.person_edit(canvas_id, "Detection and Response", mine)
    clock.advance(minutes=3)
    timeline(slack, channel, "14:36 mitigated rolled back to v41")
    draft(slack, channel, user="U_BOB")

    assert fake.canvases.section_text(canvas_id, "Detection and Response") == mine
    lines = [t for t in ephemerals(fake, "U_BOB") if "Detection and Response" in t]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "rolled back to v41" in lines[0] and "not written" in lines[0]
    assert not [t for t in ephemerals(fake, "U_ALICE") if "Detection and Response" in t]


def test_a_refresh_racing_a_person_editing_another_section_loses_neither(
    slack: SlackDriver, clock: FakeClock
) -> None:
    fake = slack.fake
    channel, canvas_id = drafted(slack)
    typed = "### Technical Lessons\n\n- **Monitoring**: alert on pool saturation, not on 5xx"
    once = threading.Event()

    def person_types(canvas: Any, change: dict[str, Any]) -> None:
        if not once.is_set():  # while the refresh is under way, between two of its edits
            once.set()
            fake.canvases.person_edit(canvas_id, "Technical Lessons", typed)

    fake.canvases.before_edit = person_types
    clock.advance(minutes=2)
    timeline(slack, channel, "14:33 hypothesis payments pool exhausted")
    slack.command("/action", "add <@U_BOB|bob> fix the pool size", channel_id=channel)
    draft(slack, channel)

    assert once.is_set()
    assert fake.canvases.section_text(canvas_id, "Technical Lessons") == typed
    assert "payments pool exhausted" in fake.canvases.section_text(
        canvas_id, "Investigation and Escalation"
    )
    assert "fix the pool size" in fake.canvases.section_text(canvas_id, "Immediate Actions")
    fake.canvases.before_edit = None
    clock.advance(minutes=2)
    draft(slack, channel)  # and the next refresh takes the person's section for theirs
    assert fake.canvases.section_text(canvas_id, "Technical Lessons") == typed


def test_a_canvas_deleted_in_slack_is_made_again_and_the_channel_is_told(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    channel, old = drafted(slack)
    fake.canvases.delete(old)
    draft(slack, channel)
    new, markdown = canvas_of(fake, channel)
    assert new != old
    assert len(headings(markdown)) > 30
    assert any("was deleted" in m.get("text", "") for m in fake.messages_in(channel))
    assert slack.store.canvases.get(incident_id=_incident(slack, channel)).canvas_id == new


def test_where_canvases_are_unavailable_the_file_comes_with_one_sentence(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    fake.canvases.unavailable = "team_tier_cannot_create_channel_canvases"
    draft(slack, channel)
    fake.wait_for("files.completeUploadExternal")
    upload = fake.uploads[-1]
    assert upload.filename.endswith("-postmortem.md")
    assert upload.initial_comment.startswith("This workspace's plan has no channel canvases")
    assert "## 📋 Executive Summary" in upload.content
    assert fake.canvases.for_channel(channel) is None
    assert slack.store.canvases.get(incident_id=_incident(slack, channel)) is None


def test_a_missing_scope_also_falls_back_to_the_file(slack: SlackDriver) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    fake.fail("conversations.canvases.create", error="missing_scope")
    draft(slack, channel)
    fake.wait_for("files.completeUploadExternal")
    assert "canvases:write" in fake.uploads[-1].initial_comment


def test_postmortem_file_uploads_the_markdown_as_before(slack: SlackDriver) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    slack.command("/postmortem", "file", channel_id=channel)
    fake.wait_for("files.completeUploadExternal")
    assert "```mermaid" in fake.uploads[-1].content  # the file is the file, unconverted
    assert not fake.calls_to("conversations.canvases.create")


def test_the_canvas_refreshes_by_itself_once_a_minute_and_once_after_resolving(
    slack: SlackDriver, clock: FakeClock, deps: Any
) -> None:
    fake, client = slack.fake, slack.app.client
    channel, canvas_id = drafted(slack)
    assert service.scan(deps, client) == []  # nothing changed

    timeline(slack, channel, "14:33 hypothesis payments pool exhausted")
    assert service.scan(deps, client) == []  # within the minute of the draft
    clock.advance(seconds=61)
    assert len(service.scan(deps, client)) == 1
    assert "payments pool" in fake.canvases.section_text(canvas_id, "Investigation and Escalation")
    assert service.scan(deps, client) == []  # nothing new since

    clock.advance(minutes=2)
    slack.command("/incident", "resolve rolled back", channel_id=channel)
    clock.advance(minutes=2)
    assert len(service.scan(deps, client)) == 1
    assert "**Status**: RESOLVED" in fake.canvases.markdown(canvas_id)
    clock.advance(minutes=2)
    timeline(slack, channel, "15:10 note customers told")
    clock.advance(minutes=2)
    assert service.scan(deps, client) == []  # resolved: the last refresh is done

    slack.command("/incident", "status investigating", channel_id=channel)  # reopened
    clock.advance(minutes=2)
    assert len(service.scan(deps, client)) == 1
    assert "customers told" in fake.canvases.markdown(canvas_id)


def test_after_the_canvas_is_deleted_only_the_next_draft_makes_a_new_one(
    slack: SlackDriver, clock: FakeClock, deps: Any
) -> None:
    fake, client = slack.fake, slack.app.client
    channel, canvas_id = drafted(slack)
    fake.canvases.delete(canvas_id)
    clock.advance(minutes=2)
    timeline(slack, channel, "14:40 note still here")
    assert len(service.scan(deps, client)) == 1  # it finds the canvas gone, and stops
    assert fake.canvases.for_channel(channel) is None
    clock.advance(minutes=2)
    timeline(slack, channel, "14:45 note and again")
    assert service.scan(deps, client) == []
    draft(slack, channel)
    assert fake.canvases.for_channel(channel) is not None
    clock.advance(minutes=2)
    timeline(slack, channel, "14:50 note back")
    assert len(service.scan(deps, client)) == 1  # refreshing again


def test_an_auto_refresh_slack_refused_runs_again_from_its_job_row(
    slack: SlackDriver, clock: FakeClock, deps: Any
) -> None:
    fake, client = slack.fake, slack.app.client
    channel, canvas_id = drafted(slack)
    clock.advance(seconds=61)
    timeline(slack, channel, "14:33 hypothesis payments pool exhausted")
    fake.fail("canvases.getContent", status=503, times=10)
    [job_id] = service.scan(deps, client)
    assert slack.store.jobs.state(job_id=job_id)["state"] == "pending"
    assert service.scan(deps, client) == []  # queued already: not queued twice
    clock.advance(minutes=5)
    fake.reset()  # Slack answers again
    deps.jobs.sweep(deps=deps, client=client)
    assert slack.store.jobs.state(job_id=job_id)["state"] == "done"
    assert "payments pool" in fake.canvases.section_text(canvas_id, "Investigation and Escalation")


def test_two_refreshes_of_one_incident_never_run_at_once(slack: SlackDriver, deps: Any) -> None:
    channel = slack.start_incident()
    draft(slack, channel)
    incident_id = _incident(slack, channel)
    now = deps.clock()
    held = deps.store.canvases.claim(incident_id=incident_id, channel_id=channel, token="a",
                                     now=now, stale_before=now - service.LEASE)  # fmt: skip
    assert held
    done = len(slack.store.jobs.with_kind(kind=service.DRAFT))
    slack.command("/postmortem", "draft", channel_id=channel)
    wait_until(lambda: len(slack.store.jobs.with_kind(kind=service.DRAFT)) == done + 1)
    job = slack.store.jobs.with_kind(kind=service.DRAFT)[-1]
    wait_until(lambda: slack.store.jobs.state(job_id=job["id"])["attempts"] >= 1)
    assert slack.store.jobs.state(job_id=job["id"])["state"] == "pending"  # waits its turn
    deps.store.canvases.release(incident_id=incident_id, token="a")


def _incident(slack: SlackDriver, channel: str) -> str:
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return incident.id


def test_normalised_read_back_of_a_whole_refreshed_canvas_matches_what_was_written(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    _, canvas_id = drafted(slack)
    markdown = fake.canvases.markdown(canvas_id)
    fake.canvases.reserialise = True
    content = fake.canvases.canvases_get_content({"canvas_id": canvas_id})["content"]
    assert content != markdown and normalise(content) == normalise(markdown)


def test_a_refresh_cut_short_after_an_edit_never_takes_its_own_words_for_a_person_s(
    slack: SlackDriver, clock: FakeClock, deps: Any, monkeypatch: Any
) -> None:
    fake = slack.fake
    channel, canvas_id = drafted(slack)
    clock.advance(minutes=2)
    timeline(slack, channel, "14:33 hypothesis payments pool exhausted")
    real = type(slack.store.canvases).wrote

    def crash(self: Any, **kwargs: Any) -> None:
        raise OSError("the process died between Slack's answer and the record")

    monkeypatch.setattr(type(slack.store.canvases), "wrote", crash)
    slack.command("/postmortem", "draft", channel_id=channel)
    wait_until(lambda: "payments pool" in fake.canvases.markdown(canvas_id))  # Slack has it
    [_, job] = slack.store.jobs.with_kind(kind=service.DRAFT)
    wait_until(lambda: slack.store.jobs.state(job_id=job["id"])["attempts"] == 1)
    wait_until(lambda: slack.store.jobs.state(job_id=job["id"])["state"] == "pending")
    monkeypatch.setattr(type(slack.store.canvases), "wrote", real)  # "restarted"
    clock.advance(minutes=1)
    deps.jobs.sweep(deps=deps, client=slack.app.client)  # the job runs again, to the end
    assert slack.store.jobs.state(job_id=job["id"])["state"] == "done"
    assert not [t for t in ephemerals(fake, "U_ALICE") if "was edited" in t]

    clock.advance(minutes=2)
    timeline(slack, channel, "14:40 finding pool max lowered to 5 in v42")
    draft(slack, channel, user="U_BOB")
    investigation = fake.canvases.section_text(canvas_id, "Investigation and Escalation")
    assert "pool max lowered to 5" in investigation  # still the bot's section: refreshed
    assert not [t for t in ephemerals(fake, "U_BOB") if "was edited" in t]


def test_the_canvas_holds_no_live_html_and_no_bidi_overrides(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    timeline(slack, channel, "note saw &lt;img src=x onerror=alert(1)&gt; \u202eexe.txt")
    draft(slack, channel)
    _, markdown = canvas_of(slack.fake, channel)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "<img" not in markdown
    assert not any(
        ch in markdown for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )


def test_a_channel_with_a_canvas_of_its_own_gets_the_post_mortem_in_another_tab(
    slack: SlackDriver,
) -> None:
    fake = slack.fake
    channel = slack.start_incident()
    theirs = fake.canvases.conversations_canvases_create(
        {"channel_id": channel, "document_content": {"type": "markdown", "markdown": "# Ours"}}
    )["canvas_id"]
    draft(slack, channel)
    [made] = fake.calls_to("canvases.create")
    assert made.params["channel_id"] == channel
    row = slack.store.canvases.get(incident_id=_incident(slack, channel))
    assert row.canvas_id not in (None, theirs)
    assert fake.canvases.markdown(theirs) == "# Ours\n"  # untouched
    assert "### What Went Well" in fake.canvases.markdown(row.canvas_id)
