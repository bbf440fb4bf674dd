"""Pure renderers: an action item as a tracker issue (title, body, labels, marker).

The marker line ``managed by incident-bot: AI-7`` is how the bot finds its own issue again,
so :func:`carries_marker` matches the whole line: ``AI-7`` never matches ``AI-70``'s issue.
GitHub and Linear read Markdown; Jira Cloud's REST v3 reads Atlassian Document Format (ADF),
Jira Data Center's v2 reads wiki text.
"""

from __future__ import annotations

import re
from typing import Any

from bot.domain import ActionItem, Incident

MARKER_PREFIX = "managed by incident-bot: "
BASE_LABELS = ("incident", "postmortem")
# Trackers cap titles (GitHub 256, Jira 255, Linear 255 characters).
TITLE_LIMIT = 250


def marker(item: ActionItem) -> str:
    return f"{MARKER_PREFIX}{item.short_id}"


def carries_marker(body: str | None, mark: str) -> bool:
    """True when ``body`` has ``mark`` as a line of its own."""
    return bool(body) and re.search(rf"(?m)^\s*{re.escape(mark)}\s*$", body or "") is not None


def channel_url(channel_id: str | None) -> str | None:
    """A link that opens the incident channel in Slack, whatever the workspace's domain."""
    return f"https://slack.com/app_redirect?channel={channel_id}" if channel_id else None


def title(item: ActionItem) -> str:
    text = " ".join(item.text.split())
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


def labels(item: ActionItem) -> tuple[str, ...]:
    return (*BASE_LABELS, item.horizon)


def facts(item: ActionItem, incident: Incident) -> list[tuple[str, str, str | None]]:
    """(label, text, link) rows shared by every format."""
    channel = f"#{incident.channel_name}" if incident.channel_name else "the incident channel"
    return [
        ("Incident", f"{incident.id} ({incident.severity}): {incident.title}", None),
        ("Channel", channel, channel_url(incident.channel_id)),
        ("Horizon", item.horizon, None),
        ("Due date", item.due_date, None),
        ("Verification", item.verification or "not set yet", None),
    ]


def markdown_body(item: ActionItem, incident: Incident) -> str:
    """GitHub and Linear: a short list, then the marker line."""
    lines = [f"Corrective action **{item.short_id}** from incident **{incident.id}**.", ""]
    for label, text, link in facts(item, incident):
        shown = f"[{_md(text)}]({link})" if link else _md(text)
        lines.append(f"- **{label}:** {shown}")
    lines += ["", marker(item), ""]
    return "\n".join(lines)


def wiki_body(item: ActionItem, incident: Incident) -> str:
    """Jira Data Center (REST v2): wiki markup."""
    lines = [f"Corrective action *{item.short_id}* from incident *{incident.id}*.", ""]
    for label, text, link in facts(item, incident):
        shown = f"[{text}|{link}]" if link else text
        lines.append(f"* *{label}:* {shown}")
    lines += ["", marker(item)]
    return "\n".join(lines)


def adf_body(item: ActionItem, incident: Incident) -> dict[str, Any]:
    """Jira Cloud (REST v3): an ADF document with the same list and the marker paragraph."""
    rows = []
    for label, text, link in facts(item, incident):
        value: dict[str, Any] = {"type": "text", "text": text}
        if link:
            value["marks"] = [{"type": "link", "attrs": {"href": link}}]
        strong = {"type": "text", "text": f"{label}: ", "marks": [{"type": "strong"}]}
        rows.append(
            {"type": "listItem", "content": [{"type": "paragraph", "content": [strong, value]}]}
        )
    intro = f"Corrective action {item.short_id} from incident {incident.id}."
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": intro}]},
            {"type": "bulletList", "content": rows},
            {"type": "paragraph", "content": [{"type": "text", "text": marker(item)}]},
        ],
    }


def adf_text(doc: Any) -> str:
    """The plain text of an ADF document, one line per paragraph (to find the marker)."""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        return ""
    if doc.get("type") == "text":
        return str(doc.get("text", ""))
    parts = [adf_text(child) for child in doc.get("content", []) or []]
    joiner = "\n" if doc.get("type") in ("doc", "bulletList", "orderedList", "listItem") else ""
    return joiner.join(parts)


def adf_paragraph(text: str) -> dict[str, Any]:
    """A one-paragraph ADF document, for comments on Jira Cloud."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def change_comment(action: str, item: ActionItem, *, who: str, reason: str | None = None) -> str:
    """The comment left on the issue when the item changes in Slack."""
    done = {
        "done": f"{item.short_id} was marked done in Slack by {who}.",
        "dropped": f"{item.short_id} was dropped in Slack by {who}"
        + (f": {reason}" if reason else "."),
        "reopened": f"{item.short_id} was reopened in Slack by {who}.",
    }
    return done[action]


def _md(text: str) -> str:
    """Keep user text from turning into Markdown links, images or HTML."""
    return re.sub(r"([\\`*_\[\]<>!|])", r"\\\1", text)
