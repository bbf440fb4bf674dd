"""A nudge's escalation in the incident channel, as a durable job.

The nudge scan hands the escalation over (``store.nudges.claim_escalation`` writes the job in
the same transaction as the claim), so a process that dies between claiming and posting
leaves a job that the next sweep runs, rather than a claim nothing ever retries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot import blocks
from bot.jobs import Jobs
from bot.store.jobs import Job
from bot.work.posting import post_once

if TYPE_CHECKING:
    from bot.deps import Deps

ESCALATION = "escalation"


def post_escalation(job: Job, deps: Deps, client: WebClient) -> None:
    nudge = deps.store.nudges.get(nudge_id=job.payload["nudge_id"])
    item = deps.store.items.get(item_id=nudge["item_id"]) if nudge else None
    incident = deps.store.incidents.get(incident_id=item.incident_id) if item else None
    if nudge is None or item is None or item.status != "open" or incident is None:
        return  # closed since: an escalation would be noise
    if not incident.channel_id:
        return  # nowhere to post
    text = blocks.escalation_text(item, incident, nudge["number"], deps.clock())
    post_once(client, job, channel=incident.channel_id, text=text)


def register_jobs(jobs: Jobs) -> None:
    jobs.register(ESCALATION, post_escalation, failure_text=lambda job: "")
