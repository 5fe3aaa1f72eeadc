"""risk-to-account-manager: delivery trouble reaches the account manager in the CRM.

Two PM streams are read, each from its own checkpoint: risk items (the PM
mapping's ``Risk`` entity) and projects (``Project``, for their health). An
alert is open while a risk of at least ``min_severity`` is unresolved, or
while a project's health is one of ``health_levels``. For each alert on a
project that won-to-project linked to a deal, the account's owner (or the
deal's, as configured) gets exactly
one CRM task (the CRM mapping's ``Note``): created when the alert opens,
updated when it changes, completed when it clears, reopened if it comes back.
The link keeps the task id and a fingerprint of what was last written, so a
rerun writes nothing; the task carries the alert's stamp, so a crash between
create and record is healed by finding it. Project health is also written
onto the deal (``delivery_health``) when it differs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff_hub.hub.config.handoffs import RiskToAccountManagerConfig
from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.errors import MappingError, TransientError
from handoff_hub.hub.handoffs.base import PairHandoff, Stream
from handoff_hub.hub.handoffs.engine import (
    BatchReport,
    Decision,
    Verdict,
    fingerprint,
    raise_if_unsure,
)
from handoff_hub.hub.handoffs.linked_deals import deals_of_projects
from handoff_hub.hub.handoffs.project_work import overdue_share, project_items
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.mapping.engine import from_unified, to_unified_many
from handoff_hub.hub.mapping.transforms import render_template
from handoff_hub.hub.model import (
    Account,
    Entity,
    Health,
    Note,
    Opportunity,
    Project,
    Risk,
    Severity,
    TaskStatus,
    User,
    blank_view,
    dump,
    template_view,
)
from handoff_hub.hub.notify import Delivery
from handoff_hub.hub.store import Link

__all__ = ["HANDOFF", "RiskToAccountManager", "raises_alert"]

HANDOFF = "risk-to-account-manager"
NOTIFY_TITLE = "{{ event }}: {{ subject }}"
NOTIFY_BODY = (
    "{{ subject }} on {{ opportunity.name }}"
    "{% if owner.email %} ({{ owner.email }}){% endif %}. {{ task_url }}"
)
log = logging.getLogger("hub.risk_to_account_manager")

_SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


@dataclass
class _Alert:
    """One risk item or one project's health, as the account manager should see it."""

    source_id: str
    project: str | None
    subject: str
    body: str
    is_open: bool
    context: dict[str, Any]
    health: Health | None = None
    opportunity: Opportunity | None = None
    deal_problem: str | None = None
    """Why the deal the project is linked to cannot be used (None: no problem, or no link)."""
    owner: User | None = None
    decision: Decision | None = None
    task_id: str | None = None
    link: Link | None = None


