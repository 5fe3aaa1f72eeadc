"""Creating and updating records through the batch API, one result per record.

Each record becomes one batch action (``POST /tasks``, ``PUT /tasks/{gid}``,
...); a record refused before sending (an unknown custom field, an option
that does not exist, an id that is not a gid) gets its error without a call.
Asana answers every action on its own, so one refused record never sinks
the others; only a rejected token or an exhausted rate limit fails the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.batch import action, raise_unless_record
from handoff_hub.connectors.asana.records import api_path, gid_of
from handoff_hub.connectors.asana.values import asana_payload
from handoff_hub.hub.connector import WriteResult
from handoff_hub.hub.errors import RecordError

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.batch import BatchRunner
    from handoff_hub.connectors.asana.config import AsanaConfig
    from handoff_hub.connectors.asana.fields import FieldCatalogue

__all__ = ["ITEM_PATHS", "RecordWriter"]

ITEM_PATHS = {
    settings.TASK_OBJECT: settings.TASK_PATH,
    settings.PROJECT_OBJECT: settings.PROJECT_PATH,
}
_OWNERS = {
    settings.TASK_OBJECT: "the task's project",
    settings.PROJECT_OBJECT: "the project",
}
_LISTS = {
    settings.TASK_OBJECT: settings.TASKS_PATH,
    settings.PROJECT_OBJECT: settings.PROJECTS_PATH,
}
Prepared = dict[str, Any] | str


class RecordWriter:
    """Batch creates and updates of tasks and projects."""

    def __init__(self, runner: BatchRunner, catalogue: FieldCatalogue, config: AsanaConfig) -> None:
        self.runner = runner
        self.catalogue = catalogue
        self.config = config

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.runner.client.system

    def create(self, kind: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """One ``POST`` action per record; results in input order (id = the new gid)."""
        prepared = self._prepare(records, lambda _i, data: self._create_action(kind, data))
        return self._write(kind, prepared, created=True)

    def update(
        self, kind: str, records: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult]:
        """One ``PUT`` action per ``(gid, fields)`` pair; results in input order."""
        pairs = list(records)

        def build(index: int, data: dict[str, Any]) -> dict[str, Any]:
            gid = str(pairs[index][0])
            if not gid.isdigit():
                raise RecordError(f"{gid!r} is not an Asana gid", system=self.system)
            return action("PUT", api_path(ITEM_PATHS[kind], task=gid, project=gid), data)

        results = self._write(kind, self._prepare([f for _, f in pairs], build), created=False)
        return [replace(r, id=r.id or str(pairs[r.index][0]), created=False) for r in results]

    def _prepare(
        self,
        records: Sequence[Mapping[str, Any]],
        build: Callable[[int, dict[str, Any]], dict[str, Any]],
    ) -> list[Prepared]:
        """One action per record, or the error text of a record refused before sending."""
        prepared: list[Prepared] = []
        for index, record in enumerate(records):
            try:
                prepared.append(build(index, asana_payload(record, self.catalogue)))
            except RecordError as exc:
                prepared.append(str(exc))
        return prepared

    def _write(self, kind: str, prepared: list[Prepared], *, created: bool) -> list[WriteResult]:
        to_send = [(i, a) for i, a in enumerate(prepared) if isinstance(a, dict)]
        answers = self.runner.run([a for _, a in to_send])
        results = [
            WriteResult(i, False, error=a) for i, a in enumerate(prepared) if isinstance(a, str)
        ]
        for (index, _), answer in zip(to_send, answers, strict=True):
            if answer.ok:
                results.append(WriteResult(index, True, id=gid_of(answer.data), created=created))
            else:
                raise_unless_record(answer, self.system, "write")
                error = answer.error()
                error = self.catalogue.absent_error(error, _OWNERS[kind]) or error
                results.append(WriteResult(index, False, error=error))
        return sorted(results, key=lambda r: r.index)

    def _create_action(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """A task without a home goes to the ``project_gid`` setting's project (or workspace)."""
        if kind == settings.TASK_OBJECT and not {"projects", "parent", "workspace"} & set(data):
            if self.config.project_gid:
                data["projects"] = [self.config.project_gid]
            else:
                data["workspace"] = self.config.workspace_gid
        if kind == settings.PROJECT_OBJECT and not {"workspace", "team"} & set(data):
            data["workspace"] = self.config.workspace_gid
            if self.config.team_gid:
                data["team"] = self.config.team_gid
        return action("POST", _LISTS[kind], data, fields=("name",))
