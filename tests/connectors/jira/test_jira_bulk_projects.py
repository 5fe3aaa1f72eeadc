"""Many deals' projects in Jira at once: bulk calls of 50 across deals, level by level."""

from __future__ import annotations

import math

from jira_support import CrashAfter, new_project

from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.connector import CreatesProjects, NewProject
from handoff_hub.hub.errors import RecordError, TransientError
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.kit import Faults

BULK = "/rest/api/3/issue/bulk"
SEARCH = "/rest/api/3/search"
EXPECTED = {
    "Kick-off": ["Prepare agenda", "Send invites"],
    "Solution design": ["Review design"],
    "Go-live": [],
}


def _projects(count: int) -> list[NewProject]:
    return [new_project(f"salesforce:006Dn0000{n:06d}AAA", name=f"Deal {n}") for n in range(count)]


def _wbs(sandbox: JiraSandbox, epic_key: str) -> dict[str, list[str]]:
    tree = {}
    for task in sandbox.state.children(epic_key):
        fields = sandbox.state.get(task)["fields"]
        tree[fields["summary"]] = sorted(
            sandbox.state.get(s)["fields"]["summary"] for s in sandbox.state.children(task)
        )
    return tree


def _writes(sandbox: JiraSandbox) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in sandbox.journal.writes(read_paths=(SEARCH,))]


def test_sixty_deals_cost_the_batch_minimum_of_bulk_calls(connector, sandbox):
    assert isinstance(connector, CreatesProjects)
    projects = _projects(60)
    sandbox.journal.clear()
    outcomes = connector.create_projects(projects)
    assert all(o.handle is not None and o.error is None for o in outcomes)
    # 60 Epics, 180 Tasks, 180 Sub-tasks: 2 + 4 + 4 calls of at most 50, nothing else written
    assert _writes(sandbox) == [("POST", BULK)] * (2 + 2 * math.ceil(180 / 50))
    for project, outcome in zip(projects, outcomes, strict=True):
        assert outcome.handle is not None
        epic = sandbox.state.get(outcome.handle.key)
        assert epic["fields"]["summary"] == project.name
        assert stamp_label(project.source_id) in epic["fields"]["labels"]
        assert epic["properties"]["handoff-hub"]["source"] == project.source_id
        assert len(outcome.handle.task_ids) == 6
    assert _wbs(sandbox, outcomes[0].handle.key) == EXPECTED  # type: ignore[union-attr]
    assert _wbs(sandbox, outcomes[-1].handle.key) == EXPECTED  # type: ignore[union-attr]


def test_a_refused_epic_fails_its_own_deal_and_the_others_get_their_own_epics(connector, sandbox):
    projects = _projects(5)
    projects[2] = new_project(
        projects[2].source_id, name="Refused", fields={"customfield_99999": "no such field"}
    )
    outcomes = connector.create_projects(projects)
    refused = outcomes[2].error
    assert isinstance(refused, RecordError) and "customfield_99999" in str(refused)
    assert sandbox.state.by_label(stamp_label(projects[2].source_id)) == []
    for n in (0, 1, 3, 4):
        handle = outcomes[n].handle
        assert handle is not None
        epic = sandbox.state.get(handle.key)
        assert epic["properties"]["handoff-hub"]["source"] == projects[n].source_id
        assert _wbs(sandbox, handle.key) == EXPECTED
        labels = {
            stamp_label(projects[n].source_id) in sandbox.state.get(k)["fields"]["labels"]
            for k in handle.task_ids
        }
        assert labels == {True}


def test_refused_subtasks_fail_each_deal_with_what_a_rerun_adds(sandbox, connect):
    misconfigured = connect(sandbox, settings={"subtask_issue_type": "Sub-task"})
    projects = _projects(3)
    outcomes = misconfigured.create_projects(projects)
    for outcome in outcomes:
        assert isinstance(outcome.error, RecordError)
        assert "3 of 6 template tasks were not created" in str(outcome.error)
    connector = connect(sandbox)
    for project in projects:
        found = connector.find_project(project.source_id)
        assert found is not None
        connector.complete_project(found, project)
        assert _wbs(sandbox, found.key) == EXPECTED


