"""Mappings fitted to the org: absent optional fields left out, required ones refused."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from handoff_hub.hub.config.root import HubConfig
from handoff_hub.hub.connector import KnowsOrgSchema
from handoff_hub.hub.errors import AuthError, ConnectorError, TransientError
from handoff_hub.hub.handoffs.catalogue import handoff_entities
from handoff_hub.hub.mapping.engine import to_unified
from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.hub.mapping.org_fit import fit_to_org, needed_fields
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Opportunity

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


class _Org:
    """An org that lacks some fields and has a corporate currency."""

    def __init__(
        self, absent: dict[str, set[str]], currency: str | None = "EUR", fails: str = ""
    ) -> None:
        self.absent = absent
        self.currency = currency
        self.fails = fails
        self.described: list[str] = []

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        self.described.append(object_name)
        if object_name == self.fails:
            raise ConnectorError(f"describe {object_name}: INSUFFICIENT_ACCESS", system="crm")
        return [f for f in fields if f in self.absent.get(object_name, set())]

    def default_currency(self) -> str | None:
        return self.currency


@pytest.fixture(scope="module")
def salesforce() -> MappingSpec:
    return load_mapping(MAPPINGS / "salesforce.yaml").bind_name("crm")


def _opportunity() -> dict[str, object]:
    return {
        "Id": "006A",
        "Name": "Pilot",
        "IsWon": True,
        "IsClosed": True,
        "StageName": "Closed Won",
        "Amount": 1200.5,
        "CloseDate": "2026-11-30",
        "SystemModstamp": "2026-11-30T10:00:00.000+0000",
    }


def test_an_org_without_multi_currency_reads_amounts_in_its_corporate_currency(
    salesforce: MappingSpec,
) -> None:
    org = _Org({"Opportunity": {"CurrencyIsoCode"}})
    assert isinstance(org, KnowsOrgSchema)
    fit = fit_to_org(salesforce, org, file="salesforce.yaml")
    assert fit.issues == []
    opp = fit.spec.entities["Opportunity"]
    assert "CurrencyIsoCode" not in opp.source_fields()
    deal = to_unified(fit.spec, "Opportunity", _opportunity())
    assert isinstance(deal, Opportunity) and deal.amount is not None
    assert (deal.amount.amount, deal.amount.currency) == (Decimal("1200.5"), "EUR")


def test_a_multi_currency_org_keeps_each_record_s_currency(salesforce: MappingSpec) -> None:
    fit = fit_to_org(salesforce, _Org({}), file="salesforce.yaml")
    assert "CurrencyIsoCode" in fit.spec.entities["Opportunity"].source_fields()
    deal = to_unified(fit.spec, "Opportunity", {**_opportunity(), "CurrencyIsoCode": "GBP"})
    assert isinstance(deal, Opportunity) and deal.amount is not None
    assert deal.amount.currency == "GBP"


def test_absent_optional_custom_fields_are_left_out(salesforce: MappingSpec) -> None:
    absent = {"Delivery_Status__c", "Delivery_Due__c", "Delivery_Percent__c"}
    fit = fit_to_org(salesforce, _Org({"Opportunity": absent}), file="salesforce.yaml")
    assert fit.issues == []
    opp = fit.spec.entities["Opportunity"]
    assert not absent & set(opp.source_fields())
    assert {"delivery_status", "delivery_due", "delivery_percent"}.isdisjoint(opp.fields)
    assert fit.left_out["Opportunity"]["delivery_due"] == "Delivery_Due__c"
    assert "project_ref" in opp.write_rules()


def test_a_field_a_configured_handoff_writes_is_a_config_error(salesforce: MappingSpec) -> None:
    config = _config(write_back=True)
    org = _Org({"Opportunity": {"Delivery_Project__c", "Delivery_Health__c"}})
    fit = fit_to_org(salesforce, org, file="m.yaml", needs=needed_fields(config, "crm"))
    messages = [str(i) for i in fit.issues]
    assert len(messages) == 2
    assert (
        "m.yaml: entities.Opportunity.fields.project_ref: the crm org has no field "
        in (messages[0])
    )
    assert "Opportunity.Delivery_Project__c" in messages[0] and "write_back: false" in messages[0]
    assert "Opportunity.Delivery_Health__c" in messages[1] and "write_health" in messages[1]


def test_a_handoff_turned_off_needs_nothing(salesforce: MappingSpec) -> None:
    org = _Org({"Opportunity": {"Delivery_Project__c", "Delivery_Health__c"}})
    needs = needed_fields(_config(write_back=False, write_health=False), "crm")
    assert fit_to_org(salesforce, org, file="m.yaml", needs=needs).issues == []


def test_required_fields_and_stamps_the_org_lacks_are_refused(salesforce: MappingSpec) -> None:
    org = _Org({"Lead": {"Handoff_Hub_Id__c", "Company"}})
    issues = fit_to_org(salesforce, org, file="m.yaml").issues
    text = "\n".join(map(str, issues))
    assert "entities.Lead.stamp_field: the crm org has no field Lead.Handoff_Hub_Id__c" in text
    assert "entities.Lead.fields.company: the crm org has no field Lead.Company" in text
    assert "requires" in text


def test_an_object_that_cannot_be_described_is_left_as_mapped(salesforce: MappingSpec) -> None:
    org = _Org({"Contact": {"Email"}}, fails="Contact")
    fit = fit_to_org(salesforce, org, file="m.yaml")
    assert fit.issues == []
    assert fit.spec.entities["Contact"] == salesforce.entities["Contact"]


def test_sync_pairs_are_needed_on_both_sides(salesforce: MappingSpec) -> None:
    config = _config(sync=True)
    crm = {(n.entity, n.field) for n in needed_fields(config, "crm")}
    pm = {(n.entity, n.field) for n in needed_fields(config, "pm")}
    assert ("Opportunity", "delivery_due") in crm and ("Project", "due") in pm


def _config(*, write_back: bool = True, write_health: bool = True, sync: bool = False) -> HubConfig:
    handoffs: dict[str, object] = {
        "won_to_project": {"crm": "crm", "pm": "pm", "template": "std", "write_back": write_back},
        "risk_to_account_manager": {"crm": "crm", "pm": "pm", "write_health": write_health},
    }
    if sync:
        handoffs["sync"] = {
            "crm": "crm",
            "pm": "pm",
            "fields": [{"crm": "delivery_due", "pm": "due"}],
        }
    return HubConfig.model_validate(
        {
            "systems": {
                "crm": {"connector": "salesforce", "base_url": "https://x", "mapping": "m.yaml"},
                "pm": {"connector": "jira", "base_url": "https://y", "mapping": "n.yaml"},
            },
            "templates": {"std": {"name": "{{ deal.name }}"}},
            "handoffs": handoffs,
        }
    )


def test_issues_give_the_line_of_the_rule(salesforce: MappingSpec) -> None:
    file = MAPPINGS / "salesforce.yaml"
    org = _Org({"Opportunity": {"Delivery_Project__c"}})
    needs = needed_fields(_config(), "crm")
    [issue] = fit_to_org(salesforce, org, file=str(file), needs=needs).issues
    lines = file.read_text().splitlines()
    assert issue.line is not None and "project_ref:" in lines[issue.line - 1]


def test_only_the_entities_the_handoffs_use_must_have_their_stamps(salesforce: MappingSpec) -> None:
    org = _Org({"Lead": {"Handoff_Hub_Id__c"}})
    assert fit_to_org(salesforce, org, file="m.yaml", used={"Opportunity", "Note"}).issues == []
    assert fit_to_org(salesforce, org, file="m.yaml", used={"Lead"}).issues != []


def test_handoff_entities_follow_the_enabled_handoffs() -> None:
    config = _config()
    assert handoff_entities(config, "crm") == {"Opportunity", "Note"}
    assert handoff_entities(config, "pm") == {"Project", "Risk"}


class _Refusing(_Org):
    def __init__(self, error: Exception) -> None:
        super().__init__({})
        self.error = error

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        self.described.append(object_name)
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        AuthError("invalid_client: client secret wrong", system="crm", status=401),
        TransientError("GET /describe: connection refused", system="crm"),
    ],
)
def test_wrong_credentials_or_an_unreachable_org_stop_at_once(
    salesforce: MappingSpec, error: Exception
) -> None:
    org = _Refusing(error)
    with pytest.raises(type(error)):
        fit_to_org(salesforce, org, file="m.yaml")
    assert len(org.described) == 1


def test_an_object_not_shared_with_the_user_is_left_as_mapped(salesforce: MappingSpec) -> None:
    org = _Refusing(AuthError("INSUFFICIENT_ACCESS", system="crm", status=403))
    assert fit_to_org(salesforce, org, file="m.yaml").issues == []
