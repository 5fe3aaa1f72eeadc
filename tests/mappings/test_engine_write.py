"""from_unified: unified entities into product payloads, and round trips."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.engine import RecordMappingError, from_unified, to_unified
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Account, Health, Money, Opportunity, Project, Stage, User


def _project() -> Project:
    return Project(
        name="Tyrell Analytics - Pilot",
        description="Delivery project.\n\nCRM record: https://acme/006",
        budget=Money(amount=Decimal("365800.50"), currency="EUR"),
        account=Account(name="Tyrell Analytics"),
        due=dt.date(2027, 2, 28),
        manager=User(email="pm@acme.example", refs={"pm": "5b10ac8d"}),
        health=Health.RED,
    )


def test_jira_project_payload(jira) -> None:
    payload = from_unified(jira, "Project", _project())
    assert payload == {
        "summary": "Tyrell Analytics - Pilot",
        "description": {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Delivery project."}]},
                {
                    "type": "paragraph",
                    "content": [{"type": "text", "text": "CRM record: https://acme/006"}],
                },
            ],
        },
        "customfield_10050": 365800.5,
        "customfield_10053": "EUR",
        "customfield_10051": "Tyrell Analytics",
        "duedate": "2027-02-28",
        "assignee": {"accountId": "5b10ac8d"},
    }
    json.dumps(payload)  # JSON-safe


def test_read_only_fields_are_never_written(jira) -> None:
    fields = from_unified(jira, "Project", _project())
    assert "status" not in fields and "customfield_10052" not in fields


def test_empty_values_are_left_out_unless_asked_for(jira) -> None:
    payload = from_unified(jira, "Project", Project(name="Bare"))
    assert payload == {"summary": "Bare"}


def test_only_restricts_and_writes_nulls(salesforce) -> None:
    assert from_unified(
        salesforce, "Opportunity", {"project_ref": "DEL-7"}, only=["project_ref"]
    ) == {"Delivery_Project__c": "DEL-7"}
    assert from_unified(salesforce, "Opportunity", {}, only=["project_ref"]) == {
        "Delivery_Project__c": None
    }


def test_only_with_an_unwritable_field_lists_the_writable_ones(salesforce) -> None:
    with pytest.raises(MappingError, match=r"no write rule for owner\.email; writable fields: "):
        from_unified(salesforce, "Opportunity", {}, only=["owner.email"])


def test_salesforce_opportunity_payload(salesforce) -> None:
    opp = Opportunity(
        name="Deal",
        stage=Stage.WON,
        stage_label="Closed Won",
        close_date=dt.date(2026, 12, 31),
        project_ref="DEL-3",
        amount=Money(amount=Decimal(5), currency="USD"),
    )
    assert from_unified(salesforce, "Opportunity", opp) == {
        "Name": "Deal",
        "StageName": "Closed Won",
        "CloseDate": "2026-12-31",
        "Delivery_Project__c": "DEL-3",
    }


def _spec(fields: dict[str, Any], entity: str = "Opportunity") -> MappingSpec:
    return MappingSpec.model_validate(
        {"system": "crm", "entities": {entity: {"object": "Deal", "fields": fields}}}
    )


def test_value_map_is_reversed_on_write() -> None:
    spec = _spec(
        {
            "name": {"path": "n"},
            "stage": {
                "path": "Stage",
                "map": {"Signed": "won", "Won (old)": "won", "Dead": "lost"},
            },
        }
    )
    payload = from_unified(spec, "Opportunity", Opportunity(name="x", stage=Stage.WON))
    assert payload["Stage"] == "Signed"  # the first product value listed wins
    with pytest.raises(RecordMappingError, match=r"no product value maps to it.*'open'"):
        from_unified(spec, "Opportunity", Opportunity(name="x", stage=Stage.OPEN))


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("number", 1200.5),
        ("decimal", "1200.50"),
        ("money", 1200.5),
        ("integer", 1200),
    ],
)
def test_numbers_become_json_safe_product_values(kind, expected) -> None:
    value = Decimal("1200.50") if kind != "integer" else Decimal("1200")
    spec = _spec(
        {
            "description": {
                "path": "out",
                "type": kind,
                **({"currency": "USD"} if kind == "money" else {}),
            }
        }
    )
    amount = Money(amount=value, currency="USD") if kind == "money" else value
    assert from_unified(spec, "Opportunity", {"description": amount})["out"] == expected


def test_money_writes_its_currency_when_the_path_is_plain() -> None:
    spec = _spec({"amount": {"path": "Amount", "type": "money", "currency_path": "Currency"}})
    payload = from_unified(
        spec, "Opportunity", {"amount": Money(amount=Decimal("9.99"), currency="GBP")}
    )
    assert payload == {"Amount": 9.99, "Currency": "GBP"}


def test_a_field_of_one_currency_refuses_an_amount_in_another() -> None:
    """Writing an EUR deal's bare number into a USD budget field would be wrong data."""
    spec = _spec({"amount": {"path": "Amount", "type": "money", "currency": "USD"}})
    usd = Money(amount=Decimal("10"), currency="usd")
    assert from_unified(spec, "Opportunity", {"amount": usd}) == {"Amount": 10.0}
    for other in (Money(amount=Decimal("10"), currency="EUR"), Money(amount=Decimal("10"))):
        with pytest.raises(RecordMappingError, match="holds USD amounts only"):
            from_unified(spec, "Opportunity", {"amount": other})


