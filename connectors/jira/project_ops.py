"""Find, create and complete a deal's delivery project in Jira.

Idempotency rests on two stamps written on every issue created for a deal: the
label ``hh-src-<source id>`` (searchable with JQL) and the ``handoff-hub``
issue entity property ``{"source": <source id>, ...}`` (exact, but not
searchable without an app). :meth:`ProjectOps.find` searches by label and
confirms by property. A crash part-way through :meth:`ProjectOps.create` leaves
an Epic that ``find`` returns; :meth:`ProjectOps.complete` then creates only
the template tasks that are missing, matched by summary under their parent.

A create Jira answers with a 5xx, or whose connection dropped or timed out,
may or may not have happened (the HTTP layer does not repeat a non-idempotent
POST), so creation looks for what exists, after a short pause, before it sends
the create again (:func:`hub.http.create_then_verify`). Jira's search index
trails writes by about a second, which the pause covers; a rerun within that
second of a crash could still miss a task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.jira import settings
from handoff_hub.connectors.jira.bulk_projects import BulkProjects
from handoff_hub.connectors.jira.client import PermissionRefused
from handoff_hub.connectors.jira.projects import (
    WbsPlan,
    epic_update,
    plan_wbs,
    project_key_for,
    project_name,
    stamp_value,
    task_update,
)
from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.connector import ProjectHandle
from handoff_hub.hub.errors import AuthError, NotFoundError, RecordError
from handoff_hub.hub.http import chunks, create_then_verify, resume_then_verify
from handoff_hub.hub.http.query import Condition, jql

if TYPE_CHECKING:
    from handoff_hub.connectors.jira.client import JiraClient
    from handoff_hub.connectors.jira.config import JiraConfig
    from handoff_hub.hub.connector import NewProject, ProjectOutcome, TemplateTask

__all__ = ["ProjectOps"]

log = logging.getLogger("hub.jira")
_CHILD_FIELDS = ("summary", "issuetype", "parent", "labels")
Children = tuple[dict[str, str], dict[tuple[str, str], str]]


class ProjectOps:
    """The project handoff's Jira side: one Epic (in its own project, if so configured)."""

    def __init__(self, client: JiraClient, config: JiraConfig, *, base_url: str) -> None:
        self.client = client
        self.config = config
        self.base_url = base_url.rstrip("/")

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.client.system

    def url(self, key: str) -> str:
        """Browse link of an issue or project."""
        return settings.BROWSE_URL.format(base=self.base_url, key=key)

    def _issues(self, query: str, fields: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        for page in self.client.search(query, fields, page_size=settings.SEARCH_PAGE_SIZE):
            yield from (i for i in page["issues"] if isinstance(i, Mapping))

    # finding ---------------------------------------------------------------

    def find(self, source_id: str) -> ProjectHandle | None:
        """The Epic stamped with ``source_id``: found by label, confirmed by property."""
        return self.find_many([source_id]).get(source_id)

    def find_many(self, source_ids: Sequence[str]) -> dict[str, ProjectHandle]:
        """The Epic of each of ``source_ids`` that has one (the oldest), by source id.

        One search per ``FIND_LABELS`` stamps (``labels IN (...)``), not one per
        id; the property of an Epic found then confirms which id it belongs to.
        """
        by_label: dict[str, list[str]] = {}
        for source_id in dict.fromkeys(source_ids):
            by_label.setdefault(stamp_label(source_id), []).append(source_id)
        found: dict[str, ProjectHandle] = {}
        for labels in chunks(list(by_label), settings.FIND_LABELS):
            query = jql(
                [
                    Condition("labels", "IN", list(labels)),
                    Condition("issuetype", "=", self.config.epic_issue_type),
                ],
                order_by=["created ASC", "key ASC"],
            )
            asked = set(labels)
            for issue in self._issues(query, ("labels",)):
                held = {str(lb).lower() for lb in (issue.get("fields") or {}).get("labels") or []}
                for label in held & asked:
                    for source_id in by_label[label]:
                        if source_id not in found and self._is_ours(issue, source_id, label):
                            found[source_id] = ProjectHandle(
                                str(issue["id"]), str(issue["key"]), self.url(issue["key"])
                            )
        return found

    def _is_ours(self, issue: Mapping[str, Any], source_id: str, label: str) -> bool:
        """The property decides; without one (removed, or never stored) the label vouches.

        Finding never writes (``hub plan`` changes nothing): :meth:`complete`
        puts a missing property back.
        """
        stamp = self.client.get_property(str(issue.get("key")), settings.PROPERTY_KEY)
        if isinstance(stamp, Mapping):
            return stamp.get("source") == source_id
        return label in ((issue.get("fields") or {}).get("labels") or [])

    # creating ----------------------------------------------------------------

    def create(self, project: NewProject) -> ProjectHandle:
        """Create the Epic (in a new project in project mode), then its work breakdown.

        Raises:
            ConfigError: the template's tasks are inconsistent (checked first).
            RecordError: Jira refused the Epic, or some tasks (a rerun adds those).
        """
        plan = plan_wbs(project.template)
        project_key = (
            self.config.project_key if self.config.mode == "epic" else self.project_for(project)
        )
        epic_id, epic_key = self._create_epic(project, project_key)
        log.info("%s: created epic %s for %s", self.system, epic_key, project.source_id)
        task_keys = self._add_all(epic_key, project_key, project, plan, ({}, {}))
        return ProjectHandle(
            epic_id, epic_key, self.url(epic_key), created=True, task_ids=task_keys
        )

    def create_many(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Every project's Epic and work breakdown in bulk calls across deals; one outcome each.

        Raises:
            ConfigError: a template's tasks are inconsistent (checked before any write).
        """
        return BulkProjects(self).create(projects)

    def _create_epic(self, project: NewProject, project_key: str) -> tuple[str, str]:
        """Create the Epic; after an unsure answer, look for it before sending the create again."""
        label = stamp_label(project.source_id)
        update = epic_update(project, self.config, project_key=project_key, label=label)

        def create() -> tuple[str, str]:
            created = self.client.create_issue(update)
            return str(created["id"]), str(created["key"])

        def find() -> tuple[str, str] | None:
            found = self.find(project.source_id)
            return None if found is None else (found.id, found.key)

        return create_then_verify(
            create, find, attempts=settings.CREATE_ATTEMPTS, pause=self.settle
        )

    def _add_all(
        self,
        epic_key: str,
        project_key: str,
        project: NewProject,
        plan: WbsPlan,
        existing: Children,
    ) -> tuple[str, ...]:
        """:meth:`_add_missing`; after an unsure answer, re-read what exists and go on."""
        return resume_then_verify(
            lambda known: self._add_missing(epic_key, project_key, project, plan, known),
            existing,
            lambda: self._children(epic_key),
            attempts=settings.CREATE_ATTEMPTS,
            pause=self.settle,
        )

    def settle(self) -> None:
        """Let Jira's search index catch up with a write before looking for it."""
        self.client.pause(self.config.verify_delay_seconds)

    def project_for(self, project: NewProject) -> str:
        """The deal's own Jira project (project mode): found, or created now."""
        key = project_key_for(project.source_id, self.config.project_key_prefix)
        if self.client.get_project(key) is not None:
            return key  # created by an earlier, interrupted run
        lead = project.manager_id or self.config.lead_account_id
        if lead is None:
            lead = str(self.client.myself().get("accountId", ""))
        details: dict[str, Any] = {
            "key": key,
            "name": project_name(project.name, key),
            "projectTypeKey": self.config.project_type_key,
            "leadAccountId": lead,
            "assigneeType": "UNASSIGNED",
            "description": f"Delivery project for {project.source_id} (created by Handoff Hub)",
        }
        if self.config.project_template_key:
            details["projectTemplateKey"] = self.config.project_template_key
        try:
            self.client.create_project(details)
        except PermissionRefused as exc:
            raise AuthError(self._not_admin(key, exc), system=self.system, status=403) from None
        log.info("%s: created project %s for %s", self.system, key, project.source_id)
        return key

    def _not_admin(self, key: str, exc: PermissionRefused) -> str:
        """Why Jira refused to create a project, and the admin's two ways out."""
        where = f"systems.{self.system}.settings.mode"
        return (
            f"Jira refused to create project {key} ({exc.call}: HTTP 403: {exc.detail})."
            f" With {where}: project the hub creates a Jira project per won deal, which needs"
            " the 'Administer Jira' global permission, and the API user lacks it. Grant the"
            " user Administer Jira (Jira settings > System > Global permissions), or set"
            f" {where}: epic to create one Epic per deal in project {self.config.project_key}."
        )

    # completing ------------------------------------------------------------

    def complete(self, handle: ProjectHandle, project: NewProject) -> ProjectHandle:
        """Create the template tasks still missing under the Epic ``handle.key``.

        Raises:
            NotFoundError: the Epic no longer exists.
            RecordError: Jira refused some of the missing tasks.
        """
        plan = plan_wbs(project.template)
        epic = self.client.get_issue(handle.key, ("project", "labels"))
        if epic is None:
            raise NotFoundError(f"epic {handle.key} does not exist", system=self.system)
        project_key = str(((epic.get("fields") or {}).get("project") or {}).get("key"))
        if self.client.get_property(handle.key, settings.PROPERTY_KEY) is None:
            self.client.set_property(
                handle.key, settings.PROPERTY_KEY, stamp_value(project, project_key=project_key)
            )
        existing = self._children(handle.key)
        task_keys = self._add_all(handle.key, project_key, project, plan, existing)
        return ProjectHandle(
            str(epic.get("id") or handle.id),
            handle.key,
            self.url(handle.key),
            created=False,
            task_ids=task_keys,
        )

    def _children(self, epic_key: str) -> Children:
        """Summary -> key of the Epic's children, and (task key, summary) -> key below them."""
        tasks: dict[str, str] = {}
        query = jql([Condition("parent", "=", epic_key)], order_by=["created ASC", "key ASC"])
        for issue in self._issues(query, _CHILD_FIELDS):
            tasks.setdefault(_summary(issue), str(issue["key"]))
        subtasks: dict[tuple[str, str], str] = {}
        for batch in chunks(sorted(set(tasks.values())), settings.IDS_PER_QUERY):
            query = jql(
                [Condition("parent", "IN", list(batch))], order_by=["created ASC", "key ASC"]
            )
            for issue in self._issues(query, _CHILD_FIELDS):
                parent = str(((issue.get("fields") or {}).get("parent") or {}).get("key"))
                subtasks.setdefault((parent, _summary(issue)), str(issue["key"]))
        return tasks, subtasks

    def _add_missing(
        self,
        epic_key: str,
        project_key: str,
        project: NewProject,
        plan: WbsPlan,
        existing: Children,
    ) -> tuple[str, ...]:
        """Create missing tasks, then missing sub-tasks; return every task key in plan order."""
        tasks, subtasks = dict(existing[0]), dict(existing[1])
        failures: list[str] = []
        todo = [(t, epic_key) for t in plan.tasks if t.name not in tasks]
        made = self._create(todo, project, project_key, self.config.task_issue_type)
        for (task, _), (key, error) in zip(todo, made, strict=True):
            if key is None:
                failures.append(f"{task.name}: {error}")
            else:
                tasks[task.name] = key
        failures += [
            f"{t.name}: its task {root!r} was not created"
            for t, root in plan.subtasks
            if root not in tasks
        ]
        todo = [
            (t, tasks[root])
            for t, root in plan.subtasks
            if root in tasks and (tasks[root], t.name) not in subtasks
        ]
        made = self._create(todo, project, project_key, self.config.subtask_issue_type)
        for (task, parent), (key, error) in zip(todo, made, strict=True):
            if key is None:
                failures.append(f"{task.name}: {error}")
            else:
                subtasks[(parent, task.name)] = key
        if failures:
            raise RecordError(
                f"epic {epic_key}: {len(failures)} of {plan.size} template tasks were not"
                f" created (a rerun adds them): {'; '.join(failures)}",
                system=self.system,
            )
        keys = [tasks[t.name] for t in plan.tasks]
        keys += [subtasks[(tasks[root], t.name)] for t, root in plan.subtasks]
        return tuple(keys)

    def _create(
        self,
        items: Sequence[tuple[TemplateTask, str]],
        project: NewProject,
        project_key: str,
        issue_type: str,
    ) -> list[tuple[str | None, str | None]]:
        """Bulk-create ``(task, parent key)`` items; ``(key, None)`` or ``(None, error)`` each."""
        if not items:
            return []
        label = stamp_label(project.source_id)
        updates = [
            task_update(
                task,
                project,
                project_key=project_key,
                parent_key=parent,
                issue_type=issue_type,
                label=label,
            )
            for task, parent in items
        ]
        return [
            (o.key, None) if o.ok and o.key else (None, o.error or "refused")
            for o in self.client.create_issues(updates)
        ]


def _summary(issue: Mapping[str, Any]) -> str:
    return str((issue.get("fields") or {}).get("summary") or "")
