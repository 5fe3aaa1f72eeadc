"""Batch create, update and upsert: 100 per call, bad records isolated, in input order."""

from __future__ import annotations

import pytest
from hubspot_support import RecordingTransport, calls

from handoff_hub.connectors.hubspot.writes import ISOLATION_CALLS
from handoff_hub.hub.errors import QueryBuildError

CREATE = "/companies/batch/create"


def company(n: int, **extra) -> dict:
    return {"name": f"Batch company {n}", "domain": f"batch{n}.example", **extra}


def test_create_splits_into_calls_of_100_in_input_order(sandbox, connector):
    before = sandbox.state.count("companies")
    sandbox.journal.clear()
    results = connector.create("companies", [company(n) for n in range(250)])
    assert calls(sandbox, CREATE) == 3
    assert [r.index for r in results] == list(range(250))
    assert all(r.ok and r.created is True for r in results)
    assert sandbox.state.count("companies") == before + 250
    # HubSpot answers a batch in its own order; results still line up with the input.
    assert [sandbox.state.get("companies", r.id)["name"] for r in results] == [
        f"Batch company {n}" for n in range(250)
    ]


def test_trace_ids_go_out_and_results_come_back_reordered(sandbox, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    results = connector.create("companies", [company(n) for n in range(3)])
    [body] = recording.bodies(CREATE)
    assert [i["objectWriteTraceId"] for i in body["inputs"]] == ["0", "1", "2"]
    assert body["inputs"][0]["properties"] == {
        "name": "Batch company 0",
        "domain": "batch0.example",
    }
    ids = [r.id for r in results]
    assert ids == sorted(ids, key=int)


def test_one_bad_record_does_not_sink_the_batch(sandbox, connector):
    records = [company(n) for n in range(100)]
    records[37] = company(37, bogus_property="x")
    before = sandbox.state.count("companies")
    sandbox.journal.clear()
    results = connector.create("companies", records)
    failed = {r.index: r.error for r in results if not r.ok}
    assert list(failed) == [37]
    assert failed[37] == (
        'VALIDATION_ERROR: Property "bogus_property" does not exist (PROPERTY_DOESNT_EXIST)'
    )
    assert sandbox.state.count("companies") == before + 99
    statuses = [c.status for c in sandbox.journal.calls if c.path.endswith(CREATE)]
    assert statuses[0] == 400 and statuses.count(201) >= 2
    assert len(statuses) <= 1 + 2 * 7  # bisected, not retried one by one


def test_several_kinds_of_bad_values_are_each_reported(sandbox, connector):
    records = [company(n) for n in range(150)]
    records[3] = company(3, industry="Underwater basket weaving")
    records[120] = company(120, numberofemployees="many")
    records[149] = company(149, hs_object_id="1")
    results = connector.create("companies", records)
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {3, 120, 149}
    assert '"Underwater basket weaving" was not one of the allowed options' in failed[3]
    assert failed[3].endswith("(INVALID_OPTION)")
    assert failed[120] == 'VALIDATION_ERROR: "many" was not a valid number. (INVALID_FLOAT)'
    assert "read only property" in failed[149] and "READ_ONLY_VALUE" in failed[149]
    assert sum(r.ok for r in results) == 147


def test_a_refusal_shared_by_every_record_costs_a_bounded_number_of_calls(sandbox, connector):
    records = [company(n, not_a_property=n) for n in range(100)]
    sandbox.journal.clear()
    results = connector.create("companies", records)
    assert not any(r.ok for r in results)
    assert all("PROPERTY_DOESNT_EXIST" in (r.error or "") for r in results)
    assert calls(sandbox, CREATE) <= 1 + ISOLATION_CALLS


def test_duplicate_stamps_conflict(sandbox, connector):
    taken = sandbox.state.add_record("companies", name="Taken", handoff_hub_id="hub-taken")
    results = connector.create(
        "companies",
        [
            company(1, handoff_hub_id="hub-1"),
            company(2, handoff_hub_id="hub-1"),
            company(3, handoff_hub_id="hub-taken"),
            company(4, handoff_hub_id="hub-4"),
        ],
    )
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error is not None and results[1].error.startswith("CONFLICT: A company")
    assert results[2].error is not None and f"Existing ID: {taken}" in results[2].error
    assert sandbox.state.count("companies", handoff_hub_id="hub-1") == 1


def test_update_in_batches_with_missing_ids_and_bad_values(sandbox, connector):
    ids = sandbox.state.ids("companies")[:20] * 8
    pairs = [(record_id, {"description": f"note {n}"}) for n, record_id in enumerate(ids)]
    pairs[10] = ("99999999999", {"description": "ghost"})
    pairs[130] = (ids[130], {"industry": "Alchemy"})
    sandbox.journal.clear()
    results = connector.update("companies", pairs)
    assert [r.index for r in results] == list(range(160))
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {10, 130}
    assert failed[10] is not None and failed[10].startswith(
        "OBJECT_NOT_FOUND: Could not get some COMPANY objects"
    )
    assert "INVALID_OPTION" in (failed[130] or "")
    assert all(r.created is False for r in results if r.ok)
    last = sandbox.state.get("companies", ids[159])
    assert last["description"] == "note 159"  # later changes of a record land last
    assert [c.status for c in sandbox.journal.calls][:1] == [207]
    # HubSpot refuses a batch naming a record twice: each repeat starts a new batch.
    assert 8 < calls(sandbox, "/companies/batch/update") <= 8 + 2 * 5  # 8 batches, 1 bisected


def test_distinct_updates_fill_batches_of_100(sandbox, connector):
    ids = sandbox.state.add_records("companies", ({"name": f"C{n}"} for n in range(230)))
    sandbox.journal.clear()
    results = connector.update("companies", [(i, {"city": "Lyon"}) for i in ids])
    assert all(r.ok for r in results)
    assert calls(sandbox, "/companies/batch/update") == 3


def test_update_accepts_a_properties_object(sandbox, connector):
    record_id = sandbox.state.ids("deals")[0]
    [result] = connector.update(
        "deals", [(record_id, {"properties": {"delivery_project": "DEL-7"}})]
    )
    assert result.ok and result.id == record_id
    assert sandbox.state.get("deals", record_id)["delivery_project"] == "DEL-7"


def test_values_are_sent_as_hubspot_text(sandbox, connector, connect, sandbox_transport):
    recording = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recording)
    deal = sandbox.state.ids("deals")[0]
    [result] = connector.update(
        "deals", [(deal, {"amount": 1250.50, "description": None, "dealname": "Renamed"})]
    )
    assert result.ok
    [body] = recording.bodies("/deals/batch/update")
    assert body["inputs"][0]["properties"] == {
        "amount": "1250.5",
        "description": "",
        "dealname": "Renamed",
    }
    stored = sandbox.state.get("deals", deal)
    assert stored["amount"] == "1250.5" and "description" not in stored


