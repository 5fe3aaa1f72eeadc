"""The sandbox's wire format against the vendor's OpenAPI file and real sample responses.

describe and sObject endpoints are validated with openapi-core against
``salesforce.oas.json``; query, OAuth and error bodies (not in that file) are
compared with restforce's recorded responses, shape for shape.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from salesforce_support import BASE_URL, vendor_json

from handoff_hub.sandboxes.salesforce.schema import OBJECTS

FIXTURES = "restforce-fixtures"


def validate(openapi: OpenAPI, response: httpx.Response) -> None:
    path = response.request.url.path.rstrip("/")
    request = MockRequest(
        BASE_URL, response.request.method.lower(), path, args=dict(response.request.url.params)
    )
    openapi.validate_response(
        request,
        MockResponse(
            response.content, status_code=response.status_code, headers=dict(response.headers)
        ),
    )


def same_shape(actual: Any, sample: Any, where: str = "$") -> None:
    """Every key of the recorded sample exists in ``actual`` with a value of the same JSON type.

    Query records are compared by their ``attributes`` only: the samples select
    a made-up object's fields.
    """
    if sample is None or actual is None:
        return
    if isinstance(sample, dict):
        assert isinstance(actual, dict), where
        keys = ["attributes"] if where.endswith(".records[]") else list(sample)
        for key in keys:
            assert key in actual, f"{where}.{key} missing"
            same_shape(actual[key], sample[key], f"{where}.{key}")
    elif isinstance(sample, list):
        assert isinstance(actual, list), where
        for item in actual[:3]:
            if sample:
                same_shape(item, sample[0], f"{where}[]")
    elif isinstance(sample, bool):
        assert isinstance(actual, bool), where
    elif isinstance(sample, int | float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), where
    else:
        assert isinstance(actual, type(sample)), where


@pytest.mark.parametrize("sobject", sorted(OBJECTS))
def test_describe_matches_openapi(openapi, raw_client, sobject):
    response = raw_client.get(f"/services/data/v61.0/sobjects/{sobject}/describe/")
    assert response.status_code == 200
    validate(openapi, response)
    sample = vendor_json(f"{FIXTURES}/sobject/sobject_describe_success_response.json")
    same_shape(response.json(), sample)


def test_unknown_describe_matches_openapi(openapi, raw_client):
    response = raw_client.get("/services/data/v61.0/sobjects/Widget__c/describe")
    assert response.status_code == 404
    validate(openapi, response)
    sample = vendor_json(f"{FIXTURES}/sobject/sobject_describe_error_response.json")
    assert response.json() == sample


@pytest.mark.parametrize("sobject", ["Account", "Contact", "Opportunity", "User", "Task", "Lead"])
def test_sobject_row_matches_openapi(openapi, sandbox, raw_client, sobject):
    record_id = sandbox.state.ids(sobject)[0]
    response = raw_client.get(f"/services/data/v61.0/sobjects/{sobject}/{record_id}")
    assert response.status_code == 200
    validate(openapi, response)
    assert response.json()["attributes"] == {
        "type": sobject,
        "url": f"/services/data/v61.0/sobjects/{sobject}/{record_id}",
    }


def test_sobject_create_and_update_match_openapi(openapi, sandbox, raw_client):
    created = raw_client.post("/services/data/v61.0/sobjects/Account", json={"Name": "Contract"})
    assert created.status_code == 201
    validate(openapi, created)
    same_shape(created.json(), vendor_json(f"{FIXTURES}/sobject/create_success_response.json"))
    record_id = created.json()["id"]
    updated = raw_client.patch(
        f"/services/data/v61.0/sobjects/Account/{record_id}", json={"Industry": "Media"}
    )
    assert updated.status_code == 204 and not updated.content
    assert sandbox.state.get("Account", record_id)["Industry"] == "Media"
    refused = raw_client.post("/services/data/v61.0/sobjects/Account", json={"Nme": "typo"})
    assert refused.status_code == 400
    validate(openapi, refused)
    same_shape(refused.json(), vendor_json(f"{FIXTURES}/sobject/write_error_response.json"))


def test_missing_row_matches_openapi(openapi, raw_client):
    response = raw_client.get("/services/data/v61.0/sobjects/Account/001Zz00000000AAAAA")
    assert response.status_code == 404
    validate(openapi, response)


def test_query_paging_shapes(raw_client):
    params = {"q": "SELECT Id, Name, Amount, CloseDate, IsWon FROM Opportunity"}
    page = raw_client.get(
        "/services/data/v61.0/query",
        params=params,
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    assert page["done"] is True and page["totalSize"] == len(page["records"])
    same_shape(page, vendor_json(f"{FIXTURES}/sobject/query_success_response.json"))
    record = page["records"][0]
    assert isinstance(record["Amount"], float) and len(record["CloseDate"]) == 10


def test_query_more_shapes(connect, sandbox_transport):
    from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

    sandbox = SalesforceSandbox(seed=4, records=250)
    client = httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL)
    token = client.post(
        "/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.credentials["client_id"],
            "client_secret": sandbox.credentials["client_secret"],
        },
    ).json()
    client.headers["Authorization"] = f"Bearer {token['access_token']}"
    first = client.get(
        "/services/data/v61.0/query",
        params={"q": "SELECT Id FROM Opportunity"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    same_shape(first, vendor_json(f"{FIXTURES}/sobject/query_paginated_first_page_response.json"))
    assert first["nextRecordsUrl"].startswith("/services/data/v61.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200") and len(first["records"]) == 200
    last = client.get(first["nextRecordsUrl"]).json()
    same_shape(last, vendor_json(f"{FIXTURES}/sobject/query_paginated_last_page_response.json"))
    assert last["done"] is True and "nextRecordsUrl" not in last and len(last["records"]) == 50
    stale = client.get("/services/data/v61.0/query/01gNOPE-200")
    assert stale.status_code == 400 and stale.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    client.close()


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Bogus FROM Account", "INVALID_FIELD"),
    ],
)
def test_query_errors_shape(raw_client, soql, code):
    response = raw_client.get("/services/data/v61.0/query", params={"q": soql})
    assert response.status_code == 400
    same_shape(response.json(), vendor_json(f"{FIXTURES}/sobject/query_error_response.json"))
    assert response.json()[0]["errorCode"] == code


def test_oauth_shapes(sandbox, sandbox_transport):
    with httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL) as client:
        ok = client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": sandbox.credentials["client_id"],
                "client_secret": sandbox.credentials["client_secret"],
            },
        )
        refreshed = client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": sandbox.credentials["client_id"],
                "refresh_token": sandbox.credentials["refresh_token"],
            },
        )
        refused = client.post(
            "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": sandbox.credentials["client_id"],
                "refresh_token": "stale",
            },
        )
        expired = client.get(
            "/services/data/v61.0/limits", headers={"Authorization": "Bearer not-a-token"}
        )
    same_shape(ok.json(), vendor_json(f"{FIXTURES}/auth_success_response.json"))
    same_shape(refreshed.json(), vendor_json(f"{FIXTURES}/refresh_success_response.json"))
    assert refused.status_code == 400
    same_shape(refused.json(), vendor_json(f"{FIXTURES}/refresh_error_response.json"))
    assert refused.json()["error_description"] == "expired access/refresh token"
    assert expired.status_code == 401
    assert expired.json() == vendor_json(f"{FIXTURES}/expired_session_response.json")


def test_versions_shape(raw_client):
    versions = raw_client.get("/services/data/").json()
    same_shape(versions, vendor_json(f"{FIXTURES}/services_data_success_response.json"))
    assert versions[0] == {"label": "Winter '11", "url": "/services/data/v20.0", "version": "20.0"}
    assert {"label": "Summer '24", "url": "/services/data/v61.0", "version": "61.0"} in versions


def test_collections_shapes(sandbox, raw_client):
    created = raw_client.post(
        "/services/data/v61.0/composite/sobjects",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Collections"},
                {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
            ],
        },
    ).json()
    assert created[0]["success"] is True and created[0]["errors"] == []
    assert created[1] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    fetched = raw_client.get(
        "/services/data/v61.0/composite/sobjects/Account",
        params={"ids": f"{created[0]['id']},001Zz00000000AAAAA", "fields": "Id,Name"},
    ).json()
    assert fetched[1] is None and fetched[0]["Name"] == "Collections"
    too_many = raw_client.post(
        "/services/data/v61.0/composite/sobjects",
        json={
            "records": [{"attributes": {"type": "Account"}, "Name": str(n)} for n in range(201)],
        },
    )
    assert too_many.status_code == 400
    assert too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_all_or_none_rolls_back(sandbox, raw_client):
    before = sandbox.state.count("Account")
    results = raw_client.post(
        "/services/data/v61.0/composite/sobjects",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Kept?"},
                {"attributes": {"type": "Account"}},
            ],
        },
    ).json()
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUIRED_FIELD_MISSING",
    ]
    assert sandbox.state.count("Account") == before


def test_seeded_data_is_deterministic():
    from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

    one, two = SalesforceSandbox(seed=9, records=30), SalesforceSandbox(seed=9, records=30)
    strip = ("CreatedDate", "LastModifiedDate", "SystemModstamp")

    def rows(sandbox):
        return [
            {k: v for k, v in r.items() if k not in strip}
            for r in sandbox.state.find("Opportunity")
        ]

    assert rows(one) == rows(two)
    assert one.credentials == two.credentials
    other = SalesforceSandbox(seed=10, records=30)
    assert rows(other) != rows(one)
    assert one.state.count("Opportunity", IsWon=True) > 0
    assert {r["CurrencyIsoCode"] for r in one.state.find("Opportunity")} >= {"USD", "EUR"}
