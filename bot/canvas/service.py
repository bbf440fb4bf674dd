"""The canvas as durable jobs: ``/postmortem draft`` and the refresh that follows changes.

- ``canvas_draft``: what ``/postmortem draft`` promises. It makes the channel canvas the first
  time and posts its link, refreshes it later, makes a new one (and says so) when the old one
  was deleted, and uploads the Markdown file with one sentence where canvases are unavailable.
- ``canvas_refresh``: queued by :func:`scan` at most once a minute per open incident, when the
  draft changed since the last refresh, and once more after the incident is resolved.

Both hold the incident's canvas row for the time of one refresh (an atomic claim), so two never
run at once for one incident, whichever process, job or minute they come from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot import postmortem, slackio
from bot.canvas import auto, sync
from bot.domain import Incident
from bot.jobs import GiveUp, Jobs, RetryLater, new_token
from bot.store.jobs import Job

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

DRAFT = "canvas_draft"
REFRESH = "canvas_refresh"
LEASE = timedelta(minutes=2)  # a refresh is a few dozen calls; longer means its process died
BUSY_RETRY = timedelta(seconds=5)
SCAN_SECONDS = 15  # how often the scheduler looks for drafts that changed


# --- what the listener and the scan add ------------------------------------------------------


def queue_draft(deps: Deps, command: dict[str, Any], incident: Incident) -> int:
    """The ``canvas_draft`` job for one ``/postmortem draft`` (a redelivery adds none)."""
    now = deps.clock()
    user, channel = command.get("user_id"), command.get("channel_id")
    key = command.get("trigger_id") or f"{incident.id}:{user}:{now.isoformat()}"
    payload = {
        "incident_id": incident.id,
        "channel_id": channel,
        "team_id": command.get("team_id"),
        "team_domain": command.get("team_domain"),
    }
    with deps.store.transaction():
        return deps.store.jobs.add(
            kind=DRAFT, key=f"canvas:draft:{key}", payload=payload, now=now,
            incident_id=incident.id, requested_by=user, notify_channel=channel,
        )  # fmt: skip


def scan(deps: Deps, client: WebClient) -> list[int]:
    """Queue and run a refresh for every canvas whose draft changed, at most once a minute;
    return the jobs queued. The scheduler and the shell's tick call it."""
    now = deps.clock()
    queued = []
    for row in deps.store.canvases.all():
        state = auto.AutoState(row.refreshed_at, row.fingerprint, row.final_done, row.queued_at)
        if row.auto_off or not auto.can_check(state, now=now):
            continue  # cheap checks first: rendering the draft is the costly part
        incident = deps.store.incidents.get(incident_id=row.incident_id)
        resolved = incident is not None and incident.status == "resolved"
        if incident is None or (resolved and row.final_done):
            continue
        fingerprint = draft_fingerprint(deps, incident, now)
        if fingerprint is None or not auto.refresh_due(
            state, resolved=resolved, draft_fingerprint=fingerprint, now=now
        ):
            continue
        with deps.store.transaction():
            job_id = deps.store.jobs.add(
                kind=REFRESH, key=auto.minute_key(incident.id, now),
                payload={"incident_id": incident.id}, now=now, incident_id=incident.id,
            )  # fmt: skip
            deps.store.canvases.queued(incident_id=incident.id, now=now)
        queued.append(job_id)
    for job_id in queued:
        deps.jobs.run(job_id, deps=deps, client=client)
    return queued


def queue_refresh(deps: Deps, incident_id: str, *, key: str, now: datetime) -> int | None:
    """A ``canvas_refresh`` at once, for a change people wait to see in the canvas (a step of
    the review), written inside the caller's transaction; None without a live canvas. The
    last refresh no longer counts as final, so the scan catches up should this job be late."""
    row = deps.store.canvases.get(incident_id=incident_id)
    if row is None or row.canvas_id is None or row.auto_off:
        return None
    deps.store.canvases.unsettle(incident_id=incident_id)
    return deps.store.jobs.add(
        kind=REFRESH, key=f"canvas:refresh:{key}", payload={"incident_id": incident_id},
        now=now, incident_id=incident_id,
    )  # fmt: skip


