"""Many deals' delivery projects in Asana at once, through the batch API.

Projects without an Asana template are created with ``POST /projects``
actions, ten to a ``/batch`` call, each stamped in the same request; then the
work breakdowns of all of them, level by level, ten task creates to a call
across projects (a subtask names its parent by the gid the level above
answered). Projects from an Asana template are instantiated side by side,
``concurrency`` at a time, so their jobs are polled together rather than
one after another; their missing tasks join the others' levels.

An action answered 5xx, or a ``/batch`` call whose answer was lost, may
have created its project: the stamps are looked up (the team's project list
reads its own writes) before anything is sent again, as
:func:`hub.http.create_then_verify` does for one. A task create whose answer
was lost leaves its deal unsure: the caller finds the project by its stamp
and completes it (:meth:`ProjectOps.complete` adds only the missing tasks).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.batch import action
from handoff_hub.connectors.asana.projects import WbsPlan, plan_wbs
from handoff_hub.connectors.asana.records import gid_of
from handoff_hub.hub.connector import PROJECT_ERRORS, ProjectOutcome
from handoff_hub.hub.errors import RECORD_ERRORS, HubError, RecordError, TransientError
from handoff_hub.hub.http.concurrent import in_parallel
from handoff_hub.hub.http.verify import outcome_unknown

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.batch import ActionResult
    from handoff_hub.connectors.asana.project_ops import ProjectOps
    from handoff_hub.hub.connector import NewProject

__all__ = ["BulkProjects"]

log = logging.getLogger("hub.asana")


@dataclass
class _Deal:
    """One project of the batch on its way: its gid and template tasks so far."""

    project: NewProject
    plan: WbsPlan
    gid: str | None = None
    tasks: dict[str, str] = field(default_factory=dict)
    """Template tasks already there (a template's own), by name."""
    task_ids: tuple[str, ...] = ()
    error: HubError | None = None

    @property
    def source_id(self) -> str:
        """The project's stamp."""
        return self.project.source_id


class BulkProjects:
    """Creates a batch's projects and work breakdowns in ``/batch`` calls across deals."""

    def __init__(self, ops: ProjectOps) -> None:
        self.ops = ops
        self.client = ops.client
        self.runner = ops.wbs.runner

    def create(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Every project and its template tasks; one outcome per project, in order.

        Raises:
            ConfigError: a template's tasks are inconsistent (checked before any write).
        """
        deals = [_Deal(p, plan_wbs(p.template)) for p in projects]
        plain = [d for d in deals if not d.project.template.product_template]
        self._plain(plain)
        self._from_templates([d for d in deals if d.project.template.product_template])
        made = [d for d in deals if d.error is None and d.gid is not None]
        work = [(str(d.gid), d.project, d.plan, d.tasks) for d in made]
        for deal, result in zip(made, self.ops.wbs.complete_many(work), strict=True):
            if isinstance(result, HubError):
                deal.error = result
            else:
                deal.task_ids = result
                log.info("%s: created project %s for %s", self.ops.system, deal.gid, deal.source_id)
        return [self._outcome(d) for d in deals]

    # projects ----------------------------------------------------------------

    def _plain(self, deals: list[_Deal]) -> None:
        """``POST /projects`` actions; after a lost answer, look for the stamps before resending."""
        bodies = {id(d): body for d in deals if (body := self._body(d)) is not None}
        pending = [d for d in deals if id(d) in bodies]
        for attempt in range(1, settings.CREATE_ATTEMPTS + 1):
            lost = self._send_projects(pending, bodies)
            if not lost:
                return
            found = self.ops.find_many([d.source_id for d, _ in lost])
            pending = []
            for deal, exc in lost:
                handle = found.get(deal.source_id)
                if handle is not None:
                    deal.gid = handle.id
                elif exc.status is None or attempt == settings.CREATE_ATTEMPTS:
                    deal.error = exc  # no answer at all: the create may still be running
                else:
                    pending.append(deal)
            if not pending:
                return

    def _body(self, deal: _Deal) -> dict[str, Any] | None:
        """The create's body: mapped fields and stamp; None (the deal failed) when refused."""
        try:
            data = self.ops.payload(deal.project)
        except RECORD_ERRORS as exc:
            deal.error = exc
            return None
        body = {**data, "workspace": self.ops.config.workspace_gid}
        if self.ops.config.team_gid:
            body["team"] = self.ops.config.team_gid
        return body

    def _send_projects(
        self, deals: list[_Deal], bodies: dict[int, dict[str, Any]]
    ) -> list[tuple[_Deal, TransientError]]:
        actions = [
            action("POST", settings.PROJECTS_PATH, bodies[id(d)], fields=("name",)) for d in deals
        ]
        try:
            results = self.runner.run(actions)
        except TransientError as exc:
            if not outcome_unknown(exc):
                raise
            return [(d, exc) for d in deals]
        lost: list[tuple[_Deal, TransientError]] = []
        for deal, result in zip(deals, results, strict=True):
            self._took(deal, result, lost)
        return lost

    def _took(
        self, deal: _Deal, result: ActionResult, lost: list[tuple[_Deal, TransientError]]
    ) -> None:
        gid = gid_of(result.data) if result.ok else None
        where = f"project create for {deal.source_id}"
        if gid is not None:
            deal.gid = gid
        elif result.ok or result.status >= 500:
            status = None if result.ok else result.status
            error = TransientError(
                f"{where}: {result.error()}", system=self.ops.system, status=status
            )
            lost.append((deal, error))
        else:
            explained = self.ops.catalogue.absent_error(result.error(), where)
            deal.error = RecordError(
                explained or f"{where}: {result.error()}",
                system=self.ops.system,
                status=result.status,
            )

    def _from_templates(self, deals: list[_Deal]) -> None:
        """Instantiate side by side, then poll every job together until each is done."""
        if not deals:
            return
        orphans = self.ops.orphans()
        adopt = {
            id(d): orphans.pop((d.project.name, str(d.project.template.product_template)), None)
            for d in deals
        }
        jobs: dict[str, str] = {}

        def start(deal: _Deal) -> None:
            template = str(deal.project.template.product_template)
            try:
                data = self.ops.payload(deal.project)
                deal.gid, job = self.ops.start_from_template(
                    deal.project, template, data, orphan=adopt[id(deal)]
                )
            except PROJECT_ERRORS as exc:
                deal.error = exc
                return
            if job is not None:
                jobs[deal.source_id] = job

        in_parallel(start, deals, workers=self.client.api.concurrency)
        failed = self.ops.await_jobs(jobs) if jobs else {}
        for deal in deals:
            deal.error = deal.error or failed.get(deal.source_id)
        made = [d for d in deals if d.error is None and d.gid is not None and d.plan.size]

        def existing(deal: _Deal) -> None:
            try:
                deal.tasks = self.ops.wbs.existing(str(deal.gid), deal.plan)
            except PROJECT_ERRORS as exc:
                deal.error = exc

        in_parallel(existing, made, workers=self.client.api.concurrency)

    def _outcome(self, deal: _Deal) -> ProjectOutcome:
        if deal.error is not None or deal.gid is None:
            return ProjectOutcome(error=deal.error)
        return ProjectOutcome(self.ops.handle(deal.gid, created=True, task_ids=deal.task_ids))
