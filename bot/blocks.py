"""Block Kit and message text from pure builders: functions returning data, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.actions import ADD_USAGE, DATE_FORMS
from bot.domain import (
    MILESTONE_ORDER,
    ActionItem,
    Incident,
    TimelineEntry,
    incident_span,
    item_status_label,
    items_for_listing,
    milestones,
    out_of_order,
    status_label,
)
from bot.limits import bounded, clip
from bot.parsing import START_USAGE, TIMELINE_USAGE, echo_time

TOPIC_LIMIT = 250


def topic(incident: Incident) -> str:
    """The channel topic: title · severity · status, within Slack's 250 characters."""
    suffix = f" · {incident.severity} · {status_label(incident.status)}"
    title = incident.title
    if len(title) + len(suffix) > TOPIC_LIMIT:
        title = title[: TOPIC_LIMIT - len(suffix) - 1] + "…"
    return title + suffix


def intro_blocks(incident: Incident) -> list[dict[str, Any]]:
    """The pinned intro message of an incident channel."""
    return [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"🚨 {incident.id}", "emoji": True},
        },
        # Block Kit caps a section's text at 3000 characters, a title may be as long.
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_clip(incident.title, 2900)}*"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Severity*\n{incident.severity}"},
                {"type": "mrkdwn", "text": f"*Status*\n{status_label(incident.status)}"},
                {"type": "mrkdwn", "text": f"*Commander*\n<@{incident.commander_id}>"},
                {"type": "mrkdwn", "text": f"*Incident ID*\n`{incident.id}`"},
            ],
        },
        {"type": "divider"},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    "*Build the timeline as you go*\n"
                    "• `/timeline [time] [kind] what happened`, e.g. "
                    "`/timeline 14:05 detected alert fired`\n"
                    "• Pin any message in this channel to add it to the timeline\n"
                    "• `/postmortem draft` writes the post-mortem so far in this channel's canvas"
                ),
            },
        },
    ]


def intro_text(incident: Incident) -> str:
    """The notification text that goes with the intro blocks."""
    return f"🚨 {incident.id} ({incident.severity}): {incident.title}"


def declared_text(incident: Incident, *, creating_channel: bool) -> str:
    """The immediate answer to `/incident start`."""
    where = (
        f"Opening #{incident.id.lower()} for it now."
        if creating_channel
        else "This channel is its incident channel."
    )
    return f"🚨 Declared *{incident.id}* ({incident.severity}): {incident.title}. {where}"


def format_entry_time(
    entry: TimelineEntry, tz_name: str | None = None, now: datetime | None = None
) -> str:
    """``2026-11-27 14:05 UTC`` and, for a user elsewhere, ``(15:05 Europe/Berlin)``, with
    the local date when it is not today there (see ``bot.parsing.echo_time``)."""
    return echo_time(entry.at, tz_name, now or entry.at)


def entry_recorded_text(
    entry: TimelineEntry, tz_name: str | None = None, now: datetime | None = None
) -> str:
    """The channel reply to a new timeline entry, showing the time as stored."""
    text = entry.text or "—"
    return (
        f"🕒 Timeline · *{entry.kind_info.label}* at {format_entry_time(entry, tz_name, now)} "
        f"by <@{entry.actor_id}>: {text}"
    )


def timeline_listing(incident: Incident, entries: list[TimelineEntry]) -> str:
    """The ephemeral answer to `/timeline` with no text."""
    if not entries:
        return (
            f"The timeline of {incident.id} is empty. Add to it with {TIMELINE_USAGE}, "
            "or pin a message."
        )
    lines = [f"*Timeline of {incident.id}* ({len(entries)} entries, times in UTC)"]
    for entry in entries:
        who = f"<@{entry.actor_id}>" if entry.actor_id else (entry.actor_name or "System")
        text = entry.text.replace("\n", " ")
        if len(text) > 200:
            text = text[:199] + "…"
        lines.append(f"• `{entry.at:%Y-%m-%d %H:%M}` *{entry.kind_info.label}* · {who}: {text}")
    return "\n".join(lines[:101] + ([f"…and {len(lines) - 101} more"] if len(lines) > 101 else []))


