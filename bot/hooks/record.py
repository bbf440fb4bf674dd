"""Store a parsed alert delivery: deduplicate, link or declare, write the timeline, add the jobs.

All of it is one transaction, committed before the webhook is answered: a delivery answered 2xx
is in the database with its timeline entries and the job that will post them, or, when the
process dies first, not at all (and the source, having no 2xx, sends it again). The Slack calls
come after the answer, as durable jobs (``bot.hooks.posting``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain import Incident
from bot.hooks.alerts import AlertEvent, Parsed
from bot.hooks.autodeclare import Rule
from bot.hooks.linking import (
    Declare,
    Linked,
    decide,
    detected_entry,
    entries_for,
)
from bot.hooks.posting import POST_JOB
from bot.parsing import parse_start
from bot.work import channel

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps
    from bot.store import Store

log = logging.getLogger(__name__)

TIMELINE_SOURCE = "alert"


@dataclass
class Outcome:
    """What one delivery did, for the answer's JSON and the log."""

    source: str
    events: int = 0
    duplicates: int = 0
    unlinked: int = 0
    ignored: str | None = None
    entries: int = 0
    incidents: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    job_ids: list[int] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": True,
            "events": self.events,
            "duplicates": self.duplicates,
            "unlinked": self.unlinked,
            "entries": self.entries,
            "incidents": self.incidents,
        }
        if self.declared:
            body["declared"] = self.declared
        if self.ignored:
            body["ignored"] = self.ignored
        return body


@dataclass
class _Pending:
    """The entries one delivery wrote on one incident, and why the bot declared it (if so)."""

    incident: Incident
    entry_ids: list[int] = field(default_factory=list)
    reason: str | None = None


def record_delivery(
    parsed: Parsed,
    *,
    deps: Deps,
    rules: tuple[Rule, ...],
    received_at: datetime,
    bot_user: Callable[[], str],
) -> Outcome:
    """Store the delivery in one transaction; see the module docstring."""
    store = deps.store
    outcome = Outcome(source=parsed.source, events=len(parsed.events), ignored=parsed.ignored)
    with store.transaction():
        if store.alerts.seen(keys=parsed.delivery_keys):
            outcome.duplicates = max(1, len(parsed.events))
            return outcome
        event_keys = {event.dedup_key for event in parsed.events}
        for key in parsed.delivery_keys:
            if key not in event_keys:
                kind = "ignored" if parsed.ignored else "delivery"
                store.alerts.remember(
                    key=key, source=parsed.source, kind=kind, name=parsed.ignored or "",
                    incident_id=None, received_at=received_at,
                )  # fmt: skip
        pending: dict[str, _Pending] = {}
        for event in parsed.events:
            _record_event(event, store, rules, received_at, bot_user, pending, outcome)
        for incident_id, work in pending.items():
            outcome.incidents.append(incident_id)
            if not work.entry_ids:
                continue
            outcome.job_ids.append(
                store.jobs.add(
                    kind=POST_JOB,
                    key=f"{POST_JOB}:{incident_id}:{work.entry_ids[0]}",
                    payload={
                        "incident_id": incident_id,
                        "source": parsed.source,
                        "entry_ids": work.entry_ids,
                        "reason": work.reason,
                    },
                    now=received_at,
                    incident_id=incident_id,
                )
            )
    return outcome


def _record_event(
    event: AlertEvent,
    store: Store,
    rules: tuple[Rule, ...],
    received_at: datetime,
    bot_user: Callable[[], str],
    pending: dict[str, _Pending],
    outcome: Outcome,
) -> None:
    if store.alerts.seen(keys=[event.dedup_key]):
        outcome.duplicates += 1
        return
    decision = decide(
        event,
        find_incident=lambda ref: _find_incident(store, ref),
        find_link=lambda source, keys: _find_link(store, source, keys),
        rules=rules,
    )
    reason = None
    if isinstance(decision, Declare):
        incident = _declare(store, event, decision, received_at, bot_user, outcome)
        how, reason = "declared", decision.reason
    elif isinstance(decision, Linked):
        incident, how = decision.incident, decision.how
    else:
        store.alerts.remember(
            key=event.dedup_key, source=event.source, kind=event.kind, name=event.name,
            incident_id=None, received_at=received_at,
        )  # fmt: skip
        outcome.unlinked += 1
        log.info(
            "Unlinked %s alert %r (%s): no incident names it, no link, no AUTO_DECLARE match",
            event.source, event.name, event.kind,
        )  # fmt: skip
        return
    store.alerts.remember(
        key=event.dedup_key, source=event.source, kind=event.kind, name=event.name,
        incident_id=incident.id, received_at=received_at,
    )  # fmt: skip
    if store.alerts.linked_incident_id(source=event.source, keys=[event.group_key]) != incident.id:
        store.alerts.link(
            source=event.source, key=event.group_key, incident_id=incident.id, how=how,
            now=received_at,
        )  # fmt: skip
    work = pending.setdefault(incident.id, _Pending(incident))
    work.reason = work.reason or reason
    planned = entries_for(event)
    if not any(e.kind == "detected" for e in store.timeline.for_incident(incident_id=incident.id)):
        planned.append(detected_entry(event.source, received_at))
    for entry in planned:
        added, created = store.timeline.add(
            incident_id=incident.id,
            at=entry.at,
            kind=entry.kind,
            text=entry.text,
            actor_id=None,
            actor_name=entry.actor_name,
            source=TIMELINE_SOURCE,
            now=received_at,
            source_key=_entry_key(event, entry.kind, incident.id),
            permalink=entry.permalink,
        )
        if created:
            work.entry_ids.append(added.id)
            outcome.entries += 1


