"""to_unified / to_unified_many: product records into unified entities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.engine import RecordMappingError, to_unified, to_unified_many
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Health, Opportunity, Project, Stage, TaskStatus, User


def _spec(fields: dict[str, Any], *, entity: str = "Opportunity", **extra: Any) -> MappingSpec:
    return MappingSpec.model_validate(
        {
            "system": "testcrm",
            "entities": {entity: {"object": "Thing", "fields": fields, **extra}},
        }
    )


def test_salesforce_opportunity_maps_every_field(salesforce, sf_opportunity) -> None:
    opp = to_unified(salesforce, "Opportunity", sf_opportunity)
    assert isinstance(opp, Opportunity)
    assert opp.refs == {"crm": "006Hb000000000aIAA"}
    assert opp.name == "Tyrell Analytics - Pilot"
    assert opp.stage is Stage.WON
    assert opp.stage_label == "Closed Won"
    assert opp.amount is not None
    assert opp.amount.amount == Decimal("365800.5")
    assert opp.amount.currency == "EUR"
    assert opp.close_date == dt.date(2026, 12, 31)
    assert opp.owner is not None and opp.owner.email == "ada@acme.example"
    assert opp.owner.refs == {"crm": "005Hb0000000002IAA"}
    assert opp.account is not None and opp.account.name == "Tyrell Analytics"
    assert opp.account.refs == {"crm": "001Hb000000000CIAQ"}
    assert opp.modified_at == dt.datetime(2026, 10, 24, 17, 27, 5, 911000, tzinfo=dt.UTC)
    assert opp.project_ref is None


@pytest.mark.parametrize(
    ("stage_name", "won", "closed", "stage"),
    [
        ("Closed Won", True, True, Stage.WON),
        ("Closed Won - Signed", True, True, Stage.WON),  # an org's own won stage
        ("Closed Lost", False, True, Stage.LOST),
        ("Prospecting", False, False, Stage.OPEN),
        ("Negotiation/Review", False, False, Stage.OPEN),
    ],
)
def test_stage_comes_from_is_won_and_is_closed(
    salesforce, sf_opportunity, stage_name, won, closed, stage
) -> None:
    sf_opportunity.update(StageName=stage_name, IsWon=won, IsClosed=closed)
    opp = to_unified(salesforce, "Opportunity", sf_opportunity)
    assert isinstance(opp, Opportunity)
    assert opp.stage is stage
    assert opp.stage_label == stage_name


def test_jira_epic_becomes_project(jira, jira_epic) -> None:
    project = to_unified(jira, "Project", jira_epic)
    assert isinstance(project, Project)
    assert project.refs == {"pm": "DEL-12"}
    assert project.description == "First line\n\nSecond"
    assert project.status is TaskStatus.IN_PROGRESS
    assert project.health is Health.AMBER
    assert project.budget is not None and project.budget.amount == Decimal("365800.5")
    assert project.due == dt.date(2027, 2, 28)
    assert project.manager is not None
    assert project.manager.refs == {"pm": "5b10ac8d82e05b22cc7d4ef5"}
    assert project.manager.email == "pm@acme.example"
    assert project.modified_at == dt.datetime(2026, 11, 20, 9, 15, tzinfo=dt.UTC)


def test_system_keyword_overrides_the_ref_key(jira, jira_epic) -> None:
    assert to_unified(jira, "Project", jira_epic, system="jira-eu").refs == {"jira-eu": "DEL-12"}


def test_bad_amount_names_record_field_path_and_value(salesforce, sf_opportunity) -> None:
    sf_opportunity["Amount"] = "lots"
    with pytest.raises(RecordMappingError) as caught:
        to_unified(salesforce, "Opportunity", sf_opportunity)
    text = str(caught.value)
    assert "006Hb000000000aIAA" in text
    assert "amount" in text and "Amount" in text and "'lots'" in text
    assert caught.value.record_id == "006Hb000000000aIAA"
    assert [p.field for p in caught.value.problems] == ["amount"]


def test_every_bad_field_is_listed(salesforce, sf_opportunity) -> None:
    sf_opportunity.update(Amount=True, CloseDate="31/12/2026", SystemModstamp="yesterday")
    with pytest.raises(RecordMappingError) as caught:
        to_unified(salesforce, "Opportunity", sf_opportunity)
    assert {p.field for p in caught.value.problems} == {"amount", "close_date", "modified_at"}


def test_unmapped_value_without_default_is_an_error(jira, jira_epic) -> None:
    jira_epic["fields"]["status"]["name"] = "Waiting for Godot"
    with pytest.raises(MappingError, match=r"status.*not in the value map.*Waiting for Godot"):
        to_unified(jira, "Project", jira_epic)


def test_value_too_long_is_truncated_in_the_message(salesforce, sf_opportunity) -> None:
    sf_opportunity["Amount"] = "x" * 500
    with pytest.raises(RecordMappingError) as caught:
        to_unified(salesforce, "Opportunity", sf_opportunity)
    assert len(str(caught.value)) < 300
    assert "..." in str(caught.value)


def test_missing_id_is_an_error(salesforce, sf_opportunity) -> None:
    del sf_opportunity["Id"]
    with pytest.raises(RecordMappingError, match="no usable id"):
        to_unified(salesforce, "Opportunity", sf_opportunity)


def test_required_field_missing(salesforce, sf_opportunity) -> None:
    sf_opportunity["Name"] = None
    with pytest.raises(RecordMappingError, match=r"name <-> Name: a value is required"):
        to_unified(salesforce, "Opportunity", sf_opportunity)


def test_model_validation_errors_become_mapping_errors() -> None:
    spec = _spec({"name": {"path": "Name"}, "stage": {"path": "Stage"}})
    with pytest.raises(RecordMappingError, match=r"stage <-> Stage: Input should be"):
        to_unified(spec, "Opportunity", {"Id": "1", "Name": "x", "Stage": "sideways"})


def test_batch_keeps_going_past_bad_records(salesforce, sf_opportunity) -> None:
    bad = {**sf_opportunity, "Id": "006BAD", "CloseDate": "soon"}
    good2 = {**sf_opportunity, "Id": "006GOOD2"}
    entities, failures = to_unified_many(salesforce, "Opportunity", [sf_opportunity, bad, good2])
    assert [e.refs["crm"] for e in entities] == ["006Hb000000000aIAA", "006GOOD2"]
    assert len(failures) == 1
    raw, error = failures[0]
    assert raw is bad
    assert "006BAD" in str(error) and "close_date" in str(error)


def test_unknown_entity_lists_mapped_ones(salesforce) -> None:
    with pytest.raises(MappingError, match="maps: Account, Contact, Lead, Note, Opportunity, User"):
        to_unified(salesforce, "Risk", {"Id": "1"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T10:15:00.000+0000", dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)),
        ("2026-11-20T10:15:00Z", dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)),
        ("2026-11-20T12:15:00+02:00", dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)),
        ("2026-11-20", dt.datetime(2026, 11, 20, tzinfo=dt.UTC)),
    ],
)
def test_datetimes_become_aware_utc(text, expected) -> None:
    spec = _spec({"name": {"path": "n"}}, modified_path="ts")
    opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "ts": text})
    assert opp.modified_at == expected
    assert opp.modified_at is not None and opp.modified_at.utcoffset() == dt.timedelta(0)


def test_naive_datetime_is_refused() -> None:
    spec = _spec({"name": {"path": "n"}}, modified_path="ts")
    with pytest.raises(MappingError, match="no timezone"):
        to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "ts": "2026-11-20T10:15:00"})


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_money_without_its_currency_is_of_unknown_currency(blank: str | None) -> None:
    """Never an assumed currency: the amount says it does not know."""
    spec = _spec(
        {"name": {"path": "n"}, "amount": {"path": "a", "type": "money", "currency_path": "c"}}
    )
    opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "a": 10, "c": blank})
    assert isinstance(opp, Opportunity) and opp.amount is not None
    assert opp.amount.currency is None
    assert str(opp.amount) == "10.00 (currency unknown)"


def test_money_reads_its_currency_from_the_record() -> None:
    spec = _spec(
        {"name": {"path": "n"}, "amount": {"path": "a", "type": "money", "currency_path": "c"}}
    )
    opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "a": 480500, "c": " eur"})
    assert isinstance(opp, Opportunity) and opp.amount is not None
    assert (opp.amount.amount, opp.amount.currency) == (480500, "EUR")
    assert str(opp.amount) == "EUR 480,500.00"


def test_money_falls_back_to_the_fixed_currency() -> None:
    spec = _spec(
        {
            "name": {"path": "n"},
            "amount": {"path": "a", "type": "money", "currency_path": "c", "currency": "GBP"},
        }
    )
    opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "a": 10, "c": ""})
    assert isinstance(opp, Opportunity) and opp.amount is not None
    assert opp.amount.currency == "GBP"


def test_the_shipped_crm_mapping_assumes_no_currency(salesforce, sf_opportunity) -> None:
    """Without the org's currency (fitted per run) an amount is of unknown currency."""
    del sf_opportunity["CurrencyIsoCode"]
    opp = to_unified(salesforce, "Opportunity", sf_opportunity)
    assert isinstance(opp, Opportunity) and opp.amount is not None
    assert opp.amount.currency is None


