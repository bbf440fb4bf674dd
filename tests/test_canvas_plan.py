"""The refresh plan: replace what nobody touched, keep what people wrote, no duplicates."""

from __future__ import annotations

from pathlib import Path

from bot.canvas.markdown import join_sections, split_sections, to_canvas
from bot.canvas.plan import Written, plan_refresh
from bot.harness.canvases import reserialised

GOLDEN = Path(__file__).resolve().parent / "golden" / "draft.md"
NEW_ROW = "| 2026-11-27 15:50 | Additional findings | @bob | cache was cold |"


def rendered(extra_row: str | None = None) -> list:
    draft = GOLDEN.read_text()
    if extra_row:
        marker = (
            "### Investigation and Escalation\n\n| Time | Event | Actor | Action/Observation |\n"
        )
        marker += "|------|-------|-------|-------------------|\n"
        assert marker in draft
        draft = draft.replace(marker, marker + extra_row + "\n")
    return split_sections(to_canvas(draft))


def written_for(sections) -> dict[str, Written]:
    return {s.key: Written(s.text) for s in sections}


def test_nothing_changed_nothing_is_written_even_when_slack_reserialised():
    first = rendered()
    canvas = reserialised(join_sections(first))
    plan = plan_refresh(written=written_for(first), canvas_markdown=canvas, rendered=rendered())
    assert plan.edits == [] and plan.kept == [] and plan.deleted == []


def test_an_untouched_section_whose_data_changed_is_replaced_alone():
    first = rendered()
    canvas = reserialised(join_sections(first))
    plan = plan_refresh(
        written=written_for(first), canvas_markdown=canvas, rendered=rendered(NEW_ROW)
    )
    assert [(e.operation, e.key) for e in plan.edits] == [
        ("replace", "investigation and escalation")
    ]
    edit = plan.edits[0]
    assert NEW_ROW in edit.markdown
    assert (edit.target.level, edit.target.text, edit.target.occurrence) == (
        3,
        "Investigation and Escalation",
        0,
    )


def test_an_edited_section_is_kept_and_the_new_data_it_lacks_is_named():
    first = rendered()
    by_key = {s.key: s for s in first}
    person = by_key["investigation and escalation"].text + "\n| 15:45 | Note | @carol | mine |"
    canvas = join_sections(first).replace(by_key["investigation and escalation"].text, person)
    plan = plan_refresh(
        written=written_for(first), canvas_markdown=canvas, rendered=rendered(NEW_ROW)
    )
    assert plan.edits == []
    assert [(k.key, k.not_written) for k in plan.kept] == [
        ("investigation and escalation", [NEW_ROW])
    ]
    assert plan.kept[0].title == "Investigation and Escalation"


def test_an_edited_section_whose_data_did_not_change_is_simply_left():
    first = rendered()
    by_key = {s.key: s for s in first}
    well = by_key["what went well"].text
    canvas = join_sections(first).replace(well, "### What Went Well\n\n- the pager worked")
    plan = plan_refresh(written=written_for(first), canvas_markdown=canvas, rendered=rendered())
    assert plan.edits == [] and plan.kept == []


def test_a_deleted_section_stays_deleted_and_an_added_one_is_never_touched():
    first = rendered()
    by_key = {s.key: s for s in first}
    canvas = join_sections(first).replace(by_key["contributing factors"].text + "\n\n", "")
    canvas = canvas.replace(
        by_key["what went well"].text,
        by_key["what went well"].text + "\n\n### Our own notes\n\nkeep me",
    )
    plan = plan_refresh(
        written=written_for(first), canvas_markdown=canvas, rendered=rendered(NEW_ROW)
    )
    assert plan.deleted == ["contributing factors"]
    assert [e.key for e in plan.edits] == ["investigation and escalation"]
    assert all("keep me" not in e.markdown for e in plan.edits)


def test_new_template_sections_go_in_template_order_after_their_predecessor():
    sections = rendered()
    keys = [s.key for s in sections]
    gone = {"what went well", "what could be improved", "relevant links"}
    written = {s.key: Written(s.text) for s in sections if s.key not in gone}
    canvas = join_sections([s for s in sections if s.key not in gone])
    plan = plan_refresh(written=written, canvas_markdown=canvas, rendered=sections)
    assert [(e.operation, e.key, e.target.key) for e in plan.edits] == [
        ("insert_after", "what went well", "contributing factors"),
        ("insert_after", "what could be improved", "what went well"),
        ("insert_after", "relevant links", keys[keys.index("relevant links") - 1]),
    ]
    assert "what went well" not in [e.key for e in plan.edits if e.operation == "replace"]


def test_a_section_the_bot_was_writing_when_it_stopped_counts_as_the_bot_s():
    first = rendered()
    newer = rendered(NEW_ROW)
    new_text = {s.key: s.text for s in newer}["investigation and escalation"]
    written = written_for(first)
    written["investigation and escalation"] = Written(
        written["investigation and escalation"].text, new_text
    )
    canvas = join_sections(newer)  # the edit landed, the record of it did not
    plan = plan_refresh(written=written, canvas_markdown=canvas, rendered=newer)
    assert plan.edits == [] and plan.kept == []


def test_a_heading_a_person_typed_before_the_bot_wrote_it_is_theirs():
    sections = rendered()
    written = {s.key: Written(s.text) for s in sections if s.key != "what went well"}
    canvas = join_sections(sections).replace(
        "[How quickly we detected the issue]", "in two minutes"
    )
    plan = plan_refresh(written=written, canvas_markdown=canvas, rendered=sections)
    assert plan.edits == [] and plan.kept == []


def test_a_repeated_heading_is_found_by_its_occurrence():
    canvas = "# Doc\n\n## Notes\n\nmine\n\n## Notes for later\n\nx\n\n## Notes\n\nbot\n"
    sections = split_sections(canvas)
    bot = sections[3]
    assert bot.key == "notes#2"
    newer = [*sections[:3], bot.__class__(bot.key, bot.level, bot.title, "## Notes\n\nbot 2")]
    plan = plan_refresh(
        written={s.key: Written(s.text) for s in sections}, canvas_markdown=canvas, rendered=newer
    )
    assert [(e.key, e.target.text, e.target.occurrence) for e in plan.edits] == [
        ("notes#2", "Notes", 2)
    ]


def test_a_section_the_bot_only_meant_to_write_is_inserted_not_taken_for_deleted():
    sections = rendered()
    gone = "what went well"
    written = {s.key: Written(s.text) for s in sections if s.key != gone}
    written[gone] = Written(None, {s.key: s.text for s in sections}[gone])  # the insert failed
    canvas = join_sections([s for s in sections if s.key != gone])
    plan = plan_refresh(written=written, canvas_markdown=canvas, rendered=sections)
    assert [(e.operation, e.key) for e in plan.edits] == [("insert_after", gone)]
    assert plan.deleted == []
