"""Writing issues: bulk create in calls of 50, edits, comments, users."""

from __future__ import annotations

import json

from jira_support import RecordingTransport


def task(summary: str, **fields: object) -> dict[str, object]:
    return {"project": {"key": "DEL"}, "issuetype": {"name": "Task"}, "summary": summary, **fields}


def test_bulk_create_splits_at_50_and_reports_errors_in_input_order(
    sandbox, connect, sandbox_transport
):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    records = [task(f"Bulk {n}") for n in range(120)]
    records[3] = task("x" * 300)
    records[51] = task("Unknown field", customfield_99=1)
    records[52] = {"project": {"key": "DEL"}, "summary": "No type"}
    records[119] = task("Plain description", description={"not": "adf"})
    before = sandbox.state.count(project="DEL")
    results = connector.create("issue", records)
    bulk_calls = [
        json.loads(r.content)
        for r in (e[0] for e in recorder.exchanges)
        if r.url.path.endswith("/issue/bulk")
    ]
    assert [len(b["issueUpdates"]) for b in bulk_calls] == [50, 50, 20]
    assert [r.index for r in results] == list(range(120))
    failed = {r.index: r.error for r in results if not r.ok}
    assert set(failed) == {3, 51, 52, 119}
    assert "Summary must be less than 255 characters" in failed[3]
    assert "customfield_99" in failed[51] and "cannot be set" in failed[51]
    assert "issuetype" in failed[52]
    assert "Atlassian Document" in failed[119]
    made = [r for r in results if r.ok]
    assert len(made) == 116 and all(r.created for r in made)
    assert sandbox.state.count(project="DEL") == before + 116
    assert sandbox.state.get(made[0].id)["fields"]["summary"] == "Bulk 0"
    assert sandbox.state.get(made[-1].id)["fields"]["summary"] == "Bulk 118"


def test_create_turns_plain_descriptions_into_adf(connector, sandbox):
    [result] = connector.create("issue", [task("With text", description="Line one\n\nTwo")])
    assert result.ok
    description = sandbox.state.get(result.id)["fields"]["description"]
    assert description["type"] == "doc" and len(description["content"]) == 2


def test_bulk_create_with_every_record_refused(connector):
    results = connector.create("issue", [{"summary": "a"}, {"summary": "b"}])
    assert [r.ok for r in results] == [False, False]
    assert all("project" in (r.error or "") for r in results)


def test_update_edits_each_issue_and_reports_refusals(connector, sandbox):
    keys = sandbox.state.keys(project="DEL")[:2]
    results = connector.update(
        "issue",
        [
            (keys[0], {"summary": "Renamed", "customfield_10052": {"value": "Red"}}),
            ("DEL-9999", {"summary": "Nope"}),
            (keys[1], {"customfield_10052": {"value": "Purple"}}),
        ],
    )
    assert [r.ok for r in results] == [True, False, False]
    assert "does not exist" in (results[1].error or "")
    assert "Purple" in (results[2].error or "")
    fields = sandbox.state.get(keys[0])["fields"]
    assert fields["summary"] == "Renamed" and fields["customfield_10052"]["value"] == "Red"


def test_add_comment_sends_adf(connector, sandbox):
    key = sandbox.state.keys(project="DEL")[0]
    comment_id = connector.add_comment("issue", key, "Deal closed.\n\nBudget: 100k")
    [stored] = sandbox.state.comments(key)
    assert stored["id"] == comment_id
    assert stored["body"]["type"] == "doc" and len(stored["body"]["content"]) == 2


def test_comment_must_be_adf_on_the_wire(raw_client, sandbox):
    key = sandbox.state.keys(project="DEL")[0]
    response = raw_client.post(f"/rest/api/3/issue/{key}/comment", json={"body": "plain"})
    assert response.status_code == 400 and "comment" in response.json()["errors"]


def test_find_users_by_email(connector, sandbox):
    ids = sandbox.state.user_ids()
    emails = [
        "Ada.Lovelace@acme-sales.example",
        "sam.rivera@acme-delivery.example",
        "former.employee@acme-delivery.example",
        "nobody@example.com",
    ]
    found = connector.find_users(emails)
    assert found == {
        "Ada.Lovelace@acme-sales.example": ids["ada.lovelace@acme-sales.example"],
        "sam.rivera@acme-delivery.example": ids["sam.rivera@acme-delivery.example"],
    }


def test_record_url_and_describe(connector):
    assert connector.record_url("issue", "DEL-7") == "https://acme.atlassian.net/browse/DEL-7"
    names = {f["id"]: f["name"] for f in connector.describe("issue")["fields"]}
    assert names["customfield_10050"] == "Budget"
    assert names["customfield_10052"] == "Delivery health"