def live_link(deps: Deps, incident_id: str, payload: dict[str, Any]) -> str | None:
    """The address of the incident's canvas while the bot keeps it, else None; ``payload``
    carries the workspace (``team_id``, ``team_domain``) as a command gave it."""
    row = deps.store.canvases.get(incident_id=incident_id)
    if row is None or row.canvas_id is None or row.auto_off:
        return None
    return canvas_link(payload, row.canvas_id)


def scheduled_scan(deps: Deps, client: WebClient) -> Callable[[], None]:
    """:func:`scan` for the scheduler's thread, which must survive a failing scan."""

    def run() -> None:
        try:
            queued = scan(deps, client)
        except Exception:
            log.exception("Canvas scan failed")  # the next scan tries again
            return
        if queued:
            log.info("Canvas scan: refreshed %d canvases", len(queued))

    return run


def draft_fingerprint(deps: Deps, incident: Incident, now: datetime) -> str | None:
    """The draft as data, without asking Slack for names: what "changed" is measured on."""
    context = postmortem.draft_for(
        deps.store, incident, names=deps.users.cached_names, now=now, templates=deps.templates
    )
    try:
        return auto.fingerprint(postmortem.render(deps.templates, context))
    except postmortem.TemplateProblem:
        return None


# --- the jobs --------------------------------------------------------------------------------


def run_draft(job: Job, deps: Deps, client: WebClient) -> None:
    """``/postmortem draft``: the canvas made or refreshed, or the file where it cannot be."""
    incident = _incident(deps, job)
    user = job.requested_by
    channel = str(job.payload.get("channel_id") or incident.channel_id)
    with _held(deps, incident.id, channel):
        now = deps.clock()
        context = postmortem.draft_for(
            deps.store, incident, names=lambda ids: deps.users.names(client, ids), now=now,
            requested_by=user, templates=deps.templates,
        )  # fmt: skip
        markdown = _render(deps, context)
        summary = postmortem.summary_line(context)
        try:
            outcome = sync.publish(client, deps.store.canvases, incident_id=incident.id,
                                   channel_id=channel, draft=markdown, now=now)  # fmt: skip
        except sync.CanvasUnavailable as exc:
            log.info("No canvas for %s (%s): uploading the file", incident.id, exc.error)
            slackio.upload_markdown(
                client, channel_id=channel, filename=postmortem.draft_filename(incident.id),
                content=markdown, comment=f"{unavailable_sentence(exc.error)} {summary}",
            )  # fmt: skip
            return
        deps.store.canvases.refreshed(
            incident_id=incident.id, now=now, requested_by=user,
            fingerprint=draft_fingerprint(deps, incident, now),
            final=incident.status == "resolved",
        )  # fmt: skip
    link = canvas_link(job.payload, outcome.canvas_id)
    if outcome.created:
        text = created_text(incident, outcome, link, summary)
        client.chat_postMessage(channel=channel, text=text)
        return
    if user:
        client.chat_postEphemeral(
            channel=channel, user=user, text=refreshed_text(incident, outcome, link, summary)
        )
        for kept in outcome.kept:
            client.chat_postEphemeral(channel=channel, user=user, text=sync.kept_line(kept))


def run_refresh(job: Job, deps: Deps, client: WebClient) -> None:
    """The refresh the scan queued: like a draft nobody asked for, so it says nothing, and it
    never makes a canvas; a deleted or unavailable one stops the refreshes until the next
    ``/postmortem draft``."""
    incident = _incident(deps, job)
    row = deps.store.canvases.get(incident_id=incident.id)
    if row is None or row.canvas_id is None or row.auto_off:
        return
    with _held(deps, incident.id, row.channel_id):
        now = deps.clock()
        context = postmortem.draft_for(
            deps.store, incident, names=lambda ids: deps.users.names(client, ids), now=now,
            requested_by=row.requested_by, templates=deps.templates,
        )  # fmt: skip
        markdown = _render(deps, context)
        fingerprint = draft_fingerprint(deps, incident, now)
        try:
            sync.publish(
                client, deps.store.canvases, incident_id=incident.id,
                channel_id=row.channel_id, draft=markdown, now=now, recreate=False,
            )  # fmt: skip
        except (sync.CanvasGone, sync.CanvasUnavailable) as exc:
            log.info("Auto refresh of %s stops: %s", incident.id, exc)
            deps.store.canvases.refreshed(incident_id=incident.id, now=now, auto_off=True)
            return
        deps.store.canvases.refreshed(incident_id=incident.id, now=now, fingerprint=fingerprint,
                                      final=incident.status == "resolved")  # fmt: skip


