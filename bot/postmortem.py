"""The post-mortem draft: a pure context builder and a StrictUndefined Jinja2 renderer.

User text only ever reaches the template as data (``{{ value }}``), so Jinja2 never evaluates
it; table cells are escaped here so that no user text can break a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from dateutil.relativedelta import relativedelta

from bot import budget, draft_fields
from bot.domain import (
    DETECTION,
    FIELD_NAMES,
    HORIZONS,
    INVESTIGATION,
    MILESTONE_ORDER,
    RESOLUTION,
    ActionItem,
    Incident,
    Milestones,
    TimelineEntry,
    downtime_of,
    format_duration,
    item_status_label,
    milestones,
    out_of_order,
    response_metrics,
)
from bot.parsing import mentioned_user_ids, slack_to_text
from bot.safety import markdown_text

if TYPE_CHECKING:
    from bot.store import Store

TEMPLATE_NAME = "postmortem.md.j2"


class TemplateProblem(Exception):
    """The template could not be rendered; ``str(error)`` names the cause for the user."""


def table_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, newlines folded, and no
    live HTML."""
    folded = inline(text)
    return folded.replace("\\", "\\\\").replace("|", "\\|") or " "


def inline(text: str) -> str:
    """Text for one line of Markdown: newlines folded, and ``<``, ``>``, ``&`` outside code
    as entities, so that people's words never become HTML in any renderer."""
    return markdown_text(" ".join(text.replace("\r", "\n").split()))


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
    # `/incident set` fields by name with "_" for "-" (every name present; None when unset).
    fields: dict[str, str | None] = field(default_factory=dict)
    slo_target: str = "99.9"
    slo_budget: str = "43 minutes (99.9%)"  # at `/incident set slo`, shown even without downtime
    # Issue 13's fields (bot.draft_fields): sign-off, links, error budget, follow-up.
    extra: draft_fields.Filled | None = None
    phases: list[tuple[str, str]] = field(default_factory=list)
    order_warnings: list[str] = field(default_factory=list)
    sections: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def sections_to_fill(self) -> list[str]:
        """The sections a person still has to write, in template order."""
        return [title for title, filled in self.sections if not filled]


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
        event=table_cell(_event_label(entry)),
        actor=table_cell(_actor(entry, names)),
        action=table_cell(text),
    )


def _actor(entry: TimelineEntry, names: Mapping[str, str]) -> str:
    """An alerting system's entry is by System or by the name that system gave, not a Slack
    handle; everyone else's is their ``@name``."""
    if entry.source == "alert" and not entry.actor_id:
        return entry.actor_name or "System"
    return _name(entry.actor_id, entry.actor_name, names)


def _event_label(entry: TimelineEntry) -> str:
    """A message captured by 📌 or the shortcut is not a pinned one."""
    if entry.kind == "pin" and entry.source in ("reaction", "shortcut"):
        return "Captured message"
    return entry.kind_info.label


def _action_row(item: ActionItem, names: Mapping[str, str], now: datetime) -> ActionRow:
    text = item.text + (f" (dropped: {item.drop_reason})" if item.drop_reason else "")
    return ActionRow(
        item=table_cell(slack_to_text(text, names))
        + (f" ({item.markdown_label})" if item.markdown_label else ""),
        owner=table_cell(_name(item.owner_id, None, names)),
        due=item.due_date,
        status=item_status_label(item, now),
        verification=table_cell(slack_to_text(item.verification or "—", names)),
    )


