"""The sandbox as Asana behaves: seeded data, opt_fields, write checks, batches, jobs, search."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from asana_support import API, PROJECT

from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import (
    BUDGET_CURRENCY_FIELD,
    BUDGET_FIELD,
    CRM_ID_FIELD,
    DELIVERY_PROJECTS,
    HEALTH_FIELD,
    OTHER_WORKSPACE,
    TEAM,
    WORKSPACE,
)
from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.server import known_sandboxes, make_sandbox, serve_in_thread

NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


def test_seed_is_deterministic_and_realistic():
    first = AsanaSandbox(seed=4, records=40, clock=lambda: NOW)
    again = AsanaSandbox(seed=4, records=40, clock=lambda: NOW)
    other = AsanaSandbox(seed=5, records=40, clock=lambda: NOW)
    gids = sorted(first.store.tasks)
    assert gids == sorted(again.store.tasks) and 36 <= len(gids) <= 44
    assert [first.state.task(g) for g in gids] == [again.state.task(g) for g in gids]
    assert first.credentials == again.credentials != other.credentials
    assert first.state.projects(team=TEAM) == list(DELIVERY_PROJECTS)  # fixed, whatever the seed
    assert other.state.projects(team=TEAM) == list(DELIVERY_PROJECTS)
    tasks = list(first.store.tasks.values())
    overdue = [t for t in tasks if not t.completed and (t.due_on or "9") < NOW.date().isoformat()]
    assert overdue and any(t.completed for t in tasks) and any(t.parent for t in tasks)
    assert all(t.modified_at <= NOW for t in tasks)
    for project in DELIVERY_PROJECTS:
        assert first.state.value(project, "CRM ID").startswith("salesforce:006")
        assert first.state.value(project, "Health") in {"Green", "Amber", "Red"}
        assert first.state.value(project, "Budget") >= 40000
    members = first.state.tasks(PROJECT)
    assert [first.store.tasks[g].modified_at for g in members] != sorted(
        first.store.tasks[g].modified_at for g in members
    )  # listings are not in modified order
    emails = set(first.state.users())
    assert {"ada.lovelace@acme-sales.example", "priya.natarajan@acme-delivery.example"} <= emails
    assert first.settings == {
        "workspace_gid": WORKSPACE,
        "team_gid": TEAM,
        "budget_field": BUDGET_FIELD,
        "budget_currency_field": BUDGET_CURRENCY_FIELD,
        "crm_id_field": CRM_ID_FIELD,
        "health_field": HEALTH_FIELD,
        "customer_field": "1209000000000104",
    }


def test_opt_fields_select_nested_paths(raw_client, sandbox):
    gid = next(t for t in sandbox.state.tasks(PROJECT) if sandbox.store.tasks[t].assignee)
    full = raw_client.get(f"{API}/tasks/{gid}").json()["data"]
    assert set(full["assignee"]) == {"gid", "resource_type", "name"}  # compact reference
    assert full["memberships"][0]["section"]["resource_type"] == "section"
    picked = raw_client.get(
        f"{API}/tasks/{gid}", params={"opt_fields": "name,assignee.name,custom_fields.name"}
    ).json()["data"]
    assert set(picked) == {"gid", "name", "assignee", "custom_fields"}
    assert set(picked["assignee"]) == {"gid", "name"}
    assert all(set(f) == {"gid", "name"} for f in picked["custom_fields"])
    listed = raw_client.get(f"{API}/projects/{PROJECT}/tasks").json()["data"]
    assert set(listed[0]) == {"gid", "resource_type", "name", "resource_subtype"}


def test_task_writes_are_checked_before_anything_changes(raw_client, sandbox):
    before = sandbox.state.count()
    cases = [
        ({"name": "No home"}, 400, "You should specify one of workspace, parent, projects"),
        ({"name": "x", "projects": PROJECT}, 400, "projects: Expected an array"),
        ({"name": "x", "workspace": OTHER_WORKSPACE}, 403, "Forbidden"),
        ({"name": "x", "projects": [PROJECT], "gid": "1"}, 400, "gid: Cannot write this property"),
        ({"name": "x", "projects": [PROJECT], "colour": "red"}, 400, "colour: Unknown property"),
        ({"name": "x", "projects": [PROJECT], "due_on": "2026-13-01"}, 400, "due_on: Invalid"),
        ({"name": "x", "projects": [PROJECT], "start_on": "2026-12-01"}, 400, "requires a due"),
        ({"name": "x", "projects": [PROJECT], "assignee": "ghost@x"}, 400, "Not a recognized user"),
        (
            {"name": "x", "projects": [PROJECT], "custom_fields": {BUDGET_FIELD: "lots"}},
            400,
            "Number value expected",
        ),
        (
            {"name": "x", "projects": [PROJECT], "custom_fields": {HEALTH_FIELD: "Red"}},
            400,
            "not an enum option",
        ),
        (
            {"name": "x", "workspace": WORKSPACE, "custom_fields": {CRM_ID_FIELD: "a"}},
            400,
            "is not on given object",
        ),
    ]
    for data, status, message in cases:
        answer = raw_client.post(f"{API}/tasks", json={"data": data})
        assert answer.status_code == status, data
        assert message in answer.json()["errors"][0]["message"], (data, answer.json())
    assert raw_client.post(f"{API}/tasks", json={"name": "no envelope"}).status_code == 400
    assert sandbox.state.count() == before
    ok = raw_client.post(
        f"{API}/tasks",
        json={
            "data": {
                "name": "Fine",
                "projects": [PROJECT],
                "custom_fields": {HEALTH_FIELD: "1209000000000111"},
            }
        },
    )
    assert (
        ok.status_code == 201 and sandbox.state.value(ok.json()["data"]["gid"], "Health") == "Amber"
    )


def test_modified_since_and_completed_since_filter(raw_client, sandbox):
    tasks = {g: sandbox.store.tasks[g] for g in sandbox.state.tasks(PROJECT)}
    middle = sorted(t.modified_at for t in tasks.values())[len(tasks) // 2]
    since = middle.isoformat().replace("+00:00", "Z")
    answer = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "modified_since": since})
    assert {t["gid"] for t in answer.json()["data"]} == {
        g for g, t in tasks.items() if t.modified_at >= middle
    }
    open_only = raw_client.get(
        f"{API}/tasks", params={"project": PROJECT, "completed_since": "now"}
    )
    assert {t["gid"] for t in open_only.json()["data"]} == {
        g for g, t in tasks.items() if not t.completed
    }
    bad = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "modified_since": "yesterday"})
    assert bad.status_code == 400


def test_batch_rules_and_per_action_answers(raw_client, sandbox):
    def batch(actions):
        return raw_client.post(f"{API}/batch", json={"data": {"actions": actions}})

    assert batch([]).status_code == 400
    assert batch([{"method": "get", "relative_path": "/users/me"}] * 11).status_code == 400
    answer = batch(
        [
            {
                "method": "get",
                "relative_path": f"/projects/{PROJECT}",
                "options": {"fields": ["name"]},
            },
            {
                "method": "post",
                "relative_path": "/tasks",
                "data": {"name": "B", "projects": [PROJECT]},
            },
            {"method": "get", "relative_path": "/tasks/1209999999999999"},
            {"method": "get", "relative_path": "/tasks?limit=1"},
            {"method": "post", "relative_path": "/batch", "data": {"actions": []}},
            {
                "method": "get",
                "relative_path": f"/projects/{PROJECT}/tasks",
                "options": {"limit": 2},
            },
        ]
    )
    assert answer.status_code == 200
    results = answer.json()["data"]
    assert [r["status_code"] for r in results] == [200, 201, 404, 400, 400, 200]
    assert set(results[0]["body"]["data"]) == {"gid", "name"}
    assert results[1]["headers"]["location"] == f"/tasks/{results[1]['body']['data']['gid']}"
    assert "Unknown object" in results[2]["body"]["errors"][0]["message"]
    assert "cannot be nested" in results[4]["body"]["errors"][0]["message"]
    assert len(results[5]["body"]["data"]) == 2 and results[5]["body"]["next_page"]["offset"]


def test_instantiation_job_finishes_on_a_later_poll(raw_client, sandbox):
    answer = raw_client.post(
        f"{API}/project_templates/{sandbox.template_gid}/instantiateProject",
        json={
            "data": {
                "name": "From template",
                "requested_dates": [{"gid": "1", "value": "2027-01-04"}],
            }
        },
    )
    assert answer.status_code == 201
    job = answer.json()["data"]
    project = job["new_project"]["gid"]
    assert job["status"] == "not_started" and job["resource_subtype"] == "instantiate_project"
    assert sandbox.state.tasks(project) == []  # exists, still empty
    polls = [raw_client.get(f"{API}/jobs/{job['gid']}").json()["data"]["status"] for _ in range(3)]
    assert polls == ["in_progress", "succeeded", "succeeded"]
    kickoff = next(
        sandbox.state.task(t)
        for t in sandbox.state.tasks(project)
        if sandbox.state.task(t)["name"] == "Kick-off meeting"
    )
    assert kickoff["due_on"] == "2027-01-09"
    assert sandbox.state.project(project)["created_from_template"]["gid"] == sandbox.template_gid
    strict = raw_client.post(
        f"{API}/project_templates/{sandbox.template_gid}/instantiateProject",
        json={"data": {"name": "Strict", "is_strict": True}},
    )
    assert strict.status_code == 422


def test_search_sorts_filters_and_is_premium_only(raw_client, sandbox):
    gid = sandbox.state.tasks(PROJECT)[2]
    sandbox.state.modify(gid, fields={"CRM ID": "hubspot:1"})
    search = f"{API}/workspaces/{WORKSPACE}/tasks/search"
    hit = raw_client.get(search, params={f"custom_fields.{CRM_ID_FIELD}.value": "hubspot:1"})
    assert [t["gid"] for t in hit.json()["data"]] == [gid]
    newest = raw_client.get(search, params={"projects.any": PROJECT, "limit": 3}).json()["data"]
    stamps = [sandbox.store.tasks[t["gid"]].modified_at for t in newest]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) == 3
    sandbox.state.set_premium(False)
    refused = raw_client.get(search, params={"text": "Kick"})
    assert refused.status_code == 402


def test_sections_and_comments(raw_client, sandbox):
    made = raw_client.post(f"{API}/projects/{PROJECT}/sections", json={"data": {"name": "Risks"}})
    assert made.status_code == 201
    names = [s["name"] for s in raw_client.get(f"{API}/projects/{PROJECT}/sections").json()["data"]]
    assert names[-1] == "Risks" and names[0] == "Planning"
    gid = sandbox.state.tasks(PROJECT)[0]
    before = sandbox.store.tasks[gid].modified_at
    story = raw_client.post(
        f"{API}/tasks/{gid}/stories", json={"data": {"html_text": "<body>Hi <b>there</b></body>"}}
    )
    assert story.status_code == 201 and story.json()["data"]["text"] == "Hi there"
    assert sandbox.store.tasks[gid].modified_at >= before
    assert raw_client.post(f"{API}/tasks/{gid}/stories", json={"data": {}}).status_code == 400


def test_registered_and_served_through_the_entry_point():
    assert "asana" in known_sandboxes()
    sandbox = make_sandbox("asana", seed=2, records=8, faults=Faults())
    assert isinstance(sandbox, AsanaSandbox)
    running = serve_in_thread(sandbox)
    try:
        token = sandbox.credentials["access_token"]
        me = httpx.get(f"{running.url}{API}/users/me", headers={"Authorization": f"Bearer {token}"})
        lost = httpx.get(f"{running.url}/nowhere")
    finally:
        running.stop()
    assert me.status_code == 200 and me.json()["data"]["name"] == "Handoff Hub Integration"
    assert lost.status_code == 404 and lost.json()["errors"][0]["message"] == "Not Found"


@pytest.mark.parametrize("trailing", ["/", ""])
def test_trailing_slash_is_tolerated(raw_client, trailing):
    assert raw_client.get(f"{API}/users/me{trailing}").status_code == 200
