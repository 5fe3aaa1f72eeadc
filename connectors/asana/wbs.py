"""A delivery project's work breakdown: what exists, and creating what is missing.

Template tasks are recognised by name: a top task among the project's tasks,
a subtask among its parent's subtasks. Missing tasks are created level by
level through the batch API (10 creates per call): the project's tasks with
``POST /tasks`` (``projects: [gid]``), then each level of subtasks with
``POST /tasks/{parent}/subtasks``.

A create is not idempotent, so nothing is sent twice blindly. When Asana
answers 5xx (to the batch or to one action), or the connection drops or times
out, the creates may or may not have happened: the tree is read again and only
what is still missing is sent (:func:`hub.http.resume_then_verify`). Asana's
task lists read their own writes, so the look sees every create that happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.batch import ActionResult, BatchRunner, action
from handoff_hub.connectors.asana.projects import WbsPlan, task_data
from handoff_hub.connectors.asana.records import api_path, gid_of
from handoff_hub.hub.errors import HubError, RecordError, TransientError
from handoff_hub.hub.http import resume_then_verify
from handoff_hub.hub.http.verify import outcome_unknown

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.client import AsanaClient
    from handoff_hub.hub.connector import NewProject, TemplateTask

__all__ = ["WbsWriter"]


class WbsWriter:
    """Reads and completes the template tasks of one project."""

    def __init__(self, client: AsanaClient, runner: BatchRunner) -> None:
        self.client = client
        self.runner = runner

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.client.system

    def existing(self, project_gid: str, plan: WbsPlan) -> dict[str, str]:
        """Template task name -> gid of the tasks already there (the oldest of a name)."""
        path = api_path(settings.PROJECT_TASKS_PATH, project=project_gid)
        tops = self.client.list_all(
            path, {"opt_fields": "name,created_at"}, page_size=settings.PAGE_SIZE_MAX
        )
        found = _by_name(tops, {t.name for t in plan.levels[0]} if plan.levels else set())
        for level in plan.levels[1:]:
            parents = sorted({found[t.parent] for t in level if t.parent in found})
            children = self._subtasks(parents)
            for task in level:
                if task.parent in found:
                    match = _by_name(children.get(found[task.parent], []), {task.name})
                    if task.name in match:
                        found[task.name] = match[task.name]
        return found

    def _subtasks(self, parents: Sequence[str]) -> dict[str, list[Mapping[str, Any]]]:
        """Subtasks of many tasks, read through the batch API (one action per parent)."""
        actions = [
            action(
                "GET",
                api_path(settings.SUBTASKS_PATH, task=p),
                fields=("name", "created_at"),
                limit=settings.PAGE_SIZE_MAX,
            )
            for p in parents
        ]
        out: dict[str, list[Mapping[str, Any]]] = {}
        for parent, result in zip(parents, self.runner.run(actions), strict=True):
            if result.status == 404:
                continue
            if not result.ok:
                raise RecordError(f"subtasks of {parent}: {result.error()}", system=self.system)
            items = [i for i in result.data or [] if isinstance(i, Mapping)]
            if isinstance(result.body, Mapping) and result.body.get("next_page"):
                path = api_path(settings.SUBTASKS_PATH, task=parent)
                items = self.client.list_all(
                    path, {"opt_fields": "name,created_at"}, page_size=settings.PAGE_SIZE_MAX
                )
            out[parent] = items
        return out

    def complete(
        self, project_gid: str, project: NewProject, plan: WbsPlan, existing: dict[str, str]
    ) -> tuple[str, ...]:
        """Create the missing tasks; after an unsure answer, look again and go on from there.

        Returns:
            Every template task's gid, in plan order.

        Raises:
            RecordError: Asana refused some tasks (a rerun adds them).
            TransientError: still failing after the attempts, or a timeout.
        """
        return resume_then_verify(
            lambda known: self._add_missing(project_gid, project, plan, dict(known)),
            existing,
            lambda: self.existing(project_gid, plan),
            attempts=settings.CREATE_ATTEMPTS,
        )

    def complete_many(
        self, items: Sequence[tuple[str, NewProject, WbsPlan, Mapping[str, str]]]
    ) -> list[tuple[str, ...] | HubError]:
        """:meth:`complete` for many projects at once: each level's creates batched across them.

        ``items``: ``(project gid, project, plan, tasks already there)``. A
        project whose create answer was lost gets a :class:`TransientError`
        (its tree is read again by whoever completes it), one Asana refused
        tasks of a :class:`RecordError`; either way the others go on.
        """
        trees = [_Tree(gid, project, plan, dict(known)) for gid, project, plan, known in items]
        for depth in range(max((len(t.plan.levels) for t in trees), default=0)):
            todo = [(tree, task) for tree in trees for task in tree.missing(depth)]
            actions = [self._create_action(k, t.project, t.gid, t.gids) for t, k in todo]
            try:
                results = self.runner.run(actions)
            except TransientError as exc:
                if not outcome_unknown(exc):
                    raise
                for tree, _ in todo:
                    tree.error = exc
                continue
            for (tree, task), result in zip(todo, results, strict=True):
                try:
                    self._record(task, result, tree.gids, tree.failures)
                except TransientError as exc:
                    tree.error = exc
        return [tree.outcome(self.system) for tree in trees]

    def _add_missing(
        self, project_gid: str, project: NewProject, plan: WbsPlan, gids: dict[str, str]
    ) -> tuple[str, ...]:
        failures: list[str] = []
        for depth, level in enumerate(plan.levels):
            todo: list[TemplateTask] = []
            for task in level:
                if task.name in gids:
                    continue
                if depth and task.parent not in gids:
                    failures.append(f"{task.name}: its parent {task.parent!r} was not created")
                else:
                    todo.append(task)
            actions = [self._create_action(t, project, project_gid, gids) for t in todo]
            for task, result in zip(todo, self.runner.run(actions), strict=True):
                self._record(task, result, gids, failures)
        if failures:
            raise RecordError(
                f"project {project_gid}: {len(failures)} of {plan.size} template tasks were not"
                f" created (a rerun adds them): {'; '.join(failures)}",
                system=self.system,
            )
        return tuple(gids[t.name] for t in plan.ordered)

    def _create_action(
        self, task: TemplateTask, project: NewProject, project_gid: str, gids: Mapping[str, str]
    ) -> dict[str, Any]:
        data = task_data(task, project)
        if task.parent is None:
            return action("POST", settings.TASKS_PATH, {**data, "projects": [project_gid]})
        return action("POST", api_path(settings.SUBTASKS_PATH, task=gids[task.parent]), data)

    def _record(
        self, task: TemplateTask, result: ActionResult, gids: dict[str, str], failures: list[str]
    ) -> None:
        gid = gid_of(result.data) if result.ok else None
        if gid is not None:
            gids[task.name] = gid
        elif result.status >= 500:
            # It may have been created: the caller looks before sending it again.
            raise TransientError(
                f"creating task {task.name!r}: {result.error()}",
                system=self.system,
                status=result.status,
            )
        else:
            failures.append(f"{task.name}: {result.error()}")


@dataclass
class _Tree:
    """One project's work breakdown while :meth:`WbsWriter.complete_many` fills it in."""

    gid: str
    project: NewProject
    plan: WbsPlan
    gids: dict[str, str]
    failures: list[str] = field(default_factory=list)
    error: HubError | None = None

    def missing(self, depth: int) -> list[TemplateTask]:
        """The tasks of level ``depth`` still to create (a task whose parent failed is noted)."""
        if self.error is not None or depth >= len(self.plan.levels):
            return []
        todo: list[TemplateTask] = []
        for task in self.plan.levels[depth]:
            if task.name in self.gids:
                continue
            if depth and task.parent not in self.gids:
                self.failures.append(f"{task.name}: its parent {task.parent!r} was not created")
            else:
                todo.append(task)
        return todo

    def outcome(self, system: str) -> tuple[str, ...] | HubError:
        """Every template task's gid in plan order, or why not."""
        if self.error is not None:
            return self.error
        if self.failures:
            return RecordError(
                f"project {self.gid}: {len(self.failures)} of {self.plan.size} template tasks"
                f" were not created (a rerun adds them): {'; '.join(self.failures)}",
                system=system,
            )
        return tuple(self.gids[t.name] for t in self.plan.ordered)


def _by_name(items: Sequence[Mapping[str, Any]], names: set[str]) -> dict[str, str]:
    ordered = sorted(items, key=lambda i: (str(i.get("created_at") or ""), str(i.get("gid"))))
    found: dict[str, str] = {}
    for item in ordered:
        name = str(item.get("name") or "")
        if name in names and item.get("gid"):
            found.setdefault(name, str(item["gid"]))
    return found