def _duration(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    return format_duration(delta) if delta >= timedelta(0) else "⚠️ out of order (check the times)"


def _phases(m: Milestones) -> list[tuple[str, str]]:
    """The milestones for the phase diagram: (label, time), ``—`` where unknown."""
    shown = []
    for name in MILESTONE_ORDER:
        at = getattr(m, name)
        if at is None:
            shown.append((name.capitalize(), "—"))
        else:
            same_day = at.date() == m.started.date()
            shown.append((name.capitalize(), at.strftime("%H:%M" if same_day else "%m-%d %H:%M")))
    return shown


def _slo(downtime: timedelta | None, slo_percent: float) -> SloImpact | None:
    if downtime is None or downtime < timedelta(0):
        return None
    use = budget.spend(allowed_share=budget.availability_share(slo_percent), spent=downtime)
    over = -budget.minutes(use.remaining)
    return SloImpact(
        downtime=f"{budget.minutes(downtime):.0f} minutes",
        budget=slo_budget(slo_percent),
        consumed=f"{use.consumed_percent:.0f}%",
        remaining=(
            f"0 minutes ({over:.0f} minutes over budget)"
            if over > 0
            else f"{budget.minutes(use.remaining):.0f} minutes"
        ),
    )


def slo_budget(slo_percent: float) -> str:
    """``43 minutes (99.9%)``: a month's error budget at the incident's SLO."""
    allowed = budget.month_budget(budget.availability_share(slo_percent))
    return f"{budget.minutes(allowed):.0f} minutes ({slo_percent:g}%)"


def build_context(
    *,
    incident: Incident,
    entries: list[TimelineEntry],
    names: Mapping[str, str],
    now: datetime,
    requested_by: str | None = None,
    items: list[ActionItem] | None = None,
    extras: draft_fields.Extras | None = None,
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
    slo = _slo(downtime_of(incident, m), incident.slo)
    author_id = incident.scribe_id or incident.commander_id
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
        time_to_detect=(
            None
            if m.started_from == "declared" and m.detected and m.detected < m.started
            else _duration(metrics.time_to_detect)
        ),
        time_to_acknowledge=_duration(metrics.time_to_acknowledge),
        time_to_mitigate=_duration(metrics.time_to_mitigate),
        time_to_resolve=_duration(metrics.time_to_resolve),
        slo=slo,
        channel="#" + incident.channel_name if incident.channel_name else None,
        author=_name(author_id, None, names),
        screenshots=[],
        today=now.astimezone(UTC).strftime("%Y-%m-%d"),
        next_review_date=(m.started + relativedelta(months=6)).strftime("%Y-%m-%d"),
        updated_by=_name(requested_by, None, names) if requested_by else None,
        entry_count=len(entries),
        fields={
            name.replace("-", "_"): inline(slack_to_text(incident.fields[name], names))
            if name in incident.fields
            else None
            for name in FIELD_NAMES
        },
        slo_target=f"{incident.slo:g}",
        slo_budget=slo_budget(incident.slo),
        phases=_phases(m),
        order_warnings=out_of_order(m),
    )
    extra = draft_fields.fill(
        incident=incident, entries=entries, items=items or [], names=names,
        author=context.author, downtime=downtime_of(incident, m),
        time_to_detect=metrics.time_to_detect, time_to_resolve=metrics.time_to_resolve,
        extras=extras or draft_fields.Extras(),
    )  # fmt: skip
    context = replace(context, extra=extra, screenshots=extra.screenshots)
    return replace(context, sections=section_status(context))


def section_status(c: DraftContext) -> list[tuple[str, bool]]:
    """Every section a person writes or the bot fills, in template order, and whether it is
    filled: what `/postmortem status` lists and the summary line counts."""
    f = c.fields

    def all_set(*names: str) -> bool:
        return all(f.get(name) for name in names)

    metrics = (c.time_to_detect, c.time_to_acknowledge, c.time_to_mitigate, c.time_to_resolve)
    return [
        ("Executive Summary", all_set("impact", "root_cause", "resolution")),
        ("Service Level Impact", all_set("availability", "error_rate", "latency", "staleness")),
        ("Business Impact", all_set("users_affected", "revenue", "features", "sla_breaches")),
        ("Geographic/Component Scope", all_set("regions", "services", "data_sources")),
        (DETECTION, bool(c.detection_rows)),
        (INVESTIGATION, bool(c.investigation_rows)),
        (RESOLUTION, bool(c.resolution_rows)),
        *((title, False) for title in ALWAYS_TO_FILL[:4]),
        ("Immediate Actions", bool(c.immediate_actions)),
        ("Medium-term Actions", bool(c.medium_term_actions)),
        ("Long-term Actions", bool(c.long_term_actions)),
        *((title, False) for title in ALWAYS_TO_FILL[4:]),
        ("Response Time Metrics", all(v is not None and "⚠️" not in v for v in metrics)),
        ("SLO Impact Calculation", c.slo is not None),
        *(draft_fields.sections(c.extra) if c.extra else []),
    ]


# The sections `/incident set` fills field by field, and their fields.
FIELD_SECTIONS = {
    "Executive Summary": ("impact", "root_cause", "resolution"),
    "Service Level Impact": ("availability", "error_rate", "latency", "staleness"),
    "Business Impact": ("users_affected", "revenue", "features", "sla_breaches"),
    "Geographic/Component Scope": ("regions", "services", "data_sources"),
}


def section_progress(c: DraftContext) -> dict[str, tuple[int, int]]:
    """(fields set, fields in all) of each section filled field by field, so that a partly
    filled one shows as partial in `/postmortem status`, not as empty."""
    progress = {
        title: (sum(1 for name in names if c.fields.get(name)), len(names))
        for title, names in FIELD_SECTIONS.items()
    }
    if c.extra is not None:  # the three figures the bot computes of the Follow-up Metrics
        progress["Follow-up Metrics"] = (c.extra.followup.computed, 3)
    return progress


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
    """A Jinja2 environment whose unknown variables are errors, not blanks; it carries the
    link table of the same folder (``draft_fields.rules_of``)."""
    # A team's folder may hold only its links.toml: the built-in template is then the one.
    folders = [str(Path(templates_dir))] if templates_dir else []
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*folders, str(builtin_templates_dir())]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML; cells are escaped by table_cell
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    draft_fields.attach_rules(env, templates_dir)
    return env


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
        scribe_id="U0",
        fields={
            **{name: "check" for name in FIELD_NAMES},
            "started": now.isoformat(),
            "downtime": "30",
            "slo": "99.9",
            "error-slo": "0.1",
            "error-rate": "5%",
        },
    )
    kinds = ("trigger", "detected", "mitigated", "acknowledged", "note", "resolved", "declared")
    entries = [  # acknowledged after mitigated: the out-of-order warning is rendered too
        TimelineEntry(n, incident.id, now + timedelta(minutes=n), kind, "check", "U0", None, "file")
        for n, kind in enumerate(kinds, start=1)
    ]
    items = [
        ActionItem(n, incident.id, "check", "U0", horizon, "2000-01-08", now, "check", "open")
        for n, horizon in enumerate(HORIZONS, start=1)
    ]
    return build_context(
        incident=incident, entries=entries, names={"U0": "check"}, now=now, items=items
    )


