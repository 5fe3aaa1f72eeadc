"""What the reconcile keeps of a won deal survives the index, and compares as the deal would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from handoff_hub.hub.model import Account, Money, Opportunity, Project, Stage, TaskStatus, User
from handoff_hub.hub.reconcile.drift import DealSide, FieldPair, pair_values

PAIRS = [
    FieldPair("amount", "budget", "crm_to_pm", "won-to-project"),
    FieldPair("account.name", "account.name", "crm_to_pm", "won-to-project"),
    FieldPair("owner", "manager", "crm_to_pm", "won-to-project"),
    FieldPair("delivery_status", "status", "pm_to_crm", "sync"),
    FieldPair("delivery_due", "due", "pm_to_crm", "sync"),
    FieldPair("delivery_percent", "percent_complete", "pm_to_crm", "sync"),
]
OPP = Opportunity(
    name='Rollout \u2013 "phase 2"',
    refs={"salesforce": "006A"},
    stage=Stage.WON,
    amount=Money(amount=Decimal("1200.50"), currency="EUR"),
    close_date=dt.date(2026, 10, 1),
    owner=User(name="Ann", email="Ann@Example.com", refs={}),
    account=Account(name="  Acme  ", refs={}),
    delivery_status=TaskStatus.IN_PROGRESS,
    delivery_due=dt.date(2027, 3, 1),
    delivery_percent=40,
)
PROJECT = Project(
    name="DEL",
    refs={"jira": "DEL-1"},
    budget=Money(amount=Decimal("1200.5"), currency="EUR"),
    account=Account(name="Acme", refs={}),
    manager=User(name="Ann", refs={"jira": "acc-ann"}),
    status=TaskStatus.IN_PROGRESS,
    due=dt.date(2027, 3, 2),
)


def test_the_side_round_trips_through_its_json() -> None:
    side = DealSide.of(OPP, "006A", PAIRS)
    again = DealSide.from_json(side.to_json())
    assert again == side
    assert again.amount == OPP.amount and again.close_date == OPP.close_date
    assert set(again.values) == {
        "account.name",
        "delivery_status",
        "delivery_due",
        "delivery_percent",
    }


def test_pairs_compare_the_side_with_the_project() -> None:
    side = DealSide.from_json(DealSide.of(OPP, "006A", PAIRS).to_json())
    people = {"ann@example.com": "acc-ann"}
    found = {
        p.label: pair_values(p, side, PROJECT, pm_system="jira", people=people, percent=25)
        for p in PAIRS
    }
    deal_amount, budget = found["amount / budget"]
    assert deal_amount == budget  # 1200.50 EUR and 1200.5 EUR: equal
    assert (deal_amount.amount, deal_amount.currency) == (Decimal("1200.50"), "EUR")
    assert found["account.name"] == ("Acme", "Acme")  # blanks trimmed
    assert found["owner / manager"] == ("acc-ann", "acc-ann")
    assert found["delivery_status / status"] == ("in_progress", "in_progress")
    assert found["delivery_due / due"] == ("2027-03-01", "2027-03-02")  # drift
    assert found["delivery_percent / percent_complete"] == (40, 25)  # computed side


def test_a_deal_without_amount_or_owner_still_compares() -> None:
    bare = Opportunity(name="Bare", refs={"salesforce": "006B"}, stage=Stage.WON)
    side = DealSide.from_json(DealSide.of(bare, "006B", PAIRS).to_json())
    assert side.amount is None and side.owner_email is None and side.close_date is None
    assert pair_values(PAIRS[0], side, PROJECT, pm_system="jira", people={}, percent=None) == (
        None,
        PROJECT.budget,
    )
    assert pair_values(PAIRS[2], side, PROJECT, pm_system="jira", people={}, percent=None) is None


def test_an_account_name_the_deal_cannot_read_is_not_drift() -> None:
    hidden = OPP.model_copy(update={"account": Account(refs={"salesforce": "001X"})})
    side = DealSide.from_json(DealSide.of(hidden, "006A", PAIRS).to_json())
    assert pair_values(PAIRS[1], side, PROJECT, pm_system="jira", people={}, percent=None) is None
