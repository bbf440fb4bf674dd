"""Canvases for the Slack stand-in: each canvas is markdown in sections with ids.

It answers ``conversations.canvases.create``, ``canvases.create``, ``canvases.getContent``,
``canvases.sections.lookup``, ``canvases.edit`` and ``canvases.delete`` with the shapes of
Slack's reference (see the notes at the top of ``bot.canvas.markdown``). A section is a
heading and what follows it up to the next heading; its id (``temp:C:…``) is the heading's
and stays the same across edits, as Slack's do. Text before the first heading has an id
too, which only a lookup without ``section_types`` can find.

Two switches make it behave like the real thing where that matters to the bot:

- ``reserialise``: ``getContent`` hands the markdown back written differently, as Slack may
  (``*`` list markers, ``<url|label>`` links, ``<@U…>`` mentions, escaped brackets,
  re-padded tables, no trailing spaces, extra blank lines), with the same content;
- ``unavailable``: ``conversations.canvases.create`` answers that error (a free team's
  ``team_tier_cannot_create_channel_canvases``, ``canvas_disabled_user_team``, …).

``person_edit`` and ``person_delete`` change a section as someone typing in Slack would;
``before_edit`` runs just before each ``canvases.edit`` applies, so a test can have a person
type while a refresh is under way. ``on_change`` is called with every canvas that changed
(the shell writes it to ``./drafts/``), what changed, and whether a person changed it.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.canvas.markdown import plain, split_sections, table_cells

SECTION_TYPES = frozenset({"h1", "h2", "h3", "any_header"})
OPERATIONS = frozenset(
    {"insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace", "delete",
     "rename"}
)  # fmt: skip
_HEADING = re.compile(r"^\s{0,3}(#{1,3})[ \t]+(.*)$")


class CanvasError(Exception):
    """An ``{"ok": false, "error": ...}`` answer."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Chunk:
    id: str
    text: str

    @property
    def level(self) -> int:
        m = _HEADING.match(self.text.split("\n", 1)[0])
        return len(m.group(1)) if m else 0

    @property
    def heading(self) -> str:
        m = _HEADING.match(self.text.split("\n", 1)[0])
        return m.group(2).strip() if m else ""


@dataclass
class Canvas:
    id: str
    title: str
    channel_id: str | None
    chunks: list[Chunk] = field(default_factory=list)
    deleted: bool = False

    @property
    def markdown(self) -> str:
        return "\n\n".join(c.text for c in self.chunks if c.text.strip()) + "\n"


