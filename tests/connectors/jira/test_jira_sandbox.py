"""The sandbox as Jira behaves: seeded data, write validation, errors, paging under edits."""

from __future__ import annotations

import datetime as dt

from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.jira.wire import adf_text, text_adf

NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)
ADF = {"type": "doc", "version": 1, "content": []}


def task(**fields: object) -> dict[str, object]:
    return {
        "fields": {
            "project": {"key": "DEL"},
            "issuetype": {"name": "Task"},
            "summary": "A task",
            **fields,
        }
    }


def test_seed_is_deterministic_and_realistic():
    first = JiraSandbox(seed=4, records=40, clock=lambda: NOW)
    again = JiraSandbox(seed=4, records=40, clock=lambda: NOW)
    other = JiraSandbox(seed=5, records=40, clock=lambda: NOW)
    keys = first.state.keys()
    assert keys == again.state.keys() and len(keys) >= 30
    assert [first.state.get(k) for k in keys] == [again.state.get(k) for k in keys]
    assert first.credentials == again.credentials != other.credentials
    assert first.credentials["api_token"].startswith("ATATT3x")
    issues = list(first.store.issues.values())
    assert {i.status for i in issues} >= {"To Do", "In Progress", "Done"}
    assert {i.issuetype for i in issues} >= {"Epic", "Task", "Subtask"}
    ages = [NOW - i.updated for i in issues]
    assert max(ages) > dt.timedelta(days=3) and min(ages) >= dt.timedelta(0)
    emails = set(first.state.user_ids())
    assert "ada.lovelace@acme-sales.example" in emails
    assert "priya.natarajan@acme-delivery.example" in emails
    assert first.settings == {"project_key": "DEL", "mode": "epic"}


def test_create_validation(raw_client, sandbox):
    epic = sandbox.state.epics()[0]
    a_task = sandbox.state.children(epic)[0]
    cases = [
        ({"fields": {"issuetype": {"name": "Task"}}}, {"project", "summary"}),
        (task(issuetype={"name": "Story"}), {"issuetype"}),
        (task(summary="x" * 256), {"summary"}),
        (task(description="plain"), {"description"}),
        (task(customfield_99="x"), {"customfield_99"}),
        (task(labels=["two words"]), {"labels"}),
        (task(issuetype={"name": "Subtask"}), {"parent"}),
        (task(issuetype={"name": "Epic"}, parent={"key": epic}), {"parent"}),
        (task(parent={"key": a_task}), {"parent"}),
        (task(assignee={"accountId": "5d0000000000000000000001"}), {"assignee"}),
        (task(customfield_10050="lots"), {"customfield_10050"}),
        (task(duedate="next week"), {"duedate"}),
    ]
    for body, fields in cases:
        response = raw_client.post("/rest/api/3/issue", json=body)
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == fields, (body, response.json())
    ok = raw_client.post(
        "/rest/api/3/issue",
        json=task(
            issuetype={"name": "Subtask"},
            parent={"key": a_task},
            description=ADF,
            customfield_10052={"value": "amber"},
            duedate="2026-12-24",
        ),
    )
    assert ok.status_code == 201
    made = sandbox.state.get(ok.json()["key"])["fields"]
    assert made["customfield_10052"]["value"] == "Amber" and made["parent"]["key"] == a_task


def test_edit_bumps_updated_only_on_change(raw_client, sandbox):
    key = sandbox.state.keys()[0]
    before = sandbox.state.get(key)["fields"]["updated"]
    same = sandbox.state.get(key)["fields"]["summary"]
    assert (
        raw_client.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": same}}).status_code
        == 204
    )
    assert sandbox.state.get(key)["fields"]["updated"] == before
    assert (
        raw_client.put(
            f"/rest/api/3/issue/{key}", json={"update": {"labels": [{"add": "vip"}]}}
        ).status_code
        == 204
    )
    after = sandbox.state.get(key)["fields"]
    assert "vip" in after["labels"] and after["updated"] > before
    refused = raw_client.put(f"/rest/api/3/issue/{key}", json={"fields": {"project": "X"}})
    assert refused.status_code == 400


def test_not_found_bodies(raw_client, sandbox):
    key = sandbox.state.keys()[0]
    missing = raw_client.get("/rest/api/3/issue/DEL-9999")
    assert missing.status_code == 404 and missing.json() == {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }
    prop = raw_client.get(f"/rest/api/3/issue/{key}/properties/nothing-here")
    assert prop.status_code == 404
    assert prop.json()["errorMessages"] == ["The property with key 'nothing-here' does not exist."]
    project = raw_client.get("/rest/api/3/project/NOPE")
    assert project.status_code == 404