def test_money_keeps_decimal_precision() -> None:
    spec = _spec(
        {"name": {"path": "n"}, "amount": {"path": "a", "type": "money", "currency": "gbp"}}
    )
    opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "a": "0.1"})
    assert isinstance(opp, Opportunity) and opp.amount is not None
    assert opp.amount.amount == Decimal("0.1")
    assert opp.amount.currency == "GBP"


def test_read_template_composes_a_value() -> None:
    spec = _spec({"name": {"template": "{{ First }} {{ Last }}"}}, entity="User")
    user = to_unified(spec, "User", {"Id": "5", "First": "Ada", "Last": "Lovelace"})
    assert isinstance(user, User) and user.name == "Ada Lovelace"


def test_read_template_with_undefined_variable_fails_clearly() -> None:
    spec = _spec({"name": {"template": "{{ Missing }}"}}, entity="User")
    with pytest.raises(MappingError, match="'Missing' is undefined"):
        to_unified(spec, "User", {"Id": "5"})


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("boolean", "true", True),
        ("boolean", "No", False),
        ("boolean", 1, True),
        ("string", 42, "42"),
    ],
)
def test_scalar_types(kind, raw, expected) -> None:
    spec = _spec(
        {"active": {"path": "v", "type": kind}}
        if kind == "boolean"
        else {"name": {"path": "v", "type": kind}},
        entity="User",
    )
    user = to_unified(spec, "User", {"Id": "1", "v": raw})
    assert (user.active if kind == "boolean" else user.name) == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("boolean", "maybe"),
        ("integer", "12.5"),
        ("integer", True),
        ("decimal", "1e999999999"),
        ("date", "2026-13-01"),
        ("string", {"nested": 1}),
    ],
)
def test_bad_values_are_refused(kind, raw) -> None:
    spec = _spec({"name": {"path": "n"}, "description": {"path": "v", "type": kind}})
    with pytest.raises(RecordMappingError, match="description <-> v"):
        to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "v": raw})


