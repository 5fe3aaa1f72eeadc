"""HubSpot's official Python SDK (hubspot-api-client) against the served sandbox.

Admins script against ``hub sandbox serve``; each test is one common call of
the SDK, made over a real localhost port, and checked against the portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.deals import AssociationSpec as DealAssociationSpec
from hubspot.crm.deals import PublicAssociationsForObject, PublicObjectId
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealInput

from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.kit.server import RunningSandbox, serve_in_thread


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    running = serve_in_thread(HubSpotSandbox(seed=12, records=30, rate_limit=RateLimits.generous()))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def portal(served: RunningSandbox) -> HubSpotSandbox:
    sandbox = served.sandbox
    assert isinstance(sandbox, HubSpotSandbox)
    return sandbox


@pytest.fixture(scope="module")
def api(served: RunningSandbox, portal: HubSpotSandbox) -> HubSpot:
    return HubSpot(access_token=portal.credentials["access_token"], host=served.url)


def _new_company(api: HubSpot, name: str, **properties: Any) -> str:
    created = api.crm.companies.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"name": name, **properties}
        )
    )
    return str(created.id)


# basic API ----------------------------------------------------------------------------------


def test_basic_get_page_follows_paging(api: HubSpot, portal: HubSpotSandbox) -> None:
    first = api.crm.companies.basic_api.get_page(limit=5, properties=["name", "domain"])
    assert len(first.results) == 5 and first.paging.next.after
    second = api.crm.companies.basic_api.get_page(limit=5, after=first.paging.next.after)
    assert {c.id for c in first.results}.isdisjoint({c.id for c in second.results})
    assert (
        first.results[0].properties["name"]
        == portal.state.get("companies", first.results[0].id)["name"]
    )


def test_generic_objects_get_page(api: HubSpot, portal: HubSpotSandbox) -> None:
    page = api.crm.objects.basic_api.get_page("deals", limit=3, properties=["dealname"])
    assert [d.id for d in page.results] == portal.state.ids("deals")[:3]


def test_basic_get_by_id(api: HubSpot, portal: HubSpotSandbox) -> None:
    deal_id = portal.state.ids("deals")[0]
    deal = api.crm.deals.basic_api.get_by_id(deal_id, properties=["dealname", "amount"])
    assert deal.id == deal_id
    assert deal.properties["dealname"] == portal.state.get("deals", deal_id)["dealname"]
    assert deal.created_at is not None and deal.archived is False


def test_basic_get_by_id_of_a_missing_record_is_404(api: HubSpot) -> None:
    with pytest.raises(CompaniesApiException) as caught:
        api.crm.companies.basic_api.get_by_id("99999999999")
    assert caught.value.status == 404


def test_basic_create_and_update(api: HubSpot, portal: HubSpotSandbox) -> None:
    company_id = _new_company(api, "SDK Basic Ltd", domain="sdk-basic.example")
    updated = api.crm.companies.basic_api.update(
        company_id, simple_public_object_input=SimplePublicObjectInput(properties={"city": "Oslo"})
    )
    assert updated.properties["city"] == "Oslo"
    assert portal.state.get("companies", company_id)["city"] == "Oslo"


def test_basic_archive_then_read_archived(api: HubSpot, portal: HubSpotSandbox) -> None:
    company_id = _new_company(api, "SDK Archived Ltd")
    api.crm.companies.basic_api.archive(company_id)
    assert portal.state.get("companies", company_id) is None
    with pytest.raises(CompaniesApiException) as caught:
        api.crm.companies.basic_api.get_by_id(company_id)
    assert caught.value.status == 404
    archived = api.crm.companies.basic_api.get_by_id(company_id, archived=True)
    assert archived.archived is True and archived.archived_at is not None
    listed = api.crm.companies.basic_api.get_page(limit=100, archived=True)
    assert company_id in {c.id for c in listed.results}


# batch API ----------------------------------------------------------------------------------


def test_batch_create_and_read(api: HubSpot, portal: HubSpotSandbox) -> None:
    created = api.crm.companies.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(
                        properties={"name": f"SDK Batch {n}"}, associations=[]
                    )
                    for n in range(3)
                ]
            )
        )
    )
    ids = sorted(r.id for r in created.results)
    assert created.status == "COMPLETE" and len(ids) == 3
    read = api.crm.companies.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ids],
            properties=["name"],
            properties_with_history=[],
        )
    )
    assert sorted(r.properties["name"] for r in read.results) == [
        f"SDK Batch {n}" for n in range(3)
    ]


def test_batch_update(api: HubSpot, portal: HubSpotSandbox) -> None:
    ids = [_new_company(api, f"SDK Update {n}") for n in range(2)]
    updated = api.crm.companies.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=i, properties={"city": "Lyon"}) for i in ids]
        )
    )
    assert sorted(r.id for r in updated.results) == sorted(ids)
    assert {portal.state.get("companies", i)["city"] for i in ids} == {"Lyon"}


def test_batch_upsert_by_a_unique_property(api: HubSpot, portal: HubSpotSandbox) -> None:
    upserted = api.crm.companies.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    SimplePublicObjectBatchInputUpsert(
                        id="sdk-upsert-1",
                        id_property="handoff_hub_id",
                        properties={"name": "SDK Upsert"},
                    )
                ]
            )
        )
    )
    [result] = upserted.results
    assert result.new is True
    assert portal.state.get("companies", result.id)["handoff_hub_id"] == "sdk-upsert-1"


def test_batch_archive(api: HubSpot, portal: HubSpotSandbox) -> None:
    ids = [_new_company(api, f"SDK Gone {n}") for n in range(2)]
    api.crm.companies.batch_api.archive(
        batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ids]
        )
    )
    assert [portal.state.get("companies", i) for i in ids] == [None, None]


# search, owners, pipelines, properties --------------------------------------------------------


def test_search(api: HubSpot, portal: HubSpotSandbox) -> None:
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[Filter(property_name="deal_currency_code", operator="EQ", value="EUR")]
            )
        ],
        sorts=["hs_lastmodifieddate"],
        properties=["dealname", "deal_currency_code"],
        limit=100,
    )
    found = api.crm.deals.search_api.do_search(public_object_search_request=request)
    assert found.total == portal.state.count("deals", deal_currency_code="EUR") > 0
    assert {d.properties["deal_currency_code"] for d in found.results} == {"EUR"}


def test_owners(api: HubSpot, portal: HubSpotSandbox) -> None:
    page = api.crm.owners.owners_api.get_page(limit=100)
    assert {o.email for o in page.results} == {o["email"] for o in portal.state.owners()}
    one = api.crm.owners.owners_api.get_by_id(page.results[0].id)
    assert one.email == page.results[0].email


def test_pipelines_and_stages(api: HubSpot) -> None:
    pipelines = api.crm.pipelines.pipelines_api.get_all("deals")
    default = next(p for p in pipelines.results if p.id == "default")
    assert {s.metadata["isClosed"] for s in default.stages} == {"true", "false"}
    again = api.crm.pipelines.pipelines_api.get_by_id("deals", "default")
    assert again.label == default.label
    stages = api.crm.pipelines.pipeline_stages_api.get_all("deals", "default")
    assert [s.id for s in stages.results] == [s.id for s in default.stages]


def test_properties(api: HubSpot) -> None:
    listed = api.crm.properties.core_api.get_all("deals")
    names = {p.name for p in listed.results}
    assert {"dealname", "amount", "handoff_hub_id"} <= names
    one = api.crm.properties.core_api.get_by_name("companies", "handoff_hub_id")
    assert one.has_unique_value is True


# associations ---------------------------------------------------------------------------------


def test_associations_v4_list_and_batch_read(api: HubSpot, portal: HubSpotSandbox) -> None:
    deal_id = portal.state.ids("deals")[0]
    page = api.crm.associations.v4.basic_api.get_page("deals", deal_id, "companies")
    assert [str(a.to_object_id) for a in page.results] == portal.state.associations(
        "deals", deal_id, "companies"
    )
    batch = api.crm.associations.v4.batch_api.get_page(
        "deals",
        "companies",
        batch_input_public_fetch_associations_batch_request=(
            BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": deal_id}])
        ),
    )
    assert [str(t.to_object_id) for t in batch.results[0].to] == portal.state.associations(
        "deals", deal_id, "companies"
    )


def test_associations_v4_create_default_labelled_and_archive(
    api: HubSpot, portal: HubSpotSandbox
) -> None:
    company_id = _new_company(api, "SDK Associated Ltd")
    contact_id = portal.state.ids("contacts")[0]
    api.crm.associations.v4.basic_api.create_default(
        "companies", company_id, "contacts", contact_id
    )
    assert portal.state.associations("companies", company_id, "contacts") == [contact_id]
    deal_id = portal.state.ids("deals")[1]
    api.crm.associations.v4.basic_api.create(
        "deals",
        deal_id,
        "companies",
        company_id,
        association_spec=[
            AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=341)
        ],
    )
    assert company_id in portal.state.associations("deals", deal_id, "companies")
    api.crm.associations.v4.basic_api.archive("deals", deal_id, "companies", company_id)
    assert company_id not in portal.state.associations("deals", deal_id, "companies")


def test_create_with_associations(api: HubSpot, portal: HubSpotSandbox) -> None:
    company_id = portal.state.ids("companies")[0]
    deal = api.crm.deals.basic_api.create(
        simple_public_object_input_for_create=DealInput(
            properties={"dealname": "SDK Deal", "dealstage": "appointmentscheduled"},
            associations=[
                PublicAssociationsForObject(
                    to=PublicObjectId(id=company_id),
                    types=[
                        DealAssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=341
                        )
                    ],
                )
            ],
        )
    )
    assert portal.state.associations("deals", deal.id, "companies") == [company_id]
    with_links = api.crm.deals.basic_api.get_by_id(deal.id, associations=["companies"])
    assert [a.id for a in with_links.associations["companies"].results] == [company_id]
