"""Pure decisions of the two-way sync: what a tracker's change does to an item, and what an
item's change asks of the tracker. No I/O: the hooks and the jobs do what these say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain import ActionItem
from bot.parsing import clean_text
from bot.trackers import DISPLAY_NAMES, IssueRef
from bot.trackers.webhooks import TrackerChange

# The item changes that the tracker follows, and the call each one makes.
OUTBOUND = {
    "done": "close_done",
    "reopened": "reopen",
    "dropped": "close_not_planned",
    "assigned": "assign",
    "due": "set_due",
    "text": "update_text",
}


@dataclass(frozen=True)
class Inbound:
    """What a tracker's change does to the item: ``change`` None means nothing."""

    change: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None
    line: str | None = None  # the one line told in the incident channel


def tracker_actor(change: TrackerChange) -> str:
    """The actor recorded in the item's history: ``github:octocat``."""
    name = clean_text(change.actor).replace("\n", " ")
    return f"{change.tracker}:{name}"


def decide_inbound(
    change: TrackerChange, item: ActionItem, *, now: datetime, new_owner: str | None = None
) -> Inbound:
    """Closing marks the item done (or dropped, when closed as not planned), reopening reopens
    it, reassigning to someone with a known Slack user moves it. A change that matches the
    item already (the echo of the bot's own update) does nothing, so nothing loops."""
    # The tracker's names are not Slack's: escaped, a display name "<!channel>" pings no one.
    where = f"{DISPLAY_NAMES[change.tracker]} ({_escape(change.issue_key)})"
    who = _escape(change.actor)
    short = item.short_id
    if change.action == "closed":
        if item.status != "open":
            return Inbound(None)
        if change.not_planned:
            reason = f"closed as not planned in {where} by {who}"
            return Inbound(
                "dropped",
                {"status": "dropped", "drop_reason": reason},
                detail=reason,
                line=f"❌ {short} was closed as not planned by {who} in {where}: {item.text}",
            )
        return Inbound(
            "done",
            {"status": "done"},
            detail=f"closed in {where} by {who}",
            line=f"✅ {short} was closed by {who} in {where}, so it is done: {item.text}",
        )
    if change.action == "reopened":
        if item.status == "open":
            return Inbound(None)
        return Inbound(
            "reopened",
            {
                "status": "open",
                "drop_reason": None,
                "next_nudge_at": max(item.due_at, now),
                "nudge_count": 0,
                "escalated": 0,
            },
            detail=f"reopened in {where} by {who}",
            line=f"⏳ {short} was reopened by {who} in {where}: {item.text}",
        )
    if change.action == "assigned" and new_owner and new_owner != item.owner_id:
        return Inbound(
            "assigned",
            {"owner_id": new_owner, "nudge_count": 0, "escalated": 0},
            detail=new_owner,
            line=f"👤 {short} is now owned by <@{new_owner}>, assigned by {who} in {where}.",
        )
    return Inbound(None)


def issue_link(ref: IssueRef | None) -> str:
    """``<url|acme/ops#12>`` for Slack, or nothing when the item has no issue yet."""
    return f"<{ref.url}|{_escape(ref.key)}>" if ref else ""


def with_issue(short_id: str, ref: IssueRef | None) -> str:
    """``AI-7 · <url|acme/ops#12>``: the item with its issue, wherever the item is shown."""
    return f"{short_id} · {issue_link(ref)}" if ref else short_id


def markdown_link(short_id: str, ref: IssueRef | None) -> str:
    """The draft's Action Item cell: ``AI-7 · [acme/ops#12](url)``."""
    return f"{short_id} · [{ref.key}]({ref.url})" if ref else short_id


def _escape(text: str) -> str:
    """Text from outside Slack, shown as typed in mrkdwn (``&``, ``<``, ``>`` escaped) and
    passed through ``clean_text`` as all stored text is (no controls, bidi or newlines)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return clean_text(escaped).replace("\n", " ")
