"""The sandbox's wire format: paths, payloads, limits, error bodies and headers.

HubSpot's own OpenAPI files may not be copied here, so these checks encode
what HubSpot's public documentation shows: error and 429 bodies, rate-limit
headers, search and batch limits, batch multi-status answers, pipelines and
properties payloads, associations v4 and the OAuth token endpoint.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from hubspot_support import BASE_URL, ManualClock

from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits

RATE_HEADERS = {
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Secondly",
    "X-HubSpot-RateLimit-Secondly-Remaining",
}
SEARCH = "/crm/v3/objects/deals/search"


def is_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value


def test_401_body(sandbox, sandbox_transport):
    with httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL) as client:
        response = client.get("/crm/v3/objects/deals", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"status", "message", "correlationId", "category"}
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found.")
    assert is_uuid(body["correlationId"])


def test_expired_oauth_token(sandbox, sandbox_transport):
    with httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL) as client:
        token = client.post(
            "/oauth/v1/token", data={"grant_type": "refresh_token", **sandbox.oauth_credentials}
        ).json()
        assert set(token) == {"token_type", "refresh_token", "access_token", "expires_in"}
        assert token["expires_in"] == 1800 and token["token_type"] == "bearer"
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.get("/crm/v3/owners", headers=headers).status_code == 200
        sandbox.state.expire_tokens()
        expired = client.get("/crm/v3/owners", headers=headers)
        refused = client.post(
            "/oauth/v1/token",
            data={**sandbox.oauth_credentials, "grant_type": "refresh_token", "refresh_token": "x"},
        )
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert (
        expired.json()["message"]
        == "The OAuth token used to make this call expired 0 second(s) ago."
    )
    assert refused.status_code == 400
    assert refused.json()["status"] == "BAD_REFRESH_TOKEN"
    assert refused.json()["message"] == "missing or invalid refresh token"


def test_rate_limit_headers_on_api_calls_not_on_search(raw_client):
    listed = raw_client.get("/crm/v3/objects/companies", params={"limit": 2})
    assert all(name in listed.headers for name in RATE_HEADERS)
    assert listed.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    searched = raw_client.post(SEARCH, json={"limit": 1})
    assert searched.status_code == 200
    assert not any(h in searched.headers for h in RATE_HEADERS)


def test_429_body_and_headers(sandbox_transport):
    sandbox = HubSpotSandbox(
        seed=1, records=5, clock=ManualClock(), rate_limit=RateLimits(secondly=1, per_interval=50)
    )
    headers = {"Authorization": f"Bearer {sandbox.credentials['access_token']}"}
    with httpx.Client(
        transport=sandbox_transport(sandbox), base_url=BASE_URL, headers=headers
    ) as client:
        first = client.get("/crm/v3/owners")
        second = client.get("/crm/v3/owners")
    assert first.headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "0"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "49"
    assert second.status_code == 429
    body = second.json()
    assert body == {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": body["correlationId"],
        "policyName": "SECONDLY",
    }
    assert second.headers["Retry-After"] == "1"
    assert second.headers["X-HubSpot-RateLimit-Secondly"] == "1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"limit": 201}, "limit must be between 1 and 200"),
        ({"limit": 200, "after": "9900"}, "cannot page past 10000 results"),
        ({"limit": 100, "after": "9900"}, None),
        ({"filterGroups": [{"filters": []}] * 6}, "at most 5 groups"),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "dealname", "operator": "HAS_PROPERTY"}] * 11}
                ]
            },
            "at most 10 filters",
        ),
        (
            {
                "filterGroups": [
                    {"filters": [{"propertyName": "colour", "operator": "EQ", "value": "x"}]}
                ]
            },
            "Property 'colour' does not exist on DEAL",
        ),
        ({"sorts": [{"propertyName": "dealname"}, {"propertyName": "amount"}]}, "at most one sort"),
    ],
)
def test_search_limits(raw_client, body, message):
    response = raw_client.post(SEARCH, json=body)
    if message is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert message in response.json()["message"]


def test_search_answer_shape_and_operators(sandbox, raw_client):
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "amount", "operator": "GTE", "value": "100000"}]},
            {"filters": [{"propertyName": "dealstage", "operator": "IN", "values": ["CLOSEDWON"]}]},
        ],
        "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
        "properties": ["amount", "dealstage", "not_a_property"],
        "limit": 3,
    }
    page = raw_client.post(SEARCH, json=body).json()
    expected = [
        d
        for d in sandbox.state.find("deals")
        if float(d["amount"]) >= 100000 or d["dealstage"] == "closedwon"
    ]
    assert page["total"] == len(expected) > 3
    assert page["paging"] == {"next": {"after": "3"}}
    amounts = [float(r["properties"]["amount"]) for r in page["results"]]
    assert amounts == sorted(amounts, reverse=True)
    record = page["results"][0]
    assert set(record) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert set(record["properties"]) == {
        "amount",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }
    assert record["updatedAt"] == record["properties"]["hs_lastmodifieddate"]
    assert record["updatedAt"].endswith("Z") and len(record["updatedAt"]) == 24


def test_batch_limits_and_multi_status(sandbox, raw_client):
    too_many = raw_client.post(
        "/crm/v3/objects/companies/batch/read",
        json={"inputs": [{"id": str(n)} for n in range(101)]},
    )
    assert too_many.status_code == 400
    real = sandbox.state.ids("companies")[:2]
    partly = raw_client.post(
        "/crm/v3/objects/companies/batch/read",
        json={
            "inputs": [{"id": real[0]}, {"id": "1"}, {"id": real[1]}, {"id": "2"}],
            "properties": ["name"],
        },
    )
    assert partly.status_code == 207
    body = partly.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 1
    assert [r["id"] for r in body["results"]] == real
    assert body["errors"] == [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some COMPANY objects, they may be deleted or not exist."
            " Check that ids are valid.",
            "context": {"ids": ["1", "2"]},
        }
    ]
    assert {"startedAt", "completedAt"} <= set(body)


def test_batch_create_echoes_trace_ids_and_refuses_as_a_whole(sandbox, raw_client):
    url = "/crm/v3/objects/companies/batch/create"
    created = raw_client.post(
        url,
        json={
            "inputs": [
                {"properties": {"name": "One"}, "objectWriteTraceId": "a"},
                {"properties": {"name": "Two"}, "objectWriteTraceId": "b"},
            ]
        },
    )
    assert created.status_code == 201
    results = created.json()["results"]
    assert [r["objectWriteTraceId"] for r in results] == ["b", "a"]  # not in input order
    before = sandbox.state.count("companies")
    refused = raw_client.post(
        url, json={"inputs": [{"properties": {"name": "Fine"}}, {"properties": {"colour": "red"}}]}
    )
    assert refused.status_code == 400 and sandbox.state.count("companies") == before
    body = refused.json()
    assert body["category"] == "VALIDATION_ERROR"
    prefix = "Property values were not valid: "
    assert body["message"].startswith(prefix)
    assert json.loads(body["message"][len(prefix) :]) == [
        {
            "isValid": False,
            "message": 'Property "colour" does not exist',
            "error": "PROPERTY_DOESNT_EXIST",
            "name": "colour",
            "localizedErrorMessage": 'Property "colour" does not exist',
        }
    ]


def test_a_batch_may_not_name_a_record_twice(sandbox, raw_client):
    record = sandbox.state.ids("companies")[0]
    response = raw_client.post(
        "/crm/v3/objects/companies/batch/update",
        json={"inputs": [{"id": record, "properties": {"city": c}} for c in ("A", "B")]},
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        f"Duplicate IDs found in batch input: ['{record}']"
    )


def test_unique_property_conflict(sandbox, raw_client):
    sandbox.state.add_record("companies", name="A", handoff_hub_id="hub-1")
    response = raw_client.post(
        "/crm/v3/objects/companies", json={"properties": {"name": "B", "handoff_hub_id": "hub-1"}}
    )
    assert response.status_code == 409
    assert response.json()["category"] == "CONFLICT"
    email = sandbox.state.find("contacts")[0]["email"]
    again = raw_client.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": email.upper()}}
    )
    assert again.status_code == 409 and again.json()["message"].startswith("Contact already exists")
    not_unique = raw_client.post(
        "/crm/v3/objects/companies/batch/read",
        json={"inputs": [{"id": "x"}], "idProperty": "name"},
    )
    assert not_unique.status_code == 400


def test_pipelines_payload(raw_client):
    pipelines = raw_client.get("/crm/v3/pipelines/deals").json()["results"]
    assert [p["id"] for p in pipelines] == ["default", "1467431"]
    won = [
        (p["id"], s["id"])
        for p in pipelines
        for s in p["stages"]
        if s["metadata"] == {"isClosed": "true", "probability": "1.0"}
    ]
    assert won == [("default", "closedwon"), ("1467431", "1982542")]
    stage = pipelines[0]["stages"][0]
    assert set(stage) >= {
        "id",
        "label",
        "displayOrder",
        "metadata",
        "createdAt",
        "updatedAt",
        "archived",
    }
    assert raw_client.get("/crm/v3/pipelines/widgets").status_code == 400


def test_properties_payload(raw_client):
    properties = {
        p["name"]: p for p in raw_client.get("/crm/v3/properties/deals").json()["results"]
    }
    stamp = properties["handoff_hub_id"]
    assert stamp["hasUniqueValue"] is True and stamp["hubspotDefined"] is False
    assert stamp["type"] == "string"
    assert properties["delivery_project"]["type"] == "string"
    health = properties["delivery_health"]
    assert health["type"] == "enumeration"
    assert [o["value"] for o in health["options"]] == ["green", "amber", "red"]
    assert properties["hs_lastmodifieddate"]["modificationMetadata"]["readOnlyValue"] is True
    one = raw_client.get("/crm/v3/properties/deals/dealstage").json()
    assert one["name"] == "dealstage" and len(one["options"]) == 11


def test_owners_paging_and_email(sandbox, raw_client):
    first = raw_client.get("/crm/v3/owners", params={"limit": 2}).json()
    assert len(first["results"]) == 2 and first["paging"]["next"]["after"] == "2"
    owner = first["results"][0]
    assert set(owner) >= {"id", "email", "firstName", "lastName", "userId", "archived", "teams"}
    by_email = raw_client.get("/crm/v3/owners", params={"email": owner["email"].upper()}).json()
    assert [o["id"] for o in by_email["results"]] == [owner["id"]]
    assert raw_client.get("/crm/v3/owners", params={"limit": 501}).status_code == 400


def test_associations_v4(sandbox, raw_client):
    deal = sandbox.state.ids("deals")[0]
    company = sandbox.state.associations("deals", deal, "companies")[0]
    batch = raw_client.post(
        "/crm/v4/associations/deals/companies/batch/read", json={"inputs": [{"id": deal}]}
    ).json()
    assert batch["results"] == [
        {
            "from": {"id": deal},
            "to": [
                {
                    "toObjectId": int(company),
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                        {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
                    ],
                }
            ],
        }
    ]
    listed = raw_client.get(f"/crm/v4/objects/deals/{deal}/associations/companies").json()
    assert listed["results"] == batch["results"][0]["to"]
    contact = sandbox.state.ids("contacts")[-1]
    put = raw_client.put(f"/crm/v4/objects/deals/{deal}/associations/default/contacts/{contact}")
    assert put.status_code == 200
    assert put.json()["results"][0]["associationSpec"] == {
        "associationCategory": "HUBSPOT_DEFINED",
        "associationTypeId": 3,
    }
    assert contact in sandbox.state.associations("deals", deal, "contacts")
    missing = raw_client.put(f"/crm/v4/objects/deals/{deal}/associations/default/contacts/1")
    assert missing.status_code == 404


def test_single_records_lists_and_unknown_types(sandbox, raw_client):
    company = sandbox.state.ids("companies")[0]
    one = raw_client.get(
        f"/crm/v3/objects/companies/{company}", params={"properties": "name,domain"}
    )
    assert one.status_code == 200 and one.json()["properties"]["name"]
    assert raw_client.get("/crm/v3/objects/companies/1").status_code == 404
    page = raw_client.get("/crm/v3/objects/companies", params={"limit": 3}).json()
    assert (
        len(page["results"]) == 3 and page["paging"]["next"]["after"] == page["results"][-1]["id"]
    )
    patched = raw_client.patch(
        f"/crm/v3/objects/companies/{company}", json={"properties": {"city": "Berlin"}}
    )
    assert (
        patched.status_code == 200 and sandbox.state.get("companies", company)["city"] == "Berlin"
    )
    unknown = raw_client.get("/crm/v3/objects/widgets")
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "Unable to infer object type from: widgets"
    assert raw_client.get("/crm/v3/objects/0-2", params={"limit": 1}).status_code == 200


def test_account_info(sandbox, raw_client):
    details = raw_client.get("/account-info/v3/details").json()
    assert details["portalId"] == sandbox.settings["portal_id"]
    assert details["uiDomain"] == "app-eu1.hubspot.com"
    usage = raw_client.get("/account-info/v3/api-usage/daily/private-apps").json()["results"][0]
    assert usage["name"] == "api-calls-daily" and usage["currentUsage"] == sandbox.state.api_usage


def test_seeded_data_is_deterministic_and_realistic():
    one = HubSpotSandbox(seed=9, records=40, clock=ManualClock())
    two = HubSpotSandbox(seed=9, records=40, clock=ManualClock())
    assert one.state.find("deals") == two.state.find("deals")
    assert one.credentials == two.credentials and one.oauth_credentials == two.oauth_credentials
    assert HubSpotSandbox(seed=10, records=40, clock=ManualClock()).state.find(
        "deals"
    ) != one.state.find("deals")
    deals = one.state.find("deals")
    assert {d["pipeline"] for d in deals} == {"default", "1467431"}
    assert {d["hs_is_closed_won"] for d in deals} == {"true", "false"}
    assert any(d["hs_is_closed"] == "true" and d["hs_is_closed_won"] == "false" for d in deals)
    assert {d["deal_currency_code"] for d in deals} >= {"USD", "EUR"}
    assert all(float(d["amount"]) > 0 and d["closedate"].endswith("T00:00:00.000Z") for d in deals)
    assert all(one.state.associations("deals", d["id"], "companies") for d in deals)
    assert all(one.state.associations("deals", d["id"], "contacts") for d in deals)
    assert one.state.count("leads") and one.state.count("tasks") and one.state.count("notes")