def _json(value: Any) -> Any:
    """Form-encoded calls carry objects as JSON strings (``criteria``, ``changes``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise CanvasError("invalid_arguments") from exc
    return value


class Canvases:
    """The workspace's canvases. Thread-safe: the stand-in serves requests on threads."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        # The stand-in passes its own lock: one lock, so a person's edit from a test thread
        # and a request's never take two locks in opposite orders.
        self._lock = lock or threading.RLock()
        self._ids = itertools.count(1)
        self.by_id: dict[str, Canvas] = {}
        self.by_channel: dict[str, str] = {}
        self.reserialise = False
        self.unavailable: str | None = None
        self.before_edit: Callable[[Canvas, dict[str, Any]], None] | None = None
        self.on_change: Callable[[Canvas, str, bool], None] | None = None

    # --- what a test or the shell does --------------------------------------------------

    def for_channel(self, channel_id: str) -> Canvas | None:
        with self._lock:
            canvas_id = self.by_channel.get(channel_id)
            return self.by_id.get(canvas_id) if canvas_id else None

    def markdown(self, canvas_id: str) -> str:
        return self._canvas(canvas_id).markdown

    def section_text(self, canvas_id: str, heading: str) -> str:
        """The text of the section whose heading contains ``heading`` (emoji aside)."""
        return self._chunk_by_heading(self._canvas(canvas_id), heading).text

    def person_edit(self, canvas_id: str, heading: str, text: str) -> None:
        """Someone rewrites a section in Slack (its heading line included in ``text``, or the
        heading kept when ``text`` has none)."""
        with self._lock:
            canvas = self._canvas(canvas_id)
            chunk = self._chunk_by_heading(canvas, heading)
            if not _HEADING.match(text.split("\n", 1)[0]):
                text = chunk.text.split("\n", 1)[0] + "\n\n" + text.strip("\n")
            chunk.text = text.strip("\n")
            self._changed(canvas, f"{chunk.heading} edited", by_person=True)

    def person_delete(self, canvas_id: str, heading: str) -> None:
        with self._lock:
            canvas = self._canvas(canvas_id)
            chunk = self._chunk_by_heading(canvas, heading)
            canvas.chunks.remove(chunk)
            self._changed(canvas, f"{chunk.heading} deleted", by_person=True)

    def delete(self, canvas_id: str) -> None:
        """The canvas is deleted in Slack: every later call about it fails."""
        with self._lock:
            canvas = self._canvas(canvas_id)
            canvas.deleted = True
            if canvas.channel_id and self.by_channel.get(canvas.channel_id) == canvas_id:
                del self.by_channel[canvas.channel_id]

    # --- the Web API methods -------------------------------------------------------------

    def conversations_canvases_create(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = params.get("channel_id")
        if not channel_id:
            raise CanvasError("invalid_arguments")
        if self.unavailable:
            raise CanvasError(self.unavailable)
        with self._lock:
            if channel_id in self.by_channel:
                raise CanvasError("channel_canvas_already_exists")
            canvas = self._new(params, channel_id)
            self.by_channel[channel_id] = canvas.id
        return {"ok": True, "canvas_id": canvas.id}

    def canvases_create(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.unavailable:
            raise CanvasError(self.unavailable)
        with self._lock:
            canvas = self._new(params, params.get("channel_id"))
        return {"ok": True, "canvas_id": canvas.id}

    def canvases_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        self.delete(str(params.get("canvas_id", "")))
        return {"ok": True}

    def canvases_get_content(self, params: dict[str, Any]) -> dict[str, Any]:
        canvas = self._canvas(str(params.get("canvas_id", "")))
        content_type = params.get("content_type") or "markdown"
        if content_type not in ("markdown", "html"):
            raise CanvasError("invalid_arguments")
        markdown = canvas.markdown
        if content_type == "html":
            return {"ok": True, "content": "<pre>" + markdown + "</pre>"}
        return {"ok": True, "content": reserialised(markdown) if self.reserialise else markdown}

    def canvases_sections_lookup(self, params: dict[str, Any]) -> dict[str, Any]:
        canvas = self._canvas(str(params.get("canvas_id", "")))
        criteria = _json(params.get("criteria"))
        if not isinstance(criteria, dict):
            raise CanvasError("invalid_arguments")
        types = criteria.get("section_types")
        text = criteria.get("contains_text")
        if types is None and not text:
            raise CanvasError("invalid_arguments")
        if types is not None and (
            not isinstance(types, list) or not 1 <= len(types) <= 3 or set(types) - SECTION_TYPES
        ):
            raise CanvasError("invalid_arguments")
        levels = {1, 2, 3} if types and "any_header" in types else {int(t[1]) for t in types or []}
        with self._lock:
            found = [
                {"id": c.id}
                for c in canvas.chunks
                if (not levels or c.level in levels)
                and (not text or _contains(c.heading if levels else c.text, text))
            ]
        return {"ok": True, "sections": found}

    def canvases_edit(self, params: dict[str, Any]) -> dict[str, Any]:
        canvas = self._canvas(str(params.get("canvas_id", "")))
        changes = _json(params.get("changes"))
        if not isinstance(changes, list) or len(changes) != 1 or not isinstance(changes[0], dict):
            raise CanvasError("invalid_arguments")  # "Only one operation per API call"
        change = changes[0]
        operation = change.get("operation")
        if operation not in OPERATIONS:
            raise CanvasError("invalid_arguments")
        if self.before_edit is not None:
            self.before_edit(canvas, change)
        with self._lock:
            if canvas.deleted:
                raise CanvasError("canvas_not_found")
            what = self._apply(canvas, operation, change)
            self._changed(canvas, what)
        return {"ok": True}

    # --- inside --------------------------------------------------------------------------

    def _new(self, params: dict[str, Any], channel_id: str | None) -> Canvas:
        content = _json(params.get("document_content")) if params.get("document_content") else None
        markdown = _markdown_of(content) if content is not None else ""
        canvas = Canvas(id=f"F0CANVAS{next(self._ids):04d}", title=str(params.get("title") or ""),
                        channel_id=channel_id)  # fmt: skip
        canvas.chunks = self._chunks(markdown)
        self.by_id[canvas.id] = canvas
        self._changed(canvas, "created")
        return canvas

    def _chunks(self, markdown: str) -> list[Chunk]:
        return [
            Chunk(id=f"temp:C:{next(self._ids):028x}", text=s.text)
            for s in split_sections(markdown)
        ]

    def _apply(self, canvas: Canvas, operation: str, change: dict[str, Any]) -> str:
        """Apply one change; say what it did (``"Timeline replaced"``)."""
        if operation == "rename":
            title = change.get("title_content") or {}
            canvas.title = str(_json(title).get("markdown", "")) if title else canvas.title
            return "renamed"
        section_id = change.get("section_id")
        needs_section = operation in ("insert_after", "insert_before", "delete")
        if needs_section and not section_id:
            raise CanvasError("invalid_arguments")
        index = None
        if section_id:
            index = next((i for i, c in enumerate(canvas.chunks) if c.id == section_id), None)
            if index is None:
                raise CanvasError("canvas_editing_failed", detail="section not found")
        if operation == "delete":
            gone = canvas.chunks.pop(index)
            return f"{gone.heading or 'a section'} deleted"
        content = change.get("document_content")
        if not content:
            raise CanvasError("invalid_arguments")
        new = self._chunks(_markdown_of(_json(content)))
        named = ", ".join(c.heading for c in new if c.heading) or "text"
        what = f"{named} {'replaced' if operation == 'replace' else 'added'}"
        if operation == "replace" and index is None:
            canvas.chunks = new
        elif operation == "replace":
            if new and canvas.chunks[index].level and new[0].level:
                new[0].id = canvas.chunks[index].id  # the heading is still there: same id
            canvas.chunks[index : index + 1] = new
        elif operation == "insert_at_start":
            canvas.chunks[0:0] = new
        elif operation == "insert_at_end":
            canvas.chunks.extend(new)
        elif operation == "insert_before":
            canvas.chunks[index:index] = new
        else:
            canvas.chunks[index + 1 : index + 1] = new
        return what

    def _canvas(self, canvas_id: str) -> Canvas:
        canvas = self.by_id.get(canvas_id)
        if canvas is None or canvas.deleted:
            raise CanvasError("canvas_not_found")
        return canvas

    @staticmethod
    def _chunk_by_heading(canvas: Canvas, heading: str) -> Chunk:
        for chunk in canvas.chunks:
            if chunk.level and _contains(chunk.heading, heading):
                return chunk
        raise KeyError(f"no section {heading!r} in {canvas.id}")

    def _changed(self, canvas: Canvas, what: str, *, by_person: bool = False) -> None:
        if self.on_change is not None:
            self.on_change(canvas, what, by_person)


METHODS: dict[str, Callable[[Canvases, dict[str, Any]], dict[str, Any]]] = {
    "conversations.canvases.create": Canvases.conversations_canvases_create,
    "canvases.create": Canvases.canvases_create,
    "canvases.delete": Canvases.canvases_delete,
    "canvases.getContent": Canvases.canvases_get_content,
    "canvases.sections.lookup": Canvases.canvases_sections_lookup,
    "canvases.edit": Canvases.canvases_edit,
}


def _contains(haystack: str, needle: str) -> bool:
    return plain(needle).casefold() in plain(haystack).casefold()


def _markdown_of(content: Any) -> str:
    if not isinstance(content, dict) or content.get("type") != "markdown":
        raise CanvasError("invalid_arguments")
    markdown = content.get("markdown")
    if not isinstance(markdown, str):
        raise CanvasError("invalid_arguments")
    if len(markdown) > 1_048_576:
        raise CanvasError("canvas_creation_failed", detail="content is over 1 MiB")
    for line in markdown.split("\n"):
        if re.match(r"^\s{0,3}#{4,}\s", line):
            raise CanvasError("canvas_creation_failed", detail="headings go to h3 only")
    return markdown


# --- how Slack may hand markdown back -----------------------------------------------------


def reserialised(markdown: str) -> str:
    """The same document as another writer would spell it: ``*`` bullets, ``<url|label>``
    links, ``<@U…>`` mentions, escaped brackets, tables without padding, no trailing
    spaces, a blank line after every heading. Code blocks are left as they are."""
    out: list[str] = []
    in_code = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            out.append(line.rstrip())
            continue
        if in_code:
            out.append(line)
            continue
        line = line.rstrip()
        line = re.sub(r"^(\s*)- ", r"\1* ", line)
        line = re.sub(r"!\[\]\(([@#][A-Z0-9]+)\)", r"<\1>", line)
        line = re.sub(r"(?<!!)\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", line)
        line = re.sub(r"(?<![\\<|!])\[([^\]]+[^\]\\])\](?!\()", r"\\[\1\\]", line)
        if line.startswith("|"):
            line = "|" + "|".join(c.strip() for c in table_cells(line)) + "|"
        out.append(line)
        if _HEADING.match(line):
            out.append("")
    return "\n".join(out)
