"""only: conditions on unified fields: comparisons, dates, money, and clear refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from handoff_hub.hub.handoffs.conditions import Conditions, condition_problem
from handoff_hub.hub.model import Account, Money, Opportunity, Stage

TODAY = dt.date(2026, 12, 7)


def _deal(**changes: Any) -> Opportunity:
    values: dict[str, Any] = {
        "name": "Pilot",
        "stage": Stage.WON,
        "close_date": dt.date(2026, 11, 30),
        "amount": Money(amount=Decimal("48000"), currency="EUR"),
        "account": Account(name=" Tyrell "),
    }
    return Opportunity(**{**values, **changes})


def _failed(only: dict[str, Any], deal: Opportunity) -> str | None:
    return Conditions(only, today=lambda: TODAY).failed(deal)


@pytest.mark.parametrize(
    ("only", "holds"),
    [
        ({"close_date": {"after": "2026-11-01"}}, True),
        ({"close_date": {"after": "2026-11-30"}}, False),
        ({"close_date": {"before": "2026-12-01"}}, True),
        ({"close_date": {"within_days": 7}}, True),
        ({"close_date": {"within_days": 6}}, False),
        ({"amount": {">=": 48000}}, True),
        ({"amount.amount": {">": 48000}}, False),
        ({"amount.currency": "eur"}, True),
        ({"amount.currency": {"in": ["USD", "GBP"]}}, False),
        ({"stage": {"not": "lost"}}, True),
        ({"stage": "won"}, True),
        ({"account.name": "tyrell"}, True),
        ({"account.name": {"exists": True}}, True),
        ({"description": {"exists": False}}, True),
        ({"description": {"exists": True}}, False),
        ({"probability": {">=": 10}}, False),  # empty: no comparison holds
        ({"close_date": {"after": "2026-01-01"}, "amount": {"<": 1000}}, False),
    ],
)
def test_conditions_compare(only: dict[str, Any], holds: bool) -> None:
    assert (_failed(only, _deal()) is None) is holds


def test_the_reason_names_the_condition_and_the_value() -> None:
    reason = _failed({"amount": {">=": 100000}}, _deal())
    assert reason == "only: amount >= 100000 (it is 48000)"
    assert "it is empty" in str(_failed({"description": "x"}, _deal()))


def test_split_keeps_order_and_says_why() -> None:
    small = _deal(name="Small", amount=Money(amount=Decimal(10), currency="EUR"))
    kept, skipped = Conditions({"amount": {">=": 1000}}).split([_deal(), small])
    assert [d.name for d in kept] == ["Pilot"]
    assert [(d.name, why) for d, why in skipped] == [("Small", "only: amount >= 1000 (it is 10)")]


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"gte": 1}, "unknown comparison gte"),
        ({"in": "USD"}, "in takes a list"),
        ({"exists": "yes"}, "exists takes true or false"),
        ({"after": "soon"}, "after takes a date"),
        ({"within_days": -1}, "within_days takes a whole number"),
    ],
)
def test_a_condition_the_hub_does_not_understand_is_refused(spec: Any, problem: str) -> None:
    assert problem in str(condition_problem(spec))


def test_plain_values_and_known_comparisons_pass() -> None:
    assert condition_problem("won") is None
    assert condition_problem({"after": "2026-01-01", ">=": 3, "in": ["a"]}) is None
