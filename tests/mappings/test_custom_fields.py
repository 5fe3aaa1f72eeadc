"""Custom fields in a mapping: declared with a type, read coerced, written back, checked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.mapping.engine import RecordMappingError, from_unified, to_unified
from handoff_hub.hub.mapping.loader import check_mapping
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Money, Opportunity, template_view

REGION = {"path": "Region__c", "type": "enum", "map": {"Europe": "EMEA", "Americas": "AMER"}}
FIELDS: dict[str, Any] = {
    "name": {"path": "Name"},
    "custom.region": REGION,
    "custom.delivery_start": {"path": "Delivery_Start__c", "type": "date"},
    "custom.seats": {"path": "Seats__c", "type": "number"},
    "custom.fee": {"path": "Fee__c", "type": "money", "currency_path": "Cur"},
    "custom.strategic": {"path": "Strategic__c", "type": "boolean"},
    "custom.lead": {"path": "Lead__r.Email", "type": "user", "direction": "read"},
    "custom.tier": {"path": "Tier__c", "type": "enum", "values": ["gold", "silver"]},
    "custom.note": {"path": "Note__c", "type": "string"},
}


def _spec(fields: dict[str, Any] = FIELDS) -> MappingSpec:
    return MappingSpec.model_validate(
        {"system": "crm", "entities": {"Opportunity": {"object": "Opportunity", "fields": fields}}}
    )


RAW = {
    "Id": "006A",
    "Name": "Pilot",
    "Region__c": "Europe",
    "Delivery_Start__c": "2027-01-15",
    "Seats__c": "40",
    "Fee__c": 1200.5,
    "Cur": "EUR",
    "Strategic__c": "true",
    "Lead__r": {"Email": "Ada@Acme.example"},
    "Tier__c": "gold",
    "Note__c": "call first",
}


def test_each_type_is_read_coerced() -> None:
    opp = to_unified(_spec(), "Opportunity", RAW)
    assert opp.custom == {
        "region": "EMEA",
        "delivery_start": dt.date(2027, 1, 15),
        "seats": 40.0,
        "fee": Money(amount=Decimal("1200.5"), currency="EUR"),
        "strategic": True,
        "lead": "ada@acme.example",
        "tier": "gold",
        "note": "call first",
    }


def test_an_empty_custom_field_is_left_out() -> None:
    opp = to_unified(_spec(), "Opportunity", {"Id": "006B", "Name": "Bare", "Region__c": ""})
    assert opp.custom == {}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("Region__c", "Mars", "not in the value map"),
        ("Delivery_Start__c", "next week", "ISO 8601"),
        ("Seats__c", "forty", "expected a number"),
        ("Strategic__c", "maybe", "true or false"),
        ("Lead__r", {"Email": "not-an-address"}, "e-mail"),
        ("Tier__c", "bronze", "not one of the enum's values"),
    ],
)
def test_a_bad_value_names_the_record_and_field(field: str, value: Any, reason: str) -> None:
    with pytest.raises(RecordMappingError) as caught:
        to_unified(_spec(), "Opportunity", {**RAW, field: value})
    assert caught.value.record_id == "006A"
    [problem] = caught.value.problems
    assert problem.field.startswith("custom.")
    assert reason in problem.reason


def test_custom_fields_are_written_as_the_product_holds_them() -> None:
    opp = Opportunity(
        name="Pilot",
        custom={
            "region": "AMER",
            "delivery_start": dt.date(2027, 2, 1),
            "fee": Money(amount=Decimal("10"), currency="USD"),
            "strategic": False,
            "tier": "silver",
        },
    )
    payload = from_unified(_spec(), "Opportunity", opp)
    assert payload["Region__c"] == "Americas"
    assert payload["Delivery_Start__c"] == "2027-02-01"
    assert payload["Fee__c"] == 10.0 and payload["Cur"] == "USD"
    assert payload["Strategic__c"] is False
    assert payload["Tier__c"] == "silver"
    assert "Lead__r" not in payload


def test_an_enum_value_outside_its_values_is_not_written() -> None:
    with pytest.raises(RecordMappingError, match=r"custom\.tier"):
        from_unified(_spec(), "Opportunity", Opportunity(name="x", custom={"tier": "bronze"}))


def test_a_template_reads_custom_fields_and_an_empty_one_as_none() -> None:
    view = template_view(Opportunity(name="x", custom={"region": "EMEA"}))
    assert view["custom"]["region"] == "EMEA"
    assert view["custom"]["delivery_start"] is None


def _issues(tmp_path: Path, fields: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nsystem: crm\nentities:\n  Opportunity:\n    object: Opportunity\n"
        "    fields:\n      name: {path: Name}\n" + fields,
        encoding="utf-8",
    )
    _spec, issues = check_mapping(path)
    return [f"{i.line}: {i.message}" for i in issues]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("custom.region: {path: R}", "custom field 'custom.region' needs a type"),
        ("custom.region: {path: R, type: integer}", "a custom field's type is not 'integer'"),
        ("custom.region: {path: R, type: enum}", "an enum needs its values"),
        ("custom.Region: {path: R, type: string}", "is not a custom field name"),
        ("custom.items: {path: R, type: string}", "is not a custom field name"),
        ("stage_label: {path: R, type: enum, values: [a]}", "type of custom fields"),
        ("custom.r: {path: R, type: string, values: [a]}", "set type: enum"),
        ("custom.lead: {path: L, type: user}", "writes the product's user id"),
        ("custom.r: {path: R, type: enum, values: [a], map: {x: b}}", "maps to b"),
    ],
)
def test_bad_declarations_are_refused_with_their_line(tmp_path, rule: str, message: str) -> None:
    [issue] = _issues(tmp_path, f"      {rule}\n")
    assert issue.startswith("8: ") and message in issue
