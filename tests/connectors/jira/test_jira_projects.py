"""The project handoff on Jira: epic + WBS, find by stamp, completion after a crash."""

from __future__ import annotations

import dataclasses

import pytest
from jira_support import AnswerAfter, CrashAfter, TimeoutAfter, new_project

from handoff_hub.connectors.jira.projects import project_key_for
from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.connector import PmConnector, ProjectTemplate, TemplateTask
from handoff_hub.hub.errors import ConfigError, RecordError, TransientError
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.kit import Faults

BULK = "/rest/api/3/issue/bulk"


def wbs(sandbox, epic_key):
    """{task summary: [sub-task summaries]} under the epic."""
    tree = {}
    for task in sandbox.state.children(epic_key):
        fields = sandbox.state.get(task)["fields"]
        tree[fields["summary"]] = sorted(
            sandbox.state.get(s)["fields"]["summary"] for s in sandbox.state.children(task)
        )
    return tree


EXPECTED = {
    "Kick-off": ["Prepare agenda", "Send invites"],
    "Solution design": ["Review design"],
    "Go-live": [],
}


def test_connector_is_a_pm_connector(connector):
    assert isinstance(connector, PmConnector)


def test_create_project_in_epic_mode(connector, sandbox):
    manager = sandbox.state.user_ids()["priya.natarajan@acme-delivery.example"]
    project = new_project(manager_id=manager)
    handle = connector.create_project(project)
    assert handle.created and handle.url == f"https://acme.atlassian.net/browse/{handle.key}"
    epic = sandbox.state.get(handle.key)
    fields = epic["fields"]
    assert fields["issuetype"]["name"] == "Epic" and fields["project"]["key"] == "DEL"
    assert fields["summary"] == project.name and fields["customfield_10050"] == 125000.0
    assert fields["assignee"]["accountId"] == manager
    assert fields["description"]["type"] == "doc"
    label = stamp_label(project.source_id)
    assert label in fields["labels"] and " " not in label
    assert epic["properties"]["handoff-hub"]["source"] == project.source_id
    assert wbs(sandbox, handle.key) == EXPECTED
    assert len(handle.task_ids) == 6
    assert set(sandbox.state.by_label(label)) == {handle.key, *handle.task_ids}
    kickoff = sandbox.state.get(handle.task_ids[0])["fields"]
    assert kickoff["issuetype"]["name"] == "Task" and kickoff["parent"]["key"] == handle.key
    assert kickoff["duedate"] == "2026-12-03"
    agenda = sandbox.state.get(handle.task_ids[3])["fields"]
    assert agenda["issuetype"]["name"] == "Subtask" and agenda["summary"] == "Prepare agenda"
    assert agenda["parent"]["key"] == handle.task_ids[0] and agenda["duedate"] == "2026-12-02"


def test_find_project_by_stamp(connector, sandbox):
    handle = connector.create_project(new_project())
    found = connector.find_project("salesforce:006Dn000004AbCdIAK")
    assert found is not None and (found.id, found.key) == (handle.id, handle.key)
    assert connector.find_project("salesforce:006Dn000004AbCdIAk") is None  # ids are exact
    assert connector.find_project("salesforce:0060000000NONE") is None


def test_find_projects_finds_many_stamps_in_one_search(connector, sandbox):
    sources = [f"salesforce:006Dn00000{n:04d}AAA" for n in range(3)]
    handles = {s: connector.create_project(new_project(source_id=s)) for s in sources[:2]}
    asked = [*sources, "salesforce:006Dn000004AbCdIAk", *(f"hubspot:{n}" for n in range(60))]
    searches = sandbox.journal.count(path_prefix="/rest/api/3/search")
    found = connector.find_projects(asked)
    assert {s: h.key for s, h in found.items()} == {s: h.key for s, h in handles.items()}
    # 64 stamps: two searches of at most 50 labels, not one per id
    assert sandbox.journal.count(path_prefix="/rest/api/3/search") - searches == 2
    assert connector.find_projects([]) == {}


def test_find_projects_tells_ids_that_share_a_label_apart(connector, sandbox):
    upper, lower = "salesforce:006Dn000004AbCdIAK", "salesforce:006Dn000004AbCdIAk"
    assert stamp_label(upper) == stamp_label(lower)
    handle = connector.create_project(new_project(source_id=upper))
    found = connector.find_projects([lower, upper])
    assert set(found) == {upper} and found[upper].key == handle.key