class RiskToAccountManager(PairHandoff[RiskToAccountManagerConfig]):
    """The risk-to-account-manager handoff for one PM/CRM pair of a runtime."""

    name = HANDOFF

    # reading ---------------------------------------------------------------

    def streams(self) -> list[Stream]:
        """Changed risk items, then (for health) changed projects."""
        streams = [Stream("pm", "Risk")]
        if self.cfg.health_levels or self.cfg.write_health:
            streams.append(Stream("pm", "Project"))
        return streams

    def stream_pages(self, stream: Stream) -> Iterator[ChangePage]:
        """Projects by overdue work are every linked project: it changes no modified date."""
        if stream.entity == "Project" and self.cfg.health_from != "field":
            return self._linked_projects(self.pm_map.entities["Project"])
        return super().stream_pages(stream)

    def _linked_projects(self, entity: Any) -> Iterator[ChangePage]:
        """Every project linked to a deal: overdue work changes no project's modified date."""
        ids = [
            lk.target_key or lk.target_id
            for lk in self.rt.store.links(WON_TO_PROJECT)
            if lk.target_system == self.cfg.pm and lk.source_system == self.cfg.crm
        ]
        for start in range(0, len(ids), self.cfg.batch_size):
            chunk = ids[start : start + self.cfg.batch_size]
            records = self.pm.read_by_ids(entity.object, chunk, fields=entity.source_fields())
            yield ChangePage(records, None, len(ids))

    def _overdue_health(self, projects: Sequence[Project]) -> dict[str, tuple[Health, str]]:
        """Project id -> (health, why) from the share of its open tasks or milestones overdue."""
        entity_name = "Milestone" if self.cfg.health_from == "overdue_milestones" else "Task"
        work = project_items(
            self.pm,
            self.pm_map,
            entity_name,
            [p.refs[self.cfg.pm] for p in projects],
            where="handoffs.risk_to_account_manager.health_from",
        )
        found: dict[str, tuple[Health, str]] = {}
        for project_id, items in work.items():
            share, late, dated = overdue_share(items, self.today)
            health = (
                Health.RED
                if share >= self.cfg.overdue_red
                else Health.AMBER
                if share >= self.cfg.overdue_amber
                else Health.GREEN
            )
            noun = "milestones" if entity_name == "Milestone" else "tasks"
            found[project_id] = (health, f"{late} of {dated} dated {noun} are overdue")
        return found

    # planning ----------------------------------------------------------------

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        """Plan one page and, unless ``dry_run``, apply it."""
        report = BatchReport()
        report.counts["seen"] += len(records)
        items = self.mapped(records, report, record_failures=not dry_run)
        overdue: dict[str, tuple[Health, str]] = {}
        if self.stream.entity == "Project" and self.cfg.health_from != "field":
            overdue = self._overdue_health([i for i in items if isinstance(i, Project)])
        if self.stream.entity == "Risk":
            items = self.qualifying(items, report, lambda i: i.refs[self.cfg.pm])
        alerts: list[_Alert] = []
        for item in items:
            try:
                alert = self._alert(item, overdue)
            except MappingError as exc:
                item_id = item.refs[self.cfg.pm]
                report.counts["failed"] += 1
                report.decisions.append(Decision(Verdict.FAIL, item_id, item_id, str(exc)))
                if not dry_run:
                    self.dead_letter(item_id, f"template: {exc}", dump(item))
                continue
            if alert is not None:
                alerts.append(alert)
        self._attach_deals(alerts)
        self._decide(alerts)
        report.decisions.extend(a.decision for a in alerts if a.decision)
        report.counts["failed"] += sum(
            1 for a in alerts if a.decision and a.decision.verdict is Verdict.FAIL
        )
        if not dry_run:
            self._apply(alerts, report)
        return report

    def _alert(
        self, item: Entity, overdue: Mapping[str, tuple[Health, str]] | None = None
    ) -> _Alert | None:
        if isinstance(item, Risk):
            item_id = item.refs[self.cfg.pm]
            context = {"risk": template_view(item)}
            return _Alert(
                f"risk:{item_id}",
                item.project,
                render_template(self.cfg.risk_subject, context).strip()[:255],
                _risk_body(item, self.pm.record_url(self._object("Risk"), item_id)),
                raises_alert(item, self.cfg),
                context,
            )
        if isinstance(item, Project):
            project_id = item.refs[self.cfg.pm]
            why = ""
            if overdue and project_id in overdue:
                health, why = overdue[project_id]
                item = item.model_copy(update={"health": health})
            context = {"project": template_view(item)}
            url = self.pm.record_url(self._object("Project"), project_id)
            because = f" ({why})" if why else ""
            return _Alert(
                f"health:{project_id}",
                project_id,
                render_template(self.cfg.health_subject, context).strip()[:255],
                f"The delivery project {item.name} is {item.health.value}{because}.\n"
                f"Project: {url}",
                item.health in self.cfg.health_levels and item.status is not TaskStatus.DONE,
                context,
                health=item.health,
            )
        return None

    def _object(self, entity: str) -> str:
        return self.pm_map.entities[entity].object

    def _attach_deals(self, alerts: list[_Alert]) -> None:
        """The won deal behind each alert's project (through won-to-project's links)."""
        deals = deals_of_projects(
            self.rt, self.cfg.crm, self.cfg.pm, {a.project for a in alerts if a.project}
        )
        account_owners = self._account_owners(list(deals.deals.values()))
        for alert in alerts:
            alert.opportunity = opp = deals.deals.get(alert.project or "")
            alert.deal_problem = deals.problems.get(alert.project or "")
            if opp is not None:
                account = opp.account.ref(self.cfg.crm) if opp.account else None
                account_owner = self._person(account_owners.get(account or ""))
                alert.owner = account_owner or _active(opp.owner)

    def _person(self, user: User | None) -> User | None:
        """An active owner who is a person: an integration user (a setting names them) is not."""
        user = _active(user)
        if user is None or not self.cfg.integration_users:
            return user
        robots = {e.strip().casefold() for e in self.cfg.integration_users}
        return None if (user.email or "").strip().casefold() in robots else user

    def _account_owners(self, deals: list[Opportunity]) -> dict[str, User]:
        """Account id -> its owner, when tasks go to account owners and the CRM maps them."""
        account_map = self.crm_map.entities.get("Account")
        if self.cfg.assign_to != "account_owner" or account_map is None:
            return {}
        ids = sorted({ref for o in deals if o.account and (ref := o.account.ref(self.cfg.crm))})
        if not ids:
            return {}
        raws = self.crm.read_by_ids(account_map.object, ids, fields=account_map.source_fields())
        accounts, _ = to_unified_many(self.crm_map, "Account", [r.raw for r in raws])
        return {
            a.refs[self.cfg.crm]: a.owner
            for a in accounts
            if isinstance(a, Account) and a.owner is not None and a.owner.ref(self.cfg.crm)
        }

    def _decide(self, alerts: list[_Alert]) -> None:
        ids = [a.source_id for a in alerts]
        links = self.rt.store.links_for(HANDOFF, self.cfg.pm, ids, target_system=self.cfg.crm)
        unlinked = [a.source_id for a in alerts if a.source_id not in links and a.is_open]
        stamped = self._stamped_tasks(unlinked)
        for alert in alerts:
            alert.link = links.get(alert.source_id)
            alert.decision = self._verdict(alert, stamped)

    def _stamped_tasks(self, source_ids: Sequence[str]) -> dict[str, str]:
        stamp_field = self.crm_map.entities["Note"].stamp_field
        if not source_ids or not stamp_field:
            return {}
        found = self.crm.find_by_external_id(
            self.crm_map.entities["Note"].object,
            stamp_field,
            [self._stamp(s) for s in source_ids],
        )
        return {s: found[self._stamp(s)] for s in source_ids if self._stamp(s) in found}

    def _stamp(self, source_id: str) -> str:
        return f"{self.cfg.pm}:{source_id}"

    def _verdict(self, alert: _Alert, stamped: Mapping[str, str]) -> Decision:
        label = alert.subject
        if alert.opportunity is None and alert.deal_problem is not None and alert.is_open:
            reason = f"project {alert.project} is linked to a deal, but {alert.deal_problem}"
            return Decision(Verdict.FAIL, alert.source_id, label, reason)
        if alert.opportunity is None:
            return Decision(Verdict.SKIP, alert.source_id, label, "project not linked to a deal")
        link = alert.link
        if link is None:
            if not alert.is_open:
                return Decision(Verdict.SKIP, alert.source_id, label, "no alert (not open)")
            if alert.source_id in stamped:
                alert.task_id = stamped[alert.source_id]
                return Decision(
                    Verdict.RECOVER,
                    alert.source_id,
                    label,
                    "task found by its stamp",
                    alert.task_id,
                )
            return Decision(
                Verdict.CREATE, alert.source_id, label, "new alert for the account manager"
            )
        alert.task_id = link.target_id
        if not alert.is_open:
            if link.state == "closed":
                return Decision(
                    Verdict.SKIP, alert.source_id, label, "already closed", link.target_id
                )
            return Decision(Verdict.CLOSE, alert.source_id, label, "alert cleared", link.target_id)
        if link.state == "closed" or link.fingerprint != self._fingerprint(alert):
            return Decision(Verdict.UPDATE, alert.source_id, label, "alert changed", link.target_id)
        return Decision(Verdict.SKIP, alert.source_id, label, "task is up to date", link.target_id)

    # applying -----------------------------------------------------------------

    def _task(self, alert: _Alert, *, done: bool) -> dict[str, Any]:
        opp = alert.opportunity
        assert opp is not None
        note = Note(
            subject=alert.subject,
            body=alert.body,
            about=opp.refs.get(self.cfg.crm),
            owner=alert.owner,
            due=self.today + dt.timedelta(days=self.cfg.due_in_days),
            done=done,
        )
        return from_unified(self.crm_map, "Note", note, system=self.cfg.crm)

    def _fingerprint(self, alert: _Alert) -> str | None:
        return fingerprint({"subject": alert.subject, "body": alert.body, "open": alert.is_open})

    def _apply(self, alerts: list[_Alert], report: BatchReport) -> None:
        note_object = self.crm_map.entities["Note"].object
        stamp_field = self.crm_map.entities["Note"].stamp_field
        by_verdict: dict[Verdict, list[_Alert]] = {}
        for alert in alerts:
            assert alert.decision is not None
            by_verdict.setdefault(alert.decision.verdict, []).append(alert)
        report.counts["skipped"] += len(by_verdict.get(Verdict.SKIP, []))
        for alert in by_verdict.get(Verdict.FAIL, []):
            assert alert.decision is not None
            self._audit("task", alert, "failed", detail=alert.decision.reason)
            self.dead_letter(alert.source_id, alert.decision.reason, alert.context)
        creates: list[tuple[_Alert, dict[str, Any]]] = []
        for alert in by_verdict.get(Verdict.CREATE, []):
            payload = self._task(alert, done=False)
            if stamp_field:
                payload[stamp_field] = self._stamp(alert.source_id)
            creates.append((alert, payload))
        unsure: list[tuple[str, TransientError]] = []
        if creates:
            results = self.crm.create(note_object, [p for _, p in creates])
            for (alert, payload), result in zip(creates, results, strict=True):
                if result.ok and result.id:
                    alert.task_id = result.id
                    self._done(alert, "created", report, payload)
                elif result.unsure:
                    self._audit("task_created", alert, "unsure", detail=result.error)
                    error = TransientError(str(result.error), system=self.cfg.crm)
                    unsure.append((alert.source_id, error))
                else:
                    self._failed(alert, f"create task: {result.error}", report, payload)
        updates = [
            (a, self._task(a, done=not a.is_open))
            for v in (Verdict.UPDATE, Verdict.CLOSE, Verdict.RECOVER)
            for a in by_verdict.get(v, [])
        ]
        if updates:
            results = self.crm.update(
                note_object, [(str(a.task_id), payload) for a, payload in updates]
            )
            for (alert, payload), result in zip(updates, results, strict=True):
                assert alert.decision is not None
                outcome = {
                    Verdict.UPDATE: "updated",
                    Verdict.CLOSE: "closed",
                    Verdict.RECOVER: "recovered",
                }[alert.decision.verdict]
                if result.ok:
                    self._done(alert, outcome, report, payload)
                else:
                    self._failed(alert, f"update task: {result.error}", report, payload)
        if self.cfg.write_health:
            self._write_health([a for a in alerts if a.health is not None], report)
        raise_if_unsure(
            unsure, report, what="CRM tasks", tells="the task's stamp", system=self.cfg.crm
        )

    def _done(
        self, alert: _Alert, outcome: str, report: BatchReport, payload: Mapping[str, Any]
    ) -> None:
        report.counts[outcome] += 1
        self._record_link(alert)
        self._audit(f"task_{outcome}", alert, "ok", after=payload)
        self._notify(alert, outcome, report)

    def _failed(
        self, alert: _Alert, reason: str, report: BatchReport, payload: dict[str, Any]
    ) -> None:
        report.counts["failed"] += 1
        self._audit("task", alert, "failed", detail=reason)
        self.dead_letter(alert.source_id, reason, payload)

    def _write_health(self, alerts: list[_Alert], report: BatchReport) -> None:
        changes: list[tuple[_Alert, str, dict[str, Any]]] = []
        for alert in alerts:
            opp = alert.opportunity
            if opp is None or alert.health is None or opp.delivery_health == alert.health:
                continue
            try:
                fields = from_unified(
                    self.crm_map,
                    "Opportunity",
                    {"delivery_health": alert.health.value},
                    only=["delivery_health"],
                )
            except MappingError as exc:
                log.warning("delivery health not mapped for %s: %s", self.cfg.crm, exc)
                return
            changes.append((alert, opp.refs[self.cfg.crm], fields))
        if not changes:
            return
        object_name = self.crm_map.entities["Opportunity"].object
        results = self.crm.update(object_name, [(deal, fields) for _, deal, fields in changes])
        for (alert, _, fields), result in zip(changes, results, strict=True):
            report.counts["health_written" if result.ok else "health_write_failed"] += 1
            self._audit(
                "write_health",
                alert,
                "ok" if result.ok else "failed",
                after=fields,
                detail=result.error,
            )

    def _notify(self, alert: _Alert, event: str, report: BatchReport) -> None:
        opp = alert.opportunity
        owner = alert.owner
        context = {
            **alert.context,
            "event": {"created": "New delivery alert", "closed": "Delivery alert cleared"}.get(
                event, "Delivery alert updated"
            ),
            "subject": alert.subject,
            "opportunity": template_view(opp) if opp else blank_view(Opportunity),
            "owner": template_view(owner) if owner else blank_view(User),
            "task_url": self.crm.record_url(
                self.crm_map.entities["Note"].object, str(alert.task_id)
            ),
        }
        notify = self.cfg.notify
        try:
            urls = [render_template(u, context) if isinstance(u, str) else u for u in notify.urls]
        except MappingError as exc:
            delivery = Delivery(False, "template", f"notification URL template: {exc}")
            report.counts["notify_failed"] += 1
        else:
            link = str(context.get("task_url") or "") or None
            defaults = (NOTIFY_TITLE, NOTIFY_BODY)
            delivery = self.tell(notify, defaults, context, report, urls=urls, link=link)
        self._audit(
            "notify", alert, "ok" if delivery.delivered else "failed", detail=delivery.detail
        )

    # recording ------------------------------------------------------------------

    def _record_link(self, alert: _Alert) -> None:
        assert alert.task_id is not None
        note_object = self.crm_map.entities["Note"].object
        self.rt.store.record_link(
            Link(
                HANDOFF,
                self.cfg.pm,
                self._object(self.stream.entity),
                alert.source_id,
                self.cfg.crm,
                note_object,
                alert.task_id,
                alert.task_id,
                self.crm.record_url(note_object, alert.task_id),
                "open" if alert.is_open else "closed",
                self._fingerprint(alert),
            )
        )

    def _audit(
        self,
        action: str,
        alert: _Alert,
        outcome: str,
        *,
        after: Mapping[str, Any] | None = None,
        detail: str | None = None,
    ) -> None:
        self.audit(
            action,
            self.cfg.crm,
            "Note",
            alert.task_id,
            outcome,
            source_ref=self._stamp(alert.source_id),
            after=after,
            detail=detail,
        )


def raises_alert(risk: Risk, config: RiskToAccountManagerConfig) -> bool:
    """An unresolved risk of at least the configured severity wants a task in the CRM."""
    severe = _SEVERITY_ORDER.index(risk.severity) >= _SEVERITY_ORDER.index(config.min_severity)
    return severe and risk.status is not TaskStatus.DONE


def _risk_body(risk: Risk, url: str) -> str:
    lines = [f"{risk.title} (severity {risk.severity.value}, {risk.status.value})."]
    if risk.description:
        lines.append(risk.description)
    lines.append(f"Risk item: {url}")
    return "\n".join(lines)


def _active(user: User | None) -> User | None:
    """The user, unless the CRM says they have left (a task cannot be assigned to them)."""
    return user if user is not None and user.active else None
