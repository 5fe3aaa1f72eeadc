"""The sandbox's issue index (by parent, project, type, label): same answers as a full scan.

The search narrows a query to the issues the index names when its top-level
AND holds ``parent``/``project``/``issuetype``/``labels`` ``=``/``IN``; these tests compare every
answer with the full scan (the index switched off), also after each kind of
write the sandbox knows: API creates and edits, the test helpers' changes and
deletes, and direct changes to the store's table (as a benchmark seeds it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import pytest

from handoff_hub.sandboxes.jira import eval as sandbox_eval
from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.jira.eval import search
from handoff_hub.sandboxes.jira.jql import JqlError
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import Endpoint

SITE = Endpoint("http://x")

NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


@pytest.fixture
def site() -> JiraSandbox:
    return JiraSandbox(seed=5, records=120, clock=lambda: NOW)


def _keys(store: JiraStore, text: str) -> list[str]:
    return [i.key for i in search(store, text, zone=store.me.time_zone)]


def _scanned(store: JiraStore, text: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The answer of a search over every issue (the index not used)."""
    with monkeypatch.context() as patch:
        patch.setattr(
            sandbox_eval, "_candidates", lambda _where, context: context.store.issues.values()
        )
        return _keys(store, text)


def _queries(store: JiraStore) -> list[str]:
    epics = sorted((i for i in store.issues.values() if i.issuetype == "Epic"), key=lambda i: i.id)
    parents = sorted({i.parent for i in store.issues.values() if i.parent is not None})
    keys = [store.issues[p].key for p in parents]
    some = ", ".join([*keys[:3], "NOPE-999"])
    first = keys[0]
    return [
        f"parent = {first}",
        f"parent = {first} ORDER BY created ASC, key ASC",
        f"parent in ({some}) ORDER BY created ASC, key ASC",
        f"parent in ({some}) AND labels = risk",
        f"project = DEL AND parent in ({some}) ORDER BY key DESC",
        f'(parent = {first} AND status = "To Do") AND project = DEL',
        f"parent in ({some}) OR summary ~ kickoff",
        f"NOT parent = {first} AND project = DEL",
        f"parent != {first}",
        "parent = NOPE-1",
        "parent IS EMPTY AND project = DEL",
        "project = DEL",
        "project in (DEL, del) AND issuetype = Epic ORDER BY updated ASC",
        f"project = DEL AND key = {epics[0].key}",
        'issuetype = Epic AND project = DEL AND updated >= "2000-01-01" ORDER BY updated ASC',
        "issuetype = Epic ORDER BY updated ASC, key ASC",
        "issuetype in (Epic, Subtask) AND labels = risk",
        "issuetype = epic OR labels = risk",
        "NOT issuetype = Epic AND project = DEL",
        "labels = risk",
        "labels = RISK ORDER BY updated ASC, key ASC",
        "labels in (customer-feedback, new-need, upsell) ORDER BY updated ASC",
        "labels = risk AND issuetype = Task",
        "labels = nothing-has-this",
        "labels = risk OR labels = delivery",
        "NOT labels = risk AND project = DEL",
    ]


def _check_index(store: JiraStore) -> None:
    """The index holds exactly what a scan of the table gives."""
    index = store.issues.index
    for issue in store.issues.values():
        if issue.parent is not None:
            assert issue.id in index.children(issue.parent)
        assert issue.id in index.in_project(issue.project)
    children: dict[int, set[int]] = {}
    for issue in store.issues.values():
        if issue.parent is not None:
            children.setdefault(issue.parent, set()).add(issue.id)
    for parent in {*children, *(i.id for i in store.issues.values())}:
        assert set(index.children(parent)) == children.get(parent, set())
    for project in store.projects:
        expected = {i.id for i in store.issues.values() if i.project == project}
        assert set(index.in_project(project)) == expected
    for issue_type in {"Epic", "Task", "Subtask", "Bug"}:
        expected = {i.id for i in store.issues.values() if i.issuetype == issue_type}
        assert set(index.of_type(issue_type)) == expected
    for label in {label.lower() for i in store.issues.values() for label in i.labels}:
        expected = {i.id for i in store.issues.values() if label in map(str.lower, i.labels)}
        assert set(index.labelled(label)) == expected


def _same(store: JiraStore, monkeypatch: pytest.MonkeyPatch, queries: Iterable[str]) -> None:
    _check_index(store)
    for text in queries:
        assert _keys(store, text) == _scanned(store, text, monkeypatch), text