def help_text() -> str:
    """`/incident help`: every command, as the README's command reference lists them."""
    return "\n".join(
        [
            "*incident-bot commands*",
            f"• {START_USAGE}: declare an incident and open its channel "
            "(inside an empty `#incident-…` channel, adopt that channel).",
            "• `/incident start private [sev1|sev2|sev3|sev4] &lt;title&gt;`: the same in a "
            "private channel (security, HR); only its members see the incident.",
            f"• {TIMELINE_USAGE}: record what happened, in an incident channel.",
            "  KIND is one of trigger, detected, acknowledged, assessed, declared, mitigated, "
            "hypothesis, escalated, finding, fixed, monitoring, resolved, communicated "
            "(aliases: alert, ack, mitigation, fix, …); anything else is a note.",
            "• `/timeline` with no text: show the timeline.",
            "• Pin a message in an incident channel, react to it with :pushpin:, or use the "
            "message shortcut *Add to timeline*: it joins the timeline once, however captured; "
            "unpin or remove the 📌 to take it out. Edits and deletions follow the message.",
            "• `/postmortem draft`: the post-mortem so far, in this channel's canvas (kept up to "
            "date; what people write there stays) · `/postmortem file`: the same as a file.",
            f"• {ADD_USAGE}: add a corrective action (DATE: {DATE_FORMS}); "
            "`/action` alone opens a form.",
            "• `/action list` (this incident, overdue first) · `/action list mine` (anywhere) · "
            "`/action done|reopen ID` · `/action drop ID [reason]` · `/action assign ID @user` · "
            "`/action due ID DATE` · `/action sync` (push items to the tracker).",
            "• `/incident sev sev1|sev2|sev3|sev4` · `/incident status investigating|identified|"
            "mitigated|monitoring|resolved` · `/incident resolve [how it was resolved]`: change "
            "the incident; each change joins the timeline, the topic and the pinned intro.",
            "• `/incident role commander|comms|scribe @user`: assign a role.",
            "• `/incident set &lt;field&gt; &lt;text&gt;`: fill the template (impact, root-cause, "
            "resolution, "
            "availability, error-rate, latency, staleness, users-affected, revenue, features, "
            "sla-breaches, regions, services, data-sources, started, downtime, slo, error-slo).",
            "• `/incident show` (this incident) · `/incident list` (open incidents, anywhere).",
            "• `/incident link &lt;source&gt; &lt;id or alert name&gt;`: send an alert's "
            "deliveries (alertmanager, grafana, pagerduty, opsgenie) to this incident's timeline.",
            "• `/postmortem status`: which sections are filled and which are still to write.",
            "• `/postmortem review @tech [@manager] [@director]` · `/postmortem review "
            "technical|management|final @user`: ask for the post-mortem's reviews (each reviewer "
            "gets a DM with Approve and Request changes) · `/postmortem approve`: sign your line "
            "· `/postmortem archive`.",
            "• `/incident help`: this list.",
        ]
    )


