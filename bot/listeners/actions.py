"""`/action`: corrective actions with owners and due dates, and their modal."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import actions, blocks, membership, privacy
from bot.deps import Deps
from bot.domain import ActionItem, Incident, parse_item_id
from bot.jobs import promise, run_promised
from bot.parsing import UsageError, split_subcommand, unknown_subcommand
from bot.trackers import commands as tracker_commands
from bot.work import replies

log = logging.getLogger(__name__)


def handle_action(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps
) -> None:
    """Decide and store before the ack; posting and the modal follow after it."""
    text = command.get("text", "")
    subcommand, args = split_subcommand(text, actions.SUBCOMMANDS)
    channel_id = command.get("channel_id", "")
    incident = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    try:
        if not text.strip():
            _require(incident)
            context["open_modal"] = True
            ack()
        elif subcommand == "help":
            ack(text=f"Use {actions.ACTION_USAGE}.")
        elif subcommand == "add":
            warning = _add(command, args, _require(incident), context, client, deps)
            ack(text=f"⚠️ {warning}" if warning else "")
        elif subcommand == "list":
            ack(text=_list(command, args, incident, client, deps))
        elif subcommand == "sync":
            ack(text=tracker_commands.sync(_require(incident), command, context, deps))
        elif subcommand in ("done", "reopen", "drop", "assign", "due"):
            item_command = actions.parse_item_command(subcommand, args)
            message, public = _change(item_command, command, context, client, deps)
            ack(text=message, response_type="in_channel" if public else "ephemeral")
        else:
            raise unknown_subcommand(subcommand, "/action", actions.SUBCOMMANDS, actions.ADD_USAGE)
    except UsageError as exc:
        ack(text=str(exc))


def _require(incident: Incident | None) -> Incident:
    if incident is None:
        raise UsageError(
            "`/action` works in an incident channel (`/action list mine` works anywhere): "
            f"use {actions.ADD_USAGE} there."
        )
    return incident


def _add(
    command: dict[str, Any],
    args: str,
    incident: Incident,
    context: BoltContext,
    client: WebClient,
    deps: Deps,
) -> str | None:
    now = deps.clock()
    parsed = actions.parse_add(args, today=now.date())
    owner_id = parsed.owner_id or command["user_id"]
    zone = deps.users.get(client, owner_id, before_ack=True).zone
    new = actions.plan_add(
        parsed, owner_id=owner_id, zone=zone, now=now, incident_started_at=incident.started_at
    )
    trigger_id = command.get("trigger_id")
    key = f"cmd:{trigger_id}" if trigger_id else None
    item = _store_item(incident, new, command["user_id"], now, key, context, deps)
    return actions.past_due_warning(new, item.short_id)


def _store_item(
    incident: Incident,
    new: actions.NewItem,
    actor_id: str,
    now: datetime,
    request_key: str | None,
    context: BoltContext,
    deps: Deps,
) -> ActionItem:
    """The one place an item is stored, from the command and from the form alike, with the
    job that shows it in the incident's channel and, when a tracker is set, the job that
    makes its issue: all in the item's transaction, so none is lost or doubled."""
    with deps.store.transaction():
        item, created = deps.store.items.add(
            incident_id=incident.id, text=new.text, owner_id=new.owner_id, horizon=new.horizon,
            due_date=new.due, due_at=new.due_at, verification=new.verification,
            actor_id=actor_id, now=now, request_key=request_key,
        )  # fmt: skip
        if created and incident.channel_id:
            job_id = replies.add_item_reply(
                deps.store, item, channel=incident.channel_id, user_id=actor_id, now=now
            )
            promise(context, job_id)
        if created:
            tracker_commands.follow_new_item(item, incident, actor_id, now, deps, context)
    return item


