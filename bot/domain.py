"""Pure incident rules: the records, the event kinds, IDs, milestones and metrics.

Nothing here does I/O or reads the clock: callers pass ``now`` in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
DEFAULT_SEVERITY = "SEV3"

STATUSES = ("investigating", "identified", "mitigated", "monitoring", "resolved")

# The template's three timeline tables, in order.
DETECTION = "Detection and Response"
INVESTIGATION = "Investigation and Escalation"
RESOLUTION = "Resolution and Recovery"
TIMELINE_SECTIONS = (DETECTION, INVESTIGATION, RESOLUTION)


@dataclass(frozen=True)
class Kind:
    """One kind of timeline event: its name, the label the draft shows and its table."""

    name: str
    label: str
    section: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("trigger", "Initial trigger", DETECTION),
        Kind("detected", "Detection", DETECTION),
        Kind("acknowledged", "Acknowledged", DETECTION),
        Kind("assessed", "Initial assessment", DETECTION),
        Kind("declared", "Incident declared", DETECTION),
        Kind("mitigated", "Mitigation", DETECTION),
        Kind("hypothesis", "Root cause hypothesis", INVESTIGATION),
        Kind("escalated", "Escalation", INVESTIGATION),
        Kind("finding", "Additional findings", INVESTIGATION),
        Kind("note", "Note", INVESTIGATION),
        Kind("pin", "Pinned message", INVESTIGATION),
        Kind("fixed", "Solution implemented", RESOLUTION),
        Kind("monitoring", "Monitoring", RESOLUTION),
        Kind("resolved", "Incident resolved", RESOLUTION),
        Kind("reopened", "Incident reopened", RESOLUTION),
        Kind("communicated", "Communication", RESOLUTION),
    )
}

# Kinds a responder may type as the first word of /timeline ("note" and "pin" are implied).
TYPED_KINDS = tuple(k for k in KINDS if k not in ("note", "pin", "reopened"))

KIND_ALIASES: dict[str, str] = {
    **{k: k for k in TYPED_KINDS},
    "triggered": "trigger",
    "alert": "trigger",
    "alerted": "trigger",
    "fired": "trigger",
    "detect": "detected",
    "detection": "detected",
    "ack": "acknowledged",
    "acked": "acknowledged",
    "acknowledge": "acknowledged",
    "assess": "assessed",
    "assessment": "assessed",
    "declare": "declared",
    "mitigate": "mitigated",
    "mitigation": "mitigated",
    "hypo": "hypothesis",
    "theory": "hypothesis",
    "escalate": "escalated",
    "escalation": "escalated",
    "paged": "escalated",
    "found": "finding",
    "findings": "finding",
    "fix": "fixed",
    "monitor": "monitoring",
    "resolve": "resolved",
    "resolution": "resolved",
    "comms": "communicated",
    "communication": "communicated",
    "note": "note",
}


# The template's own wording for a row recorded without text (its Detection and Response,
# Investigation and Resolution tables); kinds the template leaves as a placeholder get one.
_DEFAULT_TEXT = {
    "trigger": "Alert fired",
    "detected": "Alert acknowledged",
    "acknowledged": "Alert acknowledged",
    "assessed": "Confirmed impact scope",
    "mitigated": "First mitigation applied",
    "hypothesis": "Root cause hypothesis recorded",
    "escalated": "Engaged additional responders",
    "finding": "New information discovered",
    "note": "Note",
    "pin": "Pinned message",
    "fixed": "Fix implemented",
    "monitoring": "Verified metrics recovery",
    "resolved": "All systems nominal",
    "communicated": "Customer communication sent",
}


def default_entry_text(kind: str, severity: str) -> str:
    """What a ``kind`` entry says when nobody typed text: ``declared`` → "SEV2 incident
    opened" with the severity at that moment, ``detected`` → "Alert acknowledged"."""
    if kind == "declared":
        return f"{normalize_severity(severity) or severity} incident opened"
    return _DEFAULT_TEXT.get(kind, KINDS.get(kind, KINDS["note"]).label)


