"""Writing: the batch API in calls of 10, one bad record isolated, custom fields, comments."""

from __future__ import annotations

import json

import pytest
from asana_support import API, PROJECT, RecordingTransport

from handoff_hub.hub.errors import ConnectorError
from handoff_hub.sandboxes.asana.seed import HEALTH_FIELD


def task(name: str, **fields: object) -> dict[str, object]:
    return {"name": name, "projects": [PROJECT], **fields}


def batches(recorder: RecordingTransport) -> list[list[dict]]:
    return [
        json.loads(r.content)["data"]["actions"]
        for r, _ in recorder.exchanges
        if r.url.path == f"{API}/batch"
    ]


def test_create_goes_in_batches_of_10_and_isolates_bad_records(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    records = [task(f"Batch {n}") for n in range(24)]
    records[3] = task("Unknown field", custom_fields={"Colour": "red"})  # refused before sending
    records[12] = task("Bad date", due_on="next week")  # refused by Asana
    records[13] = {"name": "Nowhere", "projects": ["1209999999999998"]}
    records[23] = task("Bad option", custom_fields={"health": "Purple"})  # refused before sending
    before = sandbox.state.count()
    results = connector.create("tasks", records)
    # the batches go a few at a time (systems.<name>.concurrency): in any order
    assert sorted(len(b) for b in batches(recorder)) == [2, 10, 10]
    assert all(
        a["method"] == "post" and a["relative_path"] == "/tasks"
        for b in batches(recorder)
        for a in b
    )
    assert [r.index for r in results] == list(range(24))
    failed = {r.index: r.error or "" for r in results if not r.ok}
    assert set(failed) == {3, 12, 13, 23}
    assert "custom field 'Colour' is not in workspace" in failed[3]
    assert failed[12] == "HTTP 400: due_on: Invalid date: next week"
    assert "projects: [0]: Unknown object" in failed[13]
    assert "no option 'Purple' (its options: 'Green', 'Amber', 'Red')" in failed[23]
    made = [r for r in results if r.ok]
    assert len(made) == 20 and all(r.created and r.id for r in made)
    assert sandbox.state.count() == before + 20
    assert sandbox.state.task(made[0].id)["name"] == "Batch 0"
    assert sandbox.state.task(made[-1].id)["name"] == "Batch 22"


def test_custom_fields_and_references_are_translated(connector, sandbox):
    user = sandbox.state.users()["mei.chen@acme-delivery.example"]
    [result] = connector.create(
        "tasks",
        [
            task(
                "Translated",
                assignee={"gid": user},
                custom_fields={"budget": 1200.5, "Health": "amber", "crm_id": "hubspot:1"},
            )
        ],
    )
    assert result.ok
    assert sandbox.state.task(result.id)["assignee"]["gid"] == user
    assert sandbox.state.value(result.id, "Budget") == 1200.5
    assert sandbox.state.value(result.id, "Health") == "Amber"
    assert sandbox.state.value(result.id, "CRM ID") == "hubspot:1"


def test_a_task_needs_a_home_the_connector_supplies(sandbox, connect):
    [in_workspace] = connect(sandbox).create("tasks", [{"name": "Loose"}])
    assert in_workspace.ok and sandbox.state.task(in_workspace.id)["projects"] == []
    [in_project] = connect(sandbox, settings={"project_gid": PROJECT}).create(
        "tasks", [{"name": "Homed"}]
    )
    assert in_project.id in sandbox.state.tasks(PROJECT)


def test_task_custom_fields_must_be_on_its_project(connector, sandbox):
    [result] = connector.create(
        "tasks", [{"name": "Loose", "custom_fields": {"budget": 5.0}}]
    )  # a workspace task has no project, so no fields
    assert not result.ok
    assert "is not on given object" in (result.error or "")


def test_update_goes_in_batches_and_reports_refusals(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    gids = sandbox.state.tasks(PROJECT)[:2]
    results = connector.update(
        "tasks",
        [
            (gids[0], {"name": "Renamed", "completed": True, "custom_fields": {"Health": "Red"}}),
            ("1209999999999999", {"name": "Nope"}),
            (gids[1], {"projects": [PROJECT]}),
            ("DEL-1", {"name": "Not a gid"}),
        ],
    )
    assert [r.ok for r in results] == [True, False, False, False]
    assert [r.id for r in results] == [gids[0], "1209999999999999", gids[1], "DEL-1"]
    assert all(r.created is False for r in results)
    assert "task: Unknown object" in (results[1].error or "")
    assert "projects: Cannot write this property" in (results[2].error or "")
    assert "'DEL-1' is not an Asana gid" in (results[3].error or "")
    [actions] = batches(recorder)
    assert [a["method"] for a in actions] == ["put", "put", "put"]
    assert actions[0]["data"]["custom_fields"] == {HEALTH_FIELD: "1209000000000112"}
    changed = sandbox.state.task(gids[0])
    assert changed["name"] == "Renamed" and changed["completed"] is True
    assert sandbox.state.value(gids[0], "Health") == "Red"


def test_add_comment_posts_a_story(connector, sandbox):
    gid = sandbox.state.tasks(PROJECT)[0]
    story = connector.add_comment("tasks", gid, "Deal closed.\n\nBudget: 100k")
    assert sandbox.state.stories(gid) == ["Deal closed.\n\nBudget: 100k"]
    assert story.isdigit()
    with pytest.raises(ConnectorError, match="comments on tasks only"):
        connector.add_comment("projects", PROJECT, "Hello")


def test_find_users_by_email(connector, sandbox):
    ids = sandbox.state.users()
    found = connector.find_users(
        ["Ada.Lovelace@acme-sales.example", "sam.rivera@acme-delivery.example", "x@example.com"]
    )
    assert found == {
        "Ada.Lovelace@acme-sales.example": ids["ada.lovelace@acme-sales.example"],
        "sam.rivera@acme-delivery.example": ids["sam.rivera@acme-delivery.example"],
    }


def test_record_url_and_describe(connector):
    assert connector.record_url("tasks", "12") == "https://app.asana.com/0/0/12"
    assert connector.record_url("projects", PROJECT) == f"https://app.asana.com/0/{PROJECT}/list"
    fields = {f["name"]: f for f in connector.describe("tasks")["fields"]}
    assert fields["Health"]["options"] == ["Green", "Amber", "Red"]
    assert fields["Budget"]["type"] == "number"
