"""won-to-project: a won CRM opportunity becomes one delivery project.

Per record the path is: link store -> (no link) the PM product's stamped
source id -> (not found) create from the template. A link moves through two
states: ``created`` once the project exists, ``complete`` once the project id
is written back onto the deal and the manager is notified. So a crash at any
point is healed by the next run, and a project is never created twice:

* crash inside ``create_project``: no link, but the stamp finds the project;
  ``complete_project`` adds the missing tasks;
* crash after create, before the link: the stamp finds it (``recover``);
* crash before write-back/notify: the link is ``created``, so they are redone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from handoff_hub.hub.config.handoffs import TemplateConfig, WonToProjectConfig
from handoff_hub.hub.connector import (
    FilterValue,
    NewProject,
    ProjectHandle,
    ProjectTemplate,
    RecordEnvelope,
    TemplateTask,
)
from handoff_hub.hub.errors import RECORD_ERRORS, TransientError
from handoff_hub.hub.handoffs.base import PairHandoff, Stream
from handoff_hub.hub.handoffs.engine import (
    BatchReport,
    Decision,
    Verdict,
    fingerprint,
    raise_if_unsure,
)
from handoff_hub.hub.handoffs.preview import project_preview
from handoff_hub.hub.mapping.engine import from_unified, map_records
from handoff_hub.hub.mapping.transforms import render_template
from handoff_hub.hub.model import (
    Account,
    Document,
    Opportunity,
    Project,
    Stage,
    User,
    dump,
    template_view,
)
from handoff_hub.hub.notify import notifier_for
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import AuditEvent, Link

__all__ = ["HANDOFF", "WonToProject", "build_project", "project_template"]

HANDOFF = "won-to-project"
NOTIFY_TITLE = "New delivery project: {{ project.name }}"
NOTIFY_BODY = (
    "{{ project.name }} was created from the won deal {{ opportunity.name }}"
    " ({{ opportunity.amount }}). {{ project_url }}"
    "{% if warning %} Note: {{ warning }}{% endif %}"
)
log = logging.getLogger("hub.won_to_project")


@dataclass
class _Work:
    """A won opportunity on its way through one batch."""

    opp: Opportunity
    source_id: str
    decision: Decision
    handle: ProjectHandle | None = None
    project: NewProject | None = None
    warning: str | None = None


class WonToProject(PairHandoff[WonToProjectConfig]):
    """The won-to-project handoff for one CRM/PM pair of a runtime."""

    name = HANDOFF

    def __init__(
        self,
        runtime: Runtime,
        config: WonToProjectConfig,
        *,
        run_id: str | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(runtime, config, run_id=run_id)
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.template = runtime.loaded.config.templates[config.template]
        self.notifier = notifier_for(config.notify.urls)

    def streams(self) -> list[Stream]:
        """Changed opportunities."""
        return [Stream("crm", "Opportunity")]

    def read_filter(self, stream: Stream) -> Mapping[str, FilterValue] | None:
        """Won ones only, where the mapping says how to ask for them."""
        return self.crm_map.entities["Opportunity"].filters.get("won")

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        """Plan one batch and, unless ``dry_run``, apply it."""
        report = BatchReport()
        report.counts["seen"] += len(records)
        work = self._plan(records, report, record_failures=not dry_run)
        if dry_run:
            self._preview(work)
        report.decisions.extend(w.decision for w in work)
        if not dry_run:
            self._apply(work, report)
        return report

    def _preview(self, work: list[_Work]) -> None:
        """Give each planned create or recovery the values it would write (reads only).

        The project is built as the run builds it; one the run could not build
        (a value the PM mapping refuses) is planned as the failure it would be.
        """
        acting = [w for w in work if w.decision.verdict in (Verdict.CREATE, Verdict.RECOVER)]
        managers = self._manager_ids(acting) if acting else {}
        for item in acting:
            try:
                project, new = self._projects(item, managers)
            except RECORD_ERRORS as exc:
                item.decision = replace(
                    item.decision, verdict=Verdict.FAIL, reason=f"create project: {exc}"
                )
                continue
            email = manager_email(item.opp, self.template)
            preview = project_preview(project, new, pm=self.cfg.pm, manager=email)
            item.decision = replace(item.decision, preview=preview)

    # planning (reads only) -------------------------------------------------

    def _plan(
        self, records: Sequence[RecordEnvelope], report: BatchReport, *, record_failures: bool
    ) -> list[_Work]:
        opps, failures = map_records(self.crm_map, "Opportunity", records)
        for record, error in failures:
            report.counts["failed"] += 1
            report.decisions.append(Decision(Verdict.FAIL, record.id, record.id, str(error)))
            if record_failures:
                self._dead_letter(record.id, f"mapping: {error}", dict(record.raw))
        won = [o for o in opps if isinstance(o, Opportunity) and o.stage is Stage.WON]
        report.counts["not_won"] += len(opps) - len(won)
        won = self.qualifying(won, report, self._id)
        links = self.rt.store.links_for(
            HANDOFF, self.cfg.crm, [self._id(o) for o in won], target_system=self.cfg.pm
        )
        unlinked = [self._source_id(o) for o in won if self._id(o) not in links]
        stamped = self.pm.find_projects(unlinked) if unlinked else {}
        return [self._decide(o, links.get(self._id(o)), stamped) for o in won]

    def _id(self, opp: Opportunity) -> str:
        return opp.refs[self.cfg.crm]

    def _source_id(self, opp: Opportunity) -> str:
        return f"{self.cfg.crm}:{self._id(opp)}"

    def _decide(
        self, opp: Opportunity, link: Link | None, stamped: Mapping[str, ProjectHandle]
    ) -> _Work:
        """What to do with a won deal; ``stamped``: the unlinked deals' projects found by stamp."""
        source_id = self._source_id(opp)
        label = opp.name
        if link is not None and link.state == "complete":
            decision = Decision(
                Verdict.SKIP,
                self._id(opp),
                label,
                f"already has project {link.target_key}",
                link.target_key,
            )
            return _Work(opp, source_id, decision)
        if link is not None:
            handle = ProjectHandle(
                link.target_id, link.target_key or link.target_id, link.target_url or ""
            )
            decision = Decision(
                Verdict.FINISH,
                self._id(opp),
                label,
                f"project {link.target_key} exists; write-back/notify pending",
                link.target_key,
            )
            return _Work(opp, source_id, decision, handle=handle)
        found = stamped.get(source_id)
        if found is not None:
            decision = Decision(
                Verdict.RECOVER,
                self._id(opp),
                label,
                f"project {found.key} found by its stamp; not yet recorded",
                found.key,
            )
            return _Work(opp, source_id, decision, handle=found)
        decision = Decision(
            Verdict.CREATE,
            self._id(opp),
            label,
            f"won, no project yet; template {self.cfg.template!r}",
        )
        return _Work(opp, source_id, decision)

    # applying --------------------------------------------------------------

    def _apply(self, work: list[_Work], report: BatchReport) -> None:
        managers = self._manager_ids(work)
        unsure: list[tuple[_Work, TransientError]] = []
        for item in work:
            if item.decision.verdict is Verdict.SKIP:
                report.counts["skipped"] += 1
                continue
            try:
                self._ensure_project(item, managers, report)
            except RECORD_ERRORS as exc:
                report.counts["failed"] += 1
                self._dead_letter(self._id(item.opp), f"create project: {exc}", dump(item.opp))
            except TransientError as exc:
                if not self._heal(item, report):
                    unsure.append((item, exc))
        ready = [w for w in work if w.handle is not None and w.decision.verdict is not Verdict.SKIP]
        self._write_back(ready, report)
        for item in ready:
            self._notify(item, report)
            self._record_link(item, state="complete")
        self.rt.store.resolve_dead_letters(HANDOFF, self.cfg.crm, [self._id(w.opp) for w in ready])
        raise_if_unsure(
            [(w.source_id, exc) for w, exc in unsure],
            report,
            what=f"of {len(work)} project creates",
            tells="the stamp",
            system=self.cfg.pm,
        )

    def _heal(self, item: _Work, report: BatchReport) -> bool:
        """After a create whose answer was lost: finish the project if the stamp finds it.

        Not found, the create may still be on its way through the product's
        search index; it is not sent again in this run (the batch is retried).
        """
        try:
            found = self.pm.find_project(item.source_id)
            if found is None or item.project is None:
                return False
            item.handle = self.pm.complete_project(found, item.project)
        except TransientError:
            return False
        report.counts["recovered"] += 1
        self._audit(
            "recover_project", self.cfg.pm, item, "ok", detail="answer lost; found by stamp"
        )
        self._record_link(item, state="created")
        return True

    def _ensure_project(self, item: _Work, managers: dict[str, str], report: BatchReport) -> None:
        item.project = self._new_project(item, managers)
        self._warn_if_unmatched(item, report)
        verdict = item.decision.verdict
        if verdict is Verdict.CREATE:
            item.handle = self.pm.create_project(item.project)
            report.counts["created"] += 1
            self._audit("create_project", self.cfg.pm, item, "ok", after=dict(item.project.fields))
        elif verdict is Verdict.RECOVER and item.handle is not None:
            item.handle = self.pm.complete_project(item.handle, item.project)
            report.counts["recovered"] += 1
            self._audit(
                "recover_project",
                self.cfg.pm,
                item,
                "ok",
                detail="found by stamped source id; missing template tasks added",
            )
        else:
            report.counts["finished"] += 1
        self._record_link(item, state="created")

    def _new_project(self, item: _Work, managers: dict[str, str]) -> NewProject:
        return self._projects(item, managers)[1]

    def _projects(self, item: _Work, managers: dict[str, str]) -> tuple[Project, NewProject]:
        """The unified project of a deal, and what the project tool is sent to create it."""
        project = build_project(
            item.opp,
            self.template,
            source_id=item.source_id,
            template_key=self.cfg.template,
            today=self.today,
            crm_url=self.crm.record_url("Opportunity", self._id(item.opp)),
        )
        email = manager_email(item.opp, self.template)
        manager_id = managers.get(email.lower()) if email else None
        if manager_id and project.manager is not None:
            project.manager = project.manager.model_copy(
                update={"refs": {**project.manager.refs, self.cfg.pm: manager_id}}
            )
        fields = from_unified(self.pm_map, "Project", project)
        return project, NewProject(
            source_id=item.source_id,
            name=project.name,
            fields=fields,
            template=project_template(self.template, self.cfg.template),
            start=project.start,
            manager_id=manager_id,
        )

    def _warn_if_unmatched(self, item: _Work, report: BatchReport) -> None:
        """A manager the project tool has no user for is said out loud, never left silently."""
        email = manager_email(item.opp, self.template)
        if item.project is None or item.project.manager_id or not email:
            return
        item.warning = f"no {self.cfg.pm} user has the e-mail {email}: the project has no manager"
        log.warning("%s: %s", item.source_id, item.warning)
        report.counts["manager_unmatched"] += 1
        self._audit("manager_unmatched", self.cfg.pm, item, "warning", detail=item.warning)

    def _manager_ids(self, work: list[_Work]) -> dict[str, str]:
        emails = {self.template.manager_email} if self.template.manager_email else set()
        emails |= {
            w.opp.owner.email
            for w in work
            if w.opp.owner and w.opp.owner.email and w.decision.verdict is not Verdict.SKIP
        }
        emails.discard(None)
        if not emails:
            return {}
        found = self.pm.find_users(sorted(e for e in emails if e))
        return {k.lower(): v for k, v in found.items()}

    def _write_back(self, items: list[_Work], report: BatchReport) -> None:
        if not self.cfg.write_back or not items:
            return
        entity = self.crm_map.entities["Opportunity"]
        updates = [
            (
                self._id(w.opp),
                from_unified(
                    self.crm_map, "Opportunity", {"project_ref": w.handle.key}, only=["project_ref"]
                ),
            )
            for w in items
            if w.handle is not None
        ]
        results = self.crm.update(entity.object, updates)
        for item, result in zip(items, results, strict=True):
            outcome = "ok" if result.ok else "failed"
            self._audit(
                "write_back",
                self.cfg.crm,
                item,
                outcome,
                record_id=self._id(item.opp),
                after=dict(updates[result.index][1]),
                detail=result.error,
            )
            report.counts["written_back" if result.ok else "write_back_failed"] += 1

    def _notify(self, item: _Work, report: BatchReport) -> None:
        context = {
            "project": {
                "name": item.project.name if item.project else item.opp.name,
                "key": item.handle.key if item.handle else None,
            },
            "opportunity": template_view(item.opp),
            "project_url": item.handle.url if item.handle else "",
            "warning": item.warning,
        }
        notify = self.cfg.notify
        delivery = self.notifier.send_rendered(
            notify.title or NOTIFY_TITLE, notify.body or NOTIFY_BODY, context
        )
        report.counts["notified" if delivery.delivered else "notify_failed"] += 1
        self._audit(
            "notify",
            delivery.channel,
            item,
            "ok" if delivery.delivered else "failed",
            detail=delivery.detail or None,
        )

    # recording -------------------------------------------------------------

    def _record_link(self, item: _Work, *, state: str) -> None:
        assert item.handle is not None
        self.rt.store.record_link(
            Link(
                HANDOFF,
                self.cfg.crm,
                self.crm_map.entities["Opportunity"].object,
                self._id(item.opp),
                self.cfg.pm,
                self.pm_map.entities["Project"].object,
                item.handle.id,
                item.handle.key,
                item.handle.url,
                state,
            )
        )

    def _audit(
        self,
        action: str,
        system: str,
        item: _Work,
        outcome: str,
        *,
        record_id: str | None = None,
        after: dict[str, object] | None = None,
        detail: str | None = None,
    ) -> None:
        target = record_id or (item.handle.key if item.handle else None)
        self.rt.store.audit(
            self.run_id,
            [
                AuditEvent(
                    HANDOFF,
                    action,
                    system,
                    "Opportunity" if system == self.cfg.crm else "Project",
                    target,
                    outcome,
                    source_ref=item.source_id,
                    after_fp=fingerprint(after),
                    detail=detail,
                )
            ],
        )

    def _dead_letter(self, record_id: str, reason: str, payload: dict[str, object]) -> None:
        log.warning("won-to-project: %s %s: %s", self.cfg.crm, record_id, reason)
        self.rt.store.dead_letter(
            self.run_id,
            handoff=HANDOFF,
            system=self.cfg.crm,
            object_name="Opportunity",
            record_id=record_id,
            reason=reason,
            payload=payload,
        )