def test_find_project_without_property_trusts_the_label_and_complete_restores_it(
    connector, sandbox
):
    project = new_project()
    handle = connector.create_project(project)
    sandbox.store.issue(handle.key).properties.clear()  # as if the create crashed half-way
    writes = len(sandbox.journal.writes(read_paths=("/rest/api/3/search",)))
    found = connector.find_project(project.source_id)
    assert found is not None and found.key == handle.key
    assert len(sandbox.journal.writes(read_paths=("/rest/api/3/search",))) == writes
    connector.complete_project(found, project)
    assert sandbox.state.property(handle.key, "handoff-hub")["source"] == project.source_id


def test_find_project_skips_an_epic_stamped_for_another_source(connector, sandbox):
    handle = connector.create_project(new_project())
    sandbox.store.issue(handle.key).properties["handoff-hub"] = {"source": "salesforce:other"}
    assert connector.find_project("salesforce:006Dn000004AbCdIAK") is None


def _heal(connect, sandbox, project):
    """What the batch's retry does: find the stamped epic, then add what it lacks."""
    found = connect(sandbox).find_project(project.source_id)
    assert found is not None
    return connect(sandbox).complete_project(found, project)


def test_a_dropped_bulk_create_is_raised_not_sent_again_then_completed_once(connect):
    """No answer: the create may still run, so an empty look proves nothing."""
    faults = Faults(rate=1.0, kinds=("drop",), only_paths=(BULK,), limit=1)
    sandbox = JiraSandbox(seed=7, records=30, faults=faults)
    before = sandbox.state.count()
    project = new_project()
    with pytest.raises(TransientError):
        connect(sandbox).create_project(project)
    assert faults.injected == 1
    handle = _heal(connect, sandbox, project)
    assert wbs(sandbox, handle.key) == EXPECTED
    assert sandbox.state.count() == before + 7  # the epic and its six tasks, once each


def test_crash_before_any_task_then_complete(connect):
    faults = Faults(rate=1.0, kinds=("drop",), only_paths=(BULK,), limit=1)
    sandbox = JiraSandbox(seed=7, records=30, faults=faults)
    project = new_project()
    with pytest.raises(TransientError):
        connect(sandbox).create_project(project)  # no answer, nothing found: raised
    assert faults.injected == 1
    connector = connect(sandbox)
    found = connector.find_project(project.source_id)
    assert found is not None and wbs(sandbox, found.key) == {}
    completed = connector.complete_project(found, project)
    assert wbs(sandbox, found.key) == EXPECTED
    assert len(completed.task_ids) == 6 and not completed.created


def test_crash_after_tasks_is_looked_at_then_complete_adds_only_missing(
    sandbox, connect, sandbox_transport
):
    project = new_project()
    before = sandbox.state.count()
    crashing = connect(sandbox, transport=CrashAfter(sandbox_transport(sandbox), BULK, 1))
    with pytest.raises(TransientError):
        crashing.create_project(project)  # tasks made, answer lost: raised, not resent
    handle = _heal(connect, sandbox, project)
    assert wbs(sandbox, handle.key) == EXPECTED
    assert sandbox.state.count() == before + 7
    found = connect(sandbox).find_project(project.source_id)
    assert found is not None and found.key == handle.key
    # A person deleted one task meanwhile.
    kickoff = next(
        k
        for k in sandbox.state.children(found.key)
        if sandbox.state.get(k)["fields"]["summary"] == "Kick-off"
    )
    sandbox.state.delete(kickoff)
    before = sandbox.state.count()
    completed = connect(sandbox).complete_project(found, project)
    assert wbs(sandbox, found.key) == EXPECTED
    assert sandbox.state.count() == before + 3  # Kick-off and its 2 sub-tasks
    again = connect(sandbox).complete_project(found, project)
    assert again.task_ids == completed.task_ids
    assert sandbox.state.count() == before + 3  # nothing twice


def test_refused_tasks_are_reported_and_completed_later(sandbox, connect):
    misconfigured = connect(sandbox, settings={"subtask_issue_type": "Sub-task"})
    project = new_project()
    with pytest.raises(RecordError, match="3 of 6 template tasks were not created") as caught:
        misconfigured.create_project(project)
    assert "issuetype" in str(caught.value)
    connector = connect(sandbox)
    found = connector.find_project(project.source_id)
    assert found is not None
    assert wbs(sandbox, found.key) == {"Kick-off": [], "Solution design": [], "Go-live": []}
    connector.complete_project(found, project)
    assert wbs(sandbox, found.key) == EXPECTED


