"""Many deals' delivery projects in Jira at once: a few bulk calls per level, not per deal.

The Epics of all the deals go out in ``POST /issue/bulk`` calls of 50, each
carrying its deal's stamp (label and entity property); then the Tasks under
all those Epics, 50 a call across projects, parents named by the Epics'
keys; then the Sub-tasks under those Tasks. The calls of one level go
``concurrency`` at a time, each taking its turn at the client's rate limit.
In project mode each deal's Jira project is created first (Jira has no bulk
project create), also ``concurrency`` at a time.

Each element's answer is taken by its ``failedElementNumber`` (the client's
:meth:`~handoff_hub.connectors.jira.client.JiraClient.create_issues`), so a
refused Epic or Task fails its own deal only. A bulk call whose answer was
lost (5xx, dropped connection, timeout) may have created its issues: for
Epics the stamps are looked up before anything is sent again (as
:func:`hub.http.create_then_verify` does for one); for Tasks the deals of
that call end unsure, and the caller finds their Epics by stamp and
completes them (:meth:`ProjectOps.complete` adds only the missing tasks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from handoff_hub.connectors.jira import settings
from handoff_hub.connectors.jira.projects import WbsPlan, epic_update, plan_wbs, task_update
from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.connector import PROJECT_ERRORS, ProjectHandle, ProjectOutcome
from handoff_hub.hub.errors import HubError, RecordError, TransientError
from handoff_hub.hub.http import chunks
from handoff_hub.hub.http.concurrent import in_levels, in_parallel
from handoff_hub.hub.http.verify import outcome_unknown

if TYPE_CHECKING:
    from handoff_hub.connectors.jira.client import BulkOutcome
    from handoff_hub.connectors.jira.project_ops import ProjectOps
    from handoff_hub.hub.connector import NewProject, TemplateTask

__all__ = ["BulkProjects"]

log = logging.getLogger("hub.jira")
Answer = Union["list[BulkOutcome]", HubError]


@dataclass
class _Deal:
    """One project of the batch on its way: its Jira project, Epic and tasks so far."""

    project: NewProject
    plan: WbsPlan
    project_key: str = ""
    epic: tuple[str, str] | None = None
    tasks: dict[str, str] = field(default_factory=dict)
    subtasks: dict[tuple[str, str], str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    error: HubError | None = None
    waiting: int = 0
    """Top-level tasks sent whose answer has not come yet (sub-tasks wait for them all)."""


@dataclass(frozen=True)
class _Element:
    """One issue of a bulk call, and where its answer goes."""

    deal: _Deal
    update: dict[str, Any]
    done: Callable[[str, str], None]
    """Takes the created issue's key and id."""
    what: str


