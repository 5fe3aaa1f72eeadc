"""mappings/hubspot.yaml against what the connector really reads and writes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from handoff_hub.hub.mapping.engine import from_unified, to_unified
from handoff_hub.hub.mapping.loader import check_mapping, load_mapping
from handoff_hub.hub.model import Opportunity, Stage

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "hubspot.yaml"


@pytest.fixture(scope="module")
def spec():
    return load_mapping(MAPPING).bind_name("crm")


def test_the_mapping_loads_cleanly():
    loaded, issues = check_mapping(MAPPING)
    assert issues == []
    assert loaded is not None and loaded.system == "hubspot"
    assert set(loaded.entities) == {"Opportunity", "Account", "Contact", "User", "Lead", "Note"}
    assert loaded.entities["Opportunity"].filters == {"won": {"won": True}}


def test_won_deals_map_onto_opportunities(sandbox, connector, spec):
    entity = spec.entities["Opportunity"]
    pages = connector.read_changes(
        entity.object, since=None, fields=entity.source_fields(), where=entity.filters["won"]
    )
    records = [r for p in pages for r in p.records]
    assert records
    for record in records:
        opp = to_unified(spec, "Opportunity", record.raw)
        assert isinstance(opp, Opportunity)
        assert opp.stage is Stage.WON and opp.refs == {"crm": record.id}
        deal = sandbox.state.get("deals", record.id)
        assert opp.name == deal["dealname"]
        assert opp.amount is not None
        assert opp.amount.amount == Decimal(deal["amount"])
        assert opp.amount.currency == deal["deal_currency_code"]
        assert opp.close_date is not None and opp.close_date.isoformat() == deal["closedate"][:10]
        assert opp.owner is not None and opp.owner.refs == {"crm": deal["hubspot_owner_id"]}
        assert opp.owner.email and opp.owner.email == opp.owner.email.lower()
        company = sandbox.state.associations("deals", record.id, "companies")[0]
        assert opp.account is not None and opp.account.refs == {"crm": company}
        assert opp.account.name == sandbox.state.get("companies", company)["name"]
        assert opp.stage_label in {"Closed Won", "Renewed"}
        assert opp.modified_at == record.modified_at


def test_open_and_lost_deals(sandbox, connector, spec):
    records = [r for p in connector.read_changes("deals", since=None) for r in p.records]
    stages = {to_unified(spec, "Opportunity", r.raw).stage for r in records}
    assert stages == {Stage.OPEN, Stage.WON, Stage.LOST}


def test_project_key_written_back_onto_the_deal(sandbox, connector, spec):
    deal = sandbox.state.ids("deals")[0]
    payload = from_unified(spec, "Opportunity", {"project_ref": "DEL-42"}, only=["project_ref"])
    assert payload == {"delivery_project": "DEL-42"}
    [result] = connector.update("deals", [(deal, payload)])
    assert result.ok and sandbox.state.get("deals", deal)["delivery_project"] == "DEL-42"


def test_accounts_owners_and_tasks(sandbox, connector, spec):
    company = next(iter(connector.read_changes("companies", since=None))).records[0]
    account = to_unified(spec, "Account", company.raw)
    assert account.name and account.owner is not None and account.owner.email
    owner = sandbox.state.owners()[0]
    user = to_unified(spec, "User", owner)
    assert user.email == owner["email"].lower()
    assert user.name == f"{owner['firstName']} {owner['lastName']}" and user.active is True
    task = from_unified(
        spec, "Note", {"subject": "Delivery risk: red", "due": "2026-12-01", "done": False}
    )
    [made] = connector.create("tasks", [task])
    assert made.ok
    [read] = connector.read_by_ids(
        "tasks", [str(made.id)], fields=spec.entities["Note"].source_fields()
    )
    note = to_unified(spec, "Note", read.raw)
    assert (note.subject, note.done, str(note.due)) == ("Delivery risk: red", False, "2026-12-01")


def test_a_lead_from_feedback_is_created_on_its_company_and_a_contact(sandbox, connector, spec):
    company = sandbox.state.ids("companies")[1]
    contact = sandbox.state.associations("companies", company, "contacts")[0]
    payload = from_unified(
        spec, "Lead", {"last_name": "Acme - upsell", "company": "Acme", "account": company}
    )
    stamp = spec.entities["Lead"].stamp_field
    assert stamp == "handoff_hub_id"
    [made] = connector.create("leads", [{**payload, stamp: "jira:DEL-12"}])
    assert made.ok, made.error
    lead = sandbox.state.get("leads", str(made.id))
    assert lead is not None and lead["hs_lead_name"] == "Acme - upsell"
    assert lead["handoff_hub_id"] == "jira:DEL-12"
    assert sandbox.state.associations("leads", str(made.id), "companies") == [company]
    assert sandbox.state.associations("leads", str(made.id), "contacts") == [contact]
    assert connector.find_by_external_id("leads", stamp, ["jira:DEL-12"]) == {
        "jira:DEL-12": made.id
    }
    [read] = connector.read_by_ids("leads", [str(made.id)])
    unified = to_unified(spec, "Lead", read.raw)
    assert (unified.company, unified.account) == (
        sandbox.state.get("companies", company)["name"],
        company,
    )
