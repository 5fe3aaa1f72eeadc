"""Projects that lack some of the custom fields the mapping uses, as real workspaces have.

With ``custom_fields_absent`` the sandbox's delivery projects 2-4 have no
custom field setting for some fields (sandbox_org.ABSENT_FIELDS). Reading
them works, the field is just absent; a write of such a field is refused by
Asana (400 "Custom field with ID ... is not on given object", nothing
written), and the connector reports it on that record alone, naming the field
and what to do: the value stays in the dead letter, to be replayed once an
admin adds the field, instead of being dropped. The hub's own stamp is the
exception: a project keeps it in its notes when it has no CRM-id field.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from asana_support import API, BASE_URL, PROJECT, new_project

from handoff_hub.hub.connector import ProjectHandle, ProjectTemplate
from handoff_hub.hub.errors import RecordError
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.mapping.loader import load_mapping
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.org import ABSENT_FIELDS
from handoff_hub.sandboxes.asana.seed import (
    BUDGET_FIELD,
    CRM_ID_FIELD,
    DELIVERY_PROJECTS,
    RISK_FIELD,
)

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "asana.yaml"
NO_RISK = DELIVERY_PROJECTS[1]
NO_BUDGET = DELIVERY_PROJECTS[2]
NO_CRM_ID = DELIVERY_PROJECTS[3]


@pytest.fixture
def sparse() -> AsanaSandbox:
    return AsanaSandbox(seed=7, records=60, profile={"custom_fields_absent": True})


@pytest.fixture
def client(sparse, sandbox_transport):
    with httpx.Client(
        transport=sandbox_transport(sparse),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sparse.credentials['access_token']}"},
    ) as raw:
        yield raw


def field_gids(items) -> set[str]:
    return {f["gid"] for f in items}


def test_the_sandbox_plays_projects_without_some_fields(sparse, client):
    for project, absent in ABSENT_FIELDS.items():
        body = client.get(f"{API}/projects/{project}").json()["data"]
        settings = {s["custom_field"]["gid"] for s in body["custom_field_settings"]}
        assert not settings & set(absent)
        assert not field_gids(body["custom_fields"]) & set(absent)
    full = client.get(f"{API}/projects/{PROJECT}").json()["data"]
    assert {RISK_FIELD, BUDGET_FIELD, CRM_ID_FIELD} <= {
        s["custom_field"]["gid"] for s in full["custom_field_settings"]
    }
    task = sparse.state.tasks(NO_RISK)[0]
    shown = client.get(f"{API}/tasks/{task}", params={"opt_fields": "custom_fields"}).json()
    assert RISK_FIELD not in field_gids(shown["data"]["custom_fields"])
    assert AsanaSandbox(profile="hard").profile.custom_fields_absent


def test_writing_a_field_the_project_lacks_is_refused_as_asana_refuses_it(sparse, client):
    task = sparse.state.tasks(NO_RISK)[0]
    option = sparse.store.fields[RISK_FIELD].options[0].gid
    refused = client.put(
        f"{API}/tasks/{task}", json={"data": {"custom_fields": {RISK_FIELD: option}}}
    )
    assert refused.status_code == 400
    message = f"Custom field with ID {RISK_FIELD} is not on given object"
    assert [e["message"] for e in refused.json()["errors"]] == [message]
    body = {"data": {"name": "Renamed", "custom_fields": {BUDGET_FIELD: 1000.0}}}
    assert client.put(f"{API}/projects/{NO_BUDGET}", json=body).status_code == 400
    assert sparse.state.project(NO_BUDGET)["name"] != "Renamed"  # nothing was written
    with pytest.raises(KeyError, match="Risk"):
        sparse.state.add_risk(NO_RISK, "Not possible here")


def test_reading_projects_and_tasks_without_the_fields_works(sparse, connect):
    connector = connect(sparse)
    spec = load_mapping(MAPPING).bind_name("pm")
    entity = spec.entities["Project"]
    pages = connector.read_changes("projects", since=None, fields=entity.source_fields())
    raws = [r.raw for page in pages for r in page.records]
    projects, failures = to_unified_many(spec, "Project", raws)
    assert failures == []
    by_gid = {p.refs["pm"]: p for p in projects}
    assert by_gid[NO_BUDGET].budget is None and by_gid[NO_BUDGET].account is None
    assert by_gid[PROJECT].budget is not None
    where = {"project": NO_RISK, "custom_fields.Risk": ["Low", "Medium", "High", "Critical"]}
    assert [
        r for p in connector.read_changes("tasks", since=None, where=where) for r in p.records
    ] == []


def test_a_write_of_a_field_the_project_lacks_fails_that_record_naming_the_field(sparse, connect):
    connector = connect(sparse)
    lacking, fine = sparse.state.tasks(NO_RISK)[0], sparse.state.tasks(PROJECT)[0]
    results = connector.update(
        "tasks",
        [
            (lacking, {"name": "Risky", "custom_fields": {"Risk": "High"}}),
            (fine, {"name": "Risky too", "custom_fields": {"Risk": "High"}}),
        ],
    )
    assert [r.ok for r in results] == [False, True]
    error = results[0].error or ""
    assert "'Risk'" in error and RISK_FIELD in error
    assert "add the field to the project" in error
    assert sparse.state.task(lacking)["name"] != "Risky"  # Asana wrote none of it
    [refused] = connector.update("projects", [(NO_BUDGET, {"custom_fields": {"budget": 5.0}})])
    assert not refused.ok and "'Budget'" in (refused.error or "")


def test_a_project_without_the_crm_id_field_keeps_its_stamp_in_the_notes(sparse, connect):
    connector = connect(sparse)
    stamp = connector.project_stamp(sparse.state.project(NO_CRM_ID))
    assert stamp is not None  # from the notes
    found = connector.find_project(stamp)
    assert found == ProjectHandle(NO_CRM_ID, NO_CRM_ID, found.url)
    sparse.state.modify_project(NO_CRM_ID, notes="Notes rewritten by hand.")
    assert connector.find_project(stamp) is None
    project = new_project(source_id=stamp, template=ProjectTemplate("plain"))
    completed = connector.complete_project(found, project)
    assert completed.id == NO_CRM_ID
    assert connector.find_project(stamp) == found


def test_a_mapped_field_the_adopted_project_lacks_is_named(sparse, connect, client):
    project = new_project(
        "hubspot:79", template=ProjectTemplate("t", product_template=sparse.template_gid)
    )
    made = client.post(
        f"{API}/project_templates/{sparse.template_gid}/instantiateProject",
        json={"data": {"name": project.name, "team": "1209000000000011"}},
    )  # the run died before stamping it; then someone took Budget off the project
    orphan = sparse.store.projects[made.json()["data"]["new_project"]["gid"]]
    orphan.absent_fields.add(BUDGET_FIELD)
    with pytest.raises(RecordError, match="custom field 'Budget'") as caught:
        connect(sparse).create_project(project)
    assert f"project {orphan.gid}" in str(caught.value)
    assert "add the field to the project" in str(caught.value)
