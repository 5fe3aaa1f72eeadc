"""The project handoff on Asana: create from a template, find by stamp, complete after a crash."""

from __future__ import annotations

import json

import pytest
from asana_support import (
    API,
    EXPECTED_TREE,
    AnswerAfter,
    CrashAfter,
    RecordingTransport,
    TimeoutAfter,
    new_project,
)

from handoff_hub.hub.connector import PmConnector, ProjectTemplate, TemplateTask
from handoff_hub.hub.errors import ConfigError, NotFoundError, RecordError, TransientError
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import TEAM
from handoff_hub.sandboxes.kit import Faults

BATCH = f"{API}/batch"
PROJECTS = f"{API}/projects"
SOURCE = "salesforce:006Dn000004AbCdIAK"
TEMPLATE_TREE = {
    "Kick-off meeting": {"Prepare agenda": {}, "Send invites": {}},
    "Discovery and requirements": {},
    "Solution design": {},
    "Build and configuration": {"Data migration": {}},
    "User acceptance testing": {},
    "Go-live and handover": {},
}


def recorder_requests(recorder: RecordingTransport, path: str) -> list:
    return [r for r, _ in recorder.exchanges if r.url.path == path and r.method == "POST"]


def named(sandbox: AsanaSandbox, name: str) -> list[str]:
    return [g for g in sandbox.state.projects() if sandbox.state.project(g)["name"] == name]


def by_name(sandbox: AsanaSandbox, parent_gids: list[str], name: str) -> str:
    return next(g for g in parent_gids if sandbox.state.task(g)["name"] == name)


def test_connector_is_a_pm_connector(connector):
    assert isinstance(connector, PmConnector)


