"""Error Rate Impact and the Follow-up Metrics, as pure arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import followup
from bot.domain import ActionItem

AT = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def item(n: int, status: str) -> ActionItem:
    return ActionItem(n, "INC", "x", "U1", "immediate", "2026-12-01", AT, None, status)


def test_error_budget_uses_the_availability_arithmetic() -> None:
    # 100% errors for 43.2 minutes is the whole month's budget at 0.1%, as 43.2 minutes of
    # downtime is the whole budget at 99.9%.
    whole = followup.error_impact("100%", timedelta(minutes=43.2), 0.1)
    assert whole is not None and whole.consumed == "100%"
    # 12.5% of 30 minutes is 3.75 minutes of requests, of a 43.2-minute budget.
    impact = followup.error_impact("peak 12.5% of requests", timedelta(minutes=30), 0.1)
    assert impact == followup.ErrorImpact(
        peak="12.5% (SLO: <0.1%)", above_slo="30 minutes", consumed="9%"
    )
    below = followup.error_impact("0.05%", timedelta(minutes=30), 0.1)
    assert below is not None and below.above_slo == "0 minutes"
    assert followup.error_impact(None, timedelta(minutes=3), 0.1) is None
    assert followup.error_impact("12%", None, 0.1) is None
    assert followup.error_impact("lots", timedelta(minutes=3), 0.1) is None


def test_completion_rate_leaves_dropped_items_out() -> None:
    items = [item(1, "done"), item(2, "open"), item(3, "dropped"), item(4, "done")]
    assert followup.completion_rate(items) == "67% (2 of 3 done)"
    assert followup.completion_rate([item(1, "dropped")]) is None
    assert followup.completion_rate([]) is None


def test_services_are_split_as_people_type_them() -> None:
    assert followup.services_of("Checkout, payments API & `auth`; db and cache") == {
        "checkout", "payments api", "auth", "db", "cache",
    }  # fmt: skip
    assert followup.services_of(None) == set()


def earlier(n: int, services: str, detect: int | None, resolve: int | None) -> followup.Earlier:
    return followup.Earlier(
        f"INC-{n}",
        frozenset(followup.services_of(services)),
        timedelta(minutes=detect) if detect is not None else None,
        timedelta(minutes=resolve) if resolve is not None else None,
    )


def test_improvement_is_against_the_median_of_incidents_sharing_a_service() -> None:
    history = [
        earlier(1, "checkout", 20, 120),
        earlier(2, "checkout, db", 10, 60),
        earlier(3, "checkout", 30, None),
        earlier(4, "search", 1, 1),  # shares nothing
    ]
    figures = followup.follow_up(
        items=[item(1, "done")],
        services="checkout",
        time_to_detect=timedelta(minutes=12),
        time_to_resolve=timedelta(minutes=135),
        earlier=history,
    )
    assert figures.completion == "100% (1 of 1 done)"
    assert figures.detection == (
        "40% (0 hours 12 minutes against a median of 0 hours 20 minutes over 3 earlier "
        "incidents of checkout)"
    )
    assert figures.recovery == (
        "-50% (2 hours 15 minutes against a median of 1 hour 30 minutes over 2 earlier "
        "incidents of checkout)"
    )
    assert figures.computed == 3


def test_no_shared_service_leaves_the_placeholder() -> None:
    figures = followup.follow_up(
        items=[],
        services=None,
        time_to_detect=timedelta(minutes=12),
        time_to_resolve=timedelta(minutes=60),
        earlier=[earlier(1, "checkout", 20, 120)],
    )
    assert (figures.completion, figures.detection, figures.recovery) == (None, None, None)
    assert "no earlier incident to compare" in followup.follow_up_text("INC", figures)
