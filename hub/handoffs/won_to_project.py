"""won-to-project: a won CRM opportunity becomes its delivery project, or several.

Which template(s) a deal gets, the template rules say
(:mod:`hub.handoffs.template_choice`); each project is one slot of the deal,
linked and stamped on its own, and everything below holds per slot.

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
from dataclasses import dataclass, field, replace

from handoff_hub.hub.config.handoffs import TemplateConfig, WonToProjectConfig
from handoff_hub.hub.connector import (
    FilterValue,
    NewProject,
    ProjectHandle,
    ProjectOutcome,
    ProjectTemplate,
    RecordEnvelope,
    TemplateTask,
    create_projects,
)
from handoff_hub.hub.errors import RECORD_ERRORS, ConnectorError, TransientError
from handoff_hub.hub.handoffs.base import PairHandoff, Stream
from handoff_hub.hub.handoffs.engine import (
    BatchReport,
    Decision,
    Verdict,
    raise_if_unsure,
)
from handoff_hub.hub.handoffs.managers import ManagerChooser, Resolved, resolve
from handoff_hub.hub.handoffs.preview import project_preview
from handoff_hub.hub.handoffs.template_choice import Slot, TemplateChoice, slot_stamp
from handoff_hub.hub.handoffs.user_fields import KnownUsers, UnmatchedUser, UserIds
from handoff_hub.hub.mapping.engine import from_unified
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
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link

__all__ = ["HANDOFF", "WonToProject", "build_project", "project_template"]

HANDOFF = "won-to-project"
NOTIFY_TITLE = "New delivery project: {{ project.name }}"
NOTIFY_BODY = (
    "{{ project.name }} was created from the won deal {{ opportunity.name }}"
    "{% if opportunity.amount %} ({{ opportunity.amount }}){% endif %}. {{ project_url }}"
    "{% if warning %} Note: {{ warning }}{% endif %}"
)
log = logging.getLogger("hub.won_to_project")


@dataclass
class _Work:
    """One project of a won opportunity (one slot) on its way through one batch."""

    opp: Opportunity
    slot: Slot
    source_id: str
    """The project's stamp: the deal's source id, and its slot if it has one."""
    decision: Decision
    handle: ProjectHandle | None = None
    project: NewProject | None = None
    warning: str | None = None
    manager: Resolved | None = None
    users_unset: list[UnmatchedUser] = field(default_factory=list)
    """The project's user fields whose address the project tool has no user for."""


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
        super().__init__(runtime, config, run_id=run_id, today=today)
        self.templates = runtime.loaded.config.templates
        self.choice = TemplateChoice(config, lambda: self.today)
        self.managers = ManagerChooser(
            config.manager,
            pool_prefix=f"{HANDOFF}:{config.pm}:manager-pool",
            take_turn=runtime.store.take_turn,
        )
        self.pm_users = KnownUsers(self.pm)
        """The run's look-ups of project-tool users: managers and user fields alike."""
        self.users = UserIds(self.pm, self.pm_map, "Project", known=self.pm_users)

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
        if acting:
            self._choose_managers(acting, take_turns=False)
        self._look_up_users(acting)
        for item in acting:
            try:
                project, new = self._projects(item)
            except RECORD_ERRORS as exc:
                item.decision = replace(
                    item.decision, verdict=Verdict.FAIL, reason=f"create project: {exc}"
                )
                continue
            email = item.manager.email if item.manager else None
            preview = project_preview(project, new, pm=self.cfg.pm, manager=email)
            item.decision = replace(item.decision, preview=preview)

    # planning (reads only) -------------------------------------------------

    def _plan(
        self, records: Sequence[RecordEnvelope], report: BatchReport, *, record_failures: bool
    ) -> list[_Work]:
        opps = self.mapped(records, report, record_failures=record_failures)
        won = [o for o in opps if isinstance(o, Opportunity) and o.stage is Stage.WON]
        report.counts["not_won"] += len(opps) - len(won)
        won = self.qualifying(won, report, self._id)
        wanted = [(opp, slot) for opp in won for slot in self._slots(opp, report)]
        links = self.rt.store.link_sets(
            HANDOFF, self.cfg.crm, [self._id(o) for o in won], target_system=self.cfg.pm
        )
        found = {(lk.source_id, lk.slot): lk for group in links.values() for lk in group}
        unlinked = [self._stamp(o, s) for o, s in wanted if (self._id(o), s.name) not in found]
        stamped = self.pm.find_projects(unlinked) if unlinked else {}
        return [self._decide(o, s, found.get((self._id(o), s.name)), stamped) for o, s in wanted]

    def _slots(self, opp: Opportunity, report: BatchReport) -> tuple[Slot, ...]:
        """The projects the rules give the deal; none is a skip in ``report``, with why."""
        slots, reason = self.choice.choose(opp)
        if not slots:
            report.counts["no_template"] += 1
            report.decisions.append(
                Decision(Verdict.SKIP, self._id(opp), opp.name, reason or "no template")
            )
        return slots

    def _id(self, opp: Opportunity) -> str:
        return opp.refs[self.cfg.crm]

    def _source_id(self, opp: Opportunity) -> str:
        return f"{self.cfg.crm}:{self._id(opp)}"

    def _stamp(self, opp: Opportunity, slot: Slot) -> str:
        return slot_stamp(self._source_id(opp), slot.name)

    def _decide(
        self,
        opp: Opportunity,
        slot: Slot,
        link: Link | None,
        stamped: Mapping[str, ProjectHandle],
    ) -> _Work:
        """What to do with one project of a won deal; ``stamped``: unlinked ones found by stamp."""
        source_id = self._stamp(opp, slot)
        label = f"{opp.name} ({slot.name})" if slot.name else opp.name
        if link is not None and link.state == "complete":
            decision = Decision(
                Verdict.SKIP,
                self._id(opp),
                label,
                f"already has project {link.target_key}",
                link.target_key,
            )
            return _Work(opp, slot, source_id, decision)
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
            return _Work(opp, slot, source_id, decision, handle=handle)
        found = stamped.get(source_id)
        if found is not None:
            decision = Decision(
                Verdict.RECOVER,
                self._id(opp),
                label,
                f"project {found.key} found by its stamp; not yet recorded",
                found.key,
            )
            return _Work(opp, slot, source_id, decision, handle=found)
        decision = Decision(
            Verdict.CREATE,
            self._id(opp),
            label,
            f"won, no project yet; template {slot.template!r}",
        )
        return _Work(opp, slot, source_id, decision)

    # applying --------------------------------------------------------------

    def _apply(self, work: list[_Work], report: BatchReport) -> None:
        """Create the batch's new projects together, then link, write back and notify each.

        A project the PM tool refuses dead-letters its deal alone; one whose
        answer was lost is looked for by its stamp (:meth:`_heal`).
        """
        self._choose_managers(work)
        unsure: list[tuple[_Work, TransientError]] = []
        failed: set[str] = set()
        acting = [w for w in work if w.decision.verdict is not Verdict.SKIP]
        if len(acting) < len(work):
            report.counts["skipped"] += len(work) - len(acting)
        self._look_up_users(acting)
        built = [w for w in acting if self._build(w, report, failed)]
        outcomes = self._create_all([w for w in built if w.decision.verdict is Verdict.CREATE])
        lost: list[tuple[_Work, TransientError]] = []
        for item in built:
            try:
                self._ensure_project(item, report, outcomes.get(id(item)))
            except RECORD_ERRORS as exc:
                self._fail(item, exc, report, failed)
            except TransientError as exc:
                lost.append((item, exc))
        found = self._look_up([w for w, _ in lost])
        for item, error in lost:
            if not self._heal(item, report, found.get(item.source_id)):
                unsure.append((item, error))
                failed.add(self._id(item.opp))
        ready = [w for w in work if w.handle is not None and w.decision.verdict is not Verdict.SKIP]
        self._write_back(ready, report)
        for item in ready:
            self._notify(item, report)
            self._record_link(item, state="complete")
        done = [self._id(w.opp) for w in ready if self._id(w.opp) not in failed]
        self.rt.store.resolve_dead_letters(HANDOFF, self.cfg.crm, done)  # every project made
        raise_if_unsure(
            [(w.source_id, exc) for w, exc in unsure],
            report,
            what=f"of {len(work)} project creates",
            tells="the stamp",
            system=self.cfg.pm,
        )

    def _build(self, item: _Work, report: BatchReport, failed: set[str]) -> bool:
        """What the PM tool is sent for the item; False (dead-lettered) when the mapping refuses."""
        try:
            item.project = self._new_project(item)
        except RECORD_ERRORS as exc:
            self._fail(item, exc, report, failed)
            return False
        self._warn_if_unmatched(item, report)
        self._warn_users_unset(item, report)
        return True

    def _create_all(self, items: list[_Work]) -> dict[int, ProjectOutcome]:
        """The new projects of the batch created together; each item's outcome, by ``id(item)``."""
        projects = [w.project for w in items if w.project is not None]
        if not projects:
            return {}
        outcomes = create_projects(self.pm, projects)
        return {id(w): o for w, o in zip(items, outcomes, strict=True)}

    def _fail(self, item: _Work, exc: Exception, report: BatchReport, failed: set[str]) -> None:
        report.counts["failed"] += 1
        failed.add(self._id(item.opp))
        what = f"create project ({item.slot.name})" if item.slot.name else "create project"
        self.dead_letter(self._id(item.opp), f"{what}: {exc}", dump(item.opp))

    def _look_up(self, items: list[_Work]) -> dict[str, ProjectHandle]:
        """The projects of creates whose answer was lost, found by their stamps in one look."""
        if not items:
            return {}
        try:
            return self.pm.find_projects([w.source_id for w in items])
        except TransientError:
            return {}

    def _heal(self, item: _Work, report: BatchReport, found: ProjectHandle | None) -> bool:
        """After a create whose answer was lost: finish the project if its stamp was found.

        Not found, the create may still be on its way through the product's
        search index; it is not sent again in this run (the batch is retried).
        """
        if found is None or item.project is None:
            return False
        try:
            item.handle = self.pm.complete_project(found, item.project)
        except TransientError:
            return False
        report.counts["recovered"] += 1
        self._audit(
            "recover_project", self.cfg.pm, item, "ok", detail="answer lost; found by stamp"
        )
        self._record_link(item, state="created")
        return True

    def _ensure_project(
        self, item: _Work, report: BatchReport, outcome: ProjectOutcome | None
    ) -> None:
        """Take a created project's outcome, or complete a found one; then record the link."""
        assert item.project is not None
        verdict = item.decision.verdict
        if verdict is Verdict.CREATE:
            item.handle = self._handle_of(item, outcome)
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

    def _handle_of(self, item: _Work, outcome: ProjectOutcome | None) -> ProjectHandle:
        """The created project, else the error its create ended in."""
        if outcome is not None and outcome.handle is not None:
            return outcome.handle
        if outcome is not None and outcome.error is not None:
            raise outcome.error
        raise ConnectorError(f"{item.source_id}: no outcome of its create", system=self.cfg.pm)

    def _new_project(self, item: _Work) -> NewProject:
        return self._projects(item)[1]

    def _look_up_users(self, work: list[_Work]) -> None:
        """The batch's user-field addresses asked in one look-up, not one per new address.

        The ids are kept by :class:`UserIds`; a project that cannot be built is
        left out here and dead-lettered when it is built for its create.
        """
        if not self.users.fields:
            return
        projects = []
        for item in work:
            try:
                projects.append(self._unified(item))
            except RECORD_ERRORS:
                continue
        self.users.people(projects)

    def _unified(self, item: _Work) -> Project:
        return build_project(
            item.opp,
            self.templates[item.slot.template],
            source_id=self._source_id(item.opp),
            template_key=item.slot.template,
            today=self.today,
            crm_url=self.crm.record_url("Opportunity", self._id(item.opp)),
            value=item.slot.value,
        )

    def _projects(self, item: _Work) -> tuple[Project, NewProject]:
        """The unified project of a deal, and what the project tool is sent to create it."""
        template = self.templates[item.slot.template]
        project = self._unified(item)
        chosen = item.manager or Resolved(None, None)
        manager_id = chosen.user_id
        project.manager = (
            User(email=chosen.email, refs={self.cfg.pm: manager_id} if manager_id else {})
            if chosen.email
            else None
        )
        people = self.users.people([project])
        fields = from_unified(self.pm_map, "Project", project, people=people)
        item.users_unset = self.users.unmatched(project, people)
        return project, NewProject(
            source_id=item.source_id,
            name=project.name,
            fields=fields,
            template=project_template(template, item.slot.template),
            start=project.start,
            manager_id=manager_id,
        )

    def _warn_if_unmatched(self, item: _Work, report: BatchReport) -> None:
        """A manager the project tool has no user for is said out loud, never left silently.

        Counted, audited, logged and told in the notification: where the fallback
        took over as much as where the project has no manager at all.
        """
        if item.manager is None or item.manager.warning is None:
            return
        if item.decision.verdict not in (Verdict.CREATE, Verdict.RECOVER):
            return
        item.warning = item.manager.warning
        log.warning("%s: %s", item.source_id, item.warning)
        report.counts["manager_unmatched"] += 1
        self._audit("manager_unmatched", self.cfg.pm, item, "warning", detail=item.warning)

    def _warn_users_unset(self, item: _Work, report: BatchReport) -> None:
        """A user field the project tool has no user for: counted, audited and logged."""
        if item.decision.verdict not in (Verdict.CREATE, Verdict.RECOVER):
            return
        for unset in item.users_unset:
            warning = unset.warning(self.cfg.pm)
            log.warning("%s: %s", item.source_id, warning)
            report.counts["user_unmatched"] += 1
            self._audit("user_unmatched", self.cfg.pm, item, "warning", detail=warning)

    def _choose_managers(self, work: list[_Work], *, take_turns: bool = True) -> None:
        """Each project's manager, matched to the project tool's users in one look-up.

        Only a project about to be written takes a pool's turn; one whose
        write-back or notification is pending does not take another.
        """
        acting = [w for w in work if w.decision.verdict is not Verdict.SKIP]
        choices = [
            self.managers.choose(
                w.opp,
                template_email=self.templates[w.slot.template].manager_email,
                turns=take_turns and w.decision.verdict in (Verdict.CREATE, Verdict.RECOVER),
            )
            for w in acting
        ]
        users = self.pm_users.ids(self.managers.addresses(choices))
        fallback = self.cfg.manager.fallback
        for item, choice in zip(acting, choices, strict=True):
            item.manager = resolve(choice, users, fallback=fallback, tool=self.cfg.pm)

    def _write_back(self, ready: list[_Work], report: BatchReport) -> None:
        """The deal's first project's key onto the deal (of a set, the rule's first template).

        Of per-value projects, the first value's, once: a value added later that
        sorts first does not take the deal over from the project it holds.
        """
        items = [w for w in ready if w.slot.primary and not _holds_other(w)]
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
        link = item.handle.url if item.handle else None
        delivery = self.tell(notify, (NOTIFY_TITLE, NOTIFY_BODY), context, report, link=link)
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
                slot=item.slot.name,
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
        entity = "Opportunity" if system == self.cfg.crm else "Project"
        self.audit(
            action,
            system,
            entity,
            target,
            outcome,
            source_ref=item.source_id,
            after=after,
            detail=detail,
        )


def _holds_other(item: _Work) -> bool:
    """A per-value project's deal already holds the key of another of its projects."""
    held = item.opp.project_ref
    if item.slot.value is None or not held or item.handle is None:
        return False
    return held not in (item.handle.key, item.handle.id)


def build_project(
    opp: Opportunity,
    template: TemplateConfig,
    *,
    source_id: str,
    template_key: str,
    today: dt.date,
    crm_url: str,
    value: str | None = None,
) -> Project:
    """The unified delivery project a won opportunity turns into (``value``: a per-value one's)."""
    context = {
        "opportunity": template_view(opp),
        "account": template_view(opp.account or Account()),
        "value": value,
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
        custom=dict(opp.custom),
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
