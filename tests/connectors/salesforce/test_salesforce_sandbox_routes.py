"""The sandbox's resources beyond the connector's: shapes, status codes and SOSL."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

import httpx
import pytest
from salesforce_support import BASE_URL
from test_salesforce_contract import validate

from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox
from handoff_hub.sandboxes.salesforce.org import org_schema
from handoff_hub.sandboxes.salesforce.soql import SoqlError
from handoff_hub.sandboxes.salesforce.sosl import run_search
from handoff_hub.sandboxes.salesforce.store import RecordStore

DATA = "/services/data/v61.0"
NOW = dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)


def test_describe_global_matches_openapi(openapi, raw_client):
    response = raw_client.get(f"{DATA}/sobjects/")
    assert response.status_code == 200
    validate(openapi, response)
    names = [o["name"] for o in response.json()["sobjects"]]
    assert names == sorted(names) and "Organization" in names


def test_basic_information_matches_openapi(openapi, raw_client):
    response = raw_client.get(f"{DATA}/sobjects/Account")
    assert response.status_code == 200
    validate(openapi, response)
    assert len(response.json()["recentItems"]) == 3


def test_delete_moves_to_the_recycle_bin(openapi, sandbox, raw_client):
    record_id = sandbox.state.ids("Contact")[0]
    deleted = raw_client.delete(f"{DATA}/sobjects/Contact/{record_id}")
    assert deleted.status_code == 204 and not deleted.content
    assert sandbox.state.get("Contact", record_id) is None
    again = raw_client.delete(f"{DATA}/sobjects/Contact/{record_id}")
    assert again.status_code == 404
    assert again.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED"}]
    missing = raw_client.delete(f"{DATA}/sobjects/Contact/003Zz00000000AAAAA")
    assert missing.json()[0]["errorCode"] == "NOT_FOUND"
    users = raw_client.delete(f"{DATA}/sobjects/User/{sandbox.state.ids('User')[1]}")
    assert users.status_code == 405


def test_get_deleted_matches_openapi(openapi, client_for):
    now = [NOW]
    sandbox = SalesforceSandbox(seed=2, records=5, clock=lambda: now[0])
    client = client_for(sandbox)
    record_id = sandbox.state.ids("Lead")[0]
    now[0] += dt.timedelta(minutes=1)
    client.delete(f"{DATA}/sobjects/Lead/{record_id}")
    window = {"start": NOW.isoformat(), "end": (NOW + dt.timedelta(minutes=1)).isoformat()}
    before = client.get(f"{DATA}/sobjects/Lead/deleted/", params=window)
    assert before.json()["deletedRecords"] == []
    now[0] += dt.timedelta(minutes=1)
    window["end"] = now[0].isoformat()
    response = client.get(f"{DATA}/sobjects/Lead/deleted/", params=window)
    validate(openapi, response)
    assert response.json()["deletedRecords"] == [
        {"id": record_id, "deletedDate": "2026-11-20T10:16:00.000+0000"}
    ]
    assert response.json()["latestDateCovered"] == "2026-11-20T10:17:00.000+0000"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start": "yesterday", "end": "2026-01-01T00:00:00Z"}, "MISSING_ARGUMENT"),
        ({"end": "2026-01-01T00:00:00Z"}, "MISSING_ARGUMENT"),
        (
            {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            "INVALID_REPLICATION_DATE",
        ),
        (
            {"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z"},
            "INVALID_REPLICATION_DATE",
        ),
    ],
)
def test_get_updated_refuses_bad_windows(raw_client, params, code):
    response = raw_client.get(f"{DATA}/sobjects/Account/updated", params=params)
    assert response.status_code == 400 and response.json()[0]["errorCode"] == code


def test_get_updated_stops_before_an_uncommitted_change(client_for):
    clock = iter(NOW + dt.timedelta(minutes=n) for n in range(10_000))
    sandbox = SalesforceSandbox(seed=2, records=5, clock=lambda: next(clock))
    late = sandbox.state.add_late("Account", Name="Long transaction")
    made = sandbox.state.add_record("Account", Name="Meanwhile")
    client = client_for(sandbox)
    window = {"start": NOW.isoformat(), "end": (NOW + dt.timedelta(days=1)).isoformat()}
    pending = client.get(f"{DATA}/sobjects/Account/updated", params=window).json()
    held_at = sandbox.store.held[late][1]["SystemModstamp"]
    assert pending["latestDateCovered"] == held_at and made not in pending["ids"]
    sandbox.state.commit_late()
    done = client.get(f"{DATA}/sobjects/Account/updated", params=window).json()
    assert late in done["ids"] and made in done["ids"]


@pytest.fixture
def client_for(sandbox_transport) -> Callable[[SalesforceSandbox], httpx.Client]:
    """A client with a token of the given sandbox (its transport shut down after the test)."""

    def make(sandbox: SalesforceSandbox) -> httpx.Client:
        client = httpx.Client(transport=sandbox_transport(sandbox), base_url=BASE_URL)
        secrets = {k: sandbox.credentials[k] for k in ("client_id", "client_secret")}
        form = {"grant_type": "client_credentials", **secrets}
        token = client.post("/services/oauth2/token", data=form).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        return client

    return make


def test_token_endpoint_takes_client_credentials_as_basic_auth(sandbox, transports):
    transport = sandbox.transport()
    transports.append(transport)
    client = httpx.Client(transport=transport, base_url=BASE_URL)
    pair = f"{sandbox.credentials['client_id']}:{sandbox.credentials['client_secret']}"
    basic = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    ok = client.post(
        "/services/oauth2/token", data={"grant_type": "client_credentials"}, headers=basic
    )
    assert ok.status_code == 200 and ok.json()["access_token"]
    wrong = {"Authorization": "Basic " + base64.b64encode(b"someone:else").decode()}
    refused = client.post(
        "/services/oauth2/token", data={"grant_type": "client_credentials"}, headers=wrong
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_id"


def test_external_id_rows(sandbox, raw_client):
    url = f"{DATA}/sobjects/Account/Handoff_Hub_Id__c/hh-route-1"
    created = raw_client.patch(url, json={"Name": "Routed"})
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "success": True,
        "errors": [],
        "created": True,
    }
    updated = raw_client.patch(url, json={"Industry": "Media"})
    assert updated.status_code == 200 and updated.json()["created"] is False
    assert raw_client.get(url).json()["Industry"] == "Media"
    mismatch = raw_client.patch(url, json={"Handoff_Hub_Id__c": "other"})
    assert mismatch.status_code == 400
    unknown = raw_client.get(f"{DATA}/sobjects/Account/Nope__c/x")
    assert unknown.json() == [
        {
            "message": "Provided external ID field does not exist or is not accessible: Nope__c",
            "errorCode": "NOT_FOUND",
        }
    ]
    not_external = raw_client.get(f"{DATA}/sobjects/Account/Industry/Media")
    assert not_external.status_code == 400
    assert raw_client.delete(url).status_code == 204
    assert raw_client.get(url).status_code == 404


def test_external_id_matching_several_records_is_300(sandbox, raw_client):
    account = sandbox.store.schema.object("Account")
    with sandbox.store.lock:
        for name, stamp in (("One", "HH-Twin"), ("Two", "hh-twin")):
            sandbox.store.put(account, {"Name": name, "Handoff_Hub_Id__c": stamp}, NOW)
    url = f"{DATA}/sobjects/Account/Handoff_Hub_Id__c/hh-twin"
    for answer in (raw_client.get(url), raw_client.patch(url, json={"Name": "Which?"})):
        assert answer.status_code == 300
        assert len(answer.json()) == 2 and all(
            u.startswith(f"{DATA}/sobjects/Account/") for u in answer.json()
        )


def test_query_all_pages_under_query_all(sandbox, raw_client):
    for record_id in sandbox.state.ids("Opportunity")[:5]:
        raw_client.delete(f"{DATA}/sobjects/Opportunity/{record_id}")
    first = raw_client.get(
        f"{DATA}/queryAll",
        params={"q": "SELECT Id, IsDeleted FROM Opportunity"},
        headers={"Sforce-Query-Options": "batchSize=200"},
    ).json()
    assert first["totalSize"] == 60
    assert sum(r["IsDeleted"] for r in first["records"]) == 5


@pytest.fixture
def store() -> RecordStore:
    store = RecordStore(lambda: NOW, schema=org_schema())
    add = lambda name, **values: store.put(store.schema.object(name), values, NOW)  # noqa: E731
    store.acting_user = add(
        "User", Username="u@x.example", LastName="Umbridge", Email="u@x.example", Alias="u"
    )
    acme = add("Account", Name="Acme Widgets", Industry="Retail", Website="https://acme.example")
    add("Account", Name="O'Brien & Sons", Industry="Media")
    add("Account", Name="Widget World", Industry="Energy")
    add("Contact", LastName="Acme", FirstName="Ada", Email="ada@acme.example", AccountId=acme)
    add("Contact", LastName="Smith", Email="john.smith@widgets.example", Phone="+1 555 0100")
    add("Lead", LastName="Brown", Company="Acme Prospects", Email="b@prospect.example")
    return store


def names(store: RecordStore, sosl: str) -> list[str]:
    return [r.get("Name") or r["attributes"]["type"] for r in run_search(sosl, store, "61.0")]


@pytest.mark.parametrize(
    ("sosl", "expected"),
    [
        ("FIND {acme} RETURNING Account(Name)", ["Acme Widgets"]),
        (
            "FIND {Widget*} RETURNING Account(Name ORDER BY Name DESC)",
            ["Widget World", "Acme Widgets"],
        ),
        ("FIND {W?dget} RETURNING Account(Name)", ["Widget World"]),
        ('FIND {"acme widgets"} RETURNING Account(Name)', ["Acme Widgets"]),
        ('FIND {"widgets acme"} RETURNING Account(Name)', []),
        ("FIND {widget* AND NOT acme} RETURNING Account(Name)", ["Widget World"]),
        ("FIND {acme OR world} RETURNING Account(Name)", ["Acme Widgets", "Widget World"]),
        ("FIND {(acme OR world) AND widgets} RETURNING Account(Name)", ["Acme Widgets"]),
        ("FIND {O\\'Brien} RETURNING Account(Name)", ["O'Brien & Sons"]),
        ("FIND {Widget*} RETURNING Account(Name WHERE Industry = 'Energy')", ["Widget World"]),
        ("FIND {Widget*} RETURNING Account(Name LIMIT 1)", ["Acme Widgets"]),
        (
            "FIND {acme} IN NAME FIELDS RETURNING Account(Name), Contact(Name), Lead(Name)",
            ["Acme Widgets", "Ada Acme"],
        ),
        ("FIND {acme} IN EMAIL FIELDS RETURNING Contact(Name), Lead(Name)", ["Ada Acme"]),
        ("FIND {john.smith@widgets.example} IN EMAIL FIELDS RETURNING Contact(Name)", ["Smith"]),
        ("FIND {acme} RETURNING Account, Contact LIMIT 1", ["Account"]),
        ("FIND {acme*}", ["Account", "Contact", "Lead"]),
    ],
)
def test_sosl(store, sosl, expected):
    assert names(store, sosl) == expected


def test_sosl_records_are_projected_like_soql(store):
    rows = run_search("FIND {acme} RETURNING Contact(LastName, Account.Name)", store, "61.0")
    assert rows[0]["Account"]["Name"] == "Acme Widgets"
    assert rows[0]["attributes"]["type"] == "Contact"
    assert set(rows[0]) == {"attributes", "LastName", "Account"}


@pytest.mark.parametrize(
    ("sosl", "code"),
    [
        ("FIND acme", "MALFORMED_SEARCH"),
        ("FIND {acme", "MALFORMED_SEARCH"),
        ("FIND {}", "MALFORMED_SEARCH"),
        ("FIND {a}", "INVALID_SEARCH"),
        ("FIND {acme} IN BOGUS FIELDS", "MALFORMED_SEARCH"),
        ("FIND {acme} RETURNING", "MALFORMED_SEARCH"),
        ("FIND {acme} RETURNING Widget__c", "INVALID_TYPE"),
        ("FIND {acme} RETURNING Organization", "INVALID_TYPE"),
        ("FIND {acme} RETURNING Account(Nope__c)", "INVALID_FIELD"),
        ("FIND {acme} RETURNING Account(Name", "MALFORMED_SEARCH"),
        ('FIND {"acme} RETURNING Account', "MALFORMED_SEARCH"),
    ],
)
def test_malformed_sosl(store, sosl, code):
    with pytest.raises(SoqlError) as caught:
        run_search(sosl, store, "61.0")
    assert caught.value.code == code


def test_search_route_shapes(sandbox, raw_client):
    response = raw_client.get(f"{DATA}/search/", params={"q": "FIND {x}"})
    assert response.status_code == 400
    assert response.json() == [
        {
            "message": "search term must be longer than one character: x",
            "errorCode": "INVALID_SEARCH",
        }
    ]
    empty = raw_client.get(f"{DATA}/search/", params={"q": "FIND {Zzyzx} RETURNING Account"})
    assert empty.json() == {"searchRecords": []}
    old = raw_client.get("/services/data/v30.0/search/", params={"q": "FIND {Zzyzx}"})
    assert old.json() == []
    missing = raw_client.get(f"{DATA}/search/", params={"q": "FIND Zzyzx"})
    assert missing.json() == [
        {
            "message": "No search term found. The search term must be enclosed in braces.",
            "errorCode": "MALFORMED_SEARCH",
        }
    ]


def test_search_leaves_out_hidden_records(client_for):
    sandbox = SalesforceSandbox(seed=6, records=30, profile={"hidden_accounts": True})
    hidden = sandbox.state.hidden("Account")[0]
    name = sandbox.state.get("Account", hidden)["Name"]
    client = client_for(sandbox)
    sosl = "FIND {" + name.split()[0] + "} RETURNING Account(Id)"
    found = client.get(f"{DATA}/search", params={"q": sosl}).json()["searchRecords"]
    assert hidden not in [r["Id"] for r in found]
