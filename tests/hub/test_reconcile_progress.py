"""Reconcile's read of percent complete: lean, only when compared, the same figure as sync's."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.handoffs.project_work import (
    PROGRESS_PAGE_SIZE,
    percent_complete,
    progress_of_projects,
    project_items,
)
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Kind
from handoff_hub.hub.runtime import Runtime

WHERE = "handoffs.sync.fields (percent_complete)"


def _without_percent(data: dict[str, Any]) -> None:
    sync = data["handoffs"]["sync"]
    sync["fields"] = [f for f in sync["fields"] if f["pm"] != "percent_complete"]


def _open(pm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Runtime:
    rt = open_pair_runtime("salesforce", pm, tmp_path, monkeypatch, **kw)
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(rt, settings), rt.store)
    return rt


def _complete_some(rt: Runtime) -> list[str]:
    """Every linked project's first task (two in one project) done; the projects."""
    state = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    jira = rt.sandboxes["pm"].name == "jira"  # type: ignore[attr-defined]
    projects = [lk.target_key if jira else lk.target_id for lk in rt.store.links(WON)]
    for n, project in enumerate(projects):
        tasks = state.children(project) if jira else state.tasks(project)
        for task in tasks[: 2 if n == 0 else 1]:
            state.modify(task, status="Done") if jira else state.resolve(task)
    return projects


class _Reads:
    """Records the PM connector's reads (object, fields, where, page size)."""

    def __init__(self, rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, list[str], dict[str, Any], int | None]] = []
        pm = rt.pm("pm")
        real = pm.read_changes

        def read(object_name: str, **kw: Any) -> Iterator[Any]:
            fields, where = list(kw.get("fields") or ()), dict(kw.get("where") or {})
            self.calls.append((object_name, fields, where, kw.get("page_size")))
            return real(object_name, **kw)

        monkeypatch.setattr(pm, "read_changes", read)

    def of_tasks(self, rt: Runtime) -> list[tuple[str, list[str], dict[str, Any], int | None]]:
        scope = rt.mapping("pm").entities["Task"].scope_field
        return [c for c in self.calls if scope in c[2]]


def _reconcile(rt: Runtime) -> list[Any]:
    result, _ = reconcile(rt, fix=False)
    try:
        return list(result.discrepancies())
    finally:
        result.spool.close()


@pytest.mark.parametrize("pm", ["jira", "asana"])
def test_reconcile_reads_tasks_once_lean_and_not_at_all_when_no_pair_compares_them(
    pm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _open(pm, tmp_path, monkeypatch)
    try:
        projects = _complete_some(rt)
        journal = rt.sandboxes["pm"].journal  # type: ignore[attr-defined]
        reads = _Reads(rt, monkeypatch)
        journal.clear()
        found = _reconcile(rt)
        [(_, fields, where, size)] = reads.of_tasks(rt)
        expected = ["fields.status.name", "fields.parent.key"] if pm == "jira" else None
        assert fields == (expected or ["completed", "projects", "parent.gid"])
        assert sorted(where[rt.mapping("pm").entities["Task"].scope_field]) == sorted(projects)
        assert size == PROGRESS_PAGE_SIZE
        drift = {d.field for d in found if d.kind is Kind.FIELD_DRIFT}
        assert "delivery_percent / percent_complete" in drift  # no sync ran: the deals say 0
        with_tasks = journal.count()
        tasks = sum(
            len(rt.sandboxes["pm"].state.children(p))  # type: ignore[attr-defined]
            if pm == "jira"
            else len(rt.sandboxes["pm"].state.tasks(p))  # type: ignore[attr-defined]
            for p in projects
        )
        assert tasks >= 6 * len(projects)  # the template's top-level tasks
        spec = rt.mapping("pm")
        full = project_items(rt.pm("pm"), spec, "Task", projects, where=WHERE)
        lean = progress_of_projects(rt.pm("pm"), spec, projects, where=WHERE)
        assert lean == {p: percent_complete(tasks) for p, tasks in full.items()}
        assert all(0 < (lean[p] or 0) < 100 for p in projects)  # some done, not all
    finally:
        rt.close()
    (tmp_path / "without").mkdir()
    rt = _open(pm, tmp_path / "without", monkeypatch, edit=_without_percent)
    try:
        journal = rt.sandboxes["pm"].journal  # type: ignore[attr-defined]
        reads = _Reads(rt, monkeypatch)
        journal.clear()
        found = _reconcile(rt)
        assert reads.of_tasks(rt) == []
        assert not any("percent" in str(d.field) for d in found)
        # Jira: one search per 100 tasks (fields asked); Asana: one listing per project
        task_calls = math.ceil(tasks / 100) if pm == "jira" else len(projects)
        assert journal.count() == with_tasks - task_calls
    finally:
        rt.close()
