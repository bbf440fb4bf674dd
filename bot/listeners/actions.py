"""`/action`: corrective actions with owners and due dates, and their modal."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import actions, blocks, slackio
from bot.deps import Deps
from bot.domain import ActionItem, Incident, parse_item_id
from bot.parsing import UsageError, split_subcommand, unknown_subcommand

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
            item, warning = _add(command, args, _require(incident), client, deps)
            if item is not None:
                context["added_item"] = item
            if warning:
                ack(text=f"⚠️ {warning}")
            else:
                ack()
        elif subcommand == "list":
            ack(text=_list(command, args, incident, deps))
        elif subcommand in ("done", "reopen", "drop", "assign", "due"):
            item_command = actions.parse_item_command(subcommand, args)
            message, changed = _change(item_command, command["user_id"], client, deps)
            public = changed and incident is not None
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
    command: dict[str, Any], args: str, incident: Incident, client: WebClient, deps: Deps
) -> tuple[ActionItem | None, str | None]:
    now = deps.clock()
    parsed = actions.parse_add(args, today=now.date())
    owner_id = parsed.owner_id or command["user_id"]
    zone = deps.users.get(client, owner_id, before_ack=True).zone
    today = now.astimezone(zone).date()
    if parsed.due_words:
        due = actions.parse_due_date(parsed.due_words, today=today)
        assert due is not None  # parse_add only keeps phrases that are dates
    else:
        due = actions.default_due_date(parsed.horizon, incident.started_at.astimezone(zone).date())
    trigger_id = command.get("trigger_id")
    item, created = deps.store.items.add(
        incident_id=incident.id,
        text=parsed.text,
        owner_id=owner_id,
        horizon=parsed.horizon,
        due_date=due,
        due_at=actions.overdue_from(due, zone),
        verification=parsed.verification,
        actor_id=command["user_id"],
        now=now,
        request_key=f"cmd:{trigger_id}" if trigger_id else None,
    )
    warning = (
        f"The due date {due.isoformat()} is already past; {item.short_id} is recorded as overdue."
        if due < today
        else None
    )
    return (item if created else None), warning


def _list(command: dict[str, Any], args: str, incident: Incident | None, deps: Deps) -> str:
    now = deps.clock()
    if args.strip().lower() == "mine":
        mine = deps.store.items.open_for_owner(owner_id=command["user_id"])
        return blocks.item_listing("*Your open action items*", mine, now, "You have no open items.")
    if args.strip():
        raise UsageError("Use `/action list` for this incident or `/action list mine` for yours.")
    incident = _require(incident)
    items = deps.store.items.for_incident(incident_id=incident.id)
    empty = f"{incident.id} has no action items yet: add one with {actions.ADD_USAGE}."
    return blocks.item_listing(f"*Action items of {incident.id}*", items, now, empty)


def _change(item_command: actions.ItemCommand, actor_id: str, client: WebClient, deps: Deps) -> str:
    """Apply done/reopen/drop/assign/due and say what changed, in one sentence."""
    now = deps.clock()
    item = deps.store.items.get(item_id=item_command.item_id)
    if item is None:
        raise UsageError(
            f"There is no action item AI-{item_command.item_id}: see `/action list`, "
            f"then use {actions.ACTION_USAGE}."
        )
    verb, rest, short = item_command.verb, item_command.rest, item.short_id
    update = {"item_id": item.id, "actor_id": actor_id, "now": now}
    if verb == "done":
        if item.status == "done":
            return f"{short} is already done.", False
        deps.store.items.update(**update, change="done", status="done")
        return f"✅ {short} marked done by <@{actor_id}>: {item.text}", True
    if verb == "reopen":
        if item.status == "open":
            return f"{short} is already open.", False
        deps.store.items.update(
            **update, change="reopened", status="open", drop_reason=None,
            next_nudge_at=max(item.due_at, now), nudge_count=0, escalated=0,
        )  # fmt: skip
        return f"⏳ {short} reopened by <@{actor_id}>: {item.text}", True
    if verb == "drop":
        if item.status == "dropped":
            return f"{short} is already dropped.", False
        deps.store.items.update(
            **update, change="dropped", detail=rest or None, status="dropped",
            drop_reason=rest or None,
        )  # fmt: skip
        return f"❌ {short} dropped by <@{actor_id}>" + (f": {rest}" if rest else "."), True
    if verb == "assign":
        owner_id = actions.mention_id(rest.split()[0])
        assert owner_id is not None  # checked by parse_item_command
        zone = deps.users.get(client, owner_id, before_ack=True).zone
        due_at = actions.overdue_from(datetime.fromisoformat(item.due_date).date(), zone)
        deps.store.items.update(
            **update, change="assigned", detail=owner_id, owner_id=owner_id, due_at=due_at,
            next_nudge_at=due_at, nudge_count=0, escalated=0,
        )  # fmt: skip
        return f"👤 {short} is now owned by <@{owner_id}> (changed by <@{actor_id}>).", True
    zone = deps.users.get(client, item.owner_id, before_ack=True).zone
    today = now.astimezone(zone).date()
    due = actions.parse_due_date(rest, today=today)
    if due is None:
        raise UsageError(
            f"I couldn't read the date `{rest}`: use {actions.DATE_FORMS}, "
            f"as in `/action due {short} friday`."
        )
    due_at = actions.overdue_from(due, zone)
    deps.store.items.update(
        **update, change="due", detail=due.isoformat(), due_date=due.isoformat(), due_at=due_at,
        next_nudge_at=due_at, nudge_count=0, escalated=0,
    )  # fmt: skip
    past = " (already past, so it is overdue)" if due < today else ""
    return f"📅 {short} is now due {due.isoformat()}{past}, changed by <@{actor_id}>.", True


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
    item: ActionItem | None = context.get("added_item")
    if item is None:
        return
    incident = deps.store.incidents.get(incident_id=item.incident_id)
    assert incident is not None
    text = blocks.item_added_text(item, incident, None)
    slackio.post_or_queue(
        client, deps.store, channel=command["channel_id"], text=text, now=deps.clock()
    )


def handle_modal_submission(
    ack: Ack,
    view: dict[str, Any],
    body: dict[str, Any],
    context: BoltContext,
    client: WebClient,
    deps: Deps,
) -> None:
    """Validate the modal; invalid fields come back inline (``response_action: errors``)."""
    values = view.get("state", {}).get("values", {})

    def field(block: str) -> dict[str, Any]:
        return dict(values.get(block, {}).get("value") or {})

    channel_id = str(view.get("private_metadata") or "")
    incident = deps.store.incidents.for_channel(channel_id=channel_id) if channel_id else None
    text = (field("text").get("value") or "").strip()
    owner_id = field("owner").get("selected_user") or body["user"]["id"]
    horizon = (field("horizon").get("selected_option") or {}).get("value") or "immediate"
    due_raw = field("due").get("selected_date")
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "Say what needs doing."
    if horizon not in ("immediate", "medium-term", "long-term"):
        errors["horizon"] = "Pick immediate, medium-term or long-term."
    due = None
    if due_raw:
        due = actions.parse_due_date(due_raw, today=deps.clock().date())
        if due is None:
            errors["due"] = "Pick a date such as 2026-12-04."
    if incident is None:
        errors["text"] = "This channel no longer has an incident; run `/action` in one."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    assert incident is not None
    zone = deps.users.get(client, owner_id, before_ack=True).zone
    due = due or actions.default_due_date(horizon, incident.started_at.astimezone(zone).date())
    verification = field("verification").get("value")
    item, created = deps.store.items.add(
        incident_id=incident.id,
        text=text,
        owner_id=owner_id,
        horizon=horizon,
        due_date=due,
        due_at=actions.overdue_from(due, zone),
        verification=(verification or "").strip() or None,
        actor_id=body["user"]["id"],
        now=deps.clock(),
        request_key=f"view:{view.get('id')}:{view.get('hash')}",
    )
    if created:
        context["modal_item"] = item
    ack()


def post_modal_item(context: BoltContext, client: WebClient, deps: Deps) -> None:
    item: ActionItem | None = context.get("modal_item")
    if item is None:
        return
    incident = deps.store.incidents.get(incident_id=item.incident_id)
    if incident is None or incident.channel_id is None:
        return
    text = blocks.item_added_text(item, incident, None)
    slackio.post_or_queue(
        client, deps.store, channel=incident.channel_id, text=text, now=deps.clock()
    )


SNOOZES = {blocks.NUDGE_SNOOZE_DAY: timedelta(days=1), blocks.NUDGE_SNOOZE_WEEK: timedelta(days=7)}


def handle_nudge_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, deps: Deps
) -> None:
    """Mark done or snooze from the DM; a click on a closed or deleted item says so."""
    now = deps.clock()
    user_id = body["user"]["id"]
    item_id = parse_item_id(str(action.get("value") or ""))
    item = deps.store.items.get(item_id=item_id) if item_id is not None else None
    if item is None:
        message = "This action item no longer exists."
    elif item.status != "open":
        message = f"{item.short_id} is already {item.status}; nothing to do."
    elif action["action_id"] == blocks.NUDGE_DONE:
        deps.store.items.update(
            item_id=item.id, actor_id=user_id, now=now, change="done", status="done"
        )
        message = f"✅ Marked done by <@{user_id}> on {now:%Y-%m-%d %H:%M} UTC."
    else:
        until = now + SNOOZES[action["action_id"]]
        deps.store.items.update(
            item_id=item.id, actor_id=user_id, now=now, change="snoozed",
            detail=until.isoformat(), next_nudge_at=until,
        )  # fmt: skip
        message = (
            f"😴 Snoozed by <@{user_id}>: the next reminder comes after {until:%Y-%m-%d %H:%M} UTC."
        )
    context["button_outcome"] = (item, message)
    ack()


def update_nudge_message(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Replace the DM with what happened."""
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
    app.view(blocks.ADD_MODAL)(ack=handle_modal_submission, lazy=[post_modal_item])
    for action_id in blocks.NUDGE_ACTIONS:
        app.action(action_id)(ack=handle_nudge_button, lazy=[update_nudge_message])
