"""An incident's declaration and its channel, set up after ``/incident start``'s ack (or an
alert's delivery, when ``AUTO_DECLARE`` declared it): create (or adopt) it, invite whoever
declared, set the topic, post and pin the intro. Every step is idempotent, so a job
that died half-way is run again from the start and does only what is missing.

A ``conversations.create`` whose answer was lost may have created the channel: a retry looks
for it by name first (``conversations.list``) and adopts it when the bot created it, rather
than falling through ``name_taken`` to a second channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import blocks, slackio
from bot.domain import Incident, channel_name_for
from bot.jobs import GiveUp, Jobs, is_permanent
from bot.parsing import START_USAGE, StartInput
from bot.store import Store
from bot.store.jobs import Job
from bot.work.posting import post_once

if TYPE_CHECKING:
    from bot.deps import Deps

SET_UP = "channel_setup"
REFRESH = "channel_refresh"


def declare(
    store: Store,
    start: StartInput,
    *,
    commander_id: str,
    now: datetime,
    request_key: str | None,
    user_id: str | None,
    channel: str | None = None,
    adopt: tuple[str, str] | None = None,
    is_private: bool = False,
) -> tuple[Incident, int | None]:
    """Declare an incident, investigating and started ``now``, with its declaration entry and
    the job that sets up its channel, in one transaction: ``/incident start`` and an alert
    ``AUTO_DECLARE`` matches both declare here. ``user_id`` is who is invited and told if the
    set-up fails (None: nobody, the bot declared it); ``adopt`` the (ID, name) of the channel
    it takes over. The job's id is None when ``request_key`` had declared it already."""
    with store.transaction():
        incident, created = store.incidents.create(
            title=start.title, severity=start.severity, commander_id=commander_id,
            started_at=now, channel_id=adopt[0] if adopt else None,
            channel_name=adopt[1] if adopt else None, request_key=request_key,
            is_private=is_private,
        )  # fmt: skip
        if not created:
            return incident, None
        return incident, add_set_up(store, incident, user_id=user_id, channel=channel, now=now)


def add_set_up(
    store: Store, incident: Incident, *, user_id: str | None, channel: str | None, now: datetime
) -> int:
    """Set up the channel of a declared incident (inside the caller's transaction)."""
    return store.jobs.add(
        kind=SET_UP, key=set_up_key(incident.id),
        payload={"incident_id": incident.id, "user_id": user_id}, now=now,
        incident_id=incident.id, requested_by=user_id, notify_channel=channel,
    )  # fmt: skip


def set_up_key(incident_id: str) -> str:
    return f"channel:setup:{incident_id}"


def add_refresh(store: Store, incident: Incident, *, key: str, now: datetime) -> int:
    """Show a change in the channel's topic and pinned intro (inside the caller's
    transaction); the job reads the incident as it is when it runs."""
    return store.jobs.add(
        kind=REFRESH, key=f"channel:refresh:{incident.id}:{key}",
        payload={"incident_id": incident.id}, now=now, incident_id=incident.id,
    )  # fmt: skip


def refresh(job: Job, deps: Deps, client: WebClient) -> None:
    incident = deps.store.incidents.get(incident_id=job.payload["incident_id"])
    if incident is not None and incident.channel_id is not None:
        slackio.refresh(client, incident)  # setting a topic and an intro twice is harmless


def find_own_channel(client: WebClient, incident: Incident) -> tuple[str, str] | None:
    """The channel an earlier try created for ``incident`` (one of its names, created by the
    bot), found by name as Slack lists them."""
    names = {channel_name_for(incident.id, n) for n in range(1, slackio.MAX_NAME_ATTEMPTS + 1)}
    me = str(client.auth_test()["user_id"])
    cursor = None
    while True:
        page = client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
        )
        for channel in page.get("channels") or []:
            if channel.get("name") in names and channel.get("creator") == me:
                return str(channel["id"]), str(channel["name"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


def set_up(job: Job, deps: Deps, client: WebClient) -> None:
    try:
        _set_up(job, deps, client)
    except SlackApiError as exc:
        if is_permanent(exc):  # the person who declared hears which refusal it was
            raise GiveUp(failure_text(job, slackio.slack_error(exc))) from exc
        raise


def _set_up(job: Job, deps: Deps, client: WebClient) -> None:
    incident = deps.store.incidents.get(incident_id=job.payload["incident_id"])
    if incident is None:
        raise GiveUp("The incident you declared is gone, so I did not set up its channel.")
    if incident.channel_id is None:
        found = find_own_channel(client, incident) if job.attempts > 1 else None
        channel_id, name = found or slackio.create_incident_channel(client, incident)
        deps.store.incidents.set_channel(
            incident_id=incident.id, channel_id=channel_id, channel_name=name
        )
    else:
        channel_id = incident.channel_id
        slackio.join_channel(client, channel_id)
    if job.payload.get("user_id"):  # an incident the bot declared has nobody to invite
        slackio.invite(client, channel_id, job.payload["user_id"])
    if incident.intro_ts is None:
        client.conversations_setTopic(channel=channel_id, topic=blocks.topic(incident))
        ts = post_once(
            client, job, channel=channel_id, text=blocks.intro_text(incident), part="intro",
            blocks=blocks.intro_blocks(incident),
        )  # fmt: skip
        try:
            client.pins_add(channel=channel_id, timestamp=ts)
        except SlackApiError as exc:
            if slackio.slack_error(exc) != "already_pinned":
                raise
        deps.store.incidents.set_intro(incident_id=incident.id, intro_ts=ts)


def failure_text(job: Job, error: str = "it kept failing") -> str:
    return (
        f"{job.payload['incident_id']} is recorded, but Slack refused to set up its channel "
        f"({error}): "
        f"create an `#incident-…` channel, invite me, and run {START_USAGE} there to adopt it."
    )


def register_jobs(jobs: Jobs) -> None:
    jobs.register(SET_UP, set_up, failure_text=failure_text)
    jobs.register(REFRESH, refresh, failure_text=lambda job: "")