class BulkProjects:
    """Creates a batch's Epics and work breakdowns in bulk calls across deals."""

    def __init__(self, ops: ProjectOps) -> None:
        self.ops = ops
        self.client = ops.client
        self.config = ops.config

    def create(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Every project's Epic and tasks; one outcome per project, in order.

        Raises:
            ConfigError: a template's tasks are inconsistent (checked before any write).
        """
        deals = [_Deal(p, plan_wbs(p.template)) for p in projects]
        self._project_keys(deals)
        lost = self._stream([d for d in deals if d.error is None])
        found = self._recover_epics(lost) if lost else []
        self._send(self._task_elements(found))
        self._send(self._subtask_elements(found))
        return [self._outcome(d) for d in deals]

    def _stream(self, deals: list[_Deal]) -> list[tuple[_Deal, TransientError]]:
        """Epics, Tasks and Sub-tasks, each answered call readying the next level's issues.

        Returns:
            The deals whose Epics' call answer was lost, with the error.
        """
        lost: dict[int, tuple[_Deal, TransientError]] = {}

        def take(level: int, group: Sequence[_Element], answer: Answer) -> list[_Element]:
            self._take(list(group), answer, lost)
            touched = list({id(e.deal): e.deal for e in group}.values())
            if level == 0:
                return self._task_elements(touched)
            if level == 1:
                for element in group:
                    element.deal.waiting -= 1
                return self._subtask_elements([d for d in touched if not d.waiting])
            return []

        in_levels(
            lambda _level, group: self._call(group),
            take,
            [self._epic_element(d) for d in deals],
            levels=3,
            size=settings.BULK_CREATE_SIZE,
            workers=self.client.api.concurrency,
        )
        return list(lost.values())

    # projects and Epics ------------------------------------------------------

    def _project_keys(self, deals: list[_Deal]) -> None:
        """The Jira project of each deal: the configured one, or (project mode) its own."""
        if self.config.mode == "epic":
            for deal in deals:
                deal.project_key = self.config.project_key
            return

        def make(deal: _Deal) -> None:
            try:
                deal.project_key = self.ops.project_for(deal.project)
            except PROJECT_ERRORS as exc:
                deal.error = exc

        in_parallel(make, deals, workers=self.client.api.concurrency)

    def _recover_epics(self, lost: list[tuple[_Deal, TransientError]]) -> list[_Deal]:
        """After a lost answer, look for the Epics' stamps; send again only what is not there.

        Returns:
            The deals whose Epic exists now (their tasks are still to create).
        """
        recovered = [d for d, _ in lost]
        for attempt in range(1, settings.CREATE_ATTEMPTS + 1):
            self.ops.settle()
            found = self.ops.find_many([d.project.source_id for d, _ in lost])
            pending = []
            for deal, exc in lost:
                handle = found.get(deal.project.source_id)
                if handle is not None:
                    deal.epic = (handle.id, handle.key)
                elif exc.status is None or attempt == settings.CREATE_ATTEMPTS:
                    deal.error = exc  # no answer at all: the create may still be running
                else:
                    pending.append(deal)
            if not pending:
                break
            lost = self._send([self._epic_element(d) for d in pending])
            if not lost:
                break
        return [d for d in recovered if d.error is None and d.epic is not None]

    def _epic_element(self, deal: _Deal) -> _Element:
        label = stamp_label(deal.project.source_id)
        update = epic_update(deal.project, self.config, project_key=deal.project_key, label=label)

        def done(key: str, issue_id: str) -> None:
            deal.epic = (issue_id, key)
            log.info("%s: created epic %s for %s", self.ops.system, key, deal.project.source_id)

        return _Element(deal, update, done, "epic")

    # work breakdown ----------------------------------------------------------

    def _task_elements(self, deals: list[_Deal]) -> list[_Element]:
        """The top-level tasks of every deal with an Epic, under that Epic."""
        elements: list[_Element] = []
        for deal in deals:
            if deal.error is not None or deal.epic is None:
                continue
            deal.waiting = len(deal.plan.tasks)
            for task in deal.plan.tasks:
                elements.append(
                    self._task_element(deal, task, deal.epic[1], self.config.task_issue_type)
                )
        return elements

    def _subtask_elements(self, deals: list[_Deal]) -> list[_Element]:
        """The sub-tasks of every deal whose Tasks went through, under their top-level task."""
        elements: list[_Element] = []
        for deal in deals:
            if deal.error is not None or deal.epic is None:
                continue
            for task, root in deal.plan.subtasks:
                parent = deal.tasks.get(root)
                if parent is None:
                    deal.failures.append(f"{task.name}: its task {root!r} was not created")
                    continue
                elements.append(
                    self._task_element(deal, task, parent, self.config.subtask_issue_type)
                )
        return elements

    def _task_element(
        self, deal: _Deal, task: TemplateTask, parent: str, issue_type: str
    ) -> _Element:
        update = task_update(
            task,
            deal.project,
            project_key=deal.project_key,
            parent_key=parent,
            issue_type=issue_type,
            label=stamp_label(deal.project.source_id),
        )
        top = issue_type == self.config.task_issue_type

        def done(key: str, issue_id: str) -> None:
            if top:
                deal.tasks[task.name] = key
            else:
                deal.subtasks[(parent, task.name)] = key

        return _Element(deal, update, done, task.name)

    # sending -----------------------------------------------------------------

    def _send(self, elements: list[_Element]) -> list[tuple[_Deal, TransientError]]:
        """Each element in bulk calls of 50, ``concurrency`` calls at a time.

        Returns:
            The deals of elements whose call's answer was lost (once each),
            with the error; a task's deal is failed as unsure right away.
        """
        live = [e for e in elements if e.deal.error is None]
        groups = [list(g) for g in chunks(live, settings.BULK_CREATE_SIZE)]
        lost: dict[int, tuple[_Deal, TransientError]] = {}
        answers = in_parallel(self._call, groups, workers=self.client.api.concurrency)
        for group, answer in zip(groups, answers, strict=True):
            self._take(group, answer, lost)
        return list(lost.values())

    def _call(self, group: Sequence[_Element]) -> Answer:
        """One bulk create; a refused or unsure call is its answer, anything else is raised."""
        try:
            return self.client.create_issues([e.update for e in group])
        except TransientError as exc:
            if not outcome_unknown(exc):
                raise
            return exc
        except RecordError as exc:
            return exc

    def _take(
        self,
        group: list[_Element],
        answer: Answer,
        lost: dict[int, tuple[_Deal, TransientError]],
    ) -> None:
        """Each element's answer onto its deal, by element number."""
        if isinstance(answer, HubError):
            self._whole_call_failed(group, answer, lost)
            return
        for element, outcome in zip(group, answer, strict=True):
            if outcome.ok and outcome.key:
                element.done(outcome.key, outcome.id or "")
            else:
                self._refused(element, outcome.error or "refused")

    def _whole_call_failed(
        self,
        group: list[_Element],
        error: HubError,
        lost: dict[int, tuple[_Deal, TransientError]],
    ) -> None:
        for element in group:
            deal = element.deal
            if isinstance(error, TransientError):
                if element.what == "epic":
                    lost.setdefault(id(deal), (deal, error))
                elif deal.error is None:
                    deal.error = error  # the caller finds its Epic and completes it
            else:
                self._refused(element, str(error))

    def _refused(self, element: _Element, error: str) -> None:
        deal = element.deal
        if element.what == "epic":
            deal.error = RecordError(f"epic refused: {error}", system=self.ops.system)
        else:
            deal.failures.append(f"{element.what}: {error}")

    # answering ---------------------------------------------------------------

    def _outcome(self, deal: _Deal) -> ProjectOutcome:
        if deal.error is not None:
            return ProjectOutcome(error=deal.error)
        assert deal.epic is not None
        epic_id, epic_key = deal.epic
        if deal.failures:
            failures = deal.failures
            return ProjectOutcome(
                error=RecordError(
                    f"epic {epic_key}: {len(failures)} of {deal.plan.size} template tasks were"
                    f" not created (a rerun adds them): {'; '.join(failures)}",
                    system=self.ops.system,
                )
            )
        keys = [deal.tasks[t.name] for t in deal.plan.tasks]
        keys += [deal.subtasks[(deal.tasks[root], t.name)] for t, root in deal.plan.subtasks]
        return ProjectOutcome(
            ProjectHandle(
                epic_id, epic_key, self.ops.url(epic_key), created=True, task_ids=tuple(keys)
            )
        )
