"""The official asana SDK (v5) against the served sandbox: the calls admins script with.

The sandbox is served on a localhost port (``hub sandbox serve`` does the
same) and the SDK talks to it as to app.asana.com: its own paging
(``limit``/``offset`` and ``next_page``), ``opt_fields``, and its urllib3
retries honouring ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import asana
import pytest
from asana.rest import ApiException
from asana_support import PROJECT

from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import CRM_ID_FIELD, SALES_TEAM, TEAM, TEMPLATE, WORKSPACE
from handoff_hub.sandboxes.kit.server import RunningSandbox, serve_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _client(url: str, token: str) -> asana.ApiClient:
    configuration = asana.Configuration()
    configuration.host = f"{url}/api/1.0"
    configuration.access_token = token
    return asana.ApiClient(configuration)


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    running = serve_in_thread(AsanaSandbox(seed=7, records=40))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(served: RunningSandbox) -> asana.ApiClient:
    return _client(served.url, served.sandbox.credentials["access_token"])


def gids(items: Any) -> list[str]:
    return [item["gid"] for item in items]


def test_users_me(client):
    me = asana.UsersApi(client).get_user("me", {"opt_fields": "name,email"})
    assert me["email"] == "hub-integration@acme-delivery.example"


def test_users_of_the_workspace(client):
    users = list(asana.UsersApi(client).get_users_for_workspace(WORKSPACE, {"limit": 5}))
    assert len(users) > 5 and len(set(gids(users))) == len(users)


def test_workspaces(client):
    assert gids(asana.WorkspacesApi(client).get_workspaces({})) == [WORKSPACE]
    workspace = asana.WorkspacesApi(client).get_workspace(WORKSPACE, {})
    assert workspace["name"] == "Acme Delivery"


def test_teams_of_the_workspace(client):
    teams = asana.TeamsApi(client).get_teams_for_workspace(WORKSPACE, {"opt_fields": "name"})
    assert {t["gid"]: t["name"] for t in teams} == {TEAM: "Delivery", SALES_TEAM: "Sales Ops"}
    assert asana.TeamsApi(client).get_team(TEAM, {})["name"] == "Delivery"


def test_projects_list_pages_with_opt_fields(client, served):
    projects = asana.ProjectsApi(client).get_projects(
        {"workspace": WORKSPACE, "team": TEAM, "limit": 2, "opt_fields": "name,archived"}
    )
    listed = list(projects)
    assert gids(listed) == served.sandbox.state.projects(team=TEAM)[: len(listed)]
    assert len(listed) >= 4 and all(set(p) == {"gid", "name", "archived"} for p in listed)


def test_projects_of_the_workspace(client, served):
    listed = list(
        asana.ProjectsApi(client).get_projects_for_workspace(
            WORKSPACE, {"limit": 2, "opt_fields": "name,team.name"}
        )
    )
    assert set(gids(listed)) >= set(served.sandbox.state.projects())
    assert {p["team"]["name"] for p in listed} >= {"Delivery", "Sales Ops"}


def test_projects_of_a_team(client):
    listed = list(asana.ProjectsApi(client).get_projects_for_team(SALES_TEAM, {}))
    assert [p["name"] for p in listed] == ["Sales Ops - CRM hygiene"]


def test_project_get_create_update(client):
    api = asana.ProjectsApi(client)
    assert api.get_project(PROJECT, {"opt_fields": "name,owner.name"})["gid"] == PROJECT
    body = {"data": {"name": "SDK project", "team": TEAM, "notes": "Made by the SDK"}}
    made = api.create_project(body, {"opt_fields": "name,team.name"})
    assert made["name"] == "SDK project" and made["team"]["name"] == "Delivery"
    changed = api.update_project({"data": {"name": "SDK project 2"}}, made["gid"], {})
    assert changed["name"] == "SDK project 2"


def test_task_create_get_update_delete(client, served):
    api = asana.TasksApi(client)
    body = {"data": {"name": "SDK task", "projects": [PROJECT], "due_on": "2027-01-15"}}
    made = api.create_task(body, {"opt_fields": "name,projects.name,due_on"})
    assert made["projects"][0]["gid"] == PROJECT and made["due_on"] == "2027-01-15"
    assert api.get_task(made["gid"], {})["name"] == "SDK task"
    stamp = {"data": {"completed": True, "custom_fields": {CRM_ID_FIELD: "sdk:1"}}}
    updated = api.update_task(stamp, made["gid"], {"opt_fields": "completed"})
    assert updated["completed"] is True
    assert served.sandbox.state.value(made["gid"], CRM_ID_FIELD) == "sdk:1"
    assert api.delete_task(made["gid"]) == {}
    with pytest.raises(ApiException) as gone:
        api.get_task(made["gid"], {})
    assert gone.value.status == 404


def test_tasks_of_a_project_page_through(client, served):
    api = asana.TasksApi(client)
    listed = list(api.get_tasks_for_project(PROJECT, {"limit": 3, "opt_fields": "name"}))
    assert gids(listed) == served.sandbox.state.tasks(PROJECT)
    also = list(api.get_tasks({"project": PROJECT, "limit": 100}))
    assert gids(also) == gids(listed)


def test_subtasks(client):
    api = asana.TasksApi(client)
    parent = api.create_task({"data": {"name": "Parent", "projects": [PROJECT]}}, {})
    child = api.create_subtask_for_task({"data": {"name": "Child"}}, parent["gid"], {})
    assert gids(api.get_subtasks_for_task(parent["gid"], {})) == [child["gid"]]


def test_comments(client):
    task = asana.TasksApi(client).create_task({"data": {"name": "Talk", "projects": [PROJECT]}}, {})
    stories = asana.StoriesApi(client)
    story = stories.create_story_for_task({"data": {"text": "Hello"}}, task["gid"], {})
    assert story["text"] == "Hello"
    listed = stories.get_stories_for_task(task["gid"], {"opt_fields": "text,resource_subtype"})
    assert [s["text"] for s in listed if s["resource_subtype"] == "comment_added"] == ["Hello"]


def test_custom_fields_and_their_project_settings(client):
    fields = asana.CustomFieldsApi(client).get_custom_fields_for_workspace(WORKSPACE, {})
    assert "CRM ID" in {f["name"] for f in fields}
    settings = list(
        asana.CustomFieldSettingsApi(client).get_custom_field_settings_for_project(
            PROJECT, {"limit": 2, "opt_fields": "custom_field.name,is_important,project.name"}
        )
    )
    assert {"Budget", "CRM ID", "Health", "Customer"} <= {
        s["custom_field"]["name"] for s in settings
    }
    assert len(settings) > 2  # more than one page
    assert all(s["project"]["gid"] == PROJECT for s in settings)


def test_sections(client):
    api = asana.SectionsApi(client)
    assert [s["name"] for s in api.get_sections_for_project(PROJECT, {})] == [
        "Planning",
        "Execution",
        "Closing",
    ]
    made = api.create_section_for_project(PROJECT, {"body": {"data": {"name": "SDK"}}})
    assert made["name"] == "SDK"


def test_project_templates_of_a_team(client):
    api = asana.ProjectTemplatesApi(client)
    assert gids(api.get_project_templates_for_team(TEAM, {"limit": 5})) == [TEMPLATE]
    assert gids(api.get_project_templates({"team": TEAM})) == [TEMPLATE]
    assert gids(api.get_project_templates({"team": SALES_TEAM})) == []
    assert api.get_project_template(TEMPLATE, {})["name"] == "Standard delivery"


def test_instantiate_a_template_and_poll_its_job(client, served):
    body = {
        "data": {
            "name": "SDK delivery",
            "team": TEAM,
            "requested_dates": [{"gid": "1", "value": "2027-02-01"}],
        }
    }
    job = asana.ProjectTemplatesApi(client).instantiate_project(TEMPLATE, {"body": body})
    status = job["status"]
    for _ in range(5):
        if status == "succeeded":
            break
        status = asana.JobsApi(client).get_job(job["gid"], {})["status"]
    assert status == "succeeded"
    project = job["new_project"]["gid"]
    assert served.sandbox.state.tree(project)


def test_batch(client):
    actions = [
        {"method": "get", "relative_path": "/users/me"},
        {"method": "get", "relative_path": f"/projects/{PROJECT}", "options": {"fields": ["name"]}},
        {"method": "get", "relative_path": "/tasks/1209999999999999"},
    ]
    batch = asana.BatchAPIApi(client).create_batch_request({"data": {"actions": actions}}, {})
    answers = list(batch)
    assert [a["status_code"] for a in answers] == [200, 200, 404]
    assert answers[1]["body"]["data"]["gid"] == PROJECT


def test_search_tasks_of_the_workspace(client, served):
    task = served.sandbox.state.add_task(PROJECT, "Searchable", **{"CRM ID": "sdk:search"})
    found = asana.TasksApi(client).search_tasks_for_workspace(
        WORKSPACE, {f"custom_fields.{CRM_ID_FIELD}.value": "sdk:search"}
    )
    assert gids(found) == [task]


def test_the_sdk_waits_out_a_paced_sandbox():
    running = serve_in_thread(AsanaSandbox(seed=3, records=5, rate_limit=(1, 0.3)))
    try:
        client = _client(running.url, running.sandbox.credentials["access_token"])
        users = asana.UsersApi(client)
        assert users.get_user("me", {})["gid"] == users.get_user("me", {})["gid"]
        assert 429 in [c.status for c in running.sandbox.journal.calls]  # waited out
    finally:
        running.stop()