def test_upsert_creates_and_updates_by_the_unique_property(sandbox, connector):
    existing = [
        sandbox.state.add_record("companies", name=f"Old {n}", handoff_hub_id=f"up-{n}")
        for n in range(60)
    ]
    records = [company(n, handoff_hub_id=f"up-{n}") for n in range(130)]
    records[100] = company(100)  # no stamp to upsert by
    sandbox.journal.clear()
    results = connector.upsert("companies", "handoff_hub_id", records)
    assert calls(sandbox, "/companies/batch/upsert") == 2
    assert [r.created for r in results[:60]] == [False] * 60
    assert [r.id for r in results[:60]] == existing
    assert all(r.created is True for r in results[60:100])
    assert results[100].ok is False and results[100].error == (
        "the record has no handoff_hub_id value to upsert by"
    )
    assert sandbox.state.get("companies", existing[0])["name"] == "Batch company 0"
    again = connector.upsert("companies", "properties.handoff_hub_id", records[120:121])
    assert again[0].created is False and again[0].id == results[120].id


def test_create_with_associations(sandbox, connector):
    contact = sandbox.state.ids("contacts")[0]
    deal = sandbox.state.ids("deals")[0]
    lead, orphan = connector.create(
        "leads",
        [
            {
                "hs_lead_name": "Upsell: reporting",
                "hs_lead_type": "UPSELL",
                "_associate": {"contacts": [contact]},
            },
            {"hs_lead_name": "No contact"},
        ],
    )
    assert lead.ok and lead.id
    assert sandbox.state.associations("leads", lead.id, "contacts") == [contact]
    # HubSpot refuses a lead without a contact: one naming none gets a contact of its own.
    assert orphan.ok and len(sandbox.state.associations("leads", orphan.id, "contacts")) == 1
    [task] = connector.create(
        "tasks",
        [
            {
                "hs_task_subject": "Delivery risk: red",
                "hs_timestamp": "2026-12-01",
                "_associate": {"deals": deal},
            }
        ],
    )
    assert task.ok and sandbox.state.associations("tasks", task.id, "deals") == [deal]
    with pytest.raises(QueryBuildError, match="no default association from tasks to owners"):
        connector.create("tasks", [{"hs_task_subject": "x", "_associate": {"owners": ["1"]}}])


def test_associate_creates_the_default_association(sandbox, connector):
    note = connector.create("notes", [{"hs_note_body": "Risk", "hs_timestamp": "2026-12-01"}])[0]
    company_id = sandbox.state.ids("companies")[4]
    connector.associate("notes", str(note.id), "companies", company_id)
    assert sandbox.state.associations("notes", str(note.id), "companies") == [company_id]
    assert sandbox.state.associations("companies", company_id, "notes") == [note.id]


def test_missing_required_property(connector):
    [result] = connector.create("tasks", [{"hs_task_subject": "No date"}])
    assert result.error == ("VALIDATION_ERROR: hs_timestamp is required (REQUIRED_PROPERTY)")
