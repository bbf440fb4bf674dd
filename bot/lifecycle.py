"""Pure rules of the incident lifecycle: what `/incident sev|status|resolve|role|set` change.

Each ``plan_*`` function takes the incident as it is and returns a ``Change`` (the columns to
write, the timeline entry that records it, and the sentence for the user), or raises a
``UsageError`` whose message shows the right syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.domain import (
    FIELD_NAMES,
    INCIDENT_FIELDS,
    ROLES,
    STATUSES,
    Incident,
    normalize_severity,
    status_label,
)
from bot.parsing import (
    DURATION_EXAMPLES,
    UsageError,
    clean_text,
    parse_duration,
    parse_leading_time,
)

SEV_USAGE = "`/incident sev sev1|sev2|sev3|sev4`"
STATUS_USAGE = "`/incident status investigating|identified|mitigated|monitoring|resolved`"
RESOLVE_USAGE = "`/incident resolve [how it was resolved]`"
ROLE_USAGE = "`/incident role commander|comms|scribe @user`"
SET_USAGE = "`/incident set &lt;field&gt; &lt;text&gt;`"
REOPEN_HINT = "reopen it with `/incident status investigating` first"

MAX_DOWNTIME_MINUTES = 366 * 24 * 60  # a year: anything longer is a typo

# The timeline entry each status records; the others are notes.
STATUS_ENTRY_KIND = {"mitigated": "mitigated", "monitoring": "monitoring", "resolved": "resolved"}


@dataclass(frozen=True)
class Change:
    message: str
    columns: dict[str, Any] = field(default_factory=dict)
    entry: tuple[str, str] | None = None
    refresh_channel: bool = False  # the topic and the pinned intro show what changed
    fields: dict[str, str] = field(default_factory=dict)  # `/incident set` fields it fills


def _closed(incident: Incident, what: str) -> UsageError:
    return UsageError(f"{incident.id} is resolved, so its {what} cannot change: {REOPEN_HINT}.")


def plan_severity(incident: Incident, args: str) -> Change:
    severity = normalize_severity(args.split()[0]) if args.split() else None
    if severity is None:
        raise UsageError(f"Give a severity: {SEV_USAGE}.")
    if not incident.is_active:
        raise _closed(incident, "severity")
    if severity == incident.severity:
        return Change(f"{incident.id} is already {severity}.")
    # SEV1 is the highest: a smaller number is a raise.
    marker = "🔺" if severity < incident.severity else "🔻"
    text = f"Severity changed from {incident.severity} to {severity}"
    return Change(f"{marker} {text}.", {"severity": severity}, ("note", text), refresh_channel=True)


def plan_status(incident: Incident, args: str, now: datetime) -> Change:
    status = args.strip().lower()
    if status not in STATUSES:
        raise UsageError(f"`{args.strip()}` isn't a status: use {STATUS_USAGE}.")
    if status == "resolved":
        return plan_resolve(incident, "", now)
    if not incident.is_active and status != "investigating":
        raise _closed(incident, "status")
    if status == incident.status:
        return Change(f"{incident.id} is already {status_label(status)}.")
    columns: dict[str, Any] = {"status": status}
    if not incident.is_active:
        columns["resolved_at"] = None
        text = f"Incident reopened: {status_label(status)}"
        kind = "reopened"  # the declaration and every resolution stay as they were
    else:
        text = f"Status changed to {status_label(status)}"
        kind = STATUS_ENTRY_KIND.get(status, "note")
    return Change(f"📣 {text}.", columns, (kind, text), refresh_channel=True)


def plan_resolve(incident: Incident, resolution: str, now: datetime) -> Change:
    if not incident.is_active:
        when = f" at {incident.resolved_at:%Y-%m-%d %H:%M} UTC" if incident.resolved_at else ""
        raise UsageError(
            f"{incident.id} was already resolved{when}; to reopen it, use "
            "`/incident status investigating`."
        )
    text = clean_text(resolution).replace("\n", " ")
    entry_text = text or "Incident resolved"
    return Change(
        f"✅ {incident.id} resolved. Run `/postmortem draft` for the post-mortem.",
        {"status": "resolved", "resolved_at": now},
        ("resolved", entry_text),
        refresh_channel=True,
        fields={"resolution": text} if text and "resolution" not in incident.fields else {},
    )


def plan_role(incident: Incident, args: str) -> tuple[str, str]:
    """``commander|comms|scribe @user`` → (column, user ID)."""
    words = args.split()
    role = words[0].lower() if words else ""
    mention = re.fullmatch(r"<@([A-Z0-9_]+)(?:\|[^>]*)?>", words[1]) if len(words) > 1 else None
    if role not in ROLES or mention is None:
        raise UsageError(f"Name the role and the person: {ROLE_USAGE}.")
    return f"{role}_id" if role != "commander" else "commander_id", mention.group(1)


def plan_role_change(incident: Incident, args: str) -> Change:
    """``/incident role``: a role is who wrote the post-mortem, not something that happened,
    so it records no timeline entry; only the commander shows in the channel's intro."""
    column, member = plan_role(incident, args)
    role = column.removesuffix("_id")
    return Change(
        f"👤 <@{member}> is now the {role}.",
        {column: member},
        None,
        refresh_channel=column == "commander_id",
    )


