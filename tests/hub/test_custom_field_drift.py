"""Reconcile's field pairs for custom fields, and how their values compare."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Money, Opportunity, Project
from handoff_hub.hub.reconcile.drift import DealSide, FieldPair, custom_pairs, pair_values


def _spec(system: str, entity: str, fields: dict[str, Any]) -> MappingSpec:
    return MappingSpec.model_validate(
        {"system": system, "entities": {entity: {"object": "X", "fields": fields}}}
    )


CRM = _spec(
    "crm",
    "Opportunity",
    {
        "name": {"path": "Name"},
        "custom.region": {"path": "R", "type": "enum", "values": ["EMEA", "AMER"]},
        "custom.seats": {"path": "S", "type": "number"},
        "custom.fee": {"path": "F", "type": "money", "currency": "EUR"},
        "custom.only_crm": {"path": "O", "type": "string"},
        "custom.written": {"path": "W", "type": "string", "direction": "write"},
    },
)
PM = _spec(
    "pm",
    "Project",
    {
        "name": {"path": "n"},
        "custom.region": {"path": "r", "type": "enum", "values": ["EMEA", "AMER"]},
        "custom.seats": {"path": "s", "type": "number"},
        "custom.fee": {"path": "f", "type": "money", "currency": "EUR"},
        "custom.written": {"path": "w", "type": "string"},
    },
)


def test_custom_fields_both_sides_read_are_won_to_project_pairs() -> None:
    pairs = custom_pairs(CRM, PM)
    assert [p.crm for p in pairs] == ["custom.region", "custom.seats", "custom.fee"]
    assert {(p.direction, p.by) for p in pairs} == {("crm_to_pm", "won-to-project")}


def _values(pair: FieldPair, deal: dict[str, Any], project: dict[str, Any]) -> Any:
    opp = Opportunity(name="d", custom=deal)
    side = DealSide.from_json(DealSide.of(opp, "006", [pair]).to_json())
    return pair_values(
        pair, side, Project(name="p", custom=project), pm_system="pm", people={}, percent=None
    )


def test_equal_values_compare_equal_and_different_ones_differ() -> None:
    region, seats, fee = custom_pairs(CRM, PM)
    same = _values(seats, {"seats": 40.0}, {"seats": 40})
    assert same is not None and same[0] == same[1]
    money = Money(amount=Decimal("12.50"), currency="EUR")
    also = _values(fee, {"fee": money}, {"fee": {"amount": "12.5", "currency": "EUR"}})
    assert also is not None and also[0] == also[1]
    moved = _values(region, {"region": "EMEA"}, {"region": "AMER"})
    assert moved == ("EMEA", "AMER")
    other = _values(fee, {"fee": money}, {"fee": Money(amount=Decimal("12.5"), currency="USD")})
    assert other is not None and other[0] != other[1]
    empty = _values(region, {"region": "EMEA"}, {})
    assert empty == ("EMEA", None)


def test_a_date_survives_the_deal_side_index() -> None:
    pair = FieldPair("custom.start", "custom.start", "crm_to_pm", "won-to-project")
    values = _values(pair, {"start": dt.date(2027, 1, 4)}, {"start": dt.date(2027, 1, 4)})
    assert values is not None and values[0] == values[1] == "2027-01-04"