def declaration_text(severity: str, title: str) -> str:
    """The declaration entry's text: ``SEV2 incident opened: Checkout API returning 500s``."""
    return f"{default_entry_text('declared', severity)}: {title}"


@dataclass(frozen=True)
class Incident:
    """An incident as stored: times are aware UTC datetimes."""

    id: str
    title: str
    severity: str
    status: str
    commander_id: str
    started_at: datetime
    channel_id: str | None = None
    channel_name: str | None = None
    intro_ts: str | None = None
    resolved_at: datetime | None = None
    comms_id: str | None = None
    scribe_id: str | None = None
    is_private: bool = False  # its channel is private: only the channel's members see it
    # What `/incident set` filled, by field name (see INCIDENT_FIELDS), as typed.
    fields: dict[str, str] = dataclass_field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.status != "resolved"

    @property
    def impact_started_at(self) -> datetime | None:
        """When impact began, if someone set it (``/incident set started …``)."""
        value = self.fields.get("started")
        return datetime.fromisoformat(value).astimezone(UTC) if value else None

    @property
    def downtime(self) -> timedelta | None:
        value = self.fields.get("downtime")
        return timedelta(minutes=int(value)) if value else None

    @property
    def slo(self) -> float:
        value = self.fields.get("slo")
        return float(value) if value else DEFAULT_SLO

    @property
    def error_slo(self) -> float:
        """The error-rate SLO in percent of requests (``/incident set error-slo``)."""
        value = self.fields.get("error-slo")
        return float(value) if value else DEFAULT_ERROR_SLO


DEFAULT_SLO = 99.9
DEFAULT_ERROR_SLO = 0.1

# `/incident set <field> <text>`: the template's fields, grouped as the template groups them.
INCIDENT_FIELDS: dict[str, tuple[str, ...]] = {
    "Executive summary": ("impact", "root-cause", "resolution"),
    "Service level": ("availability", "error-rate", "latency", "staleness"),
    "Business impact": ("users-affected", "revenue", "features", "sla-breaches"),
    "Scope": ("regions", "services", "data-sources"),
    "Time and SLO": ("started", "downtime", "slo", "error-slo"),
}
FIELD_NAMES = tuple(name for names in INCIDENT_FIELDS.values() for name in names)
ROLES = ("commander", "comms", "scribe")


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened, at a UTC time, by an actor."""

    id: int
    incident_id: str
    at: datetime
    kind: str
    text: str
    actor_id: str | None
    actor_name: str | None
    source: str  # "command", "lifecycle", "pin", "reaction", "shortcut", "file" or "alert"
    permalink: str | None = None

    @property
    def kind_info(self) -> Kind:
        return KINDS.get(self.kind, KINDS["note"])


def incident_id_base(started_at: datetime) -> str:
    """``INCIDENT-YYYYMMDD-HHMM`` for a start time, in UTC as the template asks."""
    return "INCIDENT-" + started_at.astimezone(UTC).strftime("%Y%m%d-%H%M")


def allocate_incident_id(base: str, taken: set[str] | frozenset[str]) -> str:
    """The base ID, or the base with ``-2``, ``-3``… when started in the same minute."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def channel_name_for(incident_id: str, attempt: int = 1) -> str:
    """The Slack channel name for an incident; ``attempt`` > 1 adds a suffix after name_taken."""
    name = incident_id.lower()
    return name if attempt <= 1 else f"{name}-{attempt}"


INCIDENT_CHANNEL_PREFIX = "incident-"


def is_incident_channel_name(name: str | None) -> bool:
    return bool(name) and name.startswith(INCIDENT_CHANNEL_PREFIX)


@dataclass(frozen=True)
class Milestones:
    """The first moment of each milestone kind, or None where nothing says so yet."""

    started: datetime
    detected: datetime | None
    acknowledged: datetime | None
    mitigated: datetime | None
    resolved: datetime | None
    # "set", "trigger" or "declared": a declaration is often later than the first signs,
    # so milestones before it are not out of order.
    started_from: str = "declared"


