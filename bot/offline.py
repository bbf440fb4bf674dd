"""What the offline commands print: the incident table and the JSON export. Pure."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain import ActionItem, Incident, Span, TimelineEntry, incident_span, status_label
from bot.parsing import slack_to_text

EXPORT_FORMAT = "incident-bot-export/1"
TITLE_WIDTH = 60


def age(since: datetime, until: datetime) -> str:
    """``2h 15m``, ``3d 4h 05m``: how long from ``since`` to ``until``, to the minute."""
    minutes = max(int((until - since).total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return (f"{days}d " if days else "") + f"{hours}h {minutes:02d}m"


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def incident_table(
    incidents: Sequence[Incident],
    now: datetime,
    names: Mapping[str, str] | None = None,
    spans: Mapping[str, Span] | None = None,
) -> str:
    """An aligned table, one incident a line; DURATION is :func:`bot.domain.incident_span`
    (impact start to the last resolution, or ongoing), given in ``spans`` by incident ID; OPEN
    FOR runs from the declaration to the resolution, else to now. Mentions in titles read as
    ``@name`` from ``names``, else ``@ID``."""
    header = (
        "ID", "SEVERITY", "STATUS", "STARTED (UTC)", "DURATION", "OPEN FOR", "CHANNEL", "TITLE"
    )  # fmt: skip
    rows = [
        (
            i.id,
            i.severity,
            status_label(i.status),
            i.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            _span_text(spans, i),
            age(i.started_at, i.resolved_at if i.resolved_at and not i.is_active else now),
            f"#{i.channel_name}" if i.channel_name else "—",
            _one_line(slack_to_text(i.title, names or {}), TITLE_WIDTH),
        )
        for i in incidents
    ]
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _span_text(spans: Mapping[str, Span] | None, incident: Incident) -> str:
    span = (spans or {}).get(incident.id)
    if span is None or span.length is None:
        return "ongoing" if span is not None else "—"
    return age(span.start, span.end) if span.end else "ongoing"


def _iso_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    return f"{sign}PT{seconds}S"


def _json_value(value: Any) -> Any:
    """Times as ISO-8601 UTC strings; whatever else a record gains, as plainly as it goes."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return _iso_duration(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def export_document(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    items: Sequence[ActionItem],
    changes: Mapping[int, list[dict[str, Any]]],
    now: datetime,
) -> dict[str, Any]:
    """The whole incident, its live timeline, and its action items with their history."""
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now,
        "incident": dataclasses.asdict(incident),
        # How long it lasted, by the one definition (impact start to the last resolution).
        "duration": _duration_of(incident, entries),
        "timeline": [
            {**dataclasses.asdict(e), "label": e.kind_info.label, "section": e.kind_info.section}
            for e in entries
        ],
        "action_items": [
            {
                **dataclasses.asdict(item),
                "short_id": item.short_id,
                "overdue": item.is_overdue(now),
                "changes": changes.get(item.id, []),
            }
            for item in items
        ],
    }


def _duration_of(incident: Incident, entries: Sequence[TimelineEntry]) -> dict[str, Any]:
    span = incident_span(incident, list(entries))
    return {"start": span.start, "end": span.end, "text": span.text, "length": span.length}


def to_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, default=_json_value, indent=2, ensure_ascii=False)
