"""The review's durable jobs: the draft and the DMs for review, the one reminder, the posts in
the incident channel, and the 30-day follow-up scan and post.

Every handler may run again after a crash: what it has done is recorded (the draft's link, each
DM's job key, the follow-up's posted time) and checked before it is done again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import followup, postmortem
from bot.canvas import service as canvas
from bot.domain import Incident
from bot.jobs import GiveUp, Jobs, is_permanent
from bot.review import blocks
from bot.review import workflow as wf
from bot.review.flow import POST_JOB, REMIND_JOB, REQUEST_JOB, author_of
from bot.store.connection import to_db_time
from bot.store.jobs import Job

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

FOLLOWUP_JOB = "review_followup"
# A follow-up found later than this after its day is not posted: an old incident's channel is
# not woken by a bot upgrade.
FOLLOWUP_GRACE = timedelta(days=7)


def _incident(deps: Deps, job: Job) -> Incident:
    incident = deps.store.incidents.get(incident_id=job.incident_id or "")
    if incident is None:
        raise GiveUp(f"The incident {job.incident_id} no longer exists.")
    return incident


def upload_draft(deps: Deps, client: WebClient, incident: Incident, comment: str) -> str | None:
    """Render the draft as stored now and upload it to the incident channel; its permalink."""
    if not incident.channel_id:
        return None
    context = postmortem.draft_for(
        deps.store,
        incident,
        names=lambda user_ids: deps.users.names(client, user_ids),
        now=deps.clock(),
        templates=deps.templates,
    )
    try:
        markdown = postmortem.render(deps.templates, context)
    except postmortem.TemplateProblem as problem:
        raise GiveUp(str(problem)) from problem
    response = client.files_upload_v2(
        channel=incident.channel_id,
        content=markdown,
        filename=postmortem.draft_filename(incident.id),
        title=postmortem.draft_filename(incident.id),
        initial_comment=comment,
    )
    file = response.get("file") or {}
    return str(file.get("permalink") or "") or None


def post_once(client: WebClient, job: Job, channel: str, marker: str, **message: Any) -> None:
    """Post with a marker (message metadata); a job run again after a crash first looks for
    its marker in the channel, so what reached Slack is never posted twice."""
    if job.attempts > 1:
        oldest = f"{job.created_at.timestamp() - 60:.6f}"
        history = client.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=200
        )
        for sent in history.get("messages", []):
            metadata = sent.get("metadata") or {}
            if (metadata.get("event_payload") or {}).get("marker") == marker:
                return
    client.chat_postMessage(
        channel=channel,
        metadata={"event_type": blocks.REVIEW_EVENT_TYPE, "event_payload": {"marker": marker}},
        **message,
    )


def _dm(
    client: WebClient, job: Job, user_id: str, *, text: str, blocks_: list[dict[str, Any]]
) -> None:
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    post_once(client, job, channel, f"{job.key}:{user_id}", text=text, blocks=blocks_)


def run_request(job: Job, deps: Deps, client: WebClient) -> None:
    """Upload the draft to review, then DM each reviewer asked (each once per request)."""
    incident = _incident(deps, job)
    review = deps.store.reviews.get(incident_id=incident.id)
    if review is None:
        return
    url, key = deps.store.reviews.draft_link(incident_id=incident.id)
    live = canvas.live_link(deps, incident.id, job.payload)
    if live is not None:  # the canvas is the post-mortem: its refresh shows UNDER REVIEW
        url = live
    elif key != job.key:
        try:
            url = upload_draft(deps, client, incident, blocks.sent_for_review_text(review))
        except SlackApiError as exc:
            if not is_permanent(exc):
                raise  # Slack is down: the job retries, DMs and all
            # The file cannot be posted (no files:write, archived channel): the DMs still go,
            # pointing at the incident channel instead.
            log.warning("Uploading %s for review failed: %s", incident.id, exc)
            url = None
        deps.store.reviews.set_draft_link(incident_id=incident.id, url=url or "", key=job.key)
    for role in job.payload.get("roles", []):
        reviewer = review.reviewers.get(role)
        if reviewer is None or reviewer.approved_at is not None:
            continue
        if deps.store.reviews.dm_sent(incident_id=incident.id, role=role, key=job.key):
            continue
        _dm(
            client,
            job,
            reviewer.user_id,
            text=blocks.review_request_text(incident, role, author_of(incident)),
            blocks_=blocks.review_dm_blocks(
                incident, role, author_id=author_of(incident), url=url or None
            ),
        )
        deps.store.reviews.mark_dm_sent(incident_id=incident.id, role=role, key=job.key)


def run_remind(job: Job, deps: Deps, client: WebClient) -> None:
    """One reminder, if the reviewer asked then has still not answered that request."""
    incident = _incident(deps, job)
    review = deps.store.reviews.get(incident_id=incident.id)
    role = str(job.payload.get("role"))
    reviewer = review.reviewers.get(role) if review else None
    if (
        review is None
        or reviewer is None
        or review.status != wf.UNDER_REVIEW
        or reviewer.approved_at is not None
        or reviewer.user_id != job.payload.get("user_id")
        # as stored: to the second
        or to_db_time(reviewer.requested_at) != job.payload.get("requested_at")
    ):
        return  # answered, replaced or asked again since: that request needs no reminder
    url = canvas.live_link(deps, incident.id, job.payload)
    url = url or deps.store.reviews.draft_link(incident_id=incident.id)[0]
    _dm(
        client,
        job,
        reviewer.user_id,
        text="Reminder: " + blocks.review_request_text(incident, role, author_of(incident)),
        blocks_=blocks.review_dm_blocks(
            incident, role, author_id=author_of(incident), url=url or None, reminder=True
        ),
    )


def run_post(job: Job, deps: Deps, client: WebClient) -> None:
    channel = str(job.payload["channel"])
    post_once(client, job, channel, job.key, text=str(job.payload["text"]))


# --- the 30-day follow-up ---------------------------------------------------------------


def followup_scan(deps: Deps, *, now: datetime) -> list[int]:
    """Claim the follow-up of every incident resolved 30 days ago (once, ever) with its job in
    the same transaction; return the jobs to run."""
    window = (now - followup.FOLLOW_UP_AFTER - FOLLOWUP_GRACE, now - followup.FOLLOW_UP_AFTER)
    job_ids: list[int] = []
    for incident_id in deps.store.reviews.followup_due(resolved_between=window):

        def add_job(incident_id: str = incident_id) -> None:
            job_ids.append(
                deps.store.jobs.add(
                    kind=FOLLOWUP_JOB,
                    key=f"review:followup:{incident_id}",
                    payload={},
                    now=now,
                    incident_id=incident_id,
                )
            )

        deps.store.reviews.claim_followup(incident_id=incident_id, now=now, then=add_job)
    return job_ids


def next_followup(deps: Deps, *, now: datetime) -> datetime | None:
    """When the next follow-up falls due (for a scheduler that sleeps until then)."""
    after = now - followup.FOLLOW_UP_AFTER - FOLLOWUP_GRACE
    resolved = deps.store.reviews.next_unclaimed_resolution(after=after)
    return resolved + followup.FOLLOW_UP_AFTER if resolved else None


def run_followup(job: Job, deps: Deps, client: WebClient) -> None:
    """Post the figures, tick them in the post-mortem, and post the refreshed post-mortem."""
    incident = _incident(deps, job)
    if not incident.channel_id:
        return
    if not deps.store.reviews.followup_posted(incident_id=incident.id):
        context = postmortem.draft_for(
            deps.store, incident, names=lambda ids: {}, now=deps.clock(), templates=deps.templates
        )
        assert context.extra is not None
        text = followup.follow_up_text(incident.id, context.extra.followup)
        post_once(client, job, incident.channel_id, job.key, text=text)
        deps.store.reviews.mark_followup_posted(incident_id=incident.id, now=deps.clock())
    # The ticked figures reach the canvas by its refresh, else the channel as a new file.
    with deps.store.transaction():
        refresh = canvas.queue_refresh(
            deps, incident.id, key=f"{incident.id}:followup", now=deps.clock()
        )
    if refresh is not None:
        deps.jobs.run(refresh, deps=deps, client=client)
        return
    upload_draft(deps, client, incident, "📈 The post-mortem with its 30-day follow-up figures.")


def register_jobs(jobs: Jobs) -> None:
    jobs.register(
        REQUEST_JOB,
        run_request,
        failure_text=lambda job: (
            f"I could not send the review requests for {job.incident_id}: "
            "run `/postmortem review` again."
        ),
    )
    jobs.register(REMIND_JOB, run_remind, failure_text=lambda job: "")
    jobs.register(
        POST_JOB,
        run_post,
        failure_text=lambda job: f"I could not post in the channel of {job.incident_id}.",
    )
    jobs.register(FOLLOWUP_JOB, run_followup, failure_text=lambda job: "")