def build_project(
    opp: Opportunity,
    template: TemplateConfig,
    *,
    source_id: str,
    template_key: str,
    today: dt.date,
    crm_url: str,
) -> Project:
    """The unified delivery project a won opportunity turns into."""
    context = {
        "opportunity": template_view(opp),
        "account": template_view(opp.account or Account()),
    }
    name = render_template(template.name, context).strip() or opp.name
    offsets = [t.due_offset_days for t in template.tasks if t.due_offset_days is not None]
    manager = manager_email(opp, template)
    start = project_start(opp, template, today)
    return Project(
        name=name[:255],
        account=opp.account,
        opportunity=source_id,
        budget=opp.amount,
        start=start,
        due=start + dt.timedelta(days=max(offsets)) if offsets else None,
        manager=User(email=manager) if manager else None,
        template=template_key,
        documents=[*opp.documents, Document(title="CRM opportunity", url=crm_url)],
        description=project_description(opp, crm_url),
    )


def manager_email(opp: Opportunity, template: TemplateConfig) -> str | None:
    """The project manager's address: the template's, else the deal owner's."""
    return template.manager_email or (opp.owner.email if opp.owner else None)


def project_start(opp: Opportunity, template: TemplateConfig, today: dt.date) -> dt.date:
    """Where the project's calendar starts, as its template says."""
    base = opp.close_date if template.starts == "close_date" and opp.close_date else today
    return base + dt.timedelta(days=template.start_offset_days)


def project_description(opp: Opportunity, crm_url: str) -> str:
    """The project's description: its origin, the deal's scope, amount and documents."""
    lines = [f"Delivery project for the won deal {opp.name!s}.", f"CRM record: {crm_url}"]
    if opp.description and opp.description.strip():
        lines += ["", "Scope (from the deal):", opp.description.strip(), ""]
    if opp.amount is not None:
        lines.append(f"Contract amount: {opp.amount}")
    lines += [f"Document: {d.title} {d.url}" for d in opp.documents]
    return "\n".join(lines)


def project_template(template: TemplateConfig, key: str) -> ProjectTemplate:
    """The connector-facing template built from the hub config's template."""
    return ProjectTemplate(
        name=key,
        product_template=template.product_template,
        tasks=tuple(
            TemplateTask(t.name, t.description, t.parent, t.due_offset_days) for t in template.tasks
        ),
    )
