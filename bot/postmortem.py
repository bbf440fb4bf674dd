"""The post-mortem draft: a pure context builder and a StrictUndefined Jinja2 renderer.

User text only ever reaches the template as data (``{{ value }}``), so Jinja2 never evaluates
it; table cells are escaped here so that no user text can break a table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2
from dateutil.relativedelta import relativedelta

from bot.domain import (
    DETECTION,
    HORIZONS,
    INVESTIGATION,
    RESOLUTION,
    ActionItem,
    Incident,
    TimelineEntry,
    format_duration,
    item_status_label,
    milestones,
    response_metrics,
)
from bot.parsing import slack_to_text

TEMPLATE_NAME = "postmortem.md.j2"
DEFAULT_SLO = 99.9
MONTH = timedelta(days=30)


class TemplateProblem(Exception):
    """The template could not be rendered; ``str(error)`` names the cause for the user."""


def table_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, newlines folded."""
    folded = " ".join(text.replace("\r", "\n").split())
    return folded.replace("\\", "\\\\").replace("|", "\\|") or " "


def inline(text: str) -> str:
    """Text for one line of Markdown: newlines folded."""
    return " ".join(text.replace("\r", "\n").split())


def format_utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class TimelineRow:
    time: str
    event: str
    actor: str
    action: str


@dataclass(frozen=True)
class ActionRow:
    item: str
    owner: str
    due: str
    status: str
    verification: str


@dataclass(frozen=True)
class SloImpact:
    downtime: str
    budget: str
    consumed: str
    remaining: str


@dataclass(frozen=True)
class DraftContext:
    """Everything the template may use. ``None`` means "not known yet": keep the placeholder."""

    incident_id: str
    date: str
    duration: str | None
    severity: str
    status: str
    what: str
    start_time: str
    end_time: str | None
    detection_rows: list[TimelineRow]
    investigation_rows: list[TimelineRow]
    resolution_rows: list[TimelineRow]
    immediate_actions: list[ActionRow]
    medium_term_actions: list[ActionRow]
    long_term_actions: list[ActionRow]
    time_to_detect: str | None
    time_to_acknowledge: str | None
    time_to_mitigate: str | None
    time_to_resolve: str | None
    slo: SloImpact | None
    channel: str | None
    author: str | None
    screenshots: list[str]
    today: str
    next_review_date: str
    updated_by: str | None
    entry_count: int
    sections_to_fill: list[str] = field(default_factory=list)


# Sections a person still has to write when nothing fills them (the 30-day follow-up and
# sign-off sections are filled later by design, so they are not counted).
ALWAYS_TO_FILL = (
    "Primary Root Cause",
    "Contributing Factors",
    "What Went Well",
    "What Could Be Improved",
    "Technical Lessons",
    "Process Lessons",
    "Organizational Lessons",
)


def _name(user_id: str | None, fallback: str | None, names: Mapping[str, str]) -> str:
    if user_id and user_id in names:
        return "@" + names[user_id]
    if fallback:
        return fallback if fallback.startswith("@") else "@" + fallback
    return "@" + user_id if user_id else "System"


def _row(entry: TimelineEntry, names: Mapping[str, str]) -> TimelineRow:
    text = slack_to_text(entry.text, names) if entry.text else entry.kind_info.label
    if entry.permalink:
        text = f"{text} ({entry.permalink})"
    return TimelineRow(
        time=format_utc(entry.at),
        event=table_cell(entry.kind_info.label),
        actor=table_cell(_name(entry.actor_id, entry.actor_name, names)),
        action=table_cell(text),
    )


def _action_row(item: ActionItem, names: Mapping[str, str], now: datetime) -> ActionRow:
    text = item.text + (f" (dropped: {item.drop_reason})" if item.drop_reason else "")
    return ActionRow(
        item=table_cell(slack_to_text(text, names)),
        owner=table_cell(_name(item.owner_id, None, names)),
        due=item.due_date,
        status=item_status_label(item, now),
        verification=table_cell(slack_to_text(item.verification or "—", names)),
    )


def _duration(delta: timedelta | None) -> str | None:
    return format_duration(delta) if delta is not None and delta >= timedelta(0) else None


def _slo(downtime: timedelta | None, slo_percent: float) -> SloImpact | None:
    if downtime is None or downtime < timedelta(0):
        return None
    budget = MONTH * (1 - slo_percent / 100)
    budget_minutes = budget.total_seconds() / 60
    downtime_minutes = downtime.total_seconds() / 60
    consumed = downtime_minutes / budget_minutes * 100 if budget_minutes else 100.0
    remaining = max(budget_minutes - downtime_minutes, 0.0)
    return SloImpact(
        downtime=f"{downtime_minutes:.0f} minutes",
        budget=f"{budget_minutes:.0f} minutes ({slo_percent:g}%)",
        consumed=f"{consumed:.0f}%",
        remaining=f"{remaining:.0f} minutes",
    )


