"""The Slack side of the tracker: the jobs an item's change promises, and ``/action sync``.

Called by the ``/action`` listener inside the item's own transaction, so the job is written
with the change or not at all; ``jobs.promise`` hands it to the lazy listener that runs it
right after the ack. With no tracker configured, each is a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import jobs, membership
from bot.domain import ActionItem, Incident
from bot.trackers import DISPLAY_NAMES
from bot.trackers.jobs import enqueue_create, enqueue_update
from bot.trackers.sync import OUTBOUND

if TYPE_CHECKING:
    from bot.deps import Deps

NO_TRACKER = (
    "No tracker is set up: set `TRACKER` (github, jira or linear) and its settings, "
    "then `/action sync` creates the issues."
)


def follow_new_item(
    item: ActionItem,
    incident: Incident,
    actor_id: str,
    now: datetime,
    deps: Deps,
    context: dict[str, Any],
) -> None:
    """A new item's ``tracker_create`` job."""
    if deps.tracker is None:
        return
    job_id = enqueue_create(
        deps.store, item, now=now, requested_by=actor_id, channel=incident.channel_id
    )
    jobs.promise(context, job_id)


def follow_change(
    item: ActionItem, change: str, actor_id: str, now: datetime, deps: Deps, context: Any
) -> None:
    """An update job after done, reopen, drop, assign or due (snoozes stay in Slack)."""
    if deps.tracker is None or change not in OUTBOUND:
        return
    incident = deps.store.incidents.get(incident_id=item.incident_id)
    job_id = enqueue_update(
        deps.store, item, now=now, change=change, requested_by=actor_id,
        channel=incident.channel_id if incident else None,
    )  # fmt: skip
    jobs.promise(context, job_id)


def sync(incident: Incident, command: dict[str, Any], context: Any, deps: Deps) -> str:
    """``/action sync``: a create job for each of the incident's items without an issue, in
    one transaction with the command's ``trigger_id``, so a replay adds none."""
    tracker = deps.tracker
    if tracker is None:
        return NO_TRACKER
    now = deps.clock()
    items = deps.store.items.for_incident(incident_id=incident.id)
    linked = deps.store.trackers.links(item_ids=[i.id for i in items], tracker=tracker.kind)
    missing = [item for item in items if item.id not in linked]
    name = DISPLAY_NAMES[tracker.kind]
    if not missing:
        return f"Every action item of {incident.id} already has its {name} issue."
    with deps.store.transaction():
        if not deps.store.commands.claim(trigger_id=command.get("trigger_id"), now=now):
            return membership.REPLAYED
        for item in missing:
            job_id = enqueue_create(
                deps.store, item, now=now, requested_by=command["user_id"],
                channel=incident.channel_id, again=True,
            )  # fmt: skip
            jobs.promise(context, job_id)
    ids = ", ".join(item.short_id for item in missing)
    return f"Creating the {name} issues of {ids}; each gets a line here once it exists."
