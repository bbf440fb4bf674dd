"""``/postmortem draft``'s upload, after the ack: render the draft as stored when the job runs
and upload it to the channel. A retry first looks for the file an earlier try shared: an
upload carries no message metadata, so the mark is a file of the draft's name among the
channel's recent messages (another draft of the same incident asked for moments earlier
could be mistaken for it, which only spares a duplicate)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot import postmortem, slackio
from bot.domain import Incident
from bot.jobs import GiveUp, Jobs
from bot.store import Store
from bot.store.jobs import Job
from bot.work.posting import RECENT

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

UPLOAD = "draft_upload"


def add_upload(
    store: Store, incident: Incident, *, channel: str, user_id: str, key: str, now: datetime
) -> int:
    """Upload the draft of ``incident`` to ``channel`` (inside the caller's transaction)."""
    return store.jobs.add(
        kind=UPLOAD, key=f"draft:{key}", payload={"incident_id": incident.id, "channel": channel,
        "user_id": user_id}, now=now, incident_id=incident.id, requested_by=user_id,
        notify_channel=channel,
    )  # fmt: skip


def already_uploaded(client: WebClient, job: Job, channel: str) -> bool:
    history = client.conversations_history(channel=channel, limit=RECENT)
    name = postmortem.draft_filename(job.payload["incident_id"])
    return any(
        file.get("name") == name or file.get("title") == name
        for message in history.get("messages") or []
        for file in message.get("files") or []
    )


def upload(job: Job, deps: Deps, client: WebClient) -> None:
    incident = deps.store.incidents.get(incident_id=job.payload["incident_id"])
    if incident is None:
        raise GiveUp("The incident is gone, so there is no draft to upload.")
    channel = job.payload["channel"]
    if job.attempts > 1 and already_uploaded(client, job, channel):
        return
    draft = postmortem.draft_for(
        deps.store, incident, names=lambda user_ids: deps.users.names(client, user_ids),
        now=deps.clock(), requested_by=job.payload["user_id"], templates=deps.templates,
    )  # fmt: skip
    try:
        markdown = postmortem.render(deps.templates, draft)
    except postmortem.TemplateProblem as problem:
        log.error("Rendering the draft of %s failed: %s", incident.id, problem)
        raise GiveUp(str(problem)) from problem
    slackio.upload_markdown(
        client, channel_id=channel, filename=postmortem.draft_filename(incident.id),
        content=markdown, comment=postmortem.summary_line(draft),
    )  # fmt: skip


def register_jobs(jobs: Jobs) -> None:
    jobs.register(
        UPLOAD,
        upload,
        failure_text=lambda job: (
            "I could not upload the draft: Slack kept refusing. "
            "Run `/postmortem file` again in a while."
        ),
    )