def build_context(
    *,
    incident: Incident,
    entries: list[TimelineEntry],
    names: Mapping[str, str],
    now: datetime,
    requested_by: str | None = None,
    items: list[ActionItem] | None = None,
) -> DraftContext:
    """Everything known about an incident, shaped for the template. Pure."""
    m = milestones(incident, entries)
    metrics = response_metrics(m)
    rows: dict[str, list[TimelineRow]] = {DETECTION: [], INVESTIGATION: [], RESOLUTION: []}
    for entry in sorted(entries, key=lambda e: (e.at, e.id)):
        rows[entry.kind_info.section].append(_row(entry, names))
    actions: dict[str, list[ActionRow]] = {h: [] for h in HORIZONS}
    for item in sorted(items or [], key=lambda i: (i.due_date, i.id)):
        actions[item.horizon].append(_action_row(item, names, now))
    duration = _duration(metrics.time_to_resolve)
    slo = _slo(m.mitigated - m.started if m.mitigated else None, DEFAULT_SLO)
    context = DraftContext(
        incident_id=incident.id,
        date=m.started.strftime("%Y-%m-%d"),
        duration=duration if m.resolved else "ongoing",
        severity=incident.severity,
        status="RESOLVED" if m.resolved else "UNDER INVESTIGATION",
        what=inline(slack_to_text(incident.title, names)),
        start_time=format_utc(m.started) + " UTC",
        end_time=format_utc(m.resolved) + " UTC" if m.resolved else None,
        detection_rows=rows[DETECTION],
        investigation_rows=rows[INVESTIGATION],
        resolution_rows=rows[RESOLUTION],
        immediate_actions=actions["immediate"],
        medium_term_actions=actions["medium-term"],
        long_term_actions=actions["long-term"],
        time_to_detect=_duration(metrics.time_to_detect),
        time_to_acknowledge=_duration(metrics.time_to_acknowledge),
        time_to_mitigate=_duration(metrics.time_to_mitigate),
        time_to_resolve=_duration(metrics.time_to_resolve),
        slo=slo,
        channel="#" + incident.channel_name if incident.channel_name else None,
        author=_name(incident.commander_id, None, names),
        screenshots=[
            inline(f"{slack_to_text(e.text, names)} ({e.permalink})")
            for e in entries
            if e.source == "file" and e.permalink
        ],
        today=now.astimezone(UTC).strftime("%Y-%m-%d"),
        next_review_date=(m.started + relativedelta(months=6)).strftime("%Y-%m-%d"),
        updated_by=_name(requested_by, None, names) if requested_by else None,
        entry_count=len(entries),
    )
    return _with_sections_to_fill(context)


def _with_sections_to_fill(c: DraftContext) -> DraftContext:
    missing = ["Executive Summary", "Service Level Impact", "Business Impact"]
    missing.append("Geographic/Component Scope")
    for title, section_rows in (
        (DETECTION, c.detection_rows),
        (INVESTIGATION, c.investigation_rows),
        (RESOLUTION, c.resolution_rows),
    ):
        if not section_rows:
            missing.append(title)
    missing.extend(ALWAYS_TO_FILL)
    for title, action_rows in (
        ("Immediate Actions", c.immediate_actions),
        ("Medium-term Actions", c.medium_term_actions),
        ("Long-term Actions", c.long_term_actions),
    ):
        if not action_rows:
            missing.append(title)
    metrics = (c.time_to_detect, c.time_to_acknowledge, c.time_to_mitigate, c.time_to_resolve)
    if any(value is None for value in metrics):
        missing.append("Response Time Metrics")
    if c.slo is None:
        missing.append("SLO Impact Calculation")
    return DraftContext(**{**c.__dict__, "sections_to_fill": missing})


def summary_line(context: DraftContext) -> str:
    """The line posted with the draft: ``12 timeline entries · 3 sections still to fill``."""
    entries = f"{context.entry_count} timeline {'entry' if context.entry_count == 1 else 'entries'}"
    n = len(context.sections_to_fill)
    sections = f"{n} {'section' if n == 1 else 'sections'} still to fill"
    return f"{entries} · {sections}"


def draft_filename(incident_id: str) -> str:
    return f"{incident_id}-postmortem.md"


def builtin_templates_dir() -> Path:
    """``bot/templates`` in an installed wheel, else the repository's ``templates/``."""
    packaged = Path(__file__).resolve().parent / "templates"
    if (packaged / TEMPLATE_NAME).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def make_environment(templates_dir: str | Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment whose unknown variables are errors, not blanks."""
    folder = Path(templates_dir) if templates_dir else builtin_templates_dir()
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML; cells are escaped by table_cell
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, context: DraftContext) -> str:
    """Render the draft, or raise ``TemplateProblem`` naming what the template got wrong."""
    try:
        return env.get_template(TEMPLATE_NAME).render(d=context)
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(
            f"The post-mortem template uses an unknown variable ({exc.message}): "
            f"fix {TEMPLATE_NAME} in TEMPLATES_DIR."
        ) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"The post-mortem template has a syntax error on line {exc.lineno} ({exc.message}): "
            f"fix {TEMPLATE_NAME} in TEMPLATES_DIR."
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateProblem(f"The post-mortem template {TEMPLATE_NAME} was not found.") from exc


def sample_context(now: datetime) -> DraftContext:
    """A context with every field filled, to check a template at start-up."""
    incident = Incident(
        id="INCIDENT-20000101-0000",
        title="Template check",
        severity="SEV3",
        status="investigating",
        commander_id="U0",
        started_at=now,
        channel_name="incident-20000101-0000",
    )
    entries = [
        TimelineEntry(1, incident.id, now, kind, "check", "U0", "check", "command")
        for kind in ("trigger", "detected", "acknowledged", "mitigated", "note", "resolved")
    ]
    items = [
        ActionItem(n, incident.id, "check", "U0", horizon, "2000-01-08", now, "check", "open")
        for n, horizon in enumerate(HORIZONS, start=1)
    ]
    return build_context(
        incident=incident, entries=entries, names={"U0": "check"}, now=now, items=items
    )
