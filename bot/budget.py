"""A month's error budget and what an incident spent of it. Pure.

One arithmetic for the SLO Impact Calculation's two budgets: availability (the budget is the
share of a 30-day month the SLO lets the service be down; downtime spends it minute for minute)
and error rate (the budget is the error-rate SLO's share of the month's requests, counted in
minutes; a minute at a peak error rate of p% spends p% of a minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

MONTH = timedelta(days=30)


def month_budget(allowed_share: float) -> timedelta:
    """The month's budget when ``allowed_share`` (0..1) of it may go wrong."""
    return MONTH * allowed_share


def availability_share(slo_percent: float) -> float:
    """The share of the month an availability SLO of ``slo_percent`` allows to be down."""
    return 1 - slo_percent / 100


@dataclass(frozen=True)
class BudgetUse:
    """What an incident spent of a month's budget."""

    budget: timedelta
    spent: timedelta

    @property
    def consumed_percent(self) -> float:
        """The share of the budget spent, in percent (100 when there is no budget at all)."""
        if self.budget <= timedelta(0):
            return 100.0
        return self.spent / self.budget * 100

    @property
    def remaining(self) -> timedelta:
        """What is left of the budget; negative when the incident went over it."""
        return self.budget - self.spent


def spend(*, allowed_share: float, spent: timedelta) -> BudgetUse:
    """The budget ``allowed_share`` gives, and ``spent`` of it."""
    return BudgetUse(budget=month_budget(allowed_share), spent=spent)


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60