def test_a_lost_answer_to_the_epics_call_is_looked_up_not_sent_again(
    sandbox, connect, sandbox_transport, monkeypatch
):
    crashing = connect(sandbox, transport=CrashAfter(sandbox_transport(sandbox), BULK, 1))
    monkeypatch.setattr(crashing.client, "pause", lambda seconds: None)
    projects = _projects(3)
    before = sandbox.state.count()
    outcomes = crashing.create_projects(projects)  # the Epics were made, their answer lost
    assert all(o.handle is not None for o in outcomes)
    assert sandbox.state.count() == before + 3 * 7  # each Epic and its six tasks, once
    for outcome in outcomes:
        assert _wbs(sandbox, outcome.handle.key) == EXPECTED  # type: ignore[union-attr]


def test_a_5xx_before_jira_acted_sends_the_epics_again_once(connect, monkeypatch):
    faults = Faults(rate=1.0, kinds=("500",), only_paths=(BULK,), limit=1)
    sandbox = JiraSandbox(seed=7, records=30, faults=faults)
    connector = connect(sandbox, max_retries=0)
    monkeypatch.setattr(connector.client, "pause", lambda seconds: None)
    before = sandbox.state.count()
    outcomes = connector.create_projects(_projects(2))
    assert faults.injected == 1
    assert all(o.handle is not None for o in outcomes)
    assert sandbox.state.count() == before + 2 * 7


def test_a_lost_answer_to_a_tasks_call_leaves_those_deals_unsure(
    sandbox, connect, sandbox_transport, monkeypatch
):
    crashing = connect(sandbox, transport=CrashAfter(sandbox_transport(sandbox), BULK, 2))
    monkeypatch.setattr(crashing.client, "pause", lambda seconds: None)
    projects = _projects(2)
    outcomes = crashing.create_projects(projects)
    assert all(isinstance(o.error, TransientError) for o in outcomes)
    connector = connect(sandbox)
    for project in projects:
        found = connector.find_project(project.source_id)
        assert found is not None
        connector.complete_project(found, project)
        assert _wbs(sandbox, found.key) == EXPECTED  # the lost call's Tasks, not twice


def test_project_mode_creates_each_deals_project_then_epics_in_bulk(sandbox, connect):
    connector = connect(sandbox, settings={"mode": "project"})
    projects = _projects(3)
    sandbox.journal.clear()
    outcomes = connector.create_projects(projects)
    handles = [o.handle for o in outcomes if o.handle is not None]
    assert len(handles) == 3
    keys = {sandbox.state.get(h.key)["fields"]["project"]["key"] for h in handles}
    assert len(keys) == 3
    assert all(_wbs(sandbox, h.key) == EXPECTED for h in handles)
    bulk = [w for w in _writes(sandbox) if w == ("POST", BULK)]
    assert len(bulk) == 3  # Epics, Tasks, Sub-tasks: one call each for all three projects


def test_issues_listed_out_of_order_after_a_partial_failure_still_land_on_their_deals(connect):
    sandbox = JiraSandbox(seed=7, records=30, profile={"bulk_results_reordered": True})
    connector = connect(sandbox)
    projects = _projects(4)
    projects[1] = new_project(
        projects[1].source_id, name="Refused", fields={"customfield_99999": "no such field"}
    )
    sandbox.journal.clear()
    outcomes = connector.create_projects(projects)
    assert isinstance(outcomes[1].error, RecordError)
    for n in (0, 2, 3):
        handle = outcomes[n].handle
        assert handle is not None
        epic = sandbox.state.get(handle.key)
        assert epic["properties"]["handoff-hub"]["source"] == projects[n].source_id
        assert _wbs(sandbox, handle.key) == EXPECTED
    fetches = sandbox.journal.count(method="POST", path_prefix="/rest/api/3/issue/bulkfetch")
    assert fetches == 1  # only the call with a refused element is read back
