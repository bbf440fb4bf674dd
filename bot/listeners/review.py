"""The review of a post-mortem: `/postmortem review|approve|archive`, the DM's buttons and the
request-changes modal. Each listener is ack → parse → decide → store → reply; the Slack calls
that follow are jobs (``bot/review/jobs.py``) or, for the clicked DM itself, a lazy listener.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks as bot_blocks
from bot import membership
from bot.deps import Deps
from bot.domain import Incident
from bot.jobs import promise, run_promised
from bot.parsing import REVIEW_SUBCOMMANDS, REVIEW_USAGE, UsageError, parse_review
from bot.review import blocks, flow
from bot.review.workflow import ROLE_LABELS

SUBCOMMANDS = REVIEW_SUBCOMMANDS
USAGE = f"{REVIEW_USAGE}, `/postmortem approve` and `/postmortem archive`"


def handle_command(
    ack: Ack,
    command: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    deps: Deps,
    action: str,
    args: str,
) -> None:
    """`/postmortem review …`, `/postmortem approve`, `/postmortem archive`."""
    try:
        parsed = parse_review(action, args)
    except UsageError as error:
        ack(text=str(error))
        return
    incident = deps.store.incidents.for_channel(channel_id=command.get("channel_id", ""))
    if incident is None:
        ack(text=bot_blocks.not_incident_channel_text(f"/postmortem {action}"))
        return
    user_id, trigger_id = command["user_id"], command.get("trigger_id")
    if parsed.action == "review" and (
        outsider := _outsider(client, deps, incident, parsed.assignments)
    ):
        ack(text=outsider)
        return
    if parsed.action == "review":
        workspace = {"team_id": command.get("team_id"), "team_domain": command.get("team_domain")}
        step = flow.request(
            deps, incident, list(parsed.assignments), user_id=user_id, settings=deps.review,
            channel_id=command["channel_id"], workspace=workspace, trigger_id=trigger_id,
        )  # fmt: skip
    elif parsed.action == "approve":
        role, refusal = _line_named(deps, incident, user_id, parsed.assignments)
        if refusal:
            ack(text=refusal)
            return
        step = flow.approve(deps, incident, user_id=user_id, role=role, trigger_id=trigger_id)
    else:
        step = flow.archive(deps, incident, user_id=user_id, trigger_id=trigger_id)
    for job_id in step.job_ids:
        promise(context, job_id)
    ack(text=step.text)


def _line_named(
    deps: Deps, incident: Incident, user_id: str, named: tuple[tuple[str, str], ...]
) -> tuple[str | None, str | None]:
    """The line `/postmortem approve ROLE|@user` names (None: the caller's own), or why none."""
    if not named:
        return None, None
    role, person = named[0]
    if role or person == user_id:
        return role or None, None
    review = deps.store.reviews.get(incident_id=incident.id)
    line = review.role_of(person) if review else None
    if line is None:
        return None, (
            f"<@{person}> is not a reviewer of the post-mortem of {incident.id}, and you can "
            "only approve your own line: `/postmortem approve`."
        )
    return line, None


def _outsider(
    client: WebClient, deps: Deps, incident: Incident, assignments: tuple[tuple[str, str], ...]
) -> str | None:
    """Why a private incident's review cannot go to someone named (the DM would show it to
    a person outside its channel), or None."""
    if not incident.is_private or not incident.channel_id:
        return None
    for _, reviewer in assignments:
        try:
            if not deps.members.is_member(client, incident.channel_id, reviewer, before_ack=True):
                return (
                    f"<@{reviewer}> is not in this private incident's channel, so I asked "
                    "nobody: invite them first, then ask again."
                )
        except membership.MembershipUnknown:
            return membership.UNKNOWN
    return None


def _clicked(body: dict[str, Any], action: dict[str, Any], deps: Deps) -> tuple[Any, str] | None:
    """The incident and role a DM button is for, or None for a broken or stale button."""
    target = blocks.read_value(action.get("value"))
    incident = deps.store.incidents.get(incident_id=target[0]) if target else None
    return (incident, target[1]) if incident is not None and target else None


def _refusal(deps: Deps, incident: Incident, role: str, user_id: str) -> str | None:
    """Why ``user_id`` may not use a button of the ``role`` line (``bot.membership``)."""
    review = deps.store.reviews.get(incident_id=incident.id)
    asked = review.reviewers.get(role) if review else None
    if membership.may_answer_review(asked.user_id if asked else None, user_id):
        return None
    if asked is None:
        return "This review request no longer exists, so nothing changed."
    return membership.REVIEW_NOT_YOURS.format(line=ROLE_LABELS[role], asked=asked.user_id)


def handle_approve_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    clicked = _clicked(body, action, deps)
    user_id = body["user"]["id"]
    if clicked is None:
        context["review_answer"] = ("This review request no longer exists.", False)
    elif refusal := _refusal(deps, *clicked, user_id):
        context["review_answer"] = (refusal, False)
    else:
        incident, role = clicked
        step = flow.approve(
            deps, incident, user_id=user_id, role=role, trigger_id=body.get("trigger_id")
        )
        for job_id in step.job_ids:
            promise(context, job_id)
        context["review_answer"] = (step.text, step.outcome is not None)
    ack()


def handle_changes_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """Open the modal, unless the clicker may not answer for that role."""
    clicked = _clicked(body, action, deps)
    user_id = body["user"]["id"]
    if clicked is None:
        context["review_answer"] = ("This review request no longer exists.", False)
    else:
        incident, role = clicked
        refusal = _refusal(deps, incident, role, user_id) or flow.check_can_answer(
            deps, incident.id, user_id=user_id, role=role
        )
        if refusal is None:
            context["review_modal"] = blocks.request_changes_modal(incident.id, role)
        else:
            context["review_answer"] = (refusal, False)
    ack()


def answer_in_dm(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """After the ack: open the modal, or say what happened where the button was clicked."""
    if modal := context.get("review_modal"):
        client.views_open(trigger_id=body["trigger_id"], view=modal)
        return
    text, done = context.get("review_answer") or (None, False)
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not text or not channel:
        return
    if done and ts:  # the buttons have been answered: replace them with what happened
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks.answered_blocks(text))
    else:
        client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def handle_changes_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """The modal's comment: back to DRAFT, and the comment in the channel, to the author."""
    comment = blocks.comment_of(view)
    target = blocks.read_value(view.get("private_metadata"))
    incident = deps.store.incidents.get(incident_id=target[0]) if target else None
    if not comment:
        ack(response_action="errors", errors={blocks.COMMENT_BLOCK: "Say what should change."})
        return
    if incident is None or target is None:
        ack(response_action="errors", errors={blocks.COMMENT_BLOCK: "This review is gone."})
        return
    refusal = _refusal(deps, incident, target[1], body["user"]["id"])
    if refusal is not None:
        ack(response_action="errors", errors={blocks.COMMENT_BLOCK: refusal})
        return
    step = flow.request_changes(
        deps, incident, user_id=body["user"]["id"], role=target[1], comment=comment,
        trigger_id=body.get("trigger_id"),
    )  # fmt: skip
    if step.outcome is None:
        ack(response_action="errors", errors={blocks.COMMENT_BLOCK: step.text})
        return
    for job_id in step.job_ids:
        promise(context, job_id)
    ack()


def register(app: App) -> None:
    lazy = [answer_in_dm, run_promised]
    app.action(blocks.APPROVE_ACTION)(ack=handle_approve_button, lazy=lazy)
    app.action(blocks.REQUEST_CHANGES_ACTION)(ack=handle_changes_button, lazy=lazy)
    app.view(blocks.CHANGES_CALLBACK)(ack=handle_changes_submission, lazy=[run_promised])
