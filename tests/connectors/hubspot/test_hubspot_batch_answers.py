"""Batch answers as real portals send them: any order, no trace ids, 207 multi-status."""

from __future__ import annotations

import httpx
import pytest
from hubspot_support import BASE_URL

from handoff_hub.connectors.hubspot.client import BatchAnswer
from handoff_hub.connectors.hubspot.matching import Input, MatchRules, match_answer
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.limits import RateLimits

UNTRACED = {"shuffled_batches": True, "no_trace_ids": True}
PARTIAL = {**UNTRACED, "partial_batches": True}


def portal(**profile: bool) -> HubSpotSandbox:
    return HubSpotSandbox(seed=11, records=20, rate_limit=RateLimits.generous(), profile=profile)


def company(n: int, **extra: object) -> dict:
    return {"name": f"Answer company {n}", "domain": f"answer{n}.example", **extra}


def test_the_portal_answers_in_its_own_order_without_trace_ids(connect):
    sandbox = portal(**UNTRACED)
    raw = connect(sandbox).client.batch_write(
        "companies",
        "create",
        [{"properties": company(n), "objectWriteTraceId": str(n)} for n in range(20)],
    )
    names = [r["properties"]["name"] for r in raw.results]
    assert sorted(names) == sorted(company(n)["name"] for n in range(20))
    assert names not in (
        [company(n)["name"] for n in range(20)],
        [company(n)["name"] for n in range(19, -1, -1)],
    )
    assert not any("objectWriteTraceId" in r for r in raw.results)


@pytest.mark.parametrize("stamped", [True, False], ids=["by-stamp", "by-unique-name"])
def test_created_ids_go_to_their_own_inputs(connect, stamped):
    sandbox = portal(**UNTRACED)
    connector = connect(sandbox)
    records = [
        company(n, **({"handoff_hub_id": f"pm:A-{n}"} if stamped else {})) for n in range(250)
    ]
    results = connector.create("companies", records)
    assert all(r.ok and r.created for r in results)
    for record, result in zip(records, results, strict=True):
        assert sandbox.state.get("companies", result.id)["name"] == record["name"]


def test_records_nothing_tells_apart_are_unsure_never_guessed(connect):
    sandbox = portal(**UNTRACED)
    connector = connect(sandbox)
    same = {"hs_task_subject": "Delivery risk", "hs_timestamp": "2026-12-01"}
    before = sandbox.state.count("tasks")
    results = connector.create("tasks", [same, same, {**same, "handoff_hub_id": "risk:7"}])
    first, second, stamped = results
    assert stamped.ok and sandbox.state.get("tasks", stamped.id)["handoff_hub_id"] == "risk:7"
    for unsure in (first, second):
        assert unsure.ok is False and unsure.unsure is True and unsure.id is None
        assert "without saying which input" in (unsure.error or "")
    assert sandbox.state.count("tasks") == before + 3  # they exist: the hub looks before retrying


def test_a_lone_input_takes_the_lone_result(connect):
    connector = connect(portal(**UNTRACED))
    [result] = connector.create(
        "notes", [{"hs_note_body": "Kick-off", "hs_timestamp": "2026-12-01"}]
    )
    assert result.ok and result.id


def test_207_created_records_are_successes_and_only_the_refused_fail(connect):
    sandbox = portal(**PARTIAL)
    connector = connect(sandbox)
    records = [company(n, handoff_hub_id=f"pm:P-{n}") for n in range(10)]
    records[3] = company(3, handoff_hub_id="pm:P-3", colour="red")
    records[7] = company(7, handoff_hub_id="pm:P-7", numberofemployees="many")
    before = sandbox.state.count("companies")
    sandbox.journal.clear()
    results = connector.create("companies", records)
    assert [c.status for c in sandbox.journal.calls if c.path.endswith("/batch/create")] == [207]
    assert sandbox.state.count("companies") == before + 8
    failed = {r.index: r for r in results if not r.ok}
    assert set(failed) == {3, 7}
    assert failed[3].error == (
        'VALIDATION_ERROR: Property "colour" does not exist (PROPERTY_DOESNT_EXIST)'
    )
    assert failed[7].error == 'VALIDATION_ERROR: "many" was not a valid number. (INVALID_FLOAT)'
    assert not any(r.unsure for r in failed.values())
    for record, result in zip(records, results, strict=True):
        if result.ok:
            assert (
                sandbox.state.get("companies", result.id)["handoff_hub_id"]
                == (record["handoff_hub_id"])
            )