# --- one incident's draft, as `/postmortem draft` and `incident-bot render` build it -----


def people_in(
    incident: Incident, entries: list[TimelineEntry], items: list[ActionItem]
) -> set[str]:
    """Every user the draft may name: roles, actors, owners, and anyone mentioned."""
    ids = {incident.commander_id, incident.comms_id, incident.scribe_id}
    ids.update(e.actor_id for e in entries)
    ids.update(i.owner_id for i in items)
    texts = [incident.title, *incident.fields.values(), *(e.text for e in entries)]
    texts += [text for i in items for text in (i.text, i.verification or "")]
    for text in texts:
        ids.update(mentioned_user_ids(text or ""))
    return {user_id for user_id in ids if user_id}


def draft_for(
    store: Store,
    incident: Incident,
    *,
    names: Callable[[Iterable[str]], Mapping[str, str]],
    now: datetime,
    requested_by: str | None = None,
    templates: jinja2.Environment | None = None,
) -> DraftContext:
    """The draft of ``incident`` as stored now; ``names`` maps user IDs to names (from Slack
    in the bot, from the database's cache offline); ``templates`` brings its links.toml."""
    from bot.review.gather import extras_for

    entries = store.timeline.for_incident(incident_id=incident.id)
    items = store.items.for_incident(incident_id=incident.id)
    extras = extras_for(store, incident, draft_fields.rules_of(templates))
    people = people_in(incident, entries, items) | ({requested_by} if requested_by else set())
    return build_context(
        incident=incident,
        entries=entries,
        names=names(people | draft_fields.people_in(extras)),
        now=now,
        requested_by=requested_by,
        items=items,
        extras=extras,
    )
