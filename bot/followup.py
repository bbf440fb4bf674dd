"""Figures the data gives after the fact: Error Rate Impact and the 30-day Follow-up Metrics.

Pure: callers pass the incidents, items and metrics in.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from bot import budget
from bot.domain import ActionItem, format_duration

FOLLOW_UP_AFTER = timedelta(days=30)

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%?")


def parse_percent(text: str | None) -> float | None:
    """The first number in ``12.5%`` or ``peak 12% of requests``, as a percentage."""
    match = _PERCENT.search(text or "")
    if not match:
        return None
    value = float(match.group(1))
    return value if 0 <= value <= 100 else None


def minutes(delta: timedelta) -> str:
    return f"{budget.minutes(delta):.0f} minutes"


@dataclass(frozen=True)
class ErrorImpact:
    peak: str
    above_slo: str
    consumed: str


def error_impact(
    peak_text: str | None, span: timedelta | None, error_slo: float
) -> ErrorImpact | None:
    """The error budget the incident used, by the availability arithmetic
    (``bot.budget``): a minute at a peak error rate of p% spends p% of a minute, against a
    month's budget of ``error_slo``% of its minutes (a minute of downtime is a minute at 100%)."""
    peak = parse_percent(peak_text)
    if peak is None or span is None or span < timedelta(0):
        return None
    above = span if peak > error_slo else timedelta(0)
    use = budget.spend(allowed_share=error_slo / 100, spent=span * (peak / 100))
    return ErrorImpact(
        peak=f"{peak:g}% (SLO: <{error_slo:g}%)",
        above_slo=minutes(above),
        consumed=f"{use.consumed_percent:.0f}%",
    )


def availability(downtime: timedelta | None) -> str | None:
    """Uptime over the 30-day month the SLO budget is counted on, e.g. ``99.95% uptime``."""
    if downtime is None or downtime < timedelta(0):
        return None
    uptime = max(1 - downtime / budget.MONTH, 0.0) * 100
    return f"{uptime:.2f}% uptime over 30 days"


def completion_rate(items: Iterable[ActionItem]) -> str | None:
    """Done ÷ all not dropped, e.g. ``67% (2 of 3 done)``; None when there is nothing to count."""
    counted = [item for item in items if item.status != "dropped"]
    if not counted:
        return None
    done = sum(1 for item in counted if item.status == "done")
    return f"{done / len(counted) * 100:.0f}% ({done} of {len(counted)} done)"


def services_of(text: str | None) -> set[str]:
    """``checkout, Payments API & auth`` → {"checkout", "payments api", "auth"}."""
    parts = re.split(r"[,;&/\n]|\band\b", (text or "").lower())
    return {" ".join(p.strip(" `#*_").split()) for p in parts if p.strip(" `#*_")}


@dataclass(frozen=True)
class Earlier:
    """An earlier incident's figures for the comparison (None where unknown)."""

    incident_id: str
    services: frozenset[str]
    time_to_detect: timedelta | None
    time_to_resolve: timedelta | None


def improvement(
    this: timedelta | None, earlier: list[timedelta], shared: Iterable[str]
) -> str | None:
    """``40% (12 minutes against a median of 20 minutes over 3 earlier incidents of checkout)``;
    negative when slower; None when there is nothing to compare."""
    if this is None or this < timedelta(0) or not earlier:
        return None
    median = statistics.median(earlier)
    if median <= timedelta(0):
        return None
    percent = (median - this) / median * 100
    n = len(earlier)
    return (
        f"{percent:.0f}% ({format_duration(this)} against a median of {format_duration(median)} "
        f"over {n} earlier {'incident' if n == 1 else 'incidents'} of {', '.join(sorted(shared))})"
    )


@dataclass(frozen=True)
class FollowUp:
    """The template's Follow-up Metrics; ``posted`` once the 30-day figures went out, when the
    computed lines are ticked."""

    completion: str | None
    detection: str | None
    recovery: str | None
    posted: bool = False

    @property
    def computed(self) -> int:
        return sum(1 for v in (self.completion, self.detection, self.recovery) if v)


def follow_up(
    *,
    items: Iterable[ActionItem],
    services: str | None,
    time_to_detect: timedelta | None,
    time_to_resolve: timedelta | None,
    earlier: Iterable[Earlier],
    posted: bool = False,
) -> FollowUp:
    """Completion rate, and detection and recovery against earlier incidents sharing a service."""
    mine = services_of(services)
    alike = [e for e in earlier if mine & e.services]
    shared = set().union(*(mine & e.services for e in alike)) if alike else set()
    detect = [
        e.time_to_detect for e in alike if e.time_to_detect and e.time_to_detect > timedelta(0)
    ]
    resolve = [
        e.time_to_resolve for e in alike if e.time_to_resolve and e.time_to_resolve > timedelta(0)
    ]
    return FollowUp(
        completion=completion_rate(items),
        detection=improvement(time_to_detect, detect, shared),
        recovery=improvement(time_to_resolve, resolve, shared),
        posted=posted,
    )


def follow_up_text(incident_id: str, figures: FollowUp) -> str:
    """The 30-day post in the incident channel."""
    lines = [f"📈 *30 days after {incident_id}*: the follow-up figures."]
    lines.append(
        f"• Action items completion rate: {figures.completion or 'no action items to count'}"
    )
    lines.append(
        f"• Detection time improved by: {figures.detection or 'no earlier incident to compare'}"
    )
    lines.append(
        f"• Recovery time improved by: {figures.recovery or 'no earlier incident to compare'}"
    )
    lines.append("The post-mortem's Follow-up Metrics are ticked where these figures exist.")
    return "\n".join(lines)