def test_207_update_and_upsert_fail_only_the_refused_input(connect):
    sandbox = portal(**PARTIAL)
    connector = connect(sandbox)
    ids = sandbox.state.ids("companies")[:4]
    pairs = [(i, {"city": f"City {n}"}) for n, i in enumerate(ids)]
    pairs[2] = (ids[2], {"industry": "Alchemy"})
    updated = connector.update("companies", pairs)
    assert [r.ok for r in updated] == [True, True, False, True]
    assert "INVALID_OPTION" in (updated[2].error or "")
    assert [r.id for r in updated if r.ok] == [ids[0], ids[1], ids[3]]
    upserted = connector.upsert(
        "companies",
        "handoff_hub_id",
        [company(1, handoff_hub_id="up-1"), company(2, handoff_hub_id="up-2", colour="red")],
    )
    assert upserted[0].ok and upserted[0].created is True
    assert upserted[1].ok is False and "PROPERTY_DOESNT_EXIST" in (upserted[1].error or "")


def test_a_refused_lead_in_a_207_names_hubspots_reason(connect):
    sandbox = portal(**PARTIAL)
    connector = connect(sandbox)
    contact = sandbox.state.ids("contacts")[0]
    results = connector.create(
        "leads",
        [
            {"hs_lead_name": "With contact", "_associate": {"contacts": [contact]}},
            {"hs_lead_name": "Bad", "_associate": {"contacts": [contact]}, "hs_lead_type": "X"},
        ],
    )
    assert results[0].ok and sandbox.state.get("leads", results[0].id)["hs_lead_name"] == (
        "With contact"
    )
    assert results[1].ok is False and "INVALID_OPTION" in (results[1].error or "")


# Answers the sandbox does not send, read the same way -------------------------------------


RULES = MatchRules(created=True, stamp_property="handoff_hub_id")


def _inputs(*names: str) -> list[Input]:
    return [Input(n, {"properties": {"name": name}}) for n, name in enumerate(names)]


def _result(record_id: str, name: str) -> dict:
    return {"id": record_id, "properties": {"name": name}}


def test_errors_without_trace_ids_fail_the_inputs_no_result_names():
    batch = _inputs("A", "B", "C")
    answer = BatchAnswer(
        results=[_result("12", "C"), _result("11", "A")],
        errors=[{"status": "error", "category": "VALIDATION_ERROR", "message": "bad"}],
    )
    out = match_answer(RULES, batch, answer)
    assert (out[0].ok, out[0].id) == (True, "11")
    assert (out[2].ok, out[2].id) == (True, "12")
    assert out[1].ok is False and out[1].unsure is False and out[1].error == "VALIDATION_ERROR: bad"


def test_values_changed_by_hubspot_still_match_and_ambiguity_stays_unsure():
    batch = [
        Input(0, {"properties": {"email": "Ann@Example.com", "amount": "1250.50"}}),
        Input(1, {"properties": {"email": "bob@example.com", "amount": "1250.50"}}),
    ]
    answer = BatchAnswer(
        results=[
            {"id": "2", "properties": {"email": "bob@example.com", "amount": "1250.5"}},
            {"id": "1", "properties": {"email": "ann@example.com", "amount": "1250.5"}},
        ]
    )
    out = match_answer(RULES, batch, answer)
    assert (out[0].id, out[1].id) == ("1", "2")
    twins = [Input(0, {"properties": {"name": "X"}}), Input(1, {"properties": {"name": "X"}})]
    answer = BatchAnswer(results=[_result("5", "X"), _result("6", "X")])
    out = match_answer(RULES, twins, answer)
    assert all(r.ok is False and r.unsure for r in out.values())


def test_a_result_contradicting_itself_is_not_guessed():
    batch = [
        Input(0, {"properties": {"name": "A", "domain": "b.example"}}),
        Input(1, {"properties": {"name": "B", "domain": "a.example"}}),
    ]
    answer = BatchAnswer(results=[{"id": "9", "properties": {"name": "A", "domain": "a.example"}}])
    out = match_answer(RULES, batch, answer)
    assert all(r.ok is False and r.unsure for r in out.values())


def test_the_207_body_of_a_partial_create(sandbox_transport):
    sandbox = portal(partial_batches=True)
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    ) as client:
        answer = client.post(
            "/crm/v3/objects/companies/batch/create",
            json={
                "inputs": [
                    {"properties": {"name": "Fine"}, "objectWriteTraceId": "t-1"},
                    {"properties": {"name": "Bad", "colour": "red"}, "objectWriteTraceId": "t-2"},
                ]
            },
        )
    assert answer.status_code == 207
    body = answer.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 1
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t-1"]
    [error] = body["errors"]
    assert error["status"] == "error" and error["category"] == "VALIDATION_ERROR"
    assert error["context"] == {"objectWriteTraceId": ["t-2"]}
    assert error["message"].startswith("Property values were not valid: ")
    assert {"startedAt", "completedAt"} <= set(body)
