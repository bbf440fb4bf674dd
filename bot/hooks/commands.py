"""`/incident link <source> <id or alert name>`, and the unlinked count `/incident list` shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain import Incident
from bot.hooks.linking import SOURCE_NAMES
from bot.hooks.render import unlinked_line
from bot.parsing import LinkInput

if TYPE_CHECKING:
    from bot.deps import Deps


def link_alerts(incident: Incident, link: LinkInput, user_id: str, deps: Deps) -> str:
    """Send the alerts ``link`` names to this incident from now on (inside the caller's
    transaction); the channel's reply."""
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
