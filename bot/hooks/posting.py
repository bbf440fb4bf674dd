"""The durable jobs an alert delivery leaves behind: set up a declared incident's channel, and
post the delivery's timeline entries in the incident channel as one compact message.

Both are idempotent where Slack lets them be: the channel job skips what the incident already
has (its channel, its pinned intro); the post job waits (``RetryLater``) until the channel
exists, so a delivery that declared an incident posts in it once its channel is set up.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot import slackio
from bot.hooks.render import delivery_message
from bot.jobs import GiveUp, Job, Jobs, RetryLater

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps

CHANNEL_JOB = "alert_incident_channel"
POST_JOB = "alert_timeline_post"
WAIT_FOR_CHANNEL = timedelta(seconds=5)


def set_up_channel(job: Job, deps: Deps, client: WebClient) -> None:
    """Open the declared incident's channel, set its topic, post and pin its intro, as
    ``/incident start`` does (``bot.slackio``); nobody is invited, nobody asked."""
    incident = deps.store.incidents.get(incident_id=job.payload["incident_id"])
    if incident is None:
        raise GiveUp(f"{job.payload['incident_id']} no longer exists.")
    channel_id = slackio.open_incident_channel(client, deps.store, incident)
    incident = deps.store.incidents.get(incident_id=incident.id) or incident
    if incident.intro_ts is None:
        intro_ts = slackio.announce(client, incident, channel_id)
        deps.store.incidents.set_intro(incident_id=incident.id, intro_ts=intro_ts)


def post_entries(job: Job, deps: Deps, client: WebClient) -> None:
    """One message for the delivery's entries (and, for a declared incident, why)."""
    incident = deps.store.incidents.get(incident_id=job.payload["incident_id"])
    if incident is None:
        raise GiveUp(f"{job.payload['incident_id']} no longer exists.")
    if incident.channel_id is None:
        raise RetryLater("the incident's channel is not set up yet", after=WAIT_FOR_CHANNEL)
    wanted = set(job.payload["entry_ids"])
    timeline = deps.store.timeline.for_incident(incident_id=incident.id)
    entries = [e for e in timeline if e.id in wanted]
    if not entries:
        return  # removed since: nothing left to show
    text = delivery_message(job.payload["source"], entries)
    if job.payload.get("reason"):
        text = f"{job.payload['reason']}\n{text}"
    client.chat_postMessage(channel=incident.channel_id, text=text, unfurl_links=False)


def register_jobs(jobs: Jobs) -> None:
    jobs.register(
        CHANNEL_JOB,
        set_up_channel,
        failure_text=lambda job: f"The channel of {job.payload['incident_id']} was not set up.",
    )
    jobs.register(
        POST_JOB,
        post_entries,
        failure_text=lambda job: f"Alerts for {job.payload['incident_id']} could not be posted.",
    )