def test_an_amount_of_unknown_currency_writes_an_empty_currency() -> None:
    spec = _spec({"amount": {"path": "Amount", "type": "money", "currency_path": "Currency"}})
    payload = from_unified(spec, "Opportunity", {"amount": Money(amount=Decimal("9.99"))})
    assert payload == {"Amount": 9.99, "Currency": None}


def test_write_template_renders_the_entity() -> None:
    spec = _spec(
        {
            "name": {
                "path": "Title",
                "direction": "write",
                "template": "{{ account.name }}: {{ name }}",
            }
        }
    )
    opp = Opportunity(name="Pilot", account=Account(name="Tyrell"))
    assert from_unified(spec, "Opportunity", opp) == {"Title": "Tyrell: Pilot"}


def test_write_root_returns_the_payload_below_it() -> None:
    spec = MappingSpec.model_validate(
        {
            "system": "pm",
            "entities": {
                "Task": {
                    "object": "issue",
                    "write_root": "body.fields",
                    "fields": {"name": {"path": "body.fields.title"}},
                }
            },
        }
    )
    assert from_unified(spec, "Task", {"name": "x"}) == {"title": "x"}
    assert from_unified(spec, "Task", {}) == {}


def test_constants_are_set_on_full_writes_only() -> None:
    spec = MappingSpec.model_validate(
        {
            "system": "hubspot",
            "entities": {
                "Lead": {
                    "object": "contacts",
                    "write_root": "properties",
                    "constants": {"properties.lifecyclestage": "lead"},
                    "fields": {"last_name": {"path": "properties.lastname"}},
                }
            },
        }
    )
    lead = {"last_name": "Ng", "company": "Tyrell"}
    assert from_unified(spec, "Lead", lead) == {"lastname": "Ng", "lifecyclestage": "lead"}
    assert from_unified(spec, "Lead", lead, only=["last_name"]) == {"lastname": "Ng"}


def test_write_errors_name_the_field() -> None:
    spec = _spec({"close_date": {"path": "d", "type": "date"}})
    with pytest.raises(RecordMappingError, match=r"close_date <-> d: expected an ISO 8601 date"):
        from_unified(spec, "Opportunity", {"close_date": "next week", "key": "k1"})


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        old = merged.get(key)
        merged[key] = (
            _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
        )
    return merged


def test_jira_round_trip(jira, jira_epic) -> None:
    project = to_unified(jira, "Project", jira_epic)
    payload = from_unified(jira, "Project", project)
    assert to_unified(jira, "Project", _merge(jira_epic, {"fields": payload})) == project


def test_salesforce_round_trip_of_writable_fields(salesforce, sf_opportunity) -> None:
    opp = to_unified(salesforce, "Opportunity", sf_opportunity)
    payload = from_unified(salesforce, "Opportunity", opp)
    assert payload == {
        "Name": sf_opportunity["Name"],
        "StageName": "Closed Won",
        "CloseDate": "2026-12-31",
        "Description": sf_opportunity["Description"],
    }
    assert to_unified(salesforce, "Opportunity", {**sf_opportunity, **payload}) == opp


def test_task_parent_is_read_and_written(jira) -> None:
    raw = {
        "key": "DEL-13",
        "fields": {"summary": "Kick-off", "parent": {"key": "DEL-12"}, "status": {"name": "To Do"}},
    }
    task = to_unified(jira, "Task", raw)
    assert task.parent == "DEL-12"  # type: ignore[attr-defined]
    assert from_unified(jira, "Task", task) == {"summary": "Kick-off", "parent": {"key": "DEL-12"}}
