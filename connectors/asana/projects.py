"""Delivery projects in Asana: the work-breakdown plan and the request bodies.

Asana nests subtasks to any depth, so the plan keeps the template's own tree:
a task without a parent becomes a task of the project; a task naming a
parent becomes a subtask of that task (``POST /tasks/{gid}/subtasks``). The
plan is cut into levels (top tasks, their subtasks, theirs...) so that each
level's creates go out together through the batch API once the level above
exists. Task names are the identity a crashed create is completed by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handoff_hub.hub.connector import NewProject, ProjectTemplate, TemplateTask

__all__ = ["WbsPlan", "plan_wbs", "requested_dates", "task_data"]

_START_DATE_VARIABLE = "1"
_DUE_DATE_VARIABLE = "2"
"""Asana's date-variable gids: ``1`` is the project start date, ``2`` its due date."""


@dataclass(frozen=True)
class WbsPlan:
    """The template's tasks by depth: ``levels[0]`` are the project's own tasks."""

    levels: tuple[tuple[TemplateTask, ...], ...]

    @property
    def ordered(self) -> tuple[TemplateTask, ...]:
        """Every task, level by level."""
        return tuple(t for level in self.levels for t in level)

    @property
    def size(self) -> int:
        """Number of tasks the template makes."""
        return sum(len(level) for level in self.levels)


def plan_wbs(template: ProjectTemplate) -> WbsPlan:
    """Split a template into levels of its task tree.

    Raises:
        ConfigError: on a duplicate task name, an unknown parent or a parent cycle.
    """
    depth = {name: len(chain) for name, chain in template.ancestors().items()}
    levels = tuple(
        tuple(t for t in template.tasks if depth[t.name] == d)
        for d in range(max(depth.values(), default=-1) + 1)
    )
    return WbsPlan(levels)


def task_data(task: TemplateTask, project: NewProject) -> dict[str, Any]:
    """The ``data`` of one template task (due date = start + ``due_offset_days``)."""
    data: dict[str, Any] = {"name": task.name}
    if task.description:
        data["notes"] = task.description
    if project.start is not None and task.due_offset_days is not None:
        data["due_on"] = (project.start + dt.timedelta(days=task.due_offset_days)).isoformat()
    return data


def requested_dates(
    variables: Any, project: NewProject, due_on: Any
) -> list[dict[str, str | None]]:
    """Values for a project template's date variables: the start date, and the due date.

    Other variables are left to Asana (``is_strict`` is not set, so it fills in
    today's date for a variable without a value).
    """
    start = project.start.isoformat() if project.start else None
    offsets = [t.due_offset_days for t in project.template.tasks if t.due_offset_days is not None]
    if due_on is None and project.start is not None and offsets:
        due_on = (project.start + dt.timedelta(days=max(offsets))).isoformat()
    values = {_START_DATE_VARIABLE: start, _DUE_DATE_VARIABLE: due_on}
    dates: list[dict[str, str | None]] = []
    for variable in variables if isinstance(variables, list) else []:
        gid = str(variable.get("gid")) if isinstance(variable, Mapping) else ""
        if values.get(gid):
            dates.append({"gid": gid, "value": str(values[gid])})
    return dates
