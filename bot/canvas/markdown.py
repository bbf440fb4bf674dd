"""Canvas markdown: the draft converted to what a canvas accepts, split into sections, and
normalised so that a section Slack merely re-serialised is never taken for a person's edit.

What Slack documents (read 2026-12-01):

- ``conversations.canvases.create(channel_id, document_content={"type": "markdown",
  "markdown": ...}, title?)`` makes the channel canvas and answers ``{"ok": true,
  "canvas_id": "F…"}``. A channel has one: ``channel_canvas_already_exists``. Other errors:
  ``canvas_disabled_user_team``, ``team_tier_cannot_create_channel_canvases``,
  ``free_team_canvas_tab_already_exists``, ``canvas_creation_failed`` (bad content, with a
  ``detail`` such as "line 28: Unsupported block type (List) within block quote"),
  ``channel_canvas_creation_failed``, ``canvas_tab_creation_failed``, ``restricted_action``;
  and the generic ``missing_scope`` (with ``needed``), ``not_allowed_token_type``.
  Scope ``canvases:write``; tier 2. The markdown is limited to 1 MiB.
  https://docs.slack.dev/reference/methods/conversations.canvases.create
- ``canvases.create`` (standalone, ``channel_id`` optional) takes the same
  ``document_content``. Its page lists what that markdown accepts: bold, italic,
  strikethrough, bulleted and ordered lists, checklists, code blocks and code spans,
  dividers, standard and custom emoji, hard line breaks, headings h1–h3, inline links and
  link references, markdown tables, quote blocks, paragraphs, @ mentions of users and
  channels, and canvas, file, message, profile and website unfurls. Nothing else: no h4–h6,
  no HTML (so no ``<br/>``), no images other than unfurls, no diagram languages. (The page
  points to the "Canvas surface documentation" for details; that page was not in the stored
  copies this was checked against, so this list is the reference.)
  https://docs.slack.dev/reference/methods/canvases.create
- ``canvases.edit(canvas_id, changes=[{operation, section_id?, document_content?}])``:
  ``insert_after``/``insert_before`` need a ``section_id`` and content;
  ``insert_at_start``/``insert_at_end`` need content; ``replace`` needs content and takes a
  ``section_id`` (without one it replaces the whole canvas); ``delete`` needs a
  ``section_id``; ``rename`` takes ``title_content`` instead. "Only one operation per API
  call is currently supported." Scope ``canvases:write``; tier 3. Its error table was not in
  the stored copy; the stand-in answers ``canvas_not_found`` for a missing canvas and
  ``canvas_editing_failed`` for an unknown section id, and the bot retries either rather
  than falling back to the file.
  https://docs.slack.dev/reference/methods/canvases.edit
- ``canvases.sections.lookup(canvas_id, criteria={"section_types": ["h1"|"h2"|"h3"|
  "any_header", …], "contains_text": "…"})`` answers ``{"ok": true, "sections": [{"id":
  "temp:C:…"}]}``: the ids of the headings of those types that contain the text. Errors
  ``canvas_not_found``, ``canvas_deleted``, ``canvas_disabled_user_team``. Scope
  ``canvases:read``; tier 3. https://docs.slack.dev/reference/methods/canvases.sections.lookup
- ``canvases.getContent(canvas_id, content_type="markdown"|"html")`` answers the whole
  canvas in one ``content`` string, unpaginated; ``canvas_not_found`` when it does not exist
  or the caller cannot see it. Scope ``canvases:read``.
  https://docs.slack.dev/reference/methods/canvases.getContent
- A user mention is written ``![](@U123)`` and a channel ``![](#C123)`` (Slack's canvas
  samples and tools built on the API); reports from those tools say the read-back gives
  ``<@U123>``, which is why mentions are normalised below.

Decisions that follow:

- Every heading of the template is h1–h3 and stays; a deeper heading becomes h3 so it still
  opens a section. Tables, checklists, quotes, dividers and code blocks pass unchanged,
  except that a code fence loses its language tag (canvases document no syntax
  highlighting).
- The Mermaid phase diagram cannot render in a canvas, so it becomes one line of the same
  phases and times: ``**Phases**: Started 14:20 → Detected 14:25 → …``
  (``test_mermaid_becomes_a_phase_line`` pins it). Other HTML ``<br/>`` becomes a space; an
  image becomes a link to it.
- Names stay plain ``@name`` text rather than ``![](@U…)`` mentions: the bot rewrites
  sections every minute while an incident is open, and a mention written again notifies
  again.
- Section ids come only from ``canvases.sections.lookup``, by heading text (emoji
  stripped, since read-backs may spell them as ``:shortcodes:``) and heading level.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

MAX_HEADING_LEVEL = 3

_FENCE = re.compile(r"^(\s{0,3})(`{3,}|~{3,})\s*([^`\s]*)\s*$")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_MERMAID_NODE = re.compile(r'\w+\["([^"\]]*)"\]')
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(((?:https?|ftp)://[^)\s]+)\)")


# --- draft → canvas ----------------------------------------------------------------------


def to_canvas(draft: str) -> str:
    """The draft (the file's Markdown) as markdown a canvas accepts, content unchanged."""
    out: list[str] = []
    lines = draft.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            end = _fence_end(lines, i, fence.group(2))
            body = lines[i + 1 : end]
            if fence.group(3).lower() == "mermaid" and (phases := mermaid_phases(body)):
                out.append(phases)
            else:
                out.extend([fence.group(1) + fence.group(2)[:3], *body, fence.group(2)[:3]])
            i = end + 1
            continue
        heading = _HEADING.match(line)
        if heading and len(heading.group(1)) > MAX_HEADING_LEVEL:
            line = "#" * MAX_HEADING_LEVEL + " " + heading.group(2)
        elif not heading:
            line = _IMAGE.sub(r"[\1](\2)", _BR.sub(" ", line))
        out.append(line)
        i += 1
    return "\n".join(out)


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """The line that closes the fence opened at ``start`` (or the last line)."""
    for j in range(start + 1, len(lines)):
        if lines[j].strip().startswith(fence[0] * len(fence)) and not lines[j].strip(fence[0]):
            return j
    return len(lines) - 1


def mermaid_phases(body: list[str]) -> str | None:
    """A Mermaid flowchart's node labels in order, as one line; None if it has none."""
    labels = [" ".join(_BR.sub(" ", m).split()) for m in _MERMAID_NODE.findall("\n".join(body))]
    if not labels:
        return None
    return "**Phases**: " + " → ".join(labels)


# --- sections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A heading and everything up to the next heading (``level`` 0: text before any)."""

    key: str
    level: int
    title: str
    text: str

    @property
    def plain_title(self) -> str:
        return plain(self.title)


def plain(text: str) -> str:
    """Text without emoji, shortcodes or extra spaces: how a heading is named and found."""
    text = re.sub(r":[a-z0-9_+\-]+:", " ", unicodedata.normalize("NFC", text))
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Mn", "Cf"))
    return " ".join(kept.split())


def split_sections(markdown: str) -> list[Section]:
    """The canvas as sections in order. A ``#`` inside a code block opens no section; keys
    are the plain heading text, with ``#2``, ``#3`` … for a heading that repeats."""
    chunks: list[tuple[int, str, list[str]]] = [(0, "", [])]
    fence: str | None = None
    for line in markdown.replace("\r\n", "\n").split("\n"):
        if fence is None and (opening := _FENCE.match(line)):
            fence = opening.group(2)[0] * 3
        elif fence is not None and line.strip().startswith(fence):
            fence = None
        elif fence is None and (heading := _HEADING.match(line)):
            chunks.append((len(heading.group(1)), heading.group(2).strip(), []))
        chunks[-1][2].append(line)
    seen: dict[str, int] = {}
    sections = []
    for level, title, body in chunks:
        text = "\n".join(body).strip("\n")
        if level == 0 and not text.strip():
            continue
        base = plain(title).casefold()
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        sections.append(Section(key=key, level=level, title=title, text=text))
    return sections


def join_sections(sections: list[Section]) -> str:
    """The inverse of :func:`split_sections`, up to blank lines between sections."""
    return "\n\n".join(s.text for s in sections) + "\n"


# --- "was this edited by a person?" --------------------------------------------------------

_LIST_MARKER = re.compile(r"^(\s*)(?:[-*+•])\s+(\[[ xX]\]\s+)?")
_ORDERED = re.compile(r"^(\s*)(\d+)[.)]\s+")
_SLACK_LINK = re.compile(r"<((?:https?|mailto|ftp)[^|>\s]*)\|([^>]*)>")
_ANGLE_URL = re.compile(r"<((?:https?|mailto|ftp):[^|>\s]*)>")
_MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")
_MENTION = re.compile(r"!\[\]\(([@#])([A-Z0-9]+)\)|<([@#])([A-Z0-9]+)(?:\|[^>]*)?>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~&])")
_TABLE_RULE = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")


def normalise(text: str) -> str:
    """The section as compared: what a re-serialising canvas may change is made equal
    (whitespace, blank lines, list markers, escaping, link and mention forms, table padding,
    ``__bold__``, emoji spelled as shortcodes, code fence tags); words, numbers and order
    are kept, so any edit a person makes still shows."""
    out: list[str] = []
    in_code = False
    for raw in unicodedata.normalize("NFC", text.replace("\r\n", "\n")).split("\n"):
        line = raw.rstrip()
        if _FENCE.match(line):
            in_code = not in_code
            out.append("```")
            continue
        if in_code:
            if line.strip():
                out.append(" ".join(line.split()))
            continue
        line = _normal_line(line)
        if line:
            out.append(line)
    return "\n".join(out)


def _normal_line(line: str) -> str:
    line = line.rstrip("\\").rstrip()  # a trailing backslash or two spaces: a hard break
    heading = _HEADING.match(line)
    if heading:
        return "#" * len(heading.group(1)) + " " + _inline(heading.group(2))
    if line.lstrip().startswith("|") or (line.count("|") >= 2 and "|" in line.strip()[:1]):
        return _table_row(line)
    indent = ""
    if m := _LIST_MARKER.match(line):
        check = (m.group(2) or "").lower().replace(" ", "").replace("[]", "[ ]")
        indent = "  " * (len(m.group(1).expandtabs(4)) // 2) + "- " + (check + " " if check else "")
        line = line[m.end() :]
    elif m := _ORDERED.match(line):
        indent = "  " * (len(m.group(1).expandtabs(4)) // 2) + m.group(2) + ". "
        line = line[m.end() :]
    elif line.lstrip().startswith(">"):
        indent, line = "> ", line.lstrip()[1:]
    return (indent + _inline(line)).rstrip()


def table_cells(line: str) -> list[str]:
    """A table row's cells as written (escapes kept), split on the pipes that are not
    escaped: ``| a \\| b | c \\\\ |`` has two cells, ``a \\| b`` and ``c \\\\``."""
    body = line.strip()
    cells, cell, i = [], "", 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            cell += body[i : i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += ch
        i += 1
    cells.append(cell)
    if body.startswith("|"):
        cells = cells[1:]
    if body.endswith("|") and cells and cells[-1] == "":
        cells = cells[:-1]
    return cells


def _table_row(line: str) -> str:
    stripped = line.strip()
    if _TABLE_RULE.match(stripped):
        return "|" + "|".join("-" for _ in table_cells(stripped)) + "|"
    cells = [
        _inline(c.replace("\\\\", "\x01").replace("\\|", "\x00"))
        .replace("\x00", "\\|")
        .replace("\x01", "\\\\")
        for c in table_cells(stripped)
    ]
    return "| " + " | ".join(cells) + " |"


def _inline(text: str) -> str:
    text = html.unescape(text)
    text = _MENTION.sub(lambda m: (m.group(1) or m.group(3)) + (m.group(2) or m.group(4)), text)
    text = _SLACK_LINK.sub(lambda m: _link(m.group(2), m.group(1)), text)
    text = _ANGLE_URL.sub(r"\1", text)
    text = _MD_LINK.sub(lambda m: _link(m.group(1), m.group(2)), text)
    text = _ESCAPE.sub(r"\1", text)
    text = re.sub(r"__(.+?)__", r"**\1**", text)
    text = re.sub(r":[a-z0-9_+\-]+:", " ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Mn", "Cf"))
    return " ".join(text.split())


def _link(label: str, url: str) -> str:
    label = label.strip()
    return url if not label or label == url else f"[{label}]({url})"


def edited(written: str, current: str) -> bool:
    """Whether ``current`` (read back) differs from what the bot wrote beyond re-serialising."""
    return normalise(written) != normalise(current)


def new_lines(before: str, after: str) -> list[str]:
    """The lines of ``after`` whose data ``before`` does not hold (normalised compare), as
    written in ``after``: what a refresh had to leave out of a section a person edited."""
    held = set(normalise(before).split("\n"))
    found = []
    for line in after.split("\n"):
        normal = normalise(line)
        if normal and normal not in held and not _HEADING.match(line):
            found.append(line.strip())
    return found
