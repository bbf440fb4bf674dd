"""Block Kit for the review: the reviewer's DM, the request-changes modal and the posts.

Pure builders returning dicts; the listeners send them.
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain import Incident
from bot.parsing import clean_text
from bot.review.workflow import ROLE_LABELS, Review
from bot.safety import escape_mrkdwn

APPROVE_ACTION = "review_approve"
REQUEST_CHANGES_ACTION = "review_request_changes"
CHANGES_CALLBACK = "review_changes"
COMMENT_BLOCK = "comment"
COMMENT_ACTION = "comment_input"
REVIEW_EVENT_TYPE = "incident_bot_review"
MAX_COMMENT = 2000


def button_value(incident_id: str, role: str) -> str:
    return json.dumps({"incident_id": incident_id, "role": role}, separators=(",", ":"))


def read_value(value: object) -> tuple[str, str] | None:
    """(incident ID, role) from a button's value or a modal's private_metadata; None if broken."""
    try:
        data = json.loads(str(value))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    incident_id, role = data.get("incident_id"), data.get("role")
    if not isinstance(incident_id, str) or role not in ROLE_LABELS:
        return None
    return incident_id, role


def _link(incident: Incident, url: str | None) -> str:
    if url:
        return f"<{url}|the post-mortem of {incident.id}>"
    where = f" in <#{incident.channel_id}>" if incident.channel_id else ""
    return f"the post-mortem of {incident.id}{where}"


def review_request_text(incident: Incident, role: str, author_id: str | None) -> str:
    by = f"<@{author_id}> asks you" if author_id else "You are asked"
    return f"{by} for the {ROLE_LABELS[role]} of the post-mortem of {incident.id}: {incident.title}"


def review_dm_blocks(
    incident: Incident, role: str, *, author_id: str | None, url: str | None, reminder: bool = False
) -> list[dict[str, Any]]:
    """The reviewer's DM: what is asked, a link to the post-mortem, Approve / Request changes."""
    lead = "⏰ Reminder: " if reminder else "📝 "
    value = button_value(incident.id, role)
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{lead}{review_request_text(incident, role, author_id)}\n"
                f"Read {_link(incident, url)}, then approve it or ask for changes.",
            },
        },
        {
            "type": "actions",
            "block_id": "review",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE_ACTION,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "style": "primary",
                    "value": value,
                },
                {
                    "type": "button",
                    "action_id": REQUEST_CHANGES_ACTION,
                    "text": {"type": "plain_text", "text": "Request changes"},
                    "value": value,
                },
            ],
        },
    ]


def request_changes_modal(incident_id: str, role: str) -> dict[str, Any]:
    """A small modal asking for the comment; the incident and role ride in private_metadata."""
    return {
        "type": "modal",
        "callback_id": CHANGES_CALLBACK,
        "private_metadata": button_value(incident_id, role),
        "title": {"type": "plain_text", "text": "Request changes"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "label": {"type": "plain_text", "text": f"What should change in {incident_id}?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": COMMENT_ACTION,
                    "multiline": True,
                    "max_length": MAX_COMMENT,
                },
            }
        ],
    }


def comment_of(view: dict[str, Any]) -> str:
    """The comment typed into the modal ("" when missing): modal text arrives raw, so it is
    escaped for Slack and cleaned as every text the bot repeats (``clean_text``)."""
    values = (view.get("state") or {}).get("values") or {}
    block = values.get(COMMENT_BLOCK) or {}
    return clean_text(escape_mrkdwn(str((block.get(COMMENT_ACTION) or {}).get("value") or "")))


def changes_requested_text(
    incident: Incident, role: str, reviewer_id: str, author_id: str | None, comment: str
) -> str:
    to = f"<@{author_id}>, " if author_id else ""
    # ``comment`` is escaped and cleaned already (``comment_of``).
    quoted = "\n".join(f"> {line}" for line in comment.splitlines() or [""])
    return (
        f"✏️ {to}<@{reviewer_id}> asks for changes to the post-mortem of {incident.id} "
        f"({ROLE_LABELS[role]}); it is back in DRAFT:\n{quoted}"
    )


def sent_for_review_text(review: Review) -> str:
    """The comment on the draft uploaded for review: who is asked for which line."""
    asked = ", ".join(
        f"{ROLE_LABELS[role]}: <@{review.reviewers[role].user_id}>" for role in review.pending
    )
    return f"📝 The post-mortem as sent for review ({asked})."


def approved_text(incident: Incident, review: Review) -> str:
    signers = ", ".join(
        f"{label} <@{review.reviewers[role].user_id}>"
        for role, label in ROLE_LABELS.items()
        if role in review.reviewers
    )
    return f"✅ The post-mortem of {incident.id} is APPROVED, version {review.version} ({signers})."


def review_status_text(incident: Incident, review: Review, event: str) -> str:
    """The answer to the person who acted."""
    if event == "requested":
        asked = ", ".join(
            f"{ROLE_LABELS[role]}: <@{review.reviewers[role].user_id}>" for role in review.pending
        )
        return f"👀 The post-mortem of {incident.id} is UNDER REVIEW ({asked}); I've sent the DMs."
    if event == "approved":
        waiting = ", ".join(ROLE_LABELS[role] for role in review.pending)
        return f"👍 Approved. The post-mortem of {incident.id} still waits for: {waiting}."
    if event == "fully_approved":
        return approved_text(incident, review)
    if event == "changes_requested":
        return f"✏️ Sent: the post-mortem of {incident.id} is back in DRAFT."
    return f"🗄️ The post-mortem of {incident.id} is ARCHIVED (version {review.version})."


def answered_blocks(text: str) -> list[dict[str, Any]]:
    """What replaces the DM's buttons once the reviewer has answered."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
