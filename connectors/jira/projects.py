"""Delivery projects in Jira: the work breakdown plan and the issue payloads.

A template's tasks become Jira issues under the deal's Epic: a task without a
parent is a Task whose parent is the Epic; a task whose ``parent`` names
another template task becomes a Sub-task of that task's top-level ancestor
(Jira nests only Epic > Task > Sub-task). Everything is stamped with the deal's
label so that a search finds it, and matched by summary when a crashed create
is completed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.jira import settings
from handoff_hub.connectors.jira.values import wire_fields

if TYPE_CHECKING:
    from handoff_hub.connectors.jira.config import JiraConfig
    from handoff_hub.hub.connector import NewProject, ProjectTemplate, TemplateTask

__all__ = [
    "WbsPlan",
    "epic_update",
    "plan_wbs",
    "project_key_for",
    "project_name",
    "stamp_value",
    "task_update",
]

_KEY_ALPHABET = string.digits + string.ascii_uppercase


@dataclass(frozen=True)
class WbsPlan:
    """Top-level tasks (children of the Epic) and sub-tasks with their task's name."""

    tasks: tuple[TemplateTask, ...]
    subtasks: tuple[tuple[TemplateTask, str], ...]

    @property
    def size(self) -> int:
        """Number of issues the template makes besides the Epic."""
        return len(self.tasks) + len(self.subtasks)


def plan_wbs(template: ProjectTemplate) -> WbsPlan:
    """Split a template into Tasks and Sub-tasks.

    Raises:
        ConfigError: on a duplicate task name, an unknown parent or a parent cycle.
    """
    ancestors = template.ancestors()
    tasks = tuple(t for t in template.tasks if t.parent is None)
    subtasks = tuple((t, ancestors[t.name][-1]) for t in template.tasks if t.parent)
    return WbsPlan(tasks, subtasks)


def stamp_value(
    project: NewProject, *, project_key: str, task: str | None = None
) -> dict[str, Any]:
    """The ``handoff-hub`` entity property of an issue created for ``project``."""
    value: dict[str, Any] = {
        "source": project.source_id,
        "template": project.template.name,
        "project": project_key,
        "createdBy": "handoff-hub",
    }
    if task is not None:
        value["task"] = task
    return value


def epic_update(
    project: NewProject, config: JiraConfig, *, project_key: str, label: str
) -> dict[str, Any]:
    """``IssueUpdateDetails`` of the deal's Epic: mapped fields plus the hub's own.

    ``project.fields`` is the mapping's field map (its ``write_root: fields``);
    the connector adds only what is its own: project, type, stamp label and
    property, the assignee when the mapping set none.
    """
    mapped = {k: v for k, v in project.fields.items() if k not in {"project", "issuetype"}}
    fields = wire_fields(mapped)
    fields |= {
        "project": {"key": project_key},
        "issuetype": {"name": config.epic_issue_type},
        "summary": project.name[: settings.SUMMARY_MAX_LENGTH],
        "labels": _with_label(fields.get("labels"), label),
    }
    if project.manager_id and not fields.get("assignee"):
        fields["assignee"] = {"accountId": project.manager_id}
    properties = [
        {"key": settings.PROPERTY_KEY, "value": stamp_value(project, project_key=project_key)}
    ]
    return {"fields": fields, "properties": properties}


def task_update(
    task: TemplateTask,
    project: NewProject,
    *,
    project_key: str,
    parent_key: str,
    issue_type: str,
    label: str,
) -> dict[str, Any]:
    """``IssueUpdateDetails`` of one template task under ``parent_key``."""
    fields: dict[str, Any] = {
        "project": {"key": project_key},
        "issuetype": {"name": issue_type},
        "parent": {"key": parent_key},
        "summary": task.name[: settings.SUMMARY_MAX_LENGTH],
        "labels": [label],
    }
    if task.description:
        fields["description"] = task.description
    if project.start is not None and task.due_offset_days is not None:
        fields["duedate"] = (project.start + dt.timedelta(days=task.due_offset_days)).isoformat()
    value = stamp_value(project, project_key=project_key, task=task.name)
    properties = [{"key": settings.PROPERTY_KEY, "value": value}]
    return {"fields": wire_fields(fields), "properties": properties}


def _with_label(existing: Any, label: str) -> list[str]:
    labels = (
        [str(v) for v in existing]
        if isinstance(existing, Sequence) and not isinstance(existing, str)
        else []
    )
    return [*dict.fromkeys([*labels, label])]


def project_key_for(source_id: str, prefix: str) -> str:
    """A stable project key for a deal: ``prefix`` + base-36 digits of a hash, 10 characters.

    The same deal always gets the same key, so a rerun after a crash finds the
    project it already created instead of making a second one.
    """
    number = int.from_bytes(hashlib.sha256(source_id.encode()).digest()[:8], "big")
    digits = []
    for _ in range(10 - len(prefix)):
        number, rest = divmod(number, 36)
        digits.append(_KEY_ALPHABET[rest])
    return prefix + "".join(digits)


def project_name(name: str, key: str) -> str:
    """A project name (unique in Jira, at most 80 characters) carrying its key."""
    suffix = f" ({key})"
    return name[: settings.PROJECT_NAME_MAX_LENGTH - len(suffix)].rstrip() + suffix