def first_of_kind(entries: list[TimelineEntry], kind: str) -> datetime | None:
    times = [e.at for e in entries if e.kind == kind]
    return min(times) if times else None


def milestones(incident: Incident, entries: list[TimelineEntry]) -> Milestones:
    """Milestones from the first entry of each kind; ``started`` and ``resolved`` are the
    incident's span (:func:`incident_span`)."""
    span = incident_span(incident, entries)
    trigger = first_of_kind(entries, "trigger")
    return Milestones(
        started=span.start,
        detected=first_of_kind(entries, "detected"),
        acknowledged=first_of_kind(entries, "acknowledged"),
        mitigated=first_of_kind(entries, "mitigated"),
        resolved=span.end,
        started_from="set" if incident.impact_started_at else "trigger" if trigger else "declared",
    )


@dataclass(frozen=True)
class Span:
    """How long an incident lasted: from the impact start to the last resolution; ``end`` is
    None while it is ongoing."""

    start: datetime
    end: datetime | None

    @property
    def length(self) -> timedelta | None:
        return self.end - self.start if self.end is not None else None

    @property
    def text(self) -> str:
        """``2 hours 5 minutes``, or ``ongoing``."""
        length = self.length
        if length is None:
            return "ongoing"
        return format_duration(length) if length >= timedelta(0) else "out of order"


def incident_span(incident: Incident, entries: list[TimelineEntry]) -> Span:
    """THE definition of how long an incident lasted, for every view: from the impact start
    (``/incident set started``, else the first ``trigger`` entry, else the declaration) to the
    LAST resolution; ongoing when there is none, or when it was reopened after it."""
    start = incident.impact_started_at or first_of_kind(entries, "trigger") or incident.started_at
    ends = [e.at for e in entries if e.kind == "resolved"]
    end = max(ends) if ends else incident.resolved_at
    if end is not None and any(e.kind == "reopened" and e.at >= end for e in entries):
        end = None
    return Span(start, end)


@dataclass(frozen=True)
class ResponseMetrics:
    """The template's Response Time Metrics; None where a milestone is missing."""

    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_mitigate: timedelta | None
    time_to_resolve: timedelta | None


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return end - start


def response_metrics(m: Milestones) -> ResponseMetrics:
    """Detect = detected − started, Acknowledge = acknowledged − detected, and so on."""
    return ResponseMetrics(
        time_to_detect=_between(m.started, m.detected),
        time_to_acknowledge=_between(m.detected, m.acknowledged),
        time_to_mitigate=_between(m.acknowledged, m.mitigated),
        time_to_resolve=_between(m.started, m.resolved),
    )


MILESTONE_ORDER = ("started", "detected", "acknowledged", "mitigated", "resolved")


def out_of_order(m: Milestones) -> list[str]:
    """Milestones earlier than one that should precede them, as sentences for a reader."""
    problems = []
    names = MILESTONE_ORDER if m.started_from != "declared" else MILESTONE_ORDER[1:]
    known = [(name, getattr(m, name)) for name in names if getattr(m, name)]
    for i, (later, later_at) in enumerate(known):
        for earlier, earlier_at in known[:i]:
            if later_at < earlier_at:
                problems.append(
                    f"{later} ({later_at:%Y-%m-%d %H:%M} UTC) is before {earlier} "
                    f"({earlier_at:%Y-%m-%d %H:%M} UTC)"
                )
                break
    return problems


# The entry kinds that move a milestone, and so may put the timeline out of order.
MILESTONE_KINDS = ("trigger", "detected", "acknowledged", "mitigated", "resolved")


def new_order_problems(
    incident: Incident, before: list[TimelineEntry], after: list[TimelineEntry]
) -> list[str]:
    """The order problems a new entry brought: the timeline ``after`` it has them and the one
    ``before`` it did not, so that a warning is given once, to the person who caused it."""
    known = out_of_order(milestones(incident, before))
    return [p for p in out_of_order(milestones(incident, after)) if p not in known]


def downtime_of(incident: Incident, m: Milestones) -> timedelta | None:
    """Downtime as set, or else mitigated − started."""
    if incident.downtime is not None:
        return incident.downtime
    return m.mitigated - m.started if m.mitigated else None


