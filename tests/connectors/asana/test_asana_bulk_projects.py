"""Many deals' projects in Asana at once: ``/batch`` calls of 10 across deals, level by level."""

from __future__ import annotations

import json

from asana_support import API, EXPECTED_TREE, CrashAfter, RecordingTransport, new_project

from handoff_hub.hub.connector import CreatesProjects, NewProject, ProjectTemplate
from handoff_hub.hub.errors import RecordError

BATCH = f"{API}/batch"


def _projects(count: int, **changes: object) -> list[NewProject]:
    return [
        new_project(f"salesforce:006Dn0000{n:06d}AAA", name=f"Deal {n}", **changes)
        for n in range(count)
    ]


def test_twenty_five_deals_cost_the_batch_minimum_of_calls(sandbox, connect, sandbox_transport):
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    assert isinstance(connector, CreatesProjects)
    projects = _projects(25)
    outcomes = connector.create_projects(projects)
    assert all(o.handle is not None and o.error is None for o in outcomes)
    posts = [r.url.path for r, _ in recorder.exchanges if r.method in {"POST", "PUT"}]
    # 25 projects, then 75 + 75 + 25 tasks by level: every call a /batch of at most 10
    assert posts == [BATCH] * (3 + 8 + 8 + 3)
    sizes = [
        len(json.loads(r.content)["data"]["actions"])
        for r, _ in recorder.exchanges
        if r.url.path == BATCH
    ]
    assert sorted(sizes) == [5] * 4 + [10] * 18  # calls in flight together answer in any order
    for project, outcome in zip(projects, outcomes, strict=True):
        assert outcome.handle is not None and len(outcome.handle.task_ids) == 7
        assert sandbox.state.value(outcome.handle.id, "CRM ID") == project.source_id
        assert sandbox.state.project(outcome.handle.id)["name"] == project.name
    assert sandbox.state.tree(outcomes[0].handle.id) == EXPECTED_TREE  # type: ignore[union-attr]
    assert sandbox.state.tree(outcomes[-1].handle.id) == EXPECTED_TREE  # type: ignore[union-attr]


def test_a_refused_project_fails_its_own_deal_and_the_others_go_on(connector, sandbox):
    projects = _projects(3)
    projects[1] = new_project(projects[1].source_id, name="Refused", manager_id="999999999")
    outcomes = connector.create_projects(projects)
    assert isinstance(outcomes[1].error, RecordError)
    assert connector.find_project(projects[1].source_id) is None
    for n in (0, 2):
        handle = outcomes[n].handle
        assert handle is not None and sandbox.state.tree(handle.id) == EXPECTED_TREE
        assert sandbox.state.value(handle.id, "CRM ID") == projects[n].source_id


def test_a_lost_answer_to_the_projects_call_is_looked_up_not_sent_again(
    sandbox, connect, sandbox_transport
):
    connector = connect(sandbox, transport=CrashAfter(sandbox_transport(sandbox), BATCH, 1))
    before = len(sandbox.state.projects())
    projects = _projects(3)
    outcomes = connector.create_projects(projects)
    assert all(o.handle is not None for o in outcomes)
    assert len(sandbox.state.projects()) == before + 3  # once each
    for outcome in outcomes:
        assert sandbox.state.tree(outcome.handle.id) == EXPECTED_TREE  # type: ignore[union-attr]


def test_projects_from_an_asana_template_are_instantiated_and_polled_side_by_side(
    sandbox, connector
):
    template = ProjectTemplate("asana-standard", product_template=sandbox.template_gid)
    projects = _projects(3, template=template)
    sandbox.journal.clear()
    outcomes = connector.create_projects(projects)
    polls = [c for c in sandbox.journal.calls if "/jobs/" in c.path]
    assert polls and all(c.in_batch for c in polls)  # every job polled in the same /batch calls
    batches = sandbox.journal.count(method="POST", path_prefix=BATCH)
    assert batches == len(polls) // 3  # each round one call for the three jobs
    for project, outcome in zip(projects, outcomes, strict=True):
        assert outcome.error is None and outcome.handle is not None
        assert sandbox.state.value(outcome.handle.id, "CRM ID") == project.source_id
        assert "Kick-off meeting" in sandbox.state.tree(outcome.handle.id)
    assert len({o.handle.id for o in outcomes if o.handle}) == 3