def _age(since: datetime, now: datetime) -> str:
    minutes = max(int((now - since).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours}h {minutes:02d}m"


def _milestone_time(at: datetime, started: datetime) -> str:
    """``14:05``, or ``11-28 02:10`` when not on the incident's start date (UTC)."""
    return f"{at:%H:%M}" if at.date() == started.date() else f"{at:%m-%d %H:%M}"


def incident_listing(incidents: list[Incident], now: datetime) -> str:
    """`/incident list`: the open incidents, from any channel."""
    if not incidents:
        return f"No open incidents. Declare one with {START_USAGE}."
    lines = []
    for incident in incidents:
        where = f"<#{incident.channel_id}>" if incident.channel_id else "no channel yet"
        lines.append(
            f"• *{incident.id}* {incident.severity} · {status_label(incident.status)} · "
            f"open for {_age(incident.started_at, now)} since declared · {where} · "
            f"{clip(incident.title)}"
        )
    return bounded(f"*Open incidents* ({len(incidents)})", lines)


def incident_summary(
    incident: Incident, entries: list[TimelineEntry], items: list[ActionItem], now: datetime
) -> str:
    """`/incident show`: the incident at a glance, for the person who asked."""
    m = milestones(incident, entries)
    span = incident_span(incident, entries)
    open_for = (
        f" (open for {_age(incident.started_at, now)} since declared)" if not span.end else ""
    )
    roles = ", ".join(
        f"{role} <@{user}>"
        for role, user in (
            ("commander", incident.commander_id),
            ("comms", incident.comms_id),
            ("scribe", incident.scribe_id),
        )
        if user
    )
    marks = " · ".join(
        f"{name} {_milestone_time(getattr(m, name), m.started)}"
        if getattr(m, name)
        else f"{name} —"
        for name in MILESTONE_ORDER
    )
    open_items = sum(1 for i in items if i.status == "open")
    lines = [
        f"*{incident.id}* · {incident.severity} · {status_label(incident.status)} · "
        f"{incident.title}",
        f"Started {m.started:%Y-%m-%d %H:%M} UTC · Duration {span.text}{open_for} · {roles}",
        f"Milestones (UTC): {marks}",
        f"{len(entries)} timeline entries · {len(items)} action items ({open_items} open)",
    ]
    if incident.fields:
        lines.append("Set: " + ", ".join(sorted(incident.fields)))
    lines.extend(f"⚠️ {problem}" for problem in out_of_order(m))
    return "\n".join(lines)


def not_incident_channel_text(command: str) -> str:
    return (
        f"`{command}` works in an incident channel: run it in an `#incident-…` channel, "
        f"or declare one with {START_USAGE}."
    )


def already_active_text(incident: Incident) -> str:
    return (
        f"This channel already has an active incident, {incident.id} ({incident.title}): "
        f"record events with {TIMELINE_USAGE}, or run {START_USAGE} in another channel."
    )


# --- action items and nudges --------------------------------------------------------------

NUDGE_DONE = "nudge_mark_done"
NUDGE_SNOOZE_DAY = "nudge_snooze_day"
NUDGE_SNOOZE_WEEK = "nudge_snooze_week"
NUDGE_ACTIONS = (NUDGE_DONE, NUDGE_SNOOZE_DAY, NUDGE_SNOOZE_WEEK)
ADD_MODAL = "action_add_modal"


def item_line(item: ActionItem, now: datetime) -> str:
    """One item in a listing: id, status, due date, owner, text."""
    verify = f" · verify: {clip(item.verification)}" if item.verification else ""
    return (
        f"• *{item.slack_label}* {item_status_label(item, now)} · due {item.due_date} "
        f"({item.horizon}) · <@{item.owner_id}> · {clip(item.text)}{verify}"
    )


def item_listing(title: str, items: list[ActionItem], now: datetime, empty: str) -> str:
    if not items:
        return empty
    return bounded(title, [item_line(i, now) for i in items_for_listing(items, now)])


def item_added_text(item: ActionItem, incident: Incident, warning: str | None) -> str:
    verify = f"\nVerify: {item.verification}" if item.verification else ""
    note = f"\n⚠️ {warning}" if warning else ""
    return (
        f"📌 *{item.slack_label}* added to {incident.id}: {item.text}\n"
        f"Owner <@{item.owner_id}> · due {item.due_date} · {item.horizon}{verify}{note}"
    )


def _channel_link(incident: Incident) -> str:
    return f"<#{incident.channel_id}>" if incident.channel_id else incident.id


def nudge_text(item: ActionItem, incident: Incident, now: datetime) -> str:
    days = item.days_overdue(now)
    return (
        f"⏰ {item.slack_label} is {days} day{'s' if days != 1 else ''} overdue: {item.text} "
        f"({incident.id}, due {item.due_date})"
    )


def nudge_blocks(item: ActionItem, incident: Incident, now: datetime) -> list[dict[str, Any]]:
    """The overdue DM: the item, its incident, due date, days overdue, channel and buttons."""
    days = item.days_overdue(now)
    value = str(item.id)
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    f"⏰ *{item.slack_label} is {days} day{'s' if days != 1 else ''} overdue*\n"
                    f"{_clip(item.text, 2800)}"
                ),
            },
        },
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": f"*Incident*\n{incident.id}: {_clip(incident.title, 1500)}",
                },
                {"type": "mrkdwn", "text": f"*Due*\n{item.due_date}"},
                {"type": "mrkdwn", "text": f"*Channel*\n{_channel_link(incident)}"},
                {"type": "mrkdwn", "text": f"*Verify*\n{_clip(item.verification or '—', 1500)}"},
            ],
        },
        {
            "type": "actions",
            "block_id": f"nudge:{item.id}",
            "elements": [
                _button("Mark done", NUDGE_DONE, value, style="primary"),
                _button("Snooze 1 day", NUDGE_SNOOZE_DAY, value),
                _button("Snooze 1 week", NUDGE_SNOOZE_WEEK, value),
            ],
        },
    ]


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def nudge_outcome_blocks(item: ActionItem, message: str) -> list[dict[str, Any]]:
    """The DM after a click: the item and what happened, without buttons."""
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{item.slack_label}*: {_clip(item.text, 2800)}"},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": message}]},
    ]


