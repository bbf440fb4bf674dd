"""Writing the draft into the channel's canvas: create it once, then refresh it section by
section, one ``canvases.edit`` per section, so that a person typing elsewhere loses nothing.

What the bot wrote in each section is recorded before each edit (as pending) and after it
(as written), so that a refresh cut short by a crash never mistakes its own half-finished
work for a person's edit, and never writes a section twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.canvas.markdown import Section, split_sections, to_canvas
from bot.canvas.plan import Edit, Kept, Target, plan_refresh

if TYPE_CHECKING:
    from bot.store.canvases import CanvasRepository

log = logging.getLogger(__name__)

# Slack's answers meaning "no canvas can be made or read here": the file is uploaded instead.
UNAVAILABLE = frozenset(
    {
        "team_tier_cannot_create_channel_canvases",
        "canvas_disabled_user_team",
        "free_team_canvas_tab_already_exists",
        "not_allowed_token_type",
        "missing_scope",
        "restricted_action",
        "canvas_creation_failed",
        "channel_canvas_creation_failed",
        "canvas_tab_creation_failed",
    }
)
GONE = frozenset({"canvas_not_found", "canvas_deleted"})


class CanvasUnavailable(Exception):
    """Canvases cannot be used here; ``error`` is Slack's code."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class CanvasGone(Exception):
    """The canvas was deleted in Slack, and this refresh may not make a new one."""


@dataclass(frozen=True)
class Outcome:
    canvas_id: str
    created: bool = False
    recreated: bool = False
    written: list[str] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", "unknown_error"))


def publish(
    client: WebClient,
    records: CanvasRepository,
    *,
    incident_id: str,
    channel_id: str,
    draft: str,
    now: datetime,
    recreate: bool = True,
) -> Outcome:
    """Bring the channel's canvas up to ``draft`` (the file's Markdown). Raises
    ``CanvasUnavailable`` when canvases cannot be used, so the caller uploads the file, and
    ``CanvasGone`` when the canvas was deleted and ``recreate`` is off."""
    markdown = to_canvas(draft)
    rendered = split_sections(markdown)
    row = records.get(incident_id=incident_id)
    if row is None or row.canvas_id is None:
        return _create(client, records, incident_id, channel_id, markdown, rendered, now)
    try:
        content = client.canvases_getContent(canvas_id=row.canvas_id, content_type="markdown")
    except SlackApiError as exc:
        if _error(exc) in GONE and not recreate:
            raise CanvasGone(row.canvas_id) from exc
        if _error(exc) in GONE:
            log.info("The canvas %s of %s is gone; making a new one", row.canvas_id, incident_id)
            outcome = _create(client, records, incident_id, channel_id, markdown, rendered, now)
            return Outcome(canvas_id=outcome.canvas_id, created=True, recreated=True)
        if _error(exc) in UNAVAILABLE:
            raise CanvasUnavailable(_error(exc)) from exc
        raise
    return _refresh(client, records, row.canvas_id, incident_id, str(content["content"]),
                    rendered, now)  # fmt: skip


def _create(
    client: WebClient,
    records: CanvasRepository,
    incident_id: str,
    channel_id: str,
    markdown: str,
    rendered: list[Section],
    now: datetime,
) -> Outcome:
    records.begin(incident_id=incident_id, channel_id=channel_id, now=now,
                  sections={s.key: s.text for s in rendered})  # fmt: skip
    document = {"type": "markdown", "markdown": markdown}
    try:
        try:
            answer = client.conversations_canvases_create(
                channel_id=channel_id, document_content=document
            )
        except SlackApiError as exc:
            if _error(exc) != "channel_canvas_already_exists":
                raise
            # The channel has a canvas of its own (a person's): the post-mortem goes in a
            # canvas of its own, in a tab of the channel, rather than into theirs.
            answer = client.canvases_create(
                title=f"Post-mortem {incident_id}", channel_id=channel_id,
                document_content=document,
            )  # fmt: skip
    except SlackApiError as exc:
        if _error(exc) in UNAVAILABLE:
            records.forget(incident_id=incident_id)
            raise CanvasUnavailable(_error(exc)) from exc
        raise
    canvas_id = str(answer["canvas_id"])
    records.created(incident_id=incident_id, canvas_id=canvas_id, now=now)
    return Outcome(canvas_id=canvas_id, created=True, written=[s.key for s in rendered])


def _refresh(
    client: WebClient,
    records: CanvasRepository,
    canvas_id: str,
    incident_id: str,
    content: str,
    rendered: list[Section],
    now: datetime,
) -> Outcome:
    plan = plan_refresh(
        written=records.sections(incident_id=incident_id), canvas_markdown=content,
        rendered=rendered,
    )  # fmt: skip
    written, skipped = [], []
    for edit in plan.edits:
        section_id = _section_id(client, canvas_id, edit.target) if edit.target else None
        if edit.target is not None and section_id is None:
            skipped.append(edit.key)  # the canvas changed under us: the next refresh will see
            continue
        records.pending(incident_id=incident_id, key=edit.key, text=edit.markdown)
        change: dict[str, object] = {
            "operation": edit.operation,
            "document_content": {"type": "markdown", "markdown": edit.markdown},
        }
        if section_id is not None:
            change["section_id"] = section_id
        client.canvases_edit(canvas_id=canvas_id, changes=[change])
        records.wrote(incident_id=incident_id, key=edit.key, text=edit.markdown, now=now)
        written.append(edit.key)
    records.refreshed(incident_id=incident_id, now=now)
    return Outcome(canvas_id=canvas_id, written=written, kept=plan.kept, skipped=skipped)


def _section_id(client: WebClient, canvas_id: str, target: Target) -> str | None:
    """The id of the target heading, or None when the canvas no longer has exactly the
    headings the plan was made from (someone renamed or added one meanwhile)."""
    answer = client.canvases_sections_lookup(
        canvas_id=canvas_id,
        criteria={"section_types": [f"h{target.level}"], "contains_text": target.text},
    )
    ids = [str(s["id"]) for s in answer.get("sections", [])]
    return ids[target.occurrence] if len(ids) == target.count else None


def kept_line(kept: Kept, limit: int = 280) -> str:
    """One line for whoever asked: the section left as people wrote it, and what it lacks."""
    what = "; ".join(line.strip("| ").replace(" | ", " · ") for line in kept.not_written)
    if len(what) > limit:
        what = what[: limit - 1].rstrip() + "…"
    n = len(kept.not_written)
    return (
        f"✏️ *{kept.title}* was edited in the canvas, so the bot left it as it is; "
        f"{n} new {'line' if n == 1 else 'lines'} not written there: {what}"
    )


__all__ = ["UNAVAILABLE", "CanvasGone", "CanvasUnavailable", "Edit", "Outcome", "kept_line",
           "publish"]  # fmt: skip
