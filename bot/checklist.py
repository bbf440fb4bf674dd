"""`/postmortem status`: the draft's sections as a checklist (moved out of ``bot/blocks.py``,
which is at the size cap)."""

from __future__ import annotations

from bot.domain import Incident


def draft_checklist(
    incident: Incident,
    sections: list[tuple[str, bool]],
    progress: dict[str, tuple[int, int]] | None = None,
) -> str:
    """`/postmortem status`: each section of the draft, filled, partly filled
    (``◐ Business Impact 1/4``) or still to write."""
    to_fill = [title for title, filled in sections if not filled]
    lines = [
        f"*Post-mortem of {incident.id}*: {len(sections) - len(to_fill)} of {len(sections)} "
        "sections filled"
    ]
    for title, filled in sections:
        done, total = (progress or {}).get(title, (0, 0))
        if not filled and done:
            lines.append(f"◐ {title} {done}/{total}")
        else:
            lines.append(f"{'✅' if filled else '⬜'} {title}")
    if to_fill:
        lines.append(
            "Fill the summary, impact and scope with `/incident set &lt;field&gt; &lt;text&gt;`, "
            "the timeline with `/timeline` or pins, actions with `/action add`; "
            "the analysis and lessons are written in the draft itself."
        )
    return "\n".join(lines)
