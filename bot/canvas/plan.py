"""The refresh plan: what a refresh writes in the canvas, one section per edit. Pure.

Given what the bot last wrote in each section, the canvas as read back, and the draft as it
renders now:

- a section nobody edited (read back equal, normalised, to what the bot wrote) whose
  rendering changed is replaced;
- a section a person edited is left as it is; if its data changed too, the plan says which
  new lines were not written there;
- a section a person added (a heading the bot never wrote) is never touched;
- a section the bot wrote that is gone from the canvas was deleted by a person: it stays
  deleted;
- a template section the bot never wrote is inserted after the template section before it
  (or before the first section), so new sections keep template order. No section is ever
  written twice: an insert happens only where neither the canvas nor the bot's record has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.canvas.markdown import Section, edited, new_lines, split_sections


@dataclass(frozen=True)
class Written:
    """What the bot wrote in a section (``text``, once Slack took it) and what it was about
    to write when it last stopped (``pending``). Either in the canvas counts as the bot's."""

    text: str | None
    pending: str | None = None

    @property
    def texts(self) -> list[str]:
        return [t for t in (self.text, self.pending) if t is not None]


@dataclass(frozen=True)
class Target:
    """Where an edit lands: the section found by heading level and text; ``occurrence``
    counts, in canvas order, the headings of that level whose plain text contains it."""

    key: str
    level: int
    text: str
    occurrence: int
    count: int = 1


@dataclass(frozen=True)
class Edit:
    """One ``canvases.edit`` change. ``key`` is the section the markdown writes."""

    operation: str
    key: str
    markdown: str
    target: Target | None = None


@dataclass(frozen=True)
class Kept:
    """A section a person edited whose data changed: what the refresh did not write."""

    key: str
    title: str
    not_written: list[str]


@dataclass(frozen=True)
class Plan:
    edits: list[Edit] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def target_of(section: Section, canvas: list[Section]) -> Target:
    """How to find ``section`` with ``canvases.sections.lookup`` in ``canvas``: a lookup
    by its level and text answers ``count`` ids, and it is the ``occurrence``-th."""
    text = section.plain_title
    matches = [
        other.key
        for other in canvas
        if other.level == section.level and text.casefold() in other.plain_title.casefold()
    ]
    return Target(key=section.key, level=section.level, text=text,
                  occurrence=matches.index(section.key), count=len(matches))  # fmt: skip


def untouched(current: Section, written: Written) -> bool:
    """Whether the canvas still shows one of the texts the bot wrote (or was writing when it
    last stopped) in this section."""
    return any(not edited(text, current.text) for text in written.texts)


def plan_refresh(
    *, written: Mapping[str, Written], canvas_markdown: str, rendered: list[Section]
) -> Plan:
    """The edits that bring the canvas up to ``rendered`` without touching people's words.

    ``written`` maps a section key to what the bot wrote there. A section the bot only meant
    to write (pending, never confirmed) and that is not in the canvas was never written: it
    is inserted, not taken for deleted.
    """
    canvas = split_sections(canvas_markdown)
    order = list(canvas)  # the canvas as it will be after each planned insert
    by_key = {s.key: s for s in canvas}
    edits: list[Edit] = []
    kept: list[Kept] = []
    deleted: list[str] = []
    for index, section in enumerate(rendered):
        current = by_key.get(section.key)
        if current is not None:
            mine = written.get(section.key)
            if mine is None or not mine.texts:
                continue  # a person wrote this heading before the bot ever did
            if untouched(current, mine):
                if edited(current.text, section.text):
                    target = target_of(current, order)
                    edits.append(Edit("replace", section.key, section.text, target))
            else:
                missing = new_lines(mine.texts[0], section.text)
                if missing:
                    kept.append(Kept(section.key, current.title, missing))
            continue
        if section.key in written and written[section.key].text is not None:
            deleted.append(section.key)
            continue
        edit, position = _insert(section, rendered[:index], order)
        edits.append(edit)
        order.insert(position, section)
    return Plan(edits=edits, kept=kept, deleted=deleted)


def _insert(section: Section, before: list[Section], order: list[Section]) -> tuple[Edit, int]:
    """An insert after the nearest earlier template section still in the canvas, else
    before its first heading. Text before any heading has no id, so it anchors nothing."""
    present = {s.key: i for i, s in enumerate(order) if s.level}
    for previous in reversed(before):
        if previous.key in present:
            at = present[previous.key]
            target = target_of(order[at], order)
            return Edit("insert_after", section.key, section.text, target), at + 1
    first = next((i for i, s in enumerate(order) if s.level), None)
    if first is not None:
        target = target_of(order[first], order)
        return Edit("insert_before", section.key, section.text, target), first
    return Edit("insert_at_end", section.key, section.text), len(order)
