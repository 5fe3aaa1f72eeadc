"""The mapping file models: shape, defaults, derived fields."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.spec import EntityMap, FieldRule, MappingSpec, is_simple_path
from handoff_hub.hub.model import ENTITY_TYPES


def test_source_fields_are_the_simple_read_paths(salesforce) -> None:
    fields = salesforce.entities["Opportunity"].source_fields()
    assert fields[:2] == ["Id", "SystemModstamp"]
    assert {
        "Name",
        "StageName",
        "Amount",
        "CurrencyIsoCode",
        "Owner.Email",
        "Account.Name",
        "AccountId",
        "Delivery_Project__c",
    } <= set(fields)
    assert len(fields) == len(set(fields))


def test_select_wins_over_derived_fields(jira) -> None:
    fields = jira.entities["Project"].source_fields()
    assert "summary" in fields and "customfield_10050" in fields
    assert not any(f.startswith("fields.") for f in fields)


def test_expressions_and_templates_are_not_selected() -> None:
    emap = EntityMap(
        object="X",
        fields={
            "name": FieldRule(template="{{ A }}"),
            "description": FieldRule(path="Items[0].Text", direction="read"),
            "email": FieldRule(path="Email", direction="write"),
        },
    )
    assert emap.source_fields() == ["Id"]


def test_rule_directions() -> None:
    assert FieldRule(path="a").reads and FieldRule(path="a").writes
    assert not FieldRule(path="a", direction="read").writes
    assert not FieldRule(path="a", direction="write").reads
    assert FieldRule(template="{{ a }}").reads and not FieldRule(template="{{ a }}").writes
    assert FieldRule(default="x").reads


def test_unknown_entity_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown entity Deal"):
        MappingSpec.model_validate({"system": "x", "entities": {"Deal": {"object": "d"}}})


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="pth"):
        FieldRule.model_validate({"pth": "Name"})


def test_bind_name_copies(salesforce) -> None:
    other = salesforce.bind_name("crm-eu")
    assert other.ref_key == "crm-eu"
    assert salesforce.ref_key == "crm"
    assert MappingSpec(system="hubspot", entities={}).ref_key == "hubspot"


def test_entity_lookup_lists_what_is_mapped(jira) -> None:
    assert jira.entity("Task").object == "issue"
    with pytest.raises(MappingError, match="maps: Feedback, Milestone, Project, Risk, Task"):
        jira.entity("Opportunity")


@pytest.mark.parametrize(
    ("path", "simple"),
    [
        ("Name", True),
        ("fields.assignee.accountId", True),
        ("Delivery_Project__c", True),
        ("fields.labels[0]", False),
        ("a || b", False),
        ("a..b", False),
        ("", False),
    ],
)
def test_simple_paths(path, simple) -> None:
    assert is_simple_path(path) is simple


def test_schema_enumerates_the_entity_names() -> None:
    schema = MappingSpec.model_json_schema()
    assert schema["properties"]["entities"]["propertyNames"]["enum"] == sorted(ENTITY_TYPES)
