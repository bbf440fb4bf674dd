"""`/incident link <source> <id or alert name>`, and the unlinked count `/incident list` shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain import Incident
from bot.hooks.linking import SOURCE_NAMES, parse_link
from bot.hooks.render import unlinked_line

if TYPE_CHECKING:
    from bot.deps import Deps


def link_alerts(incident: Incident, args: str, user_id: str, deps: Deps) -> str:
    """Send the alerts ``args`` names to this incident from now on; the channel's reply.
    ``UsageError`` (with the usage line) for arguments that do not parse."""
    link = parse_link(args)
    deps.store.alerts.link(
        source=link.source, key=link.key, incident_id=incident.id, how="link", now=deps.clock()
    )
    return (
        f"🔗 <@{user_id}> linked {SOURCE_NAMES[link.source]} `{link.key}` to {incident.id}: "
        "its alerts from now on write this incident's timeline."
    )


def with_unlinked(listing: str, deps: Deps) -> str:
    """``/incident list``, with how many alerts arrived unlinked in the last 24 hours."""
    line = unlinked_line(deps.store.alerts.unlinked_count(now=deps.clock()))
    return f"{listing}\n{line}" if line else listing