def test_properties_round_trip(raw_client, sandbox):
    key = sandbox.state.keys()[0]
    url = f"/rest/api/3/issue/{key}/properties/handoff-hub"
    assert raw_client.put(url, json={"source": "crm:1"}).status_code == 201
    assert raw_client.put(url, json={"source": "crm:2"}).status_code == 200
    assert raw_client.get(url).json() == {"key": "handoff-hub", "value": {"source": "crm:2"}}
    keys = raw_client.get(f"/rest/api/3/issue/{key}/properties").json()["keys"]
    assert [k["key"] for k in keys] == ["handoff-hub"]
    bad = raw_client.put(url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400


def test_project_create_rules(raw_client, sandbox):
    lead = sandbox.store.me.account_id
    body = {
        "key": "HHNEW",
        "name": "New delivery",
        "projectTypeKey": "software",
        "leadAccountId": lead,
    }
    assert raw_client.post("/rest/api/3/project", json=body).status_code == 201
    again = raw_client.post("/rest/api/3/project", json=body)
    assert again.status_code == 400
    assert set(again.json()["errors"]) == {"projectKey", "projectName"}
    bad = raw_client.post("/rest/api/3/project", json={"key": "bad key", "name": "x"})
    assert set(bad.json()["errors"]) == {"projectKey", "projectTypeKey", "projectLead"}
    fetched = raw_client.get("/rest/api/3/project/HHNEW").json()
    assert fetched["key"] == "HHNEW" and fetched["lead"]["accountId"] == lead


def test_user_search(raw_client):
    assert raw_client.get("/rest/api/3/user/search").status_code == 400
    found = raw_client.get("/rest/api/3/user/search", params={"query": "sam.rivera@"}).json()
    assert [u["displayName"] for u in found] == ["Sam Rivera"] and "emailAddress" not in found[0]
    inactive = raw_client.get("/rest/api/3/user/search", params={"query": "former"}).json()
    assert inactive == []


def test_paging_is_a_snapshot_and_edits_during_it_are_read_next_time(connect):
    clock = {"now": NOW}
    sandbox = JiraSandbox(seed=11, records=60, clock=lambda: clock["now"])
    connector = connect(sandbox)
    connector.clock = lambda: clock["now"]
    pages = connector.read_changes("issue", since=None, page_size=10)
    first = next(pages)
    read = [r.id for r in first.records]
    later = [k for k in sandbox.state.keys(project="DEL") if k not in read]
    clock["now"] = NOW + dt.timedelta(minutes=1)
    sandbox.state.modify(read[0], summary="edited after it was read")
    sandbox.state.modify(later[0], summary="edited before it was read")
    remaining = list(pages)
    rest = [r.id for p in remaining for r in p.records]
    last = remaining[-1].cursor
    assert sorted(read + rest) == sorted(sandbox.state.keys(project="DEL"))  # no shift, no gap
    clock["now"] = NOW + dt.timedelta(minutes=2)
    again = [r.id for p in connector.read_changes("issue", since=last) for r in p.records]
    assert {read[0], later[0]} <= set(again)


def test_rich_text_round_trips_between_versions():
    text = "First paragraph\nwith a break\n\nSecond paragraph"
    doc = text_adf(text)
    assert doc is not None and [b["type"] for b in doc["content"]] == ["paragraph", "paragraph"]
    assert adf_text(doc) == text
    item = [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]
    other = [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]
    mention = {"type": "mention", "attrs": {"id": "x", "text": "@Ada"}}
    card = {"type": "inlineCard", "attrs": {"url": "https://crm.example/1"}}
    listed = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": item},
                    {"type": "listItem", "content": other},
                ],
            },
            {"type": "paragraph", "content": [mention, {"type": "text", "text": " see "}, card]},
        ],
    }
    assert adf_text(listed) == "one\n\ntwo\n\n@Ada see https://crm.example/1"
    assert text_adf("") is None and text_adf("\n\n") is None


def test_api_versions_2_3_and_latest_are_served_and_others_are_not(raw_client):
    assert (
        raw_client.get("/rest/api/2/myself")
        .json()["self"]
        .startswith("https://acme.atlassian.net/rest/api/2/")
    )
    assert raw_client.get("/rest/api/latest/myself").status_code == 200
    unknown = raw_client.get("/rest/api/4/myself")
    assert unknown.status_code == 404 and unknown.json()["errorMessages"] == ["null for uri"]


def test_deleting_an_epic_keeps_its_tasks_without_a_parent(raw_client, sandbox):
    epic = sandbox.state.add_issue("Epic", issuetype="Epic")
    task = sandbox.state.add_issue("Task under it", parent=epic)
    assert raw_client.delete(f"/rest/api/3/issue/{epic}").status_code == 204
    assert raw_client.get(f"/rest/api/3/issue/{epic}").status_code == 404
    assert "parent" not in sandbox.state.get(task)["fields"]


def test_transition_rules(raw_client, sandbox):
    key = sandbox.state.add_issue("Workflow")
    note = text_adf("Done.")
    path = f"/rest/api/3/issue/{key}/transitions"
    listed = raw_client.get(path, params={"expand": "transitions.fields"}).json()
    assert [t["name"] for t in listed["transitions"]] == [
        "In Progress",
        "In Review",
        "Done",
        "On Hold",
    ]
    assert all(t["fields"] == {} and t["to"]["name"] == t["name"] for t in listed["transitions"])
    assert (
        raw_client.get(path, params={"transitionId": "41"}).json()["transitions"][0]["id"] == "41"
    )
    missing = raw_client.post(path, json={})
    assert missing.status_code == 400
    assert missing.json()["errorMessages"] == ["Missing 'transition' identifier"]
    screen = raw_client.post(path, json={"transition": {"id": 41}, "fields": {"summary": "x"}})
    assert screen.status_code == 400 and "summary" in screen.json()["errors"]
    done = raw_client.post(
        path,
        json={"transition": {"id": 41}, "update": {"comment": [{"add": {"body": note}}]}},
    )
    assert done.status_code == 204
    assert sandbox.state.get(key)["fields"]["status"]["name"] == "Done"
    assert len(sandbox.state.comments(key)) == 1
