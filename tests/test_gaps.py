"""The closing note's reading of a draft: placeholders outside the judgement sections."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import gaps, postmortem
from bot.domain import Incident

START = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def test_an_empty_draft_lists_its_fields_but_not_the_judgement_sections() -> None:
    incident = Incident("INC-1", "Checkout down", "SEV2", "investigating", "U_A", START)
    context = postmortem.build_context(incident=incident, entries=[], names={}, now=START)
    draft = postmortem.render(postmortem.make_environment(), context)
    left = dict(gaps.placeholders_left(draft))
    for field in ("Availability", "Latency", "Alert Dashboard", "Technical Review",
                  "Long-term Actions", "Similar incidents prevented", "Last Updated"):  # fmt: skip
        assert field in left, field
        assert left[field] != "nothing the bot records says it", field
    for judgement in gaps.JUDGEMENT:
        assert judgement not in left
    assert not any(field.startswith(("What", "Why", "Answer")) for field in left)
    assert "⏰ Timeline" not in left  # the phase diagram's brackets are syntax


def test_a_draft_without_placeholders_says_so() -> None:
    assert gaps.closing_note("# Post-Mortem\n\n- **Latency**: 120ms\n") == (
        "Outside the judgement sections, the draft has no placeholder left."
    )
