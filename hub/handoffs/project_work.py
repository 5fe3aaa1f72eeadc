"""The tasks of one delivery project, read through the PM mapping's Task entity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from handoff_hub.hub.connector import Connector
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Entity, Milestone, Task, TaskStatus

__all__ = ["overdue_share", "percent_complete", "project_items", "records_of_projects"]


def project_items(
    pm: Connector, spec: MappingSpec, entity_name: str, project_ids: Sequence[str], *, where: str
) -> dict[str, list[Task | Milestone]]:
    """The ``entity_name`` records (Task, Milestone) of these projects, in one read.

    Records are grouped by their ``project`` (or ``parent``) ref; ``where``
    names the setting that needs them, for the error when the mapping cannot
    narrow reads to projects.
    """
    found = records_of_projects(pm, spec, entity_name, project_ids, where=where)
    return {p: [i for i in items if isinstance(i, Task | Milestone)] for p, items in found.items()}


def records_of_projects(
    pm: Connector, spec: MappingSpec, entity_name: str, project_ids: Sequence[str], *, where: str
) -> dict[str, list[Entity]]:
    """Project id -> its records of ``entity_name`` (any entity with a ``project``), one read."""
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
    found: dict[str, list[Entity]] = {p: [] for p in project_ids}
    if not project_ids:
        return found
    filters = {**entity.where, entity.scope_field: list(project_ids)}
    raws = [
        r.raw
        for page in pm.read_changes(
            entity.object, since=None, fields=entity.source_fields(), where=filters
        )
        for r in page.records
    ]
    items, _ = to_unified_many(spec, entity_name, raws)
    for item in items:
        home = getattr(item, "project", None)
        if isinstance(item, Task) and home not in found:
            home = item.parent
        if home in found:
            found[home].append(item)
    return found


def overdue_share(items: Sequence[Task | Milestone], today: dt.date) -> tuple[float, int, int]:
    """(share, overdue, dated): open items past their due date among those with one."""
    dated = [(t, t.due) for t in items if t.due is not None]
    late = [t for t, due in dated if t.status is not TaskStatus.DONE and due < today]
    return (len(late) / len(dated) if dated else 0.0), len(late), len(dated)


def percent_complete(tasks: Sequence[Task | Milestone]) -> int | None:
    """Share of done tasks, 0-100; None for a project without tasks."""
    if not tasks:
        return None
    return round(100 * sum(t.status is TaskStatus.DONE for t in tasks) / len(tasks))