def register_jobs(jobs: Jobs) -> None:
    jobs.register(
        DRAFT, run_draft,
        failure_text=lambda job: "The post-mortem canvas could not be written; "
        "try `/postmortem draft` again, or `/postmortem file` for the Markdown file.",
    )  # fmt: skip
    jobs.register(REFRESH, run_refresh, failure_text=lambda job: "")


def _incident(deps: Deps, job: Job) -> Incident:
    incident = deps.store.incidents.get(incident_id=str(job.payload.get("incident_id")))
    if incident is None:
        raise GiveUp("That incident no longer exists, so there is no post-mortem to write.")
    return incident


def _render(deps: Deps, context: postmortem.DraftContext) -> str:
    try:
        return postmortem.render(deps.templates, context)
    except postmortem.TemplateProblem as problem:
        raise GiveUp(str(problem)) from problem


@contextmanager
def _held(deps: Deps, incident_id: str, channel_id: str) -> Iterator[None]:
    """Hold the incident's canvas for one refresh, or retry shortly if another holds it."""
    token, now = new_token(), deps.clock()
    if not deps.store.canvases.claim(incident_id=incident_id, channel_id=channel_id,
                                     token=token, now=now, stale_before=now - LEASE):  # fmt: skip
        raise RetryLater("another refresh of this canvas is under way", after=BUSY_RETRY)
    try:
        yield
    finally:
        deps.store.canvases.release(incident_id=incident_id, token=token)


# --- what people read ------------------------------------------------------------------------


def canvas_link(payload: dict[str, Any], canvas_id: str) -> str:
    """The canvas's address in the workspace (``https://DOMAIN.slack.com/docs/TEAM/F…``)."""
    domain, team = payload.get("team_domain"), payload.get("team_id") or ""
    host = f"{domain}.slack.com" if domain else "slack.com"
    return f"https://{host}/docs/{team}/{canvas_id}"


def created_text(incident: Incident, outcome: sync.Outcome, link: str, summary: str) -> str:
    if outcome.recreated:
        return (
            f"📝 The canvas of {incident.id} was deleted in Slack, so the bot made a new one: "
            f"<{link}|open the post-mortem>. {summary}"
        )
    return (
        f"📝 The post-mortem of {incident.id} is now this channel's canvas: "
        f"<{link}|open it>. {summary}. Write in it freely: a refresh rewrites only the "
        "sections nobody has edited."
    )


def refreshed_text(incident: Incident, outcome: sync.Outcome, link: str, summary: str) -> str:
    n = len(outcome.written)
    said = f"{n} {'section' if n == 1 else 'sections'} rewritten"
    if outcome.kept:
        said += f", {len(outcome.kept)} left as people wrote them"
    if outcome.skipped:
        said += f", {len(outcome.skipped)} changing as the bot wrote (the next refresh has them)"
    return f"📝 <{link}|The canvas> of {incident.id} is up to date: {said}. {summary}"


def unavailable_sentence(error: str) -> str:
    """Why the draft comes as a file, in one sentence."""
    if error in ("team_tier_cannot_create_channel_canvases", "free_team_canvas_tab_already_exists"):
        return "This workspace's plan has no channel canvases, so here is the draft as a file."
    if error == "canvas_disabled_user_team":
        return "Canvases are turned off in this workspace, so here is the draft as a file."
    if error in ("missing_scope", "not_allowed_token_type", "restricted_action"):
        return (
            "The bot may not write canvases here (it needs the canvases:write and canvases:read "
            "scopes), so here is the draft as a file."
        )
    if error == "channel_canvas_already_exists":
        return "This channel already has a canvas of its own, so here is the draft as a file."
    return f"Slack would not make the canvas ({error}), so here is the draft as a file."
