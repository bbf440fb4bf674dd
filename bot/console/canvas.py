"""Canvases in the shell: each written to ``./drafts/`` whenever it changes, ``:edit`` to change
a section as a person in Slack would, and the auto-refresh scan on the shell's tick.

A canvas is saved as ``drafts/INCIDENT-…-postmortem.md``, the name the uploaded file has, so the
drafts folder always holds the incident's living document (a later ``/postmortem file`` writes
the same path with the file's version).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot import postmortem
from bot.canvas import service
from bot.canvas.markdown import split_sections
from bot.harness import Seen

if TYPE_CHECKING:
    from bot.console.clock import TickHook
    from bot.console.screen import Screen
    from bot.console.session import Outcome, Session
    from bot.store import Store

EDIT_USAGE = (
    "Say which section and how: :edit <section> = <text> (replace what is under the heading), "
    ":edit <section> += <line>, :edit <section> -= <words> (delete the lines holding them); "
    ":edit <section> shows it, :edit alone lists the sections. Write \\n for a new line."
)


class CanvasFiles:
    """The stand-in's observer that keeps ``drafts/`` in step with every canvas."""

    def __init__(self, screen: Screen, store: Store, drafts_dir: Path) -> None:
        self.screen = screen
        self.store = store
        self.drafts_dir = drafts_dir
        screen.standin.observe(self.seen)

    def path_for(self, channel_id: str, canvas_id: str) -> Path:
        incident = self.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
        name = postmortem.draft_filename(incident.id) if incident else f"canvas-{canvas_id}.md"
        return self.drafts_dir / name

    def seen(self, seen: Seen) -> None:
        if seen.kind not in ("canvas", "canvas_person"):
            return
        path = self.path_for(seen.channel, str(seen.params["canvas_id"]))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(seen.params["markdown"]), encoding="utf-8")
        saved = self.screen.saved_files
        if path in saved:
            saved.remove(path)
        saved.append(path)  # the demo prints the last one: the living document
        if seen.kind == "canvas_person":
            return  # :edit says what the person did
        where = f"[{self.screen.room(seen.channel).label}] " if seen.channel else ""
        what = str(seen.params.get("what") or "")
        if what == "created":
            self.screen.note(f"{where}📝 incident-bot wrote the channel canvas")
            self.screen.note(f"  → saved to {path}")
        else:
            self.screen.note(f"{where}✎ canvas: {what} → {path}")


def parse_edit(arg: str) -> tuple[str, str | None, str]:
    """``What Went Well = text`` → (section, operator, text); the operator is None when the
    line only names a section, and the section empty when it names none."""
    for op in ("+=", "-=", "="):
        name, found, text = arg.partition(f" {op}")
        if found:
            return name.strip(), op, text.strip().replace("\\n", "\n")
    return arg.strip(), None, ""


def edited_section(current: str, op: str, text: str) -> str:
    """The section after a person's edit; its heading line stays."""
    heading, _, body = current.partition("\n")
    if op == "=":
        return f"{heading}\n\n{text}"
    if op == "+=":
        return f"{current.rstrip()}\n{text}"
    kept = [line for line in body.split("\n") if not (text and text in line)]
    return "\n".join([heading, *kept])


def edit(session: Session, arg: str) -> Outcome:
    """``:edit``: a person changes the current channel's canvas, as they would in Slack."""
    from bot.console.session import Outcome  # the session imports this module

    canvases = session.standin.canvases
    canvas = canvases.for_channel(session.channel.id)
    if canvas is None:
        return session._fail("This channel has no canvas yet: run /postmortem draft first.")
    name, op, text = parse_edit(arg)
    if not name:
        titles = [s.title for s in split_sections(canvas.markdown) if s.level]
        session.out("  Sections: " + " · ".join(titles))
        return Outcome(True)
    try:
        current = canvases.section_text(canvas.id, name)
    except KeyError:
        return session._fail(f"The canvas has no section “{name}”: type :edit for the list.")
    if op is None:
        for line in current.split("\n"):
            session.out(f"    {line}")
        return Outcome(True)
    if op != "-=" and not text:
        return session._fail(EDIT_USAGE)
    canvases.person_edit(canvas.id, name, edited_section(current, op, text))
    heading = current.split("\n", 1)[0].lstrip("# ").strip()
    session.out(
        f"  [{session.channel.label}] ✎ {session.user.name} edited “{heading}” in the canvas"
    )
    for line in session.screen.take_output():
        session.out(line)
    return Outcome(True)


def scan_hook(session: Session) -> TickHook:
    """The canvas auto-refresh scan, as production's scheduler runs it."""

    def scan(now: datetime) -> datetime | None:
        queued = service.scan(session.deps, session.client)
        if queued:
            session.screen.note(f"⟳ canvas refresh at {now:%a %H:%M} UTC")
        return None

    return scan
