"""The sandbox keeps a department's parent company as HubSpot does (v4 types 13/14)."""

from __future__ import annotations

import httpx

from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox


def test_parent_and_child_companies_are_associations_and_read_only_properties(
    sandbox: HubSpotSandbox, raw_client: httpx.Client
) -> None:
    parent, child, sibling = sandbox.state.ids("companies")[:3]
    up = raw_client.get(f"/crm/v4/objects/companies/{child}/associations/companies")
    assert up.status_code == 200, up.text
    [to_parent] = up.json()["results"]
    assert str(to_parent["toObjectId"]) == parent
    assert to_parent["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 14, "label": "Parent Company"}
    ]
    down = raw_client.get(f"/crm/v4/objects/companies/{parent}/associations/companies")
    assert {str(r["toObjectId"]) for r in down.json()["results"]} == {child, sibling}
    assert {t["typeId"] for r in down.json()["results"] for t in r["associationTypes"]} == {13}
    props = "hs_parent_company_id,hs_num_child_companies"
    top = raw_client.get(f"/crm/v3/objects/companies/{parent}", params={"properties": props})
    department = raw_client.get(f"/crm/v3/objects/companies/{child}", params={"properties": props})
    assert top.json()["properties"]["hs_num_child_companies"] == "2"
    assert top.json()["properties"]["hs_parent_company_id"] is None
    assert department.json()["properties"]["hs_parent_company_id"] == parent


def test_the_parent_is_read_only_as_in_hubspot(
    sandbox: HubSpotSandbox, raw_client: httpx.Client
) -> None:
    child = sandbox.state.ids("companies")[1]
    answer = raw_client.patch(
        f"/crm/v3/objects/companies/{child}", json={"properties": {"hs_parent_company_id": "1"}}
    )
    assert answer.status_code == 400, answer.text
