"""`/postmortem draft` writes the channel's canvas (``bot.canvas``); `/postmortem file`
uploads everything known so far as a Markdown file."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks, checklist, postmortem
from bot.canvas import service as canvas
from bot.deps import Deps
from bot.jobs import promise, run_promised
from bot.listeners import review
from bot.parsing import (
    POSTMORTEM_SUBCOMMANDS,
    POSTMORTEM_USAGE,
    split_subcommand,
    unknown_subcommand,
)
from bot.work import draft as drafts

log = logging.getLogger(__name__)


def handle_postmortem(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    known = POSTMORTEM_SUBCOMMANDS
    subcommand, args = split_subcommand(command.get("text", ""), known)
    if subcommand in review.SUBCOMMANDS:
        review.handle_command(ack, command, context, client, deps, subcommand, args)
        return
    if subcommand == "help":
        ack(
            text=f"Use {POSTMORTEM_USAGE} in an incident channel to post the post-mortem so far; "
            f"{review.USAGE} for its review."
        )
        return
    if subcommand not in ("draft", "file", "status"):
        usage = f"{POSTMORTEM_USAGE}, {review.USAGE}"
        ack(text=str(unknown_subcommand(subcommand, "/postmortem", known, usage)))
        return
    incident = deps.store.incidents.for_channel(channel_id=command.get("channel_id", ""))
    if incident is None:
        ack(text=blocks.not_incident_channel_text(f"/postmortem {subcommand}"))
        return
    if subcommand == "status":
        draft = postmortem.draft_for(
            deps.store, incident, names=lambda ids: {}, now=deps.clock(), templates=deps.templates
        )
        ack(
            text=checklist.draft_checklist(
                incident, draft.sections, postmortem.section_progress(draft)
            )
        )
        return
    if subcommand == "draft":
        promise(context, canvas.queue_draft(deps, command, incident))
        ack(text=f"📝 Drafting the post-mortem of {incident.id} in this channel's canvas…")
        return
    key = command.get("trigger_id") or uuid.uuid4().hex
    job_id = drafts.add_upload(
        deps.store, incident, channel=command["channel_id"], user_id=command["user_id"],
        key=key, now=deps.clock(),
    )  # fmt: skip
    promise(context, job_id)
    ack(text=f"📝 Drafting the post-mortem of {incident.id}; it will appear here in a moment.")


def register(app: App) -> None:
    app.command("/postmortem")(ack=handle_postmortem, lazy=[run_promised])