def _list(
    command: dict[str, Any], args: str, incident: Incident | None, client: WebClient, deps: Deps
) -> str:
    now = deps.clock()
    if args.strip().lower() == "mine":
        visible = privacy.visible_filter(deps.members, client, command["user_id"], before_ack=True)
        mine = privacy.visible_items(
            deps.store.items.open_for_owner(owner_id=command["user_id"]),
            lambda incident_id: deps.store.incidents.get(incident_id=incident_id),
            visible,
        )
        return blocks.item_listing("*Your open action items*", mine, now, "You have no open items.")
    if args.strip():
        raise UsageError("Use `/action list` for this incident or `/action list mine` for yours.")
    incident = _require(incident)
    items = deps.store.items.for_incident(incident_id=incident.id)
    empty = f"{incident.id} has no action items yet: add one with {actions.ADD_USAGE}."
    return blocks.item_listing(f"*Action items of {incident.id}*", items, now, empty)


def _change(
    item_command: actions.ItemCommand,
    command: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    deps: Deps,
) -> tuple[str, bool]:
    """Apply done/reopen/drop/assign/due and say what changed, in one sentence; True when
    it is shown in the channel (only in the item's own incident channel)."""
    now, actor_id = deps.clock(), command["user_id"]
    item = deps.store.items.get(item_id=item_command.item_id)
    incident = deps.store.incidents.get(incident_id=item.incident_id) if item else None
    if item is not None:
        _authorize(item, incident, actor_id, client, deps)
    owner_id = actions.zone_owner(item_command, item)
    zone = deps.users.get(client, owner_id, before_ack=True).zone if owner_id else None
    change = actions.plan_item_change(item_command, item, actor_id=actor_id, now=now, zone=zone)
    own_channel = incident is not None and incident.channel_id == command.get("channel_id")
    if not own_channel:
        # Elsewhere, the answer is for the asker only, and never repeats the item's text.
        change = actions.ItemChange(actions.without_text(change.message, item), change.fields)
    with deps.store.transaction():
        if not deps.store.commands.claim(trigger_id=command.get("trigger_id"), now=now):
            return membership.REPLAYED, False
        changed = _apply(item_command.item_id, change, actor_id, now, deps, context)
    return change.message, changed and own_channel


def _authorize(
    item: ActionItem, incident: Incident | None, user_id: str, client: WebClient, deps: Deps
) -> None:
    """The owner, the commander, or a member of the incident's channel; anyone else (and
    anyone, when Slack cannot say) hears one sentence and changes nothing."""
    if membership.acts_without_asking(item, incident, user_id):
        return
    channel_id = incident.channel_id if incident else None
    if not channel_id:
        raise UsageError(membership.REFUSED.format(short=item.short_id))
    try:
        member = deps.members.is_member(client, channel_id, user_id, before_ack=True)
    except membership.MembershipUnknown as exc:
        raise UsageError(membership.UNKNOWN) from exc
    if not member:
        raise UsageError(membership.REFUSED.format(short=item.short_id))


def _apply(
    item_id: int,
    change: actions.ItemChange,
    actor_id: str,
    now: datetime,
    deps: Deps,
    context: BoltContext,
) -> bool:
    """Write what a command or a click decided; False when it decided nothing changes. The
    tracker's update, when a tracker is set, is a job in the same transaction."""
    if not change.fields:
        return False
    with deps.store.transaction():
        item = deps.store.items.update(item_id=item_id, actor_id=actor_id, now=now, **change.fields)
        if item is not None:
            tracker_commands.follow_change(
                item, change.fields["change"], actor_id, now, deps, context
            )
    return True


def after_ack(command: dict[str, Any], context: BoltContext, client: WebClient, deps: Deps) -> None:
    """Open the modal, or show the team the new item in the channel."""
    if context.get("open_modal"):
        client.views_open(
            trigger_id=command["trigger_id"],
            view=blocks.add_item_modal(
                channel_id=command["channel_id"], user_id=command["user_id"]
            ),
        )
        return
    run_promised(context, client, deps)