def test_inconsistent_template_is_a_config_error_before_any_write(connector, sandbox):
    before = sandbox.state.count()
    bad = ProjectTemplate("broken", tasks=(TemplateTask("A", parent="Nope"),))
    with pytest.raises(ConfigError, match="unknown parent 'Nope'"):
        connector.create_project(new_project(template=bad))
    loop = ProjectTemplate(
        "loop", tasks=(TemplateTask("A", parent="B"), TemplateTask("B", parent="A"))
    )
    with pytest.raises(ConfigError, match="its own ancestor"):
        connector.create_project(new_project(template=loop))
    assert sandbox.state.count() == before


def test_deeper_nesting_lands_under_the_top_task(connector, sandbox):
    deep = ProjectTemplate(
        "deep",
        tasks=(
            TemplateTask("Top"),
            TemplateTask("Mid", parent="Top"),
            TemplateTask("Leaf", parent="Mid"),
        ),
    )
    handle = connector.create_project(new_project(template=deep))
    assert wbs(sandbox, handle.key) == {"Top": ["Leaf", "Mid"]}


def test_project_mode_creates_a_project_per_deal(sandbox, connect):
    connector = connect(sandbox, settings={"mode": "project"})
    project = new_project(source_id="hubspot:98765")
    handle = connector.create_project(project)
    key = project_key_for("hubspot:98765", "HH")
    assert key in sandbox.state.projects() and handle.key.startswith(f"{key}-")
    details = sandbox.store.projects[key]
    assert details.name.endswith(f"({key})") and details.lead == sandbox.store.me.account_id
    assert wbs(sandbox, handle.key) == EXPECTED
    assert connector.find_project("hubspot:98765") == dataclasses.replace(
        handle, created=False, task_ids=()
    )


def test_project_mode_reuses_the_project_of_an_interrupted_run(sandbox, connect):
    connector = connect(sandbox, settings={"mode": "project"})
    project = new_project(source_id="hubspot:555")
    key = project_key_for("hubspot:555", "HH")
    sandbox.store.add_project(key, "Left over", sandbox.store.me.account_id)
    handle = connector.create_project(project)
    assert handle.key.startswith(f"{key}-") and sandbox.state.projects().count(key) == 1


@pytest.mark.parametrize(("path", "nth"), [("/rest/api/3/issue", 1), (BULK, 1), (BULK, 2)])
def test_5xx_after_jira_acted_is_checked_before_creating_again(
    sandbox, connect, sandbox_transport, path, nth
):
    transport = AnswerAfter(sandbox_transport(sandbox), path, nth)
    connector = connect(sandbox, transport=transport)
    before = sandbox.state.count()
    handle = connector.create_project(new_project())
    assert wbs(sandbox, handle.key) == EXPECTED
    assert sandbox.state.count() == before + 7  # one epic, six tasks: nothing twice
    assert len(sandbox.state.epics()) == len(set(sandbox.state.epics()))


@pytest.mark.parametrize("lost", [CrashAfter, TimeoutAfter], ids=["dropped", "timed-out"])
@pytest.mark.parametrize(("path", "nth"), [("/rest/api/3/issue", 1), (BULK, 1), (BULK, 2)])
def test_an_unanswered_create_is_checked_before_creating_again(
    sandbox, connect, sandbox_transport, lost, path, nth
):
    connector = connect(sandbox, transport=lost(sandbox_transport(sandbox), path, nth))
    before = sandbox.state.count()
    project = new_project()
    if path == BULK:  # tasks: what the look finds may lack a create still running
        with pytest.raises(TransientError):
            connector.create_project(project)
        handle = _heal(connect, sandbox, project)
    else:  # the epic: made, and found by its stamp
        handle = connector.create_project(project)
    assert wbs(sandbox, handle.key) == EXPECTED
    assert sandbox.state.count() == before + 7  # one epic, six tasks: nothing twice


def test_5xx_before_jira_acted_is_created_once(connect):
    faults = Faults(rate=1.0, kinds=("500",), only_paths=("/rest/api/3/issue",), limit=3)
    sandbox = JiraSandbox(seed=7, records=30, faults=faults)
    before = sandbox.state.count()
    handle = connect(sandbox).create_project(new_project())
    assert wbs(sandbox, handle.key) == EXPECTED and sandbox.state.count() == before + 7
    assert faults.injected == 3