def escalation_text(item: ActionItem, incident: Incident, number: int, now: datetime) -> str:
    days = item.days_overdue(now)
    return (
        f"⚠️ {item.slack_label} is {days} day{'s' if days != 1 else ''} overdue after {number} "
        f"reminders: {item.text}. Owner <@{item.owner_id}>, commander <@{incident.commander_id}>: "
        f"please update it with `/action done {item.short_id}`, `/action due {item.short_id} DATE` "
        f"or `/action drop {item.short_id} reason`."
    )


def add_item_modal(*, channel_id: str, user_id: str) -> dict[str, Any]:
    """The `/action` modal: text, owner, horizon, due date, verification."""
    horizons = [
        {"text": {"type": "plain_text", "text": label}, "value": value}
        for value, label in (
            ("immediate", "Immediate (1 week)"),
            ("medium-term", "Medium-term (1 month)"),
            ("long-term", "Long-term (1 quarter)"),
        )
    ]
    return {
        "type": "modal",
        "callback_id": ADD_MODAL,
        "private_metadata": channel_id,
        "title": {"type": "plain_text", "text": "New action item"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input("text", "What needs doing", {"type": "plain_text_input", "action_id": "value"}),
            _input(
                "owner",
                "Owner",
                {"type": "users_select", "action_id": "value", "initial_user": user_id},
            ),
            _input(
                "horizon",
                "Horizon",
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": horizons,
                    "initial_option": horizons[0],
                },
            ),
            _input(
                "due",
                "Due date (default: the horizon's deadline)",
                {"type": "datepicker", "action_id": "value"},
                optional=True,
            ),
            _input(
                "verification",
                "How to verify it is done",
                {"type": "plain_text_input", "action_id": "value", "multiline": True},
                optional=True,
            ),
        ],
    }


def _input(
    block_id: str, label: str, element: dict[str, Any], optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }


# --- App Home -----------------------------------------------------------------------------

# A home view holds at most 100 blocks: 40 + 40 rows and 8 others stay under it.
HOME_MAX_INCIDENTS = 40
HOME_MAX_ITEMS = 40
HOME_TEXT_LIMIT = 500  # per title or item text; a section's text may hold 3000


def _clip(text: str, limit: int = HOME_TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _capped(rows: list[str], limit: int) -> list[dict[str, Any]]:
    """A section per row up to ``limit``, then one line saying how many were left out."""
    shown = [_section(row) for row in rows[:limit]]
    return shown + ([_context(f"…and {len(rows) - limit} more")] if len(rows) > limit else [])


def home_incident_text(incident: Incident, now: datetime) -> str:
    """One open incident on the App Home tab: severity, status, age, channel, ID and title."""
    where = f"<#{incident.channel_id}>" if incident.channel_id else "no channel yet"
    return (
        f"*{incident.severity}* · {status_label(incident.status)} · "
        f"open for {_age(incident.started_at, now)} since declared · {where}\n"
        f"`{incident.id}` {_clip(incident.title)}"
    )


def home_item_text(item: ActionItem, now: datetime) -> str:
    """One of the viewer's open action items on the App Home tab."""
    return (
        f"*{item.slack_label}* {item_status_label(item, now)} · due {item.due_date} "
        f"({item.horizon}) · `{item.incident_id}`\n{_clip(item.text)}"
    )


def home_view(incidents: list[Incident], items: list[ActionItem], now: datetime) -> dict[str, Any]:
    """The App Home tab: open incidents, then the viewer's open action items, overdue first."""
    active = [i for i in incidents if i.is_active]
    mine = [i for i in items_for_listing(items, now) if i.status == "open"]
    blocks = [_header(f"🚨 Open incidents ({len(active)})")]
    if active:
        blocks += _capped([home_incident_text(i, now) for i in active], HOME_MAX_INCIDENTS)
    else:
        blocks.append(_section(f"No open incidents. Declare one with {START_USAGE}."))
    blocks += [{"type": "divider"}, _header(f"📋 Your open action items ({len(mine)})")]
    if mine:
        blocks += _capped([home_item_text(i, now) for i in mine], HOME_MAX_ITEMS)
    else:
        blocks.append(_section("Nothing assigned to you is open."))
    blocks.append(_context(f"As of {now:%Y-%m-%d %H:%M} UTC, when you opened this tab."))
    return {"type": "home", "blocks": blocks}