def _entry_key(event: AlertEvent, kind: str, incident_id: str) -> str:
    # One Detection per incident, whichever delivery brought it; one entry per event otherwise.
    if kind == "detected":
        return f"alert:detected:{incident_id}"
    return f"alert:{event.dedup_key}:{kind}"


def _find_incident(store: Store, ref: str) -> Incident | None:
    """An incident by its ID (any case) or its channel's name."""
    incident = store.incidents.get(incident_id=ref.strip().upper())
    if incident is not None:
        return incident
    incident_id = store.alerts.incident_id_for_channel_name(name=ref)
    return store.incidents.get(incident_id=incident_id) if incident_id else None


def _find_link(store: Store, source: str, keys: list[str]) -> Incident | None:
    """The incident these keys are linked to: a person's ``/incident link`` before a link the
    bot made (a group's earlier incident), and an open incident before a resolved one."""
    links = store.alerts.links_for(source=source, keys=keys)
    ordered = [i for i, how in links if how == "link"] + [i for i, how in links if how != "link"]
    incidents = [store.incidents.get(incident_id=incident_id) for incident_id in ordered]
    found = [incident for incident in incidents if incident is not None]
    return next((incident for incident in found if incident.is_active), found[0] if found else None)


def _declare(
    store: Store,
    event: AlertEvent,
    decision: Declare,
    received_at: datetime,
    bot_user: Callable[[], str],
    outcome: Outcome,
) -> Incident:
    """Declare as ``/incident start`` does (``bot.work.channel.declare``: the same rules for
    the severity and title, the next free ID, investigating, started now, the declaration
    entry, and the same channel set-up job, run after the answer); the bot is its commander
    until a person takes the role."""
    start = parse_start(f"{decision.severity} {decision.title}")
    incident, job_id = channel.declare(
        store, start, commander_id=bot_user(), now=received_at,
        request_key=f"alert:{event.dedup_key}", user_id=None,
    )  # fmt: skip
    if job_id is not None:
        outcome.declared.append(incident.id)
        outcome.job_ids.append(job_id)
        log.info("Declared %s for the %s alert %r", incident.id, event.source, event.name)
    return incident


def run_jobs_soon(job_ids: list[int], *, deps: Deps, client: WebClient) -> None:
    """Run the delivery's jobs, in order, on a thread of their own, so that the answer does not
    wait for Slack; whatever does not finish, the scheduler's sweep picks up."""
    if not job_ids:
        return

    def run() -> None:
        for job_id in job_ids:
            try:
                deps.jobs.run(job_id, deps=deps, client=client)
            except Exception:  # the sweep retries it; this thread must not die loudly
                log.exception("Alert job %s failed to run", job_id)

    threading.Thread(target=run, name="alert-jobs", daemon=True).start()


_BOT_USERS: dict[tuple[str, str], str] = {}


def bot_user_id(client: WebClient) -> str:
    """The bot's own user, the commander of an incident it declares until a person takes the
    role (``/incident role commander``): asked of Slack once per process and workspace."""
    key = (str(client.token), str(client.base_url))
    if key not in _BOT_USERS:
        try:
            _BOT_USERS[key] = str(client.auth_test()["user_id"])
        except Exception as exc:  # Slack unreachable: declare anyway; the role can wait
            log.warning("auth.test failed (%s): the declared incident's commander is Slackbot", exc)
            return "USLACKBOT"
    return _BOT_USERS[key]
