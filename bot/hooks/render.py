"""What the channel sees of an alert delivery: one compact message, one line per entry. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import TimelineEntry
from bot.hooks.linking import SOURCE_NAMES
from bot.safety import escape_mrkdwn

# Slack's text limit is 40,000 characters; a delivery of hundreds of alerts is summarised.
MAX_LINES = 20


def entry_line(entry: TimelineEntry) -> str:
    """One entry; its text is stored as Slack mrkdwn already (``linking.slack_safe``)."""
    when = entry.at.strftime("%H:%M UTC")
    text = entry.text or "—"
    if entry.permalink:
        text = f"<{entry.permalink}|{text}>"
    name = entry.actor_name or "System"
    who = "" if name == "System" else f" by {escape_mrkdwn(name)}"
    return f"• *{entry.kind_info.label}* {when}{who}: {text}"


def delivery_message(source: str, entries: Sequence[TimelineEntry]) -> str:
    """The one message a delivery posts: a heading naming the source, then the entries."""
    name = SOURCE_NAMES.get(source, source)
    shown = [entry_line(e) for e in entries[:MAX_LINES]]
    if len(entries) > MAX_LINES:
        shown.append(f"…and {len(entries) - MAX_LINES} more on the timeline (`/timeline`).")
    noun = "entry" if len(entries) == 1 else "entries"
    return "\n".join([f"🔔 {name} · {len(entries)} timeline {noun}", *shown])


def unlinked_line(count: int) -> str | None:
    """The `/incident list` footnote about alerts no incident took, or None when there were none."""
    if count <= 0:
        return None
    alerts = "alert" if count == 1 else "alerts"
    return (
        f"🔕 {count} {alerts} arrived unlinked in the last 24 hours "
        "(link one with `/incident link &lt;source&gt; &lt;id or alert name&gt;`)."
    )
