"""KPIs add money per currency, never across, and say where the currency is unknown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from handoff_hub.hub.model import Money
from handoff_hub.hub.reconcile.kpis import UNKNOWN_CURRENCY, KpiReport


def _money(amount: str, currency: str | None) -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def test_budgets_and_amounts_are_summed_per_currency() -> None:
    kpis = KpiReport(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    kpis.add_amount(_money("480500", "EUR"))
    kpis.add_amount(_money("100", "USD"))
    kpis.add_amount(_money("0.5", "EUR"))
    kpis.add_budget(_money("480500", "EUR"), _money("480500", "EUR"))
    kpis.add_budget(_money("100", "USD"), _money("100", "USD"))
    kpis.add_budget(_money("7", None), _money("7", "EUR"))

    figures = kpis.as_dict()

    assert figures["amount_by_currency"] == {"EUR": "480500.5", "USD": "100"}
    assert figures["budget_by_currency"] == {
        "EUR": "480500",
        "USD": "100",
        UNKNOWN_CURRENCY: "7",
    }
    assert figures["projects_budget_differs"] == 1


def test_a_budget_in_another_currency_differs_even_with_the_same_figure() -> None:
    kpis = KpiReport(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    kpis.add_budget(_money("1000", "USD"), _money("1000", "EUR"))
    kpis.add_budget(_money("1000.00", "EUR"), _money("1000", "EUR"))
    kpis.add_budget(_money("1000", "EUR"), None)
    assert kpis.budget_differs == 1
    assert kpis.budget == {"USD": Decimal(1000), "EUR": Decimal(2000)}
