"""Which incident an alert belongs to, and what it writes on that incident's timeline. Pure.

The order is the issue's:

1. the alert names its incident: a label or annotation ``incident`` (Alertmanager, Grafana) or
   an Opsgenie tag ``incident:<ID>``, holding an incident ID or its channel name;
2. ``/incident link <source> <id or alert name>`` linked it by hand, or else its group is
   already linked (a PagerDuty incident, an Opsgenie alias, a ``groupKey`` seen before): the
   store's ``find_link`` prefers a person's link, and an open incident;
3. ``AUTO_DECLARE`` matches its labels: the bot declares an incident for it;
4. otherwise it is unlinked: counted and logged.

A firing alert whose group's incident is already resolved starts over at step 1 without the
group link: one *open* incident per alert group. Acknowledgements, notes and resolutions still
follow the link, since they close the story the firing began.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain import Incident
from bot.hooks.alerts import ACKNOWLEDGED, FIRING, NOTE, RESOLVED, AlertEvent
from bot.hooks.autodeclare import Rule, severity_for
from bot.parsing import ALERT_SOURCES, clean_text
from bot.safety import escape_mrkdwn

SYSTEM = "System"
MAX_ACTOR = 200  # a person's name, as the source gave it
SOURCES = ALERT_SOURCES
SOURCE_NAMES = {
    "alertmanager": "Alertmanager",
    "grafana": "Grafana",
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
}


@dataclass(frozen=True)
class Linked:
    incident: Incident
    how: str  # "named", "group", "link"


@dataclass(frozen=True)
class Declare:
    severity: str
    title: str
    reason: str  # one sentence for the new channel: why the bot declared this incident


@dataclass(frozen=True)
class Unlinked:
    pass


Decision = Linked | Declare | Unlinked

FindIncident = Callable[[str], Incident | None]  # an incident ID or channel name
FindLink = Callable[[str, list[str]], Incident | None]  # source, keys → the linked incident


def slack_safe(text: str) -> str:
    """An alerting system's words as the store keeps everyone's (raw text, like a modal's):
    Slack mrkdwn in which ``<``, ``>`` and ``&`` are text (so no alert can ``<!channel>``),
    then ``clean_text``, the one pass every stored text goes through (no control or bidi
    characters, capped in length)."""
    return clean_text(escape_mrkdwn(text))


def link_keys(event: AlertEvent) -> list[str]:
    """The keys ``/incident link`` may have used for this alert: its group, its own id, its
    name (in that order, most precise first)."""
    keys = [event.group_key, event.alert_ref, event.name]
    return [k for i, k in enumerate(keys) if k and k not in keys[:i]]


def decide(
    event: AlertEvent, *, find_incident: FindIncident, find_link: FindLink, rules: tuple[Rule, ...]
) -> Decision:
    """Where this event goes (see the module docstring for the order)."""
    if event.incident_ref:
        named = find_incident(event.incident_ref)
        if named is not None:
            return Linked(named, "named")
    linked = find_link(event.source, link_keys(event))
    if linked is not None and (linked.is_active or event.kind != FIRING):
        return Linked(linked, "group")
    if event.kind != FIRING:
        return Unlinked()  # only a firing alert is worth declaring an incident for
    severity = severity_for(rules, event.labels)
    if severity is None:
        return Unlinked()
    return Declare(
        severity=severity, title=declared_title(event), reason=declare_reason(event, severity)
    )


def declared_title(event: AlertEvent) -> str:
    """The new incident's title: the alert's name and summary, on one line (never empty:
    ``/incident start`` refuses an incident without a title)."""
    title = " ".join(event.text.split())
    title = slack_safe(title if len(title) <= 150 else title[:149] + "…")
    return title or f"{SOURCE_NAMES.get(event.source, event.source)} alert"


def declare_reason(event: AlertEvent, severity: str) -> str:
    matched = ", ".join(f"{k}={v}" for k, v in sorted(event.labels.items()))
    return slack_safe(
        f"Declared by incident-bot: the {SOURCE_NAMES.get(event.source, event.source)} alert "
        f"{event.name} fired and its labels ({matched}) match AUTO_DECLARE for {severity}."
    )


@dataclass(frozen=True)
class PlannedEntry:
    """A timeline entry to write, before the store gives it an id."""

    at: datetime
    kind: str
    text: str
    actor_name: str
    permalink: str | None = None


def entries_for(event: AlertEvent) -> list[PlannedEntry]:
    """The timeline entries one event writes (``detected`` is decided per delivery)."""
    where = SOURCE_NAMES.get(event.source, event.source)
    actor = clean_text(event.actor)[:MAX_ACTOR] if event.actor else SYSTEM
    actor = actor or SYSTEM
    if event.kind == FIRING:
        kind, text, actor = "trigger", event.text, SYSTEM
    elif event.kind == ACKNOWLEDGED:
        kind, text = "acknowledged", f"{event.name} acknowledged in {where}"
    elif event.kind == RESOLVED:
        kind, text = "note", f"alert resolved: {event.name} ({where})"
    elif event.kind == NOTE:
        kind = "note"
        text = f"{event.name}: {event.summary} ({where})" if event.summary else event.name
    else:
        return []
    return [PlannedEntry(event.at, kind, slack_safe(text), actor, event.link)]


def detected_entry(source: str, received_at: datetime) -> PlannedEntry:
    """The ``detected`` milestone: the moment the bot heard of the alert."""
    return PlannedEntry(
        received_at, "detected", f"Alert received from {SOURCE_NAMES.get(source, source)}", SYSTEM
    )
