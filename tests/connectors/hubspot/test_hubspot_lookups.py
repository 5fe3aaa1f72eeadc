"""Lookups: by the hub's stamp, users by e-mail, property definitions, record links."""

from __future__ import annotations

import pytest
from hubspot_support import RecordingTransport, calls

from handoff_hub.hub.connector import KnowsOrgSchema
from handoff_hub.hub.errors import ConnectorError, NotFoundError

DEALS = "deals"


def test_find_by_external_id_reads_by_the_unique_property(
    sandbox, connector, connect, sandbox_transport
):
    made = {
        f"hub-{n}": sandbox.state.add_record("companies", name=f"E{n}", handoff_hub_id=f"hub-{n}")
        for n in range(3)
    }
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    found = connector.find_by_external_id(
        "companies", "handoff_hub_id", ["hub-0", "hub-2", "hub-404"]
    )
    assert found == {"hub-0": made["hub-0"], "hub-2": made["hub-2"]}
    [body] = recording.bodies("/companies/batch/read")
    assert body["idProperty"] == "handoff_hub_id"
    assert body["inputs"] == [{"id": "hub-0"}, {"id": "hub-2"}, {"id": "hub-404"}]


def test_find_by_a_property_that_is_not_unique_uses_search(sandbox, connector):
    task = sandbox.state.add_record(
        "tasks",
        hs_task_subject="Risk: late",
        hs_timestamp="2026-12-01",
        handoff_hub_id="jira:DEL-7",
    )
    sandbox.journal.clear()
    found = connector.find_by_external_id("tasks", "properties.handoff_hub_id", ["jira:DEL-7", "x"])
    assert found == {"jira:DEL-7": task}
    assert calls(sandbox, "/tasks/search") == 1 and calls(sandbox, "/tasks/batch/read") == 0


def test_find_users_by_owner_email(sandbox, connector):
    owner = sandbox.state.owners()[1]
    found = connector.find_users([owner["email"].upper(), "nobody@x.example"])
    assert found == {owner["email"].upper(): owner["id"]}
    connector.find_users([owner["email"]])
    assert calls(sandbox, "/crm/v3/owners") == 1


def test_owners_are_paged(sandbox, connector):
    for n in range(550):
        sandbox.state.add_owner(f"rep{n}@acme-sales.example", "Rep", str(n))
    owners = connector.lookups.owners()
    assert len(owners) == len(sandbox.state.owners()) > 500
    assert calls(sandbox, "/crm/v3/owners") == 2
    assert connector.find_users(["rep549@acme-sales.example"]) == {
        "rep549@acme-sales.example": next(
            o["id"] for o in sandbox.state.owners() if o["email"] == "rep549@acme-sales.example"
        )
    }


def test_describe_and_missing_fields(sandbox, connector):
    properties = {p["name"]: p for p in connector.describe(DEALS)}
    assert properties["handoff_hub_id"]["hasUniqueValue"] is True
    assert connector.missing_fields(
        DEALS, ["properties.dealname", "amount", "_stage.outcome", "id", "properties.nope", "bogus"]
    ) == ["properties.nope", "bogus"]
    connector.describe(DEALS)
    assert calls(sandbox, "/crm/v3/properties/deals") == 1


def test_record_url_from_settings_or_account_info(sandbox, connector, connect):
    portal = sandbox.settings["portal_id"]
    assert (
        connector.record_url(DEALS, "123")
        == f"https://app.hubspot.com/contacts/{portal}/record/0-3/123"
    )
    bare = connect(sandbox, settings={"portal_id": None})
    assert bare.record_url("companies", "9") == (
        f"https://app-eu1.hubspot.com/contacts/{portal}/record/0-2/9"
    )
    bare.record_url("companies", "10")
    assert calls(sandbox, "/account-info/v3/details") == 1


def test_associating_a_missing_record_is_not_found(sandbox, connector):
    deal = sandbox.state.ids("deals")[0]
    with pytest.raises(NotFoundError, match="OBJECT_NOT_FOUND: No company with id 1"):
        connector.associate("deals", deal, "companies", "1")


def test_the_portal_tells_its_fields_and_currency(sandbox, connector):
    assert isinstance(connector, KnowsOrgSchema)
    sandbox.journal.clear()
    assert connector.default_currency() == "EUR"
    assert connector.default_currency() == "EUR"
    assert calls(sandbox, "/account-info/v3/details") == 1
    assert connector.missing_fields("deals", ["properties.amount", "nope", "_owner.email"]) == [
        "nope"
    ]


def test_owners_have_no_properties_to_miss(sandbox, connector):
    before = len(sandbox.journal.calls)
    assert connector.missing_fields("owners", ["email", "archived", "firstName"]) == []
    assert len(sandbox.journal.calls) == before


def test_properties_of_the_mapped_objects_are_read_together_once(sandbox, connector):
    """The mapping's fit reads each object's properties ahead, once, and asks nothing twice."""
    before = len(sandbox.journal.calls)
    connector.describe_ahead(["deals", "companies", "owners", "contacts"], currency=True)
    paths = sorted(c.path for c in sandbox.journal.calls[before:])
    assert paths == [f"/crm/v3/properties/{o}" for o in ("companies", "contacts", "deals")]
    assert connector.missing_fields("deals", ["properties.amount", "nope"]) == ["nope"]
    assert len(sandbox.journal.calls) == before + 3


def test_properties_that_failed_ahead_fail_where_they_are_asked(sandbox, connector):
    before = len(sandbox.journal.calls)
    connector.describe_ahead(["deals", "no_such_object"], currency=False)
    with pytest.raises(ConnectorError, match="Unable to infer object type from: no_such_object"):
        connector.missing_fields("no_such_object", ["properties.x"])
    asked = [c.path for c in sandbox.journal.calls[before:]]
    assert asked.count("/crm/v3/properties/no_such_object") == 1
