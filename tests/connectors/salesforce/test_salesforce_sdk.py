"""The official simple-salesforce SDK's common calls against the served sandbox.

Admins script against ``hub sandbox serve``; every call here must answer as a
real org does. simple-salesforce builds ``https://`` URLs from the instance
host, so its requests session sends them to the sandbox's HTTP port.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from handoff_hub.sandboxes.kit.server import RunningSandbox, serve_in_thread
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox

START = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


class Clock:
    """The served org's time, moved on by the tests (never backwards)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)


class ToSandbox(HTTPAdapter):
    """Sends the SDK's ``https://any-host/...`` requests to the served sandbox."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        _, _, rest = str(request.url).partition("://")
        request.url = self.url + "/" + rest.partition("/")[2]
        return super().send(request, *args, **kwargs)


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def served(clock: Clock) -> Iterator[RunningSandbox]:
    running = serve_in_thread(SalesforceSandbox(seed=12, records=250, clock=clock))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sandbox(served: RunningSandbox) -> SalesforceSandbox:
    assert isinstance(served.sandbox, SalesforceSandbox)
    return served.sandbox


@pytest.fixture(scope="module")
def session(served: RunningSandbox) -> requests.Session:
    session = requests.Session()
    session.mount("https://", ToSandbox(served.url))
    return session


@pytest.fixture(scope="module")
def sf(sandbox: SalesforceSandbox, session: requests.Session) -> Salesforce:
    """Logged in as simple-salesforce does with a connected app's client credentials."""
    return Salesforce(
        consumer_key=sandbox.credentials["client_id"],
        consumer_secret=sandbox.credentials["client_secret"],
        domain="acme.my",
        session=session,
    )


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def test_login_with_client_credentials(sf: Salesforce, served: RunningSandbox) -> None:
    assert sf.session_id and sf.sf_instance == served.url.removeprefix("http://")


def test_session_id_and_instance_url(sandbox: SalesforceSandbox, session, served) -> None:
    form = {"grant_type": "client_credentials", **_client(sandbox)}
    token = session.post("https://login.salesforce.com/services/oauth2/token", data=form).json()
    sf = Salesforce(
        instance_url=token["instance_url"], session_id=token["access_token"], session=session
    )
    assert sf.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1


def _client(sandbox: SalesforceSandbox) -> dict[str, str]:
    return {k: v for k, v in sandbox.credentials.items() if k in {"client_id", "client_secret"}}


