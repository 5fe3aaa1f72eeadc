"""Batch create, update and upsert through sObject Collections."""

from __future__ import annotations

import pytest

from handoff_hub.hub.errors import RecordError


def deal(n: int, **extra) -> dict:
    return {
        "Name": f"Batch deal {n}",
        "StageName": "Prospecting",
        "CloseDate": "2026-12-31",
        "Amount": 1000 + n,
        **extra,
    }


def writes(sandbox, method: str) -> list:
    return [c for c in sandbox.journal.calls if c.method == method and "/composite/" in c.path]


def test_create_splits_into_200s_and_keeps_errors_in_order(sandbox, connector):
    records = [deal(n) for n in range(450)]
    records[5] = {"StageName": "Prospecting", "CloseDate": "2026-12-31"}
    records[250] = deal(250, Name="x" * 121)
    records[401] = deal(401, Delivery_Health__c="Purple")
    records[402] = deal(402, Bogus__c=1)
    records[403] = deal(403, IsWon=True)
    before = sandbox.state.count("Opportunity")
    sandbox.journal.clear()
    results = connector.create("Opportunity", records)
    assert len(writes(sandbox, "POST")) == 3
    assert [r.index for r in results] == list(range(450))
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {5, 250, 401, 402, 403}
    assert failed[5] == "REQUIRED_FIELD_MISSING: Required fields are missing: [Name] (fields: Name)"
    assert failed[250].startswith("STRING_TOO_LONG: Name: data value too large")
    assert failed[401].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Delivery Health")
    assert failed[402].startswith("INVALID_FIELD: No such column 'Bogus__c'")
    assert failed[403].startswith("INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update")
    made = [r for r in results if r.ok]
    assert all(r.created is True and r.id and r.id.startswith("006") for r in made)
    assert sandbox.state.count("Opportunity") == before + 445
    assert sandbox.state.get("Opportunity", made[0].id)["Name"] == "Batch deal 0"


def test_create_duplicate_external_id(sandbox, connector):
    results = connector.create(
        "Opportunity", [deal(1, Handoff_Hub_Id__c="dup"), deal(2, Handoff_Hub_Id__c="DUP")]
    )
    assert results[0].ok
    assert not results[1].ok and results[1].error is not None
    assert results[1].error.startswith("DUPLICATE_VALUE: duplicate value found: Handoff_Hub_Id__c")


def test_update_in_batches_with_per_record_errors(sandbox, connector):
    ids = sandbox.state.ids("Opportunity")[:50] * 5
    pairs = [(record_id, {"NextStep": f"step {n}"}) for n, record_id in enumerate(ids)]
    pairs[10] = ("006Zz00000000AAAAA", {"NextStep": "ghost"})
    pairs[220] = ("not-an-id", {"NextStep": "bad"})
    pairs[230] = (ids[230], {"IsWon": True})
    before = sandbox.state.get("Opportunity", ids[249])
    sandbox.journal.clear()
    results = connector.update("Opportunity", pairs)
    assert len(writes(sandbox, "PATCH")) == 2
    assert [r.index for r in results if not r.ok] == [10, 220, 230]
    assert results[10].error == "ENTITY_IS_DELETED: entity is deleted (fields: Id)"
    assert results[220].error == "MALFORMED_ID: malformed id not-an-id (fields: Id)"
    assert all(r.created is False for r in results if r.ok)
    after = sandbox.state.get("Opportunity", ids[249])
    assert after["NextStep"] == "step 249"
    assert after["SystemModstamp"] >= before["SystemModstamp"]
    assert after["LastModifiedDate"] == after["SystemModstamp"]


def test_stage_change_sets_is_won(sandbox, connector):
    record_id = sandbox.state.add_opportunity("To win")
    assert connector.update("Opportunity", [(record_id, {"StageName": "Closed Won"})])[0].ok
    record = sandbox.state.get("Opportunity", record_id)
    assert record["IsWon"] is True and record["Probability"] == 100.0


def test_upsert_creates_and_updates_in_order(sandbox, connector):
    existing = [
        sandbox.state.add_opportunity(f"Existing {n}", Handoff_Hub_Id__c=f"sf-{n}")
        for n in range(100)
    ]
    records = [{"Handoff_Hub_Id__c": f"sf-{n}", **deal(n)} for n in range(210)]
    records[150] = {"Handoff_Hub_Id__c": "twin", **deal(150)}
    records[151] = {"Handoff_Hub_Id__c": "twin", **deal(151)}
    records[160] = deal(160)
    sandbox.journal.clear()
    results = connector.upsert("Opportunity", "Handoff_Hub_Id__c", records)
    assert len(writes(sandbox, "PATCH")) == 2
    assert [r.created for r in results[:100]] == [False] * 100
    assert [r.id for r in results[:100]] == existing
    assert all(r.created is True for r in results[100:150])
    assert [r.index for r in results if not r.ok] == [150, 151, 160]
    assert results[150].error is not None and "DUPLICATE_EXTERNAL_ID" in results[150].error
    assert results[160].error is not None and results[160].error.startswith("MISSING_ARGUMENT")
    assert sandbox.state.get("Opportunity", existing[0])["Name"] == "Batch deal 0"
    again = connector.upsert("Opportunity", "Handoff_Hub_Id__c", records[100:101])
    assert again[0].created is False and again[0].id == results[100].id


def test_upsert_on_a_field_that_is_no_external_id(connector):
    with pytest.raises(RecordError, match="INVALID_FIELD: Field name provided, Name is not"):
        connector.upsert("Opportunity", "Name", [deal(1)])


def test_create_other_objects(sandbox, connector):
    account = sandbox.state.ids("Account")[0]
    task = connector.create(
        "Task", [{"Subject": "Delivery risk: red", "WhatId": account, "Priority": "High"}]
    )[0]
    lead = connector.create(
        "Lead", [{"LastName": "Feedback", "Company": "Acme", "LeadSource": "Customer Feedback"}]
    )[0]
    assert task.ok and lead.ok
    assert sandbox.state.get("Task", task.id)["Status"] == "Not Started"
    bad = connector.create("Task", [{"Subject": "x", "WhatId": "006Zz00000000AAAAA"}])[0]
    assert bad.error is not None and bad.error.startswith("FIELD_INTEGRITY_EXCEPTION")
