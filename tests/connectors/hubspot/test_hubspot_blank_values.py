"""Portals that send "" for a cleared property: every read path gives null instead."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hubspot_support import BASE_URL

from handoff_hub.hub.mapping.engine import to_unified
from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.hub.model import Opportunity, Stage
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "hubspot.yaml"


@pytest.fixture
def portal() -> HubSpotSandbox:
    return HubSpotSandbox(
        seed=8,
        records=20,
        rate_limit=RateLimits.generous(),
        profile={"blank_as_empty_string": True},
    )


@pytest.fixture
def won_without_amount(portal: HubSpotSandbox) -> str:
    """A won deal whose amount a user cleared, on a company whose domain was cleared."""
    company = portal.state.add_record("companies", name="Cleared Ltd", domain="cleared.example")
    deal = portal.state.add_deal("Cleared amount", amount=12000, company_id=company)
    portal.state.mark_won(deal)
    portal.state.modify_record("deals", deal, amount="")
    portal.state.modify_record("companies", company, domain="")
    return deal


def test_the_portal_sends_an_empty_string_for_a_cleared_value(portal, won_without_amount):
    token = portal.credentials["access_token"]
    with httpx.Client(
        transport=portal.transport(),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        answer = client.get(
            f"/crm/v3/objects/deals/{won_without_amount}", params={"properties": "amount"}
        )
        described = client.get(
            f"/crm/v3/objects/deals/{won_without_amount}", params={"properties": "description"}
        )
    assert answer.json()["properties"]["amount"] == ""
    assert described.json()["properties"]["description"] is None  # never set: null


def test_search_gives_null_and_the_won_deal_maps(portal, connect, won_without_amount):
    connector = connect(portal)
    spec = load_mapping(MAPPING).bind_name("crm")
    entity = spec.entities["Opportunity"]
    records = [
        r
        for page in connector.read_changes(
            "deals", since=None, fields=entity.source_fields(), where=entity.filters["won"]
        )
        for r in page.records
    ]
    [record] = [r for r in records if r.id == won_without_amount]
    assert record.raw["properties"]["amount"] is None
    assert record.raw["_company"]["domain"] is None  # enrichment reads companies too
    opp = to_unified(spec, "Opportunity", record.raw)
    assert isinstance(opp, Opportunity) and opp.stage is Stage.WON and opp.amount is None


def test_batch_read_and_lookups_by_stamp_give_null(portal, connect, won_without_amount):
    connector = connect(portal)
    [record] = connector.read_by_ids("deals", [won_without_amount], fields=["amount"])
    assert record.raw["properties"]["amount"] is None
    contact = portal.state.add_record("contacts", lastname="Blank", handoff_hub_id="pm:B-1")
    portal.state.modify_record("contacts", contact, jobtitle="CTO")
    portal.state.modify_record("contacts", contact, jobtitle="")
    [again] = connector.read_by_ids("contacts", [contact], fields=["jobtitle"])
    assert again.raw["properties"]["jobtitle"] is None
    assert connector.find_by_external_id("contacts", "handoff_hub_id", ["pm:B-1"]) == {
        "pm:B-1": contact
    }


def test_a_cleared_value_is_no_value_to_search(portal, connect, won_without_amount):
    connector = connect(portal)
    missing = {
        r.id
        for page in connector.read_changes("deals", since=None, where={"amount": None})
        for r in page.records
    }
    assert won_without_amount in missing
