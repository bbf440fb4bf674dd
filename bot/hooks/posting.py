"""The durable job an alert delivery leaves behind: post the delivery's timeline entries in the
incident channel as one compact message (exactly once: ``bot.work.posting.post_once``).

An incident the delivery declared has its channel set up by ``/incident start``'s own job
(``bot.work.channel``); the post waits (``RetryLater``) until that channel exists, then says
first why the bot declared the incident.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.hooks.render import delivery_message
from bot.jobs import GiveUp, Job, Jobs, RetryLater
from bot.work import channel
from bot.work.posting import post_once

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps

POST_JOB = "alert_timeline_post"
WAIT_FOR_CHANNEL = timedelta(seconds=5)


def post_entries(job: Job, deps: Deps, client: WebClient) -> None:
    """One message for the delivery's entries (and, for a declared incident, why)."""
    incident = deps.store.incidents.get(incident_id=job.payload["incident_id"])
    if incident is None:
        raise GiveUp(f"{job.payload['incident_id']} no longer exists.")
    if incident.channel_id is None:
        if _set_up_failed(deps, incident.id):
            raise GiveUp(
                f"{incident.id}'s channel could not be set up, so its alerts were not posted."
            )
        raise RetryLater("the incident's channel is not set up yet", after=WAIT_FOR_CHANNEL)
    wanted = set(job.payload["entry_ids"])
    timeline = deps.store.timeline.for_incident(incident_id=incident.id)
    entries = [e for e in timeline if e.id in wanted]
    if not entries:
        return  # removed since: nothing left to show
    text = delivery_message(job.payload["source"], entries)
    if job.payload.get("reason"):
        text = f"{job.payload['reason']}\n{text}"
    post_once(client, job, channel=incident.channel_id, text=text, unfurl_links=False)


def _set_up_failed(deps: Deps, incident_id: str) -> bool:
    key = channel.set_up_key(incident_id)
    return any(r["key"] == key and r["state"] == "failed"
               for r in deps.store.jobs.with_kind(kind=channel.SET_UP))  # fmt: skip


def register_jobs(jobs: Jobs) -> None:
    jobs.register(
        POST_JOB,
        post_entries,
        failure_text=lambda job: f"Alerts for {job.payload['incident_id']} could not be posted.",
    )
