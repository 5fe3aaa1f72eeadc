"""Describe, capabilities, registry wiring, and behaviour under faults and limits."""

from __future__ import annotations

import httpx
import pytest

from handoff_hub.connectors.salesforce import SalesforceConnector
from handoff_hub.hub.connector import Capability, Connector
from handoff_hub.hub.errors import NotFoundError, RateLimitedError, TransientError
from handoff_hub.hub.registry import connector_class
from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.salesforce.app import SalesforceSandbox


def test_registered_and_implements_the_protocol(connector):
    assert connector_class("salesforce") is SalesforceConnector
    assert isinstance(connector, Connector)
    assert Capability.UPSERT in connector.capabilities
    assert Capability.PROJECT_FROM_TEMPLATE not in connector.capabilities


def test_describe_is_cached_and_has_the_hub_fields(sandbox, connector):
    sandbox.journal.clear()
    first = connector.describe("Opportunity")
    assert connector.describe("Opportunity") is first
    assert len(sandbox.journal.calls) == 2
    fields = {f["name"]: f for f in first["fields"]}
    assert fields["Handoff_Hub_Id__c"]["externalId"] and fields["Handoff_Hub_Id__c"]["unique"]
    project = fields["Delivery_Project__c"]
    assert project["type"] == "string" and project["custom"]
    stages = [v["value"] for v in fields["StageName"]["picklistValues"]]
    assert {"Closed Won", "Closed Lost", "Closed Won - Signed"} <= set(stages)


def test_missing_fields(connector):
    asked = [
        "Name",
        "stagename",
        "Owner.Email",
        "Account.Owner.Email",
        "Nope__c",
        "Account.Nope",
        "Nobody.Name",
    ]
    assert connector.missing_fields("Opportunity", asked) == [
        "Nope__c",
        "Account.Nope",
        "Nobody.Name",
    ]


def test_describe_of_an_unknown_object(connector):
    with pytest.raises(NotFoundError, match="NOT_FOUND: The requested resource does not exist"):
        connector.describe("Widget__c")


def test_record_url(connector):
    assert connector.record_url("Account", "001Hb00000000AAAAA") == (
        "https://acme.lightning.force.com/lightning/r/Account/001Hb00000000AAAAA/view"
    )


@pytest.mark.parametrize("kinds", [("429",), ("500", "502", "503"), ("timeout", "drop")])
def test_reads_survive_transient_faults(connect, kinds):
    faults = Faults(rate=0.5, kinds=kinds, seed=3, only_paths=("/services/data",))
    sandbox = SalesforceSandbox(seed=2, records=450, faults=faults)
    connector = connect(sandbox)
    pages = list(connector.read_changes("Opportunity", since=None, fields=["Name"], page_size=200))
    assert sum(len(p.records) for p in pages) == 450
    faulted = [c for c in sandbox.journal.calls if c.fault]
    assert faulted, "the fault schedule injected nothing; the test proves nothing"
    assert connector.client.api.retries == len(faulted)


def test_create_is_not_repeated_after_a_500(connect):
    faults = Faults(rate=1.0, kinds=("500",), only_paths=("/services/data/v61.0/composite",))
    sandbox = SalesforceSandbox(seed=2, records=10, faults=faults)
    connector = connect(sandbox)
    before = sandbox.state.count("Opportunity")
    with pytest.raises(TransientError, match="internal error"):
        connector.create(
            "Opportunity", [{"Name": "x", "StageName": "Prospecting", "CloseDate": "2026-12-31"}]
        )
    assert len([c for c in sandbox.journal.calls if c.method == "POST" and c.fault]) == 1
    assert sandbox.state.count("Opportunity") == before


def test_create_is_retried_after_a_429(connect):
    faults = Faults(rate=0.5, kinds=("429",), seed=3, only_paths=("/services/data/v61.0/comp",))
    sandbox = SalesforceSandbox(seed=2, records=10, faults=faults)
    connector = connect(sandbox)
    records = [
        {"Name": f"x{n}", "StageName": "Prospecting", "CloseDate": "2026-12-31"} for n in range(600)
    ]
    results = connector.create("Opportunity", records)
    assert all(r.ok for r in results)
    assert any(c.fault == "429" for c in sandbox.journal.calls)
    assert sandbox.state.count("Opportunity", StageName="Prospecting") >= 600


def test_daily_allocation_exhausted(connect):
    sandbox = SalesforceSandbox(seed=2, records=10, daily_api_limit=3)
    connector = connect(sandbox)
    connector.describe("Account")
    connector.describe("Contact")
    connector.describe("Lead")
    with pytest.raises(RateLimitedError, match="REQUEST_LIMIT_EXCEEDED"):
        connector.describe("Task")
    assert sandbox.state.api_usage == 3


def test_limit_info_feeds_the_rate_limiter(sandbox, connector):
    connector.describe("Account")
    limiter = connector.client.api.limiter
    assert limiter is not None
    assert limiter.capacity == 100000


def test_limit_info_is_on_every_api_response(sandbox, raw_client):
    for path in (
        "/services/data/v61.0/sobjects/Account/describe",
        "/services/data/v61.0/query?q=SELECT+Id+FROM+Nope",
    ):
        response = raw_client.get(path)
        assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_unauthenticated_calls_get_invalid_session(sandbox, sandbox_transport):
    with httpx.Client(transport=sandbox_transport(sandbox)) as client:
        response = client.get("https://x.example/services/data/v61.0/limits")
    assert response.status_code == 401
    assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"
