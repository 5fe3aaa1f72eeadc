"""Records owned by deactivated users keep their owner (owners read with archived=true)."""

from __future__ import annotations

from pathlib import Path

import httpx
from hubspot_support import BASE_URL, calls

from handoff_hub.hub.mapping.engine import to_unified
from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.hub.model import Opportunity
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits

DEALS = "deals"
MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "hubspot.yaml"


def portal() -> HubSpotSandbox:
    return HubSpotSandbox(
        seed=6, records=40, rate_limit=RateLimits.generous(), profile={"archived_owners": True}
    )


def test_deactivated_owners_are_listed_only_with_archived_true(sandbox_transport):
    sandbox = portal()
    gone = {o["id"] for o in sandbox.state.owners() if o["archived"]}
    assert gone
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    ) as client:
        active = client.get("/crm/v3/owners").json()["results"]
        archived = client.get("/crm/v3/owners", params={"archived": "true"}).json()["results"]
        one = next(iter(gone))
        hidden = client.get(f"/crm/v3/owners/{one}")
        shown = client.get(f"/crm/v3/owners/{one}", params={"archived": "true"})
    assert not {o["id"] for o in active} & gone
    assert {o["id"] for o in archived} == gone and all(o["archived"] for o in archived)
    assert hidden.status_code == 404 and shown.json()["id"] == one
    owned = {d["hubspot_owner_id"] for d in sandbox.state.find(DEALS)}
    assert owned & gone  # deactivated users still own deals


def test_a_deal_of_a_deactivated_owner_keeps_its_owner(connect):
    sandbox = portal()
    connector = connect(sandbox)
    owners = {o["id"]: o for o in sandbox.state.owners()}
    sandbox.journal.clear()
    records = [r for p in connector.read_changes(DEALS, since=None) for r in p.records]
    assert calls(sandbox, "/crm/v3/owners") == 2  # the active list, then the archived one once
    orphaned = 0
    for record in records:
        owner = owners[record.raw["properties"]["hubspot_owner_id"]]
        assert record.raw["_owner"]["email"] == owner["email"]
        assert record.raw["_owner"]["archived"] is owner["archived"]
        orphaned += owner["archived"]
    assert orphaned


def test_no_extra_call_when_every_owner_is_active(sandbox, connector):
    sandbox.journal.clear()
    list(connector.read_changes(DEALS, since=None))
    assert calls(sandbox, "/crm/v3/owners") == 1


def test_deactivated_owners_are_not_users_to_assign(connect):
    sandbox = portal()
    connector = connect(sandbox)
    gone = next(o for o in sandbox.state.owners() if o["archived"])
    assert connector.find_users([gone["email"]]) == {}


def test_the_mapping_says_the_owner_is_no_longer_active(connect):
    sandbox = portal()
    connector = connect(sandbox)
    spec = load_mapping(MAPPING).bind_name("crm")
    owners = {o["id"]: o for o in sandbox.state.owners()}
    for record in (r for p in connector.read_changes(DEALS, since=None) for r in p.records):
        opp = to_unified(spec, "Opportunity", record.raw)
        assert isinstance(opp, Opportunity) and opp.owner is not None
        assert opp.owner.active is not owners[opp.owner.ref("crm")]["archived"]