def test_read_transform_and_list_type() -> None:
    spec = _spec({"email": {"path": "e", "transform": "lower"}}, entity="User")
    assert to_unified(spec, "User", {"Id": "1", "e": "ADA@X.EXAMPLE"}).email == "ada@x.example"  # type: ignore[attr-defined]
    docs = _spec({"name": {"path": "n"}, "documents": {"path": "docs", "type": "list"}})
    opp = to_unified(
        docs, "Opportunity", {"Id": "1", "n": "x", "docs": {"title": "SOW", "url": "https://x/sow"}}
    )
    assert isinstance(opp, Opportunity) and opp.documents[0].title == "SOW"


def test_default_applies_when_the_source_is_empty() -> None:
    spec = _spec({"name": {"path": "n", "default": "(unnamed)"}})
    assert to_unified(spec, "Opportunity", {"Id": "1", "n": None}).name == "(unnamed)"  # type: ignore[attr-defined]


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_text_is_no_value_for_typed_and_mapped_fields(blank) -> None:
    """HubSpot sends ``""`` for a cleared property of any type: the field is empty, not bad."""
    spec = _spec(
        {
            "name": {"path": "n"},
            "amount": {"path": "a", "type": "money", "currency": "USD"},
            "close_date": {"path": "d", "type": "date"},
            "delivery_percent": {"path": "p", "type": "integer"},
            "delivery_health": {"path": "h", "map": {"Red": "red"}},
            "description": {"path": "t", "type": "string"},
        }
    )
    raw = {"Id": "1", "n": "Deal", "a": blank, "d": blank, "p": blank, "h": blank, "t": blank}
    opp = to_unified(spec, "Opportunity", raw)
    assert isinstance(opp, Opportunity)
    assert opp.amount is None and opp.close_date is None and opp.delivery_percent is None
    assert opp.delivery_health is None
    assert opp.description == blank