def test_query(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    result = sf.query("SELECT Id, Name, Owner.Email FROM Account ORDER BY Name LIMIT 5")
    assert result["done"] is True and result["totalSize"] == len(result["records"]) == 5
    first = result["records"][0]
    assert first["attributes"]["type"] == "Account" and first["Owner"]["Email"]


def test_query_more_follows_next_records_url(sf: Salesforce) -> None:
    options = {"Sforce-Query-Options": "batchSize=200"}
    first = sf.query("SELECT Id FROM Opportunity", headers=options)
    assert first["done"] is False and len(first["records"]) == 200
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    ids = {r["Id"] for r in first["records"] + second["records"]}
    assert second["done"] is True and len(ids) == first["totalSize"]


def test_query_all_pages_and_includes_deleted(sf: Salesforce, sandbox) -> None:
    options = {"Sforce-Query-Options": "batchSize=200"}
    everything = sf.query_all("SELECT Id FROM Opportunity", headers=options)
    assert everything["totalSize"] == sandbox.state.count("Opportunity")
    gone = sf.Opportunity.create(
        {"Name": unique("Gone"), "StageName": "Prospecting", "CloseDate": "2026-12-01"}
    )["id"]
    sf.Opportunity.delete(gone)
    soql = f"SELECT Id, IsDeleted FROM Opportunity WHERE Id = '{gone}'"
    assert sf.query_all(soql)["records"] == []
    deleted = sf.query_all(soql, include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in deleted] == [(gone, True)]


def test_query_all_iter(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    options = {"Sforce-Query-Options": "batchSize=200"}
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity", headers=options)]
    assert len(ids) == len(set(ids)) == sandbox.state.count("Opportunity")


def test_is_sandbox_reads_the_organization(sf: Salesforce) -> None:
    assert sf.is_sandbox() is False


def test_sobject_create_get_update_delete(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    name = unique("SDK Account")
    created = sf.Account.create({"Name": name, "Industry": "Media"})
    assert created["success"] is True and created["errors"] == []
    record = sf.Account.get(created["id"])
    assert record["Name"] == name and record["attributes"]["type"] == "Account"
    assert sf.Account.update(created["id"], {"Industry": "Retail"}) == 204
    assert sandbox.state.get("Account", created["id"])["Industry"] == "Retail"
    assert sf.Account.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(created["id"])
    with pytest.raises(SalesforceResourceNotFound) as again:
        sf.Account.delete(created["id"])
    assert again.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_create_with_an_unknown_field_is_refused(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Account.create({"Name": "Typo", "Nme": "x"})
    assert refused.value.content == [
        {
            "errorCode": "INVALID_FIELD",
            "message": "No such column 'Nme' on sobject of type Account",
            "fields": [],
        }
    ]


def test_upsert_creates_then_updates(sf: Salesforce, sandbox: SalesforceSandbox) -> None:
    stamp = f"sdk-{uuid.uuid4().hex[:10]}"
    assert sf.Account.upsert(f"Handoff_Hub_Id__c/{stamp}", {"Name": "Upserted"}) == 201
    assert sf.Account.upsert(f"Handoff_Hub_Id__c/{stamp}", {"Name": "Upserted again"}) == 200
    assert [a["Name"] for a in sandbox.state.find("Account", Handoff_Hub_Id__c=stamp)] == [
        "Upserted again"
    ]


def test_upsert_answers_204_before_api_46(sandbox: SalesforceSandbox, session) -> None:
    old = Salesforce(
        consumer_key=sandbox.credentials["client_id"],
        consumer_secret=sandbox.credentials["client_secret"],
        domain="acme.my",
        session=session,
        version="45.0",
    )
    stamp = f"sdk-{uuid.uuid4().hex[:10]}"
    response = old.Account.upsert(f"Handoff_Hub_Id__c/{stamp}", {"Name": "Old"}, raw_response=True)
    assert response.status_code == 201 and "created" not in response.json()
    assert old.Account.upsert(f"Handoff_Hub_Id__c/{stamp}", {"Name": "Older"}) == 204


def test_get_by_custom_id(sf: Salesforce) -> None:
    stamp = f"sdk-{uuid.uuid4().hex[:10]}"
    made = sf.Account.create({"Name": "By stamp", "Handoff_Hub_Id__c": stamp})["id"]
    assert sf.Account.get_by_custom_id("Handoff_Hub_Id__c", stamp)["Id"] == made
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Account.get_by_custom_id("Handoff_Hub_Id__c", "sdk-nobody")
    assert missing.value.content[0] == {
        "errorCode": "NOT_FOUND",
        "message": "Provided external ID field does not exist or is not accessible: sdk-nobody",
    }


def test_describe_object_and_global(sf: Salesforce) -> None:
    fields = {f["name"] for f in sf.Opportunity.describe()["fields"]}
    assert {"Name", "Amount", "Handoff_Hub_Id__c"} <= fields
    described = sf.describe()
    assert described["encoding"] == "UTF-8" and described["maxBatchSize"] == 200
    names = {o["name"]: o for o in described["sobjects"]}
    assert {"Account", "Opportunity", "Organization"} <= set(names)
    assert names["Account"]["urls"]["describe"].endswith("/sobjects/Account/describe")
    assert names["Organization"]["createable"] is False


def test_metadata_basic_information(sf: Salesforce) -> None:
    info = sf.Contact.metadata()
    assert info["objectDescribe"]["name"] == "Contact"
    assert all(r["attributes"]["type"] == "Contact" for r in info["recentItems"])


def test_updated_and_deleted(sf: Salesforce, clock: Clock) -> None:
    start = clock.now
    clock.advance(1)
    made = sf.Lead.create({"LastName": unique("Updated"), "Company": "SDK Ltd"})["id"]
    gone = sf.Lead.create({"LastName": unique("Deleted"), "Company": "SDK Ltd"})["id"]
    sf.Lead.delete(gone)
    clock.advance(2)
    updated = sf.Lead.updated(start, clock.now)
    assert made in updated["ids"] and gone not in updated["ids"]
    assert updated["latestDateCovered"] == clock.now.strftime("%Y-%m-%dT%H:%M:00.000+0000")
    deleted = sf.Lead.deleted(start, clock.now)
    assert [r["id"] for r in deleted["deletedRecords"]] == [gone]
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}


def test_search_and_quick_search(sf: Salesforce) -> None:
    name = f"Zephyrine {uuid.uuid4().hex[:6]} Analytics"
    made = sf.Account.create({"Name": name, "Website": "https://zephyrine.example"})["id"]
    sf.Contact.create({"LastName": "Zephyrine", "Email": "ops@zephyrine.example"})
    found = sf.search(f"FIND {{{name.split()[1]}}} IN NAME FIELDS RETURNING Account(Id, Name)")
    assert [(r["Id"], r["Name"]) for r in found["searchRecords"]] == [(made, name)]
    quick = sf.quick_search("Zephyrine")
    kinds = sorted(r["attributes"]["type"] for r in quick["searchRecords"])
    assert kinds.count("Account") >= 1 and "Contact" in kinds
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.search("FIND Zephyrine")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_SEARCH"


def test_limits_and_api_usage(sf: Salesforce) -> None:
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] >= limits["DailyApiRequests"]["Remaining"] > 0
    assert sf.api_usage["api-usage"].used > 0


def test_restful_collections(sf: Salesforce) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": unique("Collection")} for _ in range(3)]
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert [r["success"] for r in results] == [True, True, True]
    ids = ",".join(r["id"] for r in results)
    fetched = sf.restful("composite/sobjects/Account", params={"ids": ids, "fields": "Name"})
    assert [r["Name"] for r in fetched] == [r["Name"] for r in records]


def test_query_errors_carry_salesforce_codes(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT Nope__c FROM Account")
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_an_expired_session_is_renewed_by_the_sdk(sf: Salesforce, sandbox) -> None:
    sandbox.state.expire_tokens()
    assert sf.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1
