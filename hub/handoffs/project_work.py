"""The tasks of one delivery project, read through the PM mapping's Task entity."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.hub.connector import Connector
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.mapping.field_reader import MISSING, FieldReader
from handoff_hub.hub.mapping.spec import EntityMap, MappingSpec
from handoff_hub.hub.mapping.values import ValueProblem
from handoff_hub.hub.model import Entity, Milestone, Task, TaskStatus

__all__ = [
    "PROGRESS_PAGE_SIZE",
    "overdue_share",
    "percent_complete",
    "progress_of_projects",
    "project_items",
    "records_of_projects",
]

PROGRESS_PAGE_SIZE = 5000
"""Records asked per page of a progress read: the largest any product documents (Jira's
search with few fields); each connector caps it at its product's own largest page."""
PROGRESS_FIELDS = ("status", "project", "parent")
"""The Task fields a project's percent complete needs: whether it is done, and whose it is."""
_LEADING_PATH = re.compile(r"^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")


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


def progress_of_projects(
    pm: Connector,
    spec: MappingSpec,
    project_ids: Sequence[str],
    *,
    where: str,
    page_size: int = PROGRESS_PAGE_SIZE,
) -> dict[str, int | None]:
    """Project id -> its percent complete, as :func:`percent_complete` of its tasks gives it.

    One read of the projects' tasks that asks the product only for the fields the
    Task mapping's ``status``, ``project`` and ``parent`` rules read (Jira:
    ``status,parent``; Asana: ``completed,projects,parent.gid``), in the largest
    pages the product gives, and runs only those three rules: no task is built
    as an entity. A task whose status the mapping cannot read is left out, as
    the full read of :func:`project_items` leaves it out.
    """
    entity, scope = _scoped_entity(spec, "Task", where)
    counts: dict[str, list[int]] = {p: [0, 0] for p in project_ids}
    if not project_ids:
        return {}
    readers = {n: read for n, _, read, _ in entity.read_rules if n in PROGRESS_FIELDS}
    filters = {**entity.where, scope: list(project_ids)}
    fields = progress_source_fields(entity)
    for page in pm.read_changes(
        entity.object, since=None, fields=fields, where=filters, page_size=page_size
    ):
        for record in page.records:
            seen = _progress_of(readers, record.raw)
            if seen is None:
                continue
            project, parent, done = seen
            tally = counts.get(project) if project is not None else None
            if tally is None and parent is not None:
                tally = counts.get(parent)  # a Jira task: its Epic is its parent
            if tally is not None:
                tally[0] += done
                tally[1] += 1
    return {p: round(100 * done / total) if total else None for p, (done, total) in counts.items()}


def progress_source_fields(entity: EntityMap) -> list[str]:
    """The product fields the progress rules read: each path up to its first filter or index."""
    paths = [entity.fields[n].path for n in PROGRESS_FIELDS if n in entity.fields]
    found = [m.group(0) for p in paths if p and (m := _LEADING_PATH.match(p))]
    return list(dict.fromkeys(found))


def _progress_of(
    readers: Mapping[str, FieldReader], raw: Mapping[str, Any]
) -> tuple[str | None, str | None, bool] | None:
    """(project, parent, done) of one task as its mapping reads them; None if unreadable."""
    try:
        values = {name: read(raw) for name, read in readers.items()}
        status = values.get("status", MISSING)
        state = TaskStatus.OPEN if status is MISSING else TaskStatus(status)
    except (ValueProblem, ValueError):
        return None
    project, parent = values.get("project", MISSING), values.get("parent", MISSING)
    return (
        None if project is MISSING else str(project),
        None if parent is MISSING else str(parent),
        state is TaskStatus.DONE,
    )


def records_of_projects(
    pm: Connector, spec: MappingSpec, entity_name: str, project_ids: Sequence[str], *, where: str
) -> dict[str, list[Entity]]:
    """Project id -> its records of ``entity_name`` (any entity with a ``project``), one read."""
    entity, scope = _scoped_entity(spec, entity_name, where)
    found: dict[str, list[Entity]] = {p: [] for p in project_ids}
    if not project_ids:
        return found
    filters = {**entity.where, scope: list(project_ids)}
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


def _scoped_entity(spec: MappingSpec, entity_name: str, where: str) -> tuple[EntityMap, str]:
    """The mapping's ``entity_name`` and its scope field (how to read one project's records)."""
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
    return entity, entity.scope_field


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
