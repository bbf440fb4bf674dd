"""What the store knows beyond the timeline and items, gathered for one incident's draft."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import followup
from bot.domain import milestones, response_metrics
from bot.draft_fields import Extras, Screenshot
from bot.links import LinkRules

if TYPE_CHECKING:
    from bot.domain import Incident
    from bot.store import Store


def earlier_incidents(store: Store, incident: Incident) -> list[followup.Earlier]:
    """Incidents started before this one that share a service with it, with their Time to
    Detect and Time to Resolve as their own drafts compute them."""
    mine = followup.services_of(incident.fields.get("services"))
    if not mine:
        return []
    found = []
    for row in store.reviews.earlier_with_services(before=incident.started_at):
        services = frozenset(followup.services_of(row["services"]))
        if row["id"] == incident.id or not mine & services:
            continue
        other = store.incidents.get(incident_id=row["id"])
        if other is None:
            continue
        metrics = response_metrics(
            milestones(other, store.timeline.for_incident(incident_id=other.id))
        )
        found.append(
            followup.Earlier(other.id, services, metrics.time_to_detect, metrics.time_to_resolve)
        )
    return found


def extras_for(store: Store, incident: Incident, rules: LinkRules | None = None) -> Extras:
    review = store.reviews.get(incident_id=incident.id)
    return Extras(
        review=review,
        rules=rules,
        screenshots=[Screenshot(*image) for image in store.reviews.images(incident_id=incident.id)],
        earlier=earlier_incidents(store, incident),
        changes=store.reviews.changes(incident_id=incident.id),
        followup_posted=store.reviews.followup_posted(incident_id=incident.id),
    )
