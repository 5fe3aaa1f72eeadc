"""The tasks of one delivery project, read through the PM mapping's Task entity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hub.connector import Connector
from hub.errors import ConfigError, Issue
from hub.mapping.engine import to_unified_many
from hub.mapping.spec import MappingSpec
from hub.model import Entity, Milestone, Task, TaskStatus

__all__ = ["overdue_share", "percent_complete", "project_items", "project_tasks"]


def project_items(
    pm: Connector, spec: MappingSpec, entity_name: str, project_id: str, *, where: str
) -> list[Entity]:
    """Every ``entity_name`` record (Task, Milestone) of one project, unified.

    ``where`` names the setting that needs them, for the error when the mapping
    cannot narrow reads to one project.
    """
    entity = spec.entities.get(entity_name)
    if entity is None or not entity.scope_field:
        raise ConfigError(
            [
                Issue(
                    "<config>",
                    None,
                    where,
                    f"needs a {entity_name} entity with scope_field in the {spec.system} mapping",
                )
            ]
        )
    filters = {**entity.where, entity.scope_field: project_id}
    raws = [
        r.raw
        for page in pm.read_changes(
            entity.object, since=None, fields=entity.source_fields(), where=filters
        )
        for r in page.records
    ]
    items, _ = to_unified_many(spec, entity_name, raws)
    return list(items)


def project_tasks(pm: Connector, spec: MappingSpec, project_id: str, *, where: str) -> list[Task]:
    """Every task of a project."""
    items = project_items(pm, spec, "Task", project_id, where=where)
    return [t for t in items if isinstance(t, Task)]


def overdue_share(items: Sequence[Task | Milestone], today: dt.date) -> tuple[float, int, int]:
    """(share, overdue, dated): open items past their due date among those with one."""
    dated = [(t, t.due) for t in items if t.due is not None]
    late = [t for t, due in dated if t.status is not TaskStatus.DONE and due < today]
    return (len(late) / len(dated) if dated else 0.0), len(late), len(dated)


def percent_complete(tasks: list[Task]) -> int | None:
    """Share of done tasks, 0-100; None for a project without tasks."""
    if not tasks:
        return None
    return round(100 * sum(t.status is TaskStatus.DONE for t in tasks) / len(tasks))