def test_create_project_from_the_hub_template(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    manager = sandbox.state.users()["priya.natarajan@acme-delivery.example"]
    project = new_project(manager_id=manager)
    handle = connector.create_project(project)
    assert handle.created and handle.key == handle.id
    assert handle.url == f"https://app.asana.com/0/{handle.id}/list"
    details = sandbox.state.project(handle.id)
    assert details["name"] == project.name and details["team"]["gid"] == TEAM
    assert details["owner"]["gid"] == manager and details["due_on"] == "2027-01-30"
    assert details["notes"].endswith(f"\n\nHandoff Hub source: {SOURCE}")
    assert sandbox.state.value(handle.id, "CRM ID") == SOURCE
    assert sandbox.state.value(handle.id, "Budget") == 125000.0
    assert sandbox.state.value(handle.id, "Customer") == "Acme Industries"
    assert sandbox.state.tree(handle.id) == EXPECTED_TREE
    assert len(handle.task_ids) == 7
    tops = sandbox.state.tasks(handle.id)
    kickoff = sandbox.state.task(by_name(sandbox, tops, "Kick-off"))
    assert kickoff["due_on"] == "2026-12-03" and kickoff["notes"] == "Meet the customer"
    agenda = by_name(sandbox, sandbox.state.subtasks(kickoff["gid"]), "Prepare agenda")
    assert sandbox.state.task(agenda)["due_on"] == "2026-12-02"
    # One POST /projects, then one batch per level of the tree (3 + 3 + 1 creates).
    posts = [r.url.path for r, _ in recorder.exchanges if r.method == "POST"]
    assert posts == [PROJECTS, BATCH, BATCH, BATCH]
    batches = [json.loads(r.content)["data"]["actions"] for r in recorder_requests(recorder, BATCH)]
    assert [len(b) for b in batches] == [3, 3, 1]
    assert {a["method"] for b in batches for a in b} == {"post"}


def test_find_project_by_stamp(connector, sandbox):
    handle = connector.create_project(new_project())
    found = connector.find_project(SOURCE)
    assert found is not None and (found.id, found.key) == (handle.id, handle.id)
    assert not found.created and found.task_ids == ()
    assert connector.find_project(SOURCE.lower()) is None  # ids are exact
    assert connector.find_project("salesforce:0060000000NONE") is None


def test_find_projects_lists_the_team_once_for_many_stamps(connector, sandbox):
    sources = [f"salesforce:006Dn00000{n:04d}AAA" for n in range(3)]
    handles = {s: connector.create_project(new_project(source_id=s)) for s in sources[:2]}
    listings = sandbox.journal.count(method="GET", path_prefix=PROJECTS)
    found = connector.find_projects([*sources, SOURCE.lower()])
    assert {s: h.id for s, h in found.items()} == {s: h.id for s, h in handles.items()}
    listed = sandbox.journal.count(method="GET", path_prefix=PROJECTS) - listings
    assert listed == 1  # the team's projects fit one page of 100
    assert connector.find_projects([]) == {}
    assert sandbox.journal.count(method="GET", path_prefix=PROJECTS) - listings == 1


def test_find_project_falls_back_to_the_notes_and_complete_restores_the_field(connector, sandbox):
    project = new_project()
    handle = connector.create_project(project)
    sandbox.state.modify_project(handle.id, fields={"CRM ID": None})  # someone cleared it
    writes = len(sandbox.journal.writes(read_paths=(BATCH,)))
    found = connector.find_project(SOURCE)
    assert found is not None and found.id == handle.id
    assert len(sandbox.journal.writes(read_paths=(BATCH,))) == writes  # finding never writes
    connector.complete_project(found, project)
    assert sandbox.state.value(handle.id, "CRM ID") == SOURCE


def test_a_project_stamped_for_another_source_is_not_ours(connector, sandbox):
    handle = connector.create_project(new_project())
    sandbox.state.modify_project(handle.id, fields={"CRM ID": "salesforce:other"})
    assert connector.find_project(SOURCE) is None


def test_instantiate_the_asana_template_and_poll_its_job(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    template = ProjectTemplate("asana-standard", product_template=sandbox.template_gid)
    handle = connector.create_project(new_project("hubspot:98765", template=template))
    assert handle.created and handle.task_ids == ()
    assert sandbox.state.tree(handle.id) == TEMPLATE_TREE
    assert sandbox.state.value(handle.id, "CRM ID") == "hubspot:98765"
    assert sandbox.state.value(handle.id, "Budget") == 125000.0
    [instantiate] = [r for r, _ in recorder.exchanges if r.url.path.endswith("/instantiateProject")]
    body = json.loads(instantiate.content)["data"]
    assert body == {
        "name": "Acme Industries - Platform rollout",
        "team": TEAM,
        "requested_dates": [{"gid": "1", "value": "2026-12-01"}],
    }
    jobs = [
        (r.url.path, s.json()["data"]["status"])
        for r, s in recorder.exchanges
        if "/jobs/" in r.url.path
    ]
    assert [status for _, status in jobs] == ["in_progress", "succeeded"]
    # The stamp went on before the job was polled: a crash while waiting is healed by find.
    order = [r.method + " " + r.url.path.split("/")[3] for r, _ in recorder.exchanges]
    assert order.index("PUT projects") < order.index("GET jobs")
    kickoff = by_name(sandbox, sandbox.state.tasks(handle.id), "Kick-off meeting")
    assert sandbox.state.task(kickoff)["due_on"] == "2026-12-06"  # start + 5 days
    assert connector.find_project("hubspot:98765") is not None


def test_template_plus_hub_tasks_adds_only_what_the_template_lacks(connector, sandbox):
    template = ProjectTemplate(
        "mixed",
        product_template=sandbox.template_gid,
        tasks=(
            TemplateTask("Kick-off meeting"),
            TemplateTask("Send invites", parent="Kick-off meeting"),
            TemplateTask("Security review", due_offset_days=20),
        ),
    )
    handle = connector.create_project(new_project("hubspot:5", template=template))
    tree = sandbox.state.tree(handle.id)
    assert tree == {**TEMPLATE_TREE, "Security review": {}}
    assert len(handle.task_ids) == 3


def test_an_unstamped_instantiation_of_a_dead_run_is_adopted(sandbox, connect, raw_client):
    project = new_project(
        "hubspot:77", template=ProjectTemplate("t", product_template=sandbox.template_gid)
    )
    raw_client.post(
        f"{API}/project_templates/{sandbox.template_gid}/instantiateProject",
        json={"data": {"name": project.name, "team": TEAM}},
    )  # the run died before stamping it
    handle = connect(sandbox).create_project(project)
    assert named(sandbox, project.name) == [handle.id]
    assert sandbox.state.value(handle.id, "CRM ID") == "hubspot:77"


def test_a_dropped_instantiation_is_adopted_not_repeated(sandbox, connect, sandbox_transport):
    path = f"{API}/project_templates/{sandbox.template_gid}/instantiateProject"
    connector = connect(sandbox, transport=CrashAfter(sandbox_transport(sandbox), path, 1))
    project = new_project(
        "hubspot:78", template=ProjectTemplate("t", product_template=sandbox.template_gid)
    )
    handle = connector.create_project(project)
    assert named(sandbox, project.name) == [handle.id]
    assert sandbox.state.value(handle.id, "CRM ID") == "hubspot:78"


def test_unknown_asana_template_is_not_found(connector, sandbox):
    template = ProjectTemplate("gone", product_template="1209999999999999")
    before = len(sandbox.state.projects())
    with pytest.raises(NotFoundError, match="project template 1209999999999999"):
        connector.create_project(new_project(template=template))
    assert len(sandbox.state.projects()) == before


def _heal(connect, sandbox, project):
    """What the batch's retry does: find the stamped project, then add what it lacks."""
    found = connect(sandbox).find_project(project.source_id)
    assert found is not None
    return connect(sandbox).complete_project(found, project)


@pytest.mark.parametrize("fault", ["drop", "drop_after"])
def test_a_dropped_batch_is_raised_not_sent_again_then_completed_once(fault, connect):
    """No answer: the batch may still run, so what a look finds proves nothing."""
    faults = Faults(rate=1.0, kinds=(fault,), only_paths=(BATCH,), limit=1)
    sandbox = AsanaSandbox(seed=7, records=30, faults=faults)
    before = sandbox.state.count()
    project = new_project()
    with pytest.raises(TransientError):
        connect(sandbox).create_project(project)
    handle = _heal(connect, sandbox, project)
    assert sandbox.state.tree(handle.id) == EXPECTED_TREE
    assert sandbox.state.count() == before + 7 and faults.injected == 1


@pytest.mark.parametrize(("path", "nth"), [(PROJECTS, 1), (BATCH, 1), (BATCH, 2)])
def test_5xx_after_asana_acted_is_checked_before_creating_again(
    sandbox, connect, sandbox_transport, path, nth
):
    connector = connect(sandbox, transport=AnswerAfter(sandbox_transport(sandbox), path, nth))
    before_tasks, before_projects = sandbox.state.count(), len(sandbox.state.projects())
    handle = connector.create_project(new_project())
    assert sandbox.state.tree(handle.id) == EXPECTED_TREE
    assert sandbox.state.count() == before_tasks + 7
    assert len(sandbox.state.projects()) == before_projects + 1


def test_a_dropped_project_create_is_not_duplicated(sandbox, connect, sandbox_transport):
    connector = connect(sandbox, transport=CrashAfter(sandbox_transport(sandbox), PROJECTS, 1))
    handle = connector.create_project(new_project())
    assert named(sandbox, "Acme Industries - Platform rollout") == [handle.id]


def test_a_timed_out_project_create_is_not_duplicated(sandbox, connect, sandbox_transport):
    connector = connect(sandbox, transport=TimeoutAfter(sandbox_transport(sandbox), PROJECTS, 1))
    handle = connector.create_project(new_project())
    assert named(sandbox, "Acme Industries - Platform rollout") == [handle.id]
    assert sandbox.state.tree(handle.id) == EXPECTED_TREE


def test_5xx_before_asana_acted_is_created_once(connect):
    faults = Faults(rate=1.0, kinds=("500",), only_paths=(PROJECTS,), limit=3)
    sandbox = AsanaSandbox(seed=7, records=30, faults=faults)
    handle = connect(sandbox).create_project(new_project())
    assert named(sandbox, "Acme Industries - Platform rollout") == [handle.id]
    assert faults.injected == 3


def test_timeout_mid_create_is_looked_at_then_complete_adds_only_the_missing(
    sandbox, connect, sandbox_transport
):
    project = new_project()
    before = sandbox.state.count()
    timing_out = connect(sandbox, transport=TimeoutAfter(sandbox_transport(sandbox), BATCH, 2))
    with pytest.raises(TransientError):
        timing_out.create_project(project)  # subtasks made, no answer: raised, not resent
    handle = _heal(connect, sandbox, project)
    assert sandbox.state.tree(handle.id) == EXPECTED_TREE
    assert sandbox.state.count() == before + 7
    connector = connect(sandbox)
    found = connector.find_project(project.source_id)
    assert found is not None and found.id == handle.id
    # A person deleted one task meanwhile.
    sandbox.state.delete(by_name(sandbox, sandbox.state.tasks(found.id), "Solution design"))
    before = sandbox.state.count()
    completed = connector.complete_project(found, project)
    assert sandbox.state.tree(found.id) == EXPECTED_TREE
    assert sandbox.state.count() == before + 2  # Solution design, Review design
    assert not completed.created and len(completed.task_ids) == 7
    again = connector.complete_project(found, project)
    assert again.task_ids == completed.task_ids and sandbox.state.count() == before + 2


def test_refused_tasks_are_reported_and_their_children_too(connector, sandbox):
    template = ProjectTemplate(
        "too-long",
        tasks=(
            TemplateTask("Fine"),
            TemplateTask("x" * 1025),
            TemplateTask("Orphan", parent="x" * 1025),
        ),
    )
    with pytest.raises(RecordError, match="2 of 3 template tasks were not created") as caught:
        connector.create_project(new_project(template=template))
    assert "name: Value is too long" in str(caught.value)
    assert "its parent" in str(caught.value)
    found = connector.find_project(SOURCE)
    assert found is not None and sandbox.state.tree(found.id) == {"Fine": {}}


def test_inconsistent_template_is_a_config_error_before_any_write(connector, sandbox):
    before = (sandbox.state.count(), len(sandbox.state.projects()))
    for tasks, message in [
        ((TemplateTask("A", parent="Nope"),), "unknown parent 'Nope'"),
        ((TemplateTask("A", parent="B"), TemplateTask("B", parent="A")), "its own ancestor"),
        ((TemplateTask("A"), TemplateTask("A")), "used twice"),
    ]:
        with pytest.raises(ConfigError, match=message):
            connector.create_project(new_project(template=ProjectTemplate("bad", tasks=tasks)))
    assert (sandbox.state.count(), len(sandbox.state.projects())) == before


def test_a_workspace_without_the_crm_field_keeps_the_stamp_in_the_notes(sandbox, connect):
    connector = connect(sandbox, settings={"crm_id_field": "Deal reference"})
    project = new_project(template=ProjectTemplate("plain"))
    handle = connector.create_project(project)
    assert sandbox.state.value(handle.id, "CRM ID") is None
    assert connector.find_project(SOURCE) is not None
    assert connector.complete_project(handle, project).id == handle.id


def test_complete_a_deleted_project_is_not_found(connector, sandbox):
    handle = connector.create_project(new_project())
    del sandbox.store.projects[handle.id]
    with pytest.raises(NotFoundError):
        connector.complete_project(handle, new_project())


def test_a_field_the_workspace_lacks_refuses_the_project(connector, sandbox):
    project = new_project(fields={"custom_fields": {"Margin": 0.3}})
    before = len(sandbox.state.projects())
    with pytest.raises(RecordError, match="custom field 'Margin'"):
        connector.create_project(project)
    assert len(sandbox.state.projects()) == before