def handle_modal_submission(
    ack: Ack,
    view: dict[str, Any],
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    deps: Deps,
) -> None:
    """Validate the modal; invalid fields come back inline (``response_action: errors``)."""
    now, user_id = deps.clock(), body["user"]["id"]
    channel_id = str(view.get("private_metadata") or "")
    incident = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    form = actions.read_add_modal(
        view, user_id=user_id, has_incident=incident is not None, today=now.date()
    )
    if form.errors:
        ack(response_action="errors", errors=form.errors)
        return
    assert incident is not None
    zone = deps.users.get(client, form.owner_id, before_ack=True).zone
    new = actions.plan_new_item(
        text=form.text, owner_id=form.owner_id, horizon=form.horizon, due=form.due,
        verification=form.verification, zone=zone, now=now,
        incident_started_at=incident.started_at,
    )  # fmt: skip
    key = f"view:{view.get('id')}:{view.get('hash')}"
    _store_item(incident, new, user_id, now, key, context, deps)
    ack()


SNOOZES = {blocks.NUDGE_SNOOZE_DAY: timedelta(days=1), blocks.NUDGE_SNOOZE_WEEK: timedelta(days=7)}


def handle_nudge_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """Mark done or snooze from the DM; a click on a closed or deleted item says so."""
    now = deps.clock()
    user_id = body["user"]["id"]
    item_id = parse_item_id(str(action.get("value") or ""))
    item = deps.store.items.get(item_id=item_id) if item_id is not None else None
    action_id = action["action_id"]
    snooze = None if action_id == blocks.NUDGE_DONE else SNOOZES[action_id]
    incident = deps.store.incidents.get(incident_id=item.incident_id) if item else None
    if item is not None and not membership.may_click(item, incident, user_id):
        context["button_refusal"] = membership.NOT_YOURS.format(short=item.short_id)
        ack()
        return
    change = actions.plan_nudge_click(item, snooze=snooze, user_id=user_id, now=now)
    with deps.store.transaction():  # the change and its channel line, or neither
        applied = item is not None and _apply(item.id, change, user_id, now, deps, context)
        if applied and item is not None and change.fields.get("status") == "done":
            # The team hears it in the incident's channel, as with `/action done`.
            _announce_done(item, incident, actions.done_text(item, user_id), now, deps, context)
    context["button_outcome"] = (item, change.message)
    ack()


def _announce_done(
    item: ActionItem,
    incident: Incident | None,
    text: str,
    now: datetime,
    deps: Deps,
    context: BoltContext,
) -> None:
    """Promise the channel line that follows **Mark done** in a nudge DM."""
    if incident is None or incident.channel_id is None:
        return
    job_id = replies.add_reply(
        deps.store, key=f"reply:done:{item.id}:{now.isoformat()}"[:200],
        channel=incident.channel_id, text=text, now=now,
    )  # fmt: skip
    promise(context, job_id)


def update_nudge_message(
    body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """Replace the DM with what happened; a refusal leaves it as it was and tells only the
    person who clicked."""
    refusal = context.get("button_refusal")
    if refusal:
        respond(text=refusal, response_type="ephemeral", replace_original=False)
        return
    item, message = context.get("button_outcome") or (None, None)
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not channel or not ts or message is None:
        return
    if item is None:
        client.chat_update(channel=channel, ts=ts, text=message, blocks=[])
        return
    client.chat_update(
        channel=channel, ts=ts, text=message, blocks=blocks.nudge_outcome_blocks(item, message)
    )


def register(app: App) -> None:
    app.command("/action")(ack=handle_action, lazy=[after_ack])
    app.view(blocks.ADD_MODAL)(ack=handle_modal_submission, lazy=[run_promised])
    for action_id in blocks.NUDGE_ACTIONS:
        app.action(action_id)(ack=handle_nudge_button, lazy=[update_nudge_message, run_promised])