def test_indexed_searches_match_the_full_scan(
    site: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = site.store
    queries = _queries(store)
    assert any(_keys(store, q) for q in queries[:3])  # the fixture has parents with children
    _same(store, monkeypatch, queries)


def test_narrowing_still_reports_errors(site: JiraSandbox) -> None:
    with pytest.raises(JqlError, match="does not exist for the field 'project'"):
        _keys(site.store, "parent = DEL-1 AND project = NOPE")
    with pytest.raises(JqlError, match="Field 'nothing' does not exist"):
        _keys(site.store, "project = DEL AND nothing = 1")


def test_searches_match_after_writes(site: JiraSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    store, api = site.store, site.api
    epics = sorted((i for i in store.issues.values() if i.issuetype == "Epic"), key=lambda i: i.id)
    first, second = epics[0], epics[1]
    queries = [
        f"parent = {first.key} ORDER BY key ASC",
        f"parent in ({first.key}, {second.key}) ORDER BY key ASC",
        f"project = DEL AND parent = {second.key}",
    ]
    before = _keys(store, queries[0])

    # a new child through the API, then moved to the other Epic through the API
    status, body = api.create_issue(
        SITE,
        {
            "fields": {
                "project": {"key": "DEL"},
                "issuetype": {"name": "Task"},
                "summary": "indexed child",
                "parent": {"key": first.key},
            }
        },
    )
    assert status == 201, body
    child = body["key"]
    assert _keys(store, queries[0]) == sorted([*before, child], key=_number)
    _same(store, monkeypatch, queries)
    assert api.edit_issue(SITE, child, {"fields": {"parent": {"key": second.key}}})[0] == 204
    assert child not in _keys(store, queries[0])
    assert child in _keys(store, queries[2])
    _same(store, monkeypatch, queries)
    update = {"update": {"labels": [{"add": "escalated"}]}}
    assert api.edit_issue(SITE, child, update)[0] == 204
    assert _keys(store, "labels = escalated") == [child]
    update = {"update": {"labels": [{"remove": "escalated"}]}}
    assert api.edit_issue(SITE, child, update)[0] == 204
    assert _keys(store, "labels = escalated") == []
    _same(store, monkeypatch, [*queries, "labels = escalated"])

    # a helper's change of the stored value, and a child added by the helper
    site.state.modify(child, parent=first.id)
    assert child in _keys(store, queries[0])
    added = site.state.add_issue("helper child", parent=second.key)
    assert added in _keys(store, queries[2])
    _same(store, monkeypatch, queries)

    # deletes: the helper's (with sub-tasks), then straight out of the table
    site.state.delete(child)
    assert child not in _keys(store, queries[1])
    store.issues.pop(store.issue(added).id)  # type: ignore[union-attr]
    assert added not in _keys(store, queries[2])
    _same(store, monkeypatch, queries)


def test_table_operations_keep_the_index(
    site: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = site.store
    issues = sorted(store.issues.values(), key=lambda i: i.id)
    epic = next(i for i in issues if i.issuetype == "Epic")
    queries = [
        f"parent = {epic.key}",
        "project = DEL",
        f"parent = {epic.key} AND project = DEL",
        "issuetype = Task",
    ]

    child = next(i for i in issues if i.parent == epic.id)
    del store.issues[child.id]
    _same(store, monkeypatch, queries)
    store.issues[child.id] = child
    _same(store, monkeypatch, queries)
    child.parent = None  # the stored issue tells the index
    _same(store, monkeypatch, queries)
    child.parent = epic.id
    _same(store, monkeypatch, queries)
    kind = child.issuetype
    child.issuetype = "Bug"  # a move to another type
    _same(store, monkeypatch, queries)
    child.issuetype = kind
    _same(store, monkeypatch, queries)
    child.labels = [*child.labels, "Risk"]
    assert child.key in _keys(store, "labels = risk")
    _same(store, monkeypatch, [*queries, "labels = risk"])
    child.labels = []
    assert child.key not in _keys(store, "labels = risk")
    _same(store, monkeypatch, [*queries, "labels = risk"])
    replacement = dataclasses.replace(child, parent=None)
    store.issues[child.id] = replacement  # replaces the stored child
    child.parent = 12345  # the replaced object is no longer in the table
    _same(store, monkeypatch, queries)
    store.issues.update({child.id: child})
    child.parent = epic.id
    _same(store, monkeypatch, queries)
    last = store.issues.popitem()
    _same(store, monkeypatch, queries)
    store.issues.setdefault(last[0], last[1])
    _same(store, monkeypatch, queries)
    store.issues.clear()
    assert _keys(store, "project = DEL") == []
    _same(store, monkeypatch, queries[1:])


def test_reseeding_as_the_benchmark_does(
    site: JiraSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench.reconcile_scale empties the table and restarts the project's numbering."""
    store = site.store
    project, epic_type = store.project("DEL"), store.issue_type("Epic")
    task_type = store.issue_type("Task")
    assert project is not None and epic_type is not None and task_type is not None
    for issue_id in list(store.issues):
        store.issues.pop(issue_id)
    project.counter = 0
    epics = [store.add_issue(project, epic_type, f"Epic {n}") for n in range(5)]
    for n, epic in enumerate(epics[:3]):
        store.add_issue(project, task_type, f"Task {n}", parent=epic.id)
    keys = ", ".join(e.key for e in epics)
    queries = [f"parent in ({keys}) ORDER BY key ASC", f"parent = {epics[0].key}"]
    assert _keys(store, queries[0]) == ["DEL-6", "DEL-7", "DEL-8"]
    _same(store, monkeypatch, queries)


def test_paging_a_search_keeps_its_snapshot(site: JiraSandbox) -> None:
    """Pages after the first read the first page's matches; new issues wait for a new search."""
    store, api = site.store, site.api
    request = {"jql": "project = DEL ORDER BY key ASC", "maxResults": 10, "fields": ["summary"]}
    status, first = api.search(SITE, request)
    assert status == 200 and not first["isLast"]
    late = site.state.add_issue("late arrival")
    seen = [i["key"] for i in first["issues"]]
    token = first.get("nextPageToken")
    while token:
        status, page = api.search(SITE, {**request, "nextPageToken": token})
        assert status == 200
        seen += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
    everything = _keys(store, "project = DEL ORDER BY key ASC")
    assert seen == [k for k in everything if k != late]


def _number(key: str) -> int:
    return int(key.rpartition("-")[2])


def test_labels_are_replaced_whole_never_changed_in_place(site: JiraSandbox) -> None:
    """A label added in place would escape the index: the sandbox refuses it loudly."""
    issue = next(iter(site.store.issues.values()))
    with pytest.raises(TypeError, match="new list"):
        issue.labels.append("risk")
    with pytest.raises(TypeError, match="new list"):
        issue.labels += ["risk"]
    issue.labels = [*issue.labels, "risk"]
    assert issue.key in _keys(site.store, "labels = risk")
    assert issue.labels == [*issue.labels]