def format_duration(delta: timedelta) -> str:
    """``X hours Y minutes`` (rounded down to the minute), as the template writes durations."""
    total_minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(total_minutes, 60)
    h = "hour" if hours == 1 else "hours"
    m = "minute" if minutes == 1 else "minutes"
    return f"{hours} {h} {minutes} {m}"


def normalize_severity(word: str) -> str | None:
    """``sev2``, ``SEV-2`` or ``Sev2`` → ``SEV2``; None if it is not a severity."""
    match = re.fullmatch(r"sev-?([1-4])", word.strip().lower())
    return f"SEV{match.group(1)}" if match else None


def status_label(status: str) -> str:
    return status.capitalize()


# --- action items -----------------------------------------------------------------------

# The template's three Corrective Actions tables, and each one's deadline from the start.
HORIZONS = ("immediate", "medium-term", "long-term")
HORIZON_DEADLINES = {
    "immediate": {"weeks": 1},
    "medium-term": {"months": 1},
    "long-term": {"months": 3},
}
HORIZON_ALIASES = {
    "immediate": "immediate",
    "now": "immediate",
    "short-term": "immediate",
    "medium-term": "medium-term",
    "medium": "medium-term",
    "mid-term": "medium-term",
    "long-term": "long-term",
    "long": "long-term",
}
ITEM_STATUSES = ("open", "done", "dropped")


@dataclass(frozen=True)
class ActionItem:
    """A corrective action: ``due_date`` is the owner's local date; ``due_at`` the UTC moment
    it becomes overdue (the start of the next day in the owner's timezone)."""

    id: int
    incident_id: str
    text: str
    owner_id: str
    horizon: str
    due_date: str
    due_at: datetime
    verification: str | None
    status: str
    drop_reason: str | None = None
    next_nudge_at: datetime | None = None
    nudge_count: int = 0
    escalated: bool = False
    # The item's issue in the team's tracker (``acme/ops#12``, ``OPS-12``), once it has one.
    issue_key: str | None = None
    issue_url: str | None = None

    @property
    def short_id(self) -> str:
        return f"AI-{self.id}"

    @property
    def slack_label(self) -> str:
        """``AI-7 · <url|acme/ops#12>`` in Slack mrkdwn; ``AI-7`` while it has no issue."""
        if self.issue_key and self.issue_url:
            key = self.issue_key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            return f"{self.short_id} · <{self.issue_url}|{key}>"
        return self.short_id

    @property
    def markdown_label(self) -> str | None:
        """``AI-7 · [acme/ops#12](url)`` for the draft, or None while it has no issue."""
        if self.issue_key and self.issue_url:
            return f"{self.short_id} · [{self.issue_key}]({self.issue_url})"
        return None

    def is_overdue(self, now: datetime) -> bool:
        return self.status == "open" and now >= self.due_at

    def days_overdue(self, now: datetime) -> int:
        return max((now - self.due_at).days + 1, 0) if self.is_overdue(now) else 0


def item_status_label(item: ActionItem, now: datetime) -> str:
    """The draft's Status column: ⏳ Open, ⚠️ Overdue, ✅ Done or ❌ Dropped."""
    if item.status == "done":
        return "✅ Done"
    if item.status == "dropped":
        return "❌ Dropped"
    return "⚠️ Overdue" if item.is_overdue(now) else "⏳ Open"


def items_for_listing(items: list[ActionItem], now: datetime) -> list[ActionItem]:
    """Overdue first, then open by due date, then done and dropped."""
    rank = {"open": 1, "done": 2, "dropped": 3}
    return sorted(
        items,
        key=lambda i: (0 if i.is_overdue(now) else rank[i.status], i.due_at, i.id),
    )


def parse_item_id(word: str) -> int | None:
    """``AI-7``, ``ai7``, ``#7`` or ``7`` → 7."""
    match = re.fullmatch(r"(?:ai-?|#)?(\d{1,9})", word.strip().lower())
    return int(match.group(1)) if match else None
