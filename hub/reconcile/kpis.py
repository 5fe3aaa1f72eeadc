"""Handoff KPIs over a window: how fast and how completely deals become projects.

Computed from the same streamed pass as reconciliation (deals, their links and
linked projects) plus the store's feedback-to-lead links. A deal's won date is
its close date (the date the CRM records a deal as won); a project's creation
is when its link was first recorded. Money is summed per currency, never across.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handoff_hub.hub.model import Money

__all__ = ["UNKNOWN_CURRENCY", "KpiReport", "percentile"]


@dataclass
class KpiReport:
    """The KPIs of one window (``start`` to ``end``, inclusive dates)."""

    start: dt.date
    end: dt.date
    won_deals: int = 0
    won_with_project: int = 0
    won_with_all_projects: int = 0
    """Won deals holding every project their template rules give (one each, or a set)."""
    days_to_project: list[float] = field(default_factory=list)
    projects: int = 0
    project_deals: int = 0
    """The distinct deals of :attr:`projects` (a deal may have several)."""
    projects_done: int = 0
    projects_on_time: int = 0
    projects_late: int = 0
    budget: dict[str, Decimal] = field(default_factory=dict)
    amount: dict[str, Decimal] = field(default_factory=dict)
    budget_differs: int = 0
    feedback_leads: int = 0

    def add_budget(self, budget: Money, deal_amount: Money | None) -> None:
        """Count a project's budget under its currency (``unknown`` when it has none).

        It differs from its deal's amount in amount or in currency (an unknown
        currency differs from every known one).
        """
        _add(self.budget, budget)
        if deal_amount is not None and deal_amount != budget:
            self.budget_differs += 1

    def add_amount(self, amount: Money) -> None:
        """Count a won deal's amount under its currency."""
        _add(self.amount, amount)

    @property
    def projects_per_deal(self) -> float | None:
        """Projects of the window's won deals, per deal that has any (None without any)."""
        return self.projects / self.project_deals if self.project_deals else None

    @property
    def share_with_project(self) -> float | None:
        """Won deals with a project, as a share of won deals (None without any)."""
        return self.won_with_project / self.won_deals if self.won_deals else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe figures, as reports print them."""
        return {
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "won_deals": self.won_deals,
            "won_with_project": self.won_with_project,
            "share_with_project": _round(self.share_with_project, 4),
            "won_with_all_projects": self.won_with_all_projects,
            "days_to_project_p50": _round(percentile(self.days_to_project, 50), 2),
            "days_to_project_p90": _round(percentile(self.days_to_project, 90), 2),
            "projects": self.projects,
            "projects_per_deal": _round(self.projects_per_deal, 2),
            "projects_done": self.projects_done,
            "projects_on_time": self.projects_on_time,
            "projects_late": self.projects_late,
            "budget_by_currency": {k: str(v) for k, v in sorted(self.budget.items())},
            "amount_by_currency": {k: str(v) for k, v in sorted(self.amount.items())},
            "projects_budget_differs": self.budget_differs,
            "feedback_leads": self.feedback_leads,
        }


UNKNOWN_CURRENCY = "unknown"
"""The key of amounts whose currency the source does not say."""


def _add(totals: dict[str, Decimal], money: Money) -> None:
    key = money.currency or UNKNOWN_CURRENCY
    totals[key] = totals.get(key, Decimal(0)) + money.amount


def percentile(values: list[float], pct: float) -> float | None:
    """The ``pct`` percentile by linear interpolation (as numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