def plan_change(subcommand: str, incident: Incident, args: str, now: datetime) -> Change:
    """``role``, ``sev``, ``status`` or ``resolve``: the one listener path that writes them."""
    if subcommand == "role":
        return plan_role_change(incident, args)
    if subcommand == "sev":
        return plan_severity(incident, args)
    if subcommand == "status":
        return plan_status(incident, args, now)
    return plan_resolve(incident, args, now)


def field_usage() -> str:
    groups = "; ".join(f"{group}: {', '.join(names)}" for group, names in INCIDENT_FIELDS.items())
    return f"{SET_USAGE} with &lt;field&gt; one of {groups}"


def parse_field(args: str, *, now: datetime, tz: tzinfo) -> tuple[str, str]:
    """``<field> <text>`` → (field, value to store); times as UTC ISO, downtime in minutes."""
    words = clean_text(args).split(maxsplit=1)
    name = words[0].lower() if words else ""
    if name not in FIELD_NAMES:
        shown = f"`{words[0]}` isn't a field I know" if words else "Name the field to set"
        raise UsageError(f"{shown}: use {field_usage()}.")
    value = words[1].strip() if len(words) > 1 else ""
    if not value:
        raise UsageError(f"Give a value for {name}: `/incident set {name} &lt;text&gt;`.")
    if name == "started":
        parsed = parse_leading_time(value, now=now, tz=tz)
        if not parsed.explicit or parsed.rest:
            raise UsageError(
                "Give when impact began as `/timeline` reads times, e.g. "
                "`/incident set started 14:05` or `/incident set started 2026-11-27 14:05 UTC`."
            )
        return name, parsed.at.isoformat(timespec="seconds")
    if name == "downtime":
        try:
            delta = parse_duration(value) if not value.strip().isdigit() else None
        except ValueError:
            delta = timedelta(seconds=-1)
        minutes = int(value) if delta is None else delta.total_seconds() / 60
        if minutes < 0 or minutes != int(minutes) or minutes > MAX_DOWNTIME_MINUTES:
            raise UsageError(
                f"Give the downtime in whole minutes as {DURATION_EXAMPLES}: "
                "`/incident set downtime 37m`."
            )
        return name, str(int(minutes))
    if name in ("slo", "error-slo"):
        try:
            slo = float(value.rstrip("%"))
        except ValueError:
            slo = -1.0
        if not 0 < slo < 100:
            example = "99.95" if name == "slo" else "0.1"
            raise UsageError(
                f"Give the {name.upper()} as a percentage below 100: "
                f"`/incident set {name} {example}`."
            )
        return name, f"{slo:g}"
    return name, value.replace("\n", " ")
