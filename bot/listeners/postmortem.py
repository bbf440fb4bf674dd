"""`/postmortem draft`: render everything known so far and upload it to the channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks, postmortem, slackio
from bot.deps import Deps
from bot.domain import Incident
from bot.jobs import run_promised
from bot.listeners import review
from bot.parsing import (
    POSTMORTEM_SUBCOMMANDS,
    POSTMORTEM_USAGE,
    split_subcommand,
    unknown_subcommand,
)

log = logging.getLogger(__name__)


def handle_postmortem(ack: Ack, command: dict[str, Any], context: BoltContext, deps: Deps) -> None:
    known = (*POSTMORTEM_SUBCOMMANDS, *review.SUBCOMMANDS)
    subcommand, args = split_subcommand(command.get("text", ""), known)
    if subcommand in review.SUBCOMMANDS:
        review.handle_command(ack, command, context, deps, subcommand, args)
        return
    if subcommand == "help":
        ack(
            text=f"Use {POSTMORTEM_USAGE} in an incident channel to post the post-mortem so far; "
            f"{review.USAGE} for its review."
        )
        return
    if subcommand not in ("draft", "status"):
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
        ack(text=blocks.draft_checklist(incident, draft.sections))
        return
    context["draft_incident"] = incident
    ack(text=f"📝 Drafting the post-mortem of {incident.id}; it will appear here in a moment.")


def upload_draft(
    command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """After the ack: build, render and upload the draft as it is now."""
    incident: Incident | None = context.get("draft_incident")
    if incident is None:
        return
    context_ = postmortem.draft_for(
        deps.store,
        incident,
        names=lambda user_ids: deps.users.names(client, user_ids),
        now=deps.clock(),
        requested_by=command["user_id"],
        templates=deps.templates,
    )
    try:
        markdown = postmortem.render(deps.templates, context_)
    except postmortem.TemplateProblem as problem:
        log.error("Rendering the draft of %s failed: %s", incident.id, problem)
        client.chat_postEphemeral(
            channel=command["channel_id"], user=command["user_id"], text=str(problem)
        )
        return
    slackio.upload_markdown(
        client,
        channel_id=command["channel_id"],
        filename=postmortem.draft_filename(incident.id),
        content=markdown,
        comment=postmortem.summary_line(context_),
    )


def register(app: App) -> None:
    app.command("/postmortem")(ack=handle_postmortem, lazy=[upload_draft, run_promised])