def test_blank_text_in_a_required_typed_field_is_missing_not_malformed() -> None:
    spec = _spec(
        {"name": {"path": "n"}, "close_date": {"path": "d", "type": "date", "required": True}}
    )
    with pytest.raises(RecordMappingError, match="a value is required"):
        to_unified(spec, "Opportunity", {"Id": "1", "n": "Deal", "d": ""})


def test_a_map_that_lists_blank_keeps_it() -> None:
    spec = _spec({"name": {"path": "n"}, "delivery_health": {"path": "h", "map": {"": "green"}}})
    opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "Deal", "h": ""})
    assert isinstance(opp, Opportunity) and opp.delivery_health is Health.GREEN


def test_an_account_the_user_cannot_see_leaves_the_deal_readable(
    salesforce, sf_opportunity
) -> None:
    """Sharing hides the Account: Salesforce answers ``"Account": null`` beside its id."""
    sf_opportunity["Account"] = None
    opp = to_unified(salesforce, "Opportunity", sf_opportunity)
    assert isinstance(opp, Opportunity) and opp.account is not None
    assert opp.account.refs == {"crm": "001Hb000000000CIAQ"}
    assert opp.account.name is None
    assert opp.amount is not None and opp.name == "Tyrell Analytics - Pilot"


def test_a_value_map_matches_keys_up_to_case_and_stray_spaces() -> None:
    spec = _spec({"name": {"path": "n"}, "delivery_health": {"path": "h", "map": {"Red": "red"}}})
    for value in (" Red", "RED ", "red"):
        opp = to_unified(spec, "Opportunity", {"Id": "1", "n": "Deal", "h": value})
        assert isinstance(opp, Opportunity) and opp.delivery_health is Health.RED


def test_keys_that_fold_alike_but_map_apart_match_only_exactly() -> None:
    spec = _spec(
        {
            "name": {"path": "n"},
            "delivery_health": {"path": "h", "map": {"Red": "red", "RED": "amber"}},
        }
    )
    assert to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "h": "RED"}).delivery_health is (  # type: ignore[attr-defined]
        Health.AMBER
    )
    with pytest.raises(RecordMappingError, match="not in the value map"):
        to_unified(spec, "Opportunity", {"Id": "1", "n": "x", "h": " red"})
