"""The sandbox's subtask lookup and lazy listings: same answers as a scan of every task.

Subtasks by parent come from an index kept by the store's task table (also
behind each task's ``num_subtasks``); a paged listing scans the tasks for its
first page only, later pages read that page's snapshot. These tests compare
the answers with scans of the table, also after writes of every kind.
"""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from asana_support import API, PROJECT

from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.data import Task
from handoff_hub.sandboxes.asana.seed import DELIVERY_PROJECTS
from handoff_hub.sandboxes.asana.store import AsanaStore


def _scan(store: AsanaStore, parent: str) -> list[Task]:
    return [t for t in store.tasks.values() if t.parent == parent]


def _same(store: AsanaStore) -> None:
    parents = {t.parent for t in store.tasks.values() if t.parent} | set(store.tasks)
    for parent in parents:
        expected = _scan(store, parent)
        assert store.subtasks(parent) == expected, parent
        assert [t.gid for t in store.subtasks(parent)] == [t.gid for t in expected]
        assert store.subtask_count(parent) == len(expected)
    projects = {p for t in store.tasks.values() for p in t.projects} | set(store.projects)
    for project in projects:
        members = [t.gid for t in store.tasks.values() if project in t.projects]
        assert [t.gid for t in store.project_tasks(project)] == members, project


def _with_subtasks(store: AsanaStore) -> list[str]:
    return sorted({t.parent for t in store.tasks.values() if t.parent})


def test_subtasks_match_a_scan(sandbox: AsanaSandbox) -> None:
    store = sandbox.store
    assert _with_subtasks(store)  # the seed has subtasks
    _same(store)


def test_subtasks_match_after_writes(sandbox: AsanaSandbox, raw_client: httpx.Client) -> None:
    store = sandbox.store
    parent, other = _with_subtasks(store)[:2]

    made = raw_client.post(f"{API}/tasks/{parent}/subtasks", json={"data": {"name": "new sub"}})
    assert made.status_code == 201, made.text
    sub = made.json()["data"]["gid"]
    assert store.subtasks(parent)[-1].gid == sub
    listed = raw_client.get(f"{API}/tasks/{parent}/subtasks").json()["data"]
    assert [t["gid"] for t in listed] == [t.gid for t in _scan(store, parent)]
    shown = raw_client.get(f"{API}/tasks/{parent}", params={"opt_fields": "num_subtasks"})
    assert shown.json()["data"]["num_subtasks"] == len(_scan(store, parent))
    _same(store)

    # projects set on a stored task re-file it
    top = next(t for t in store.tasks.values() if t.projects and t.parent is None)
    home, elsewhere = top.projects[0], next(p for p in store.projects if p not in top.projects)
    top.projects = [elsewhere]
    assert top.gid in [t.gid for t in store.project_tasks(elsewhere)]
    assert top.gid not in [t.gid for t in store.project_tasks(home)]
    _same(store)
    top.projects = [home]
    _same(store)

    # a parent changed on the stored task, then the task taken out and put back
    store.tasks[sub].parent = other
    assert sub in [t.gid for t in store.subtasks(other)]
    assert sub not in [t.gid for t in store.subtasks(parent)]
    _same(store)
    task = store.tasks.pop(sub)
    _same(store)
    store.tasks[sub] = task  # back in, last in the table's order
    _same(store)
    replacement = dataclasses.replace(task, parent=parent)
    store.tasks[sub] = replacement  # same gid: keeps its place, files the new object
    task.parent = other  # the replaced object no longer counts
    _same(store)

    # deletes through the API and the helpers (a task with subtasks takes them along)
    assert raw_client.delete(f"{API}/tasks/{sub}").status_code == 200
    sandbox.state.delete(other)
    assert other not in store.tasks
    _same(store)
    del store.tasks[parent]
    _same(store)
    store.tasks.clear()
    assert store.subtasks(parent) == [] and store.subtask_count(parent) == 0


def _pages(client: httpx.Client, path: str, params: dict[str, str]) -> list[str]:
    gids: list[str] = []
    answer = client.get(path, params={**params, "limit": "7"})
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        gids += [t["gid"] for t in body["data"]]
        if not body.get("next_page"):
            return gids
        answer = client.get(
            path, params={**params, "limit": "7", "offset": body["next_page"]["offset"]}
        )


def test_paged_listings_scan_once_and_match(
    sandbox: AsanaSandbox, raw_client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = sandbox.store
    calls: list[str] = []
    scan = store.project_tasks

    def counted(project: str) -> list[Task]:
        calls.append(project)
        return scan(project)

    monkeypatch.setattr(store, "project_tasks", counted)
    whole = [
        t["gid"] for t in raw_client.get(f"{API}/tasks", params={"project": PROJECT}).json()["data"]
    ]
    assert whole == [t.gid for t in scan(PROJECT)] and len(whole) > 7
    calls.clear()
    assert _pages(raw_client, f"{API}/tasks", {"project": PROJECT}) == whole
    assert calls == [PROJECT]  # the first page only
    calls.clear()
    assert _pages(raw_client, f"{API}/projects/{PROJECT}/tasks", {}) == whole
    assert calls == [PROJECT]

    since = sorted(t.modified_at for t in scan(PROJECT))[len(whole) // 3]
    params = {"project": PROJECT, "modified_since": since.isoformat()}
    expected = [t.gid for t in scan(PROJECT) if t.modified_at >= since]
    assert _pages(raw_client, f"{API}/tasks", params) == expected


def test_later_pages_still_check_their_scope(
    sandbox: AsanaSandbox, raw_client: httpx.Client
) -> None:
    first = raw_client.get(f"{API}/tasks", params={"project": PROJECT, "limit": "5"}).json()
    offset = first["next_page"]["offset"]
    sandbox.state.delete_project(PROJECT)
    later = raw_client.get(
        f"{API}/tasks", params={"project": PROJECT, "limit": "5", "offset": offset}
    )
    assert later.status_code == 404
    other = next(p for p in DELIVERY_PROJECTS if p != PROJECT)
    bad = raw_client.get(
        f"{API}/tasks", params={"project": other, "limit": "5", "modified_since": "yesterday"}
    )
    assert bad.status_code == 400
