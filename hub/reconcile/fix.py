"""``reconcile --fix``: repair what a reconcile found, through the handoffs' own engine.

Each fixable kind is handed to the handoff that owns it, with just the records
concerned, so a repair takes the same idempotent path as a scheduled run
(stamps, links, audit, dead letters):

* won deal without a project -> won-to-project for that deal;
* link to a deleted project -> the link is forgotten, then won-to-project for
  the deal (which makes a new project if the deal is still won);
* risk without its task, feedback without its lead -> a link to a deleted
  task or lead is forgotten, then the handoff runs for those items;
* field drift -> won-to-project's fields are written from the deal onto the
  project; sync's fields go through sync, with its directions and policy.

What needs a person (a deal two projects claim, a project whose deal is gone
or lost, an unreadable record) is left alone. A second ``--fix`` finds nothing
left to do and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from handoff_hub.hub.connector import Connector, RecordEnvelope
from handoff_hub.hub.digest import alert_reconcile
from handoff_hub.hub.events import PREFIX, announce
from handoff_hub.hub.handoffs.engine import BatchReport
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK_TO_LEAD
from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK_TO_ACCOUNT_MANAGER
from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager
from handoff_hub.hub.handoffs.runner import BatchHandoff
from handoff_hub.hub.handoffs.sync import Sync
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.mapping.engine import from_unified, to_unified_many
from handoff_hub.hub.model import Opportunity
from handoff_hub.hub.reconcile.drift import FieldPair
from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import Kind, ReconcileResult
from handoff_hub.hub.reconcile.scan import Reconciler
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import AuditEvent, Link
from handoff_hub.hub.store.leases import LeaseHeld

__all__ = ["FIX_HANDOFF", "MAX_ROUNDS", "apply_fixes", "reconcile"]

FIX_HANDOFF = "reconcile-fix"
MAX_ROUNDS = 3
"""A fix can reveal the next (a new project is not yet in step with its deal)."""
log = logging.getLogger("hub.reconcile")

# Project fields that won-to-project's pairs are written through, first match wins.
_PROJECT_WRITES: dict[str, tuple[tuple[str, ...], ...]] = {
    "budget": (("budget",), ("budget.amount", "budget.currency")),
    "account.name": (("account.name",), ("account",)),
    "manager": (("manager.ref",),),
}
"""A compared project field -> the write rules that set it, first mapped group wins."""


def reconcile(
    runtime: Runtime, *, fix: bool = False, today: dt.date | None = None, window_days: int = 90
) -> tuple[ReconcileResult, KpiReport]:
    """Reconcile, and with ``fix`` repair and look again until nothing fixable is left.

    Returns the last look's result (its ``fixes`` sum every round's) and its KPIs.
    """
    reconciler = Reconciler(runtime, today=today, window_days=window_days)
    result = reconciler.run()
    fixes: Counter[str] = Counter()
    for _ in range(MAX_ROUNDS if fix else 0):
        before = _fixable(result)
        done = apply_fixes(reconciler, result)
        if not done:
            break
        fixes.update(done)
        result.spool.close()
        reconciler = Reconciler(runtime, today=today, window_days=window_days)
        result = reconciler.run()
        if _fixable(result) == before:
            break  # what is left, a fix cannot change (e.g. sync conflicts under "report")
    result.fixes = dict(fixes)
    alert_reconcile(runtime.loaded.config.alerts, result.counts, f"{result.crm}->{result.pm}")
    _announce(result)
    return result, reconciler.kpis


def _announce(result: ReconcileResult) -> None:
    """``handoff-hub.reconcile.discrepancies`` when anything disagrees, for alerting."""
    if result.total:
        resource = f"{PREFIX}.reconcile.{result.config}"
        announce("reconcile.discrepancies", resource, result.summary())


def apply_fixes(reconciler: Reconciler, result: ReconcileResult) -> dict[str, int]:
    """Repair every fixable discrepancy of ``result``; counts of what each step did."""
    plan: dict[Kind, list[tuple[str | None, str | None, str | None]]] = {}
    for item in result.discrepancies():
        if item.fixable:
            plan.setdefault(item.kind, []).append((item.crm_ref, item.pm_ref, item.field))
    if not plan:
        return {}
    store = reconciler.rt.store
    run_id = store.start_run(FIX_HANDOFF)
    counts: Counter[str] = Counter()
    try:
        _Repair(reconciler, run_id, counts).run(plan)
    except BaseException as exc:
        store.finish_run(run_id, status="failed", counts=dict(counts), error=str(exc))
        raise
    failed = any(k.endswith("failed") and v for k, v in counts.items())
    store.finish_run(
        run_id, status="completed_with_failures" if failed else "succeeded", counts=dict(counts)
    )
    return dict(counts)


class _Repair:
    def __init__(self, reconciler: Reconciler, run_id: str, counts: Counter[str]) -> None:
        self.rc = reconciler
        self.rt = reconciler.rt
        self.run_id = run_id
        self.counts = counts
        self.batch = 100

    def run(self, plan: dict[Kind, list[tuple[str | None, str | None, str | None]]]) -> None:
        missing = [*plan.get(Kind.WON_WITHOUT_PROJECT, []), *plan.get(Kind.FEWER_PROJECTS, [])]
        deals = [crm for crm, _, _ in missing if crm]
        for crm, pm, _ in plan.get(Kind.LINK_TO_DELETED, []):
            if crm and self._forget(WON_TO_PROJECT, self.rc.crm_name, crm, self.rc.pm_name, pm):
                deals.append(crm)
        self._won_to_project(list(dict.fromkeys(deals)))
        self._drift(plan.get(Kind.FIELD_DRIFT, []))
        risks = [pm for _, pm, _ in plan.get(Kind.RISK_WITHOUT_TASK, []) if pm]
        self._risks(risks)
        feedback = [pm for _, pm, _ in plan.get(Kind.FEEDBACK_WITHOUT_LEAD, []) if pm]
        self._feedback(feedback)

    # helpers --------------------------------------------------------------------------

    def _forget(
        self,
        handoff: str,
        source_system: str,
        source_id: str,
        target: str,
        project: str | None = None,
    ) -> bool:
        """Forget the source's link (of several, the one to ``project``, an id or a key)."""
        links = self.rt.store.link_sets(
            handoff, source_system, [source_id], target_system=target
        ).get(source_id, [])
        found = next(
            (lk for lk in links if project is None or project in (lk.target_id, lk.target_key)),
            None,
        )
        if found is None:
            return False
        self.rt.store.drop_link(found)
        self.counts["links_forgotten"] += 1
        self._audit(handoff, "forget_link", found.target_system, found.target_id, found)
        return True

    def _audit(self, handoff: str, action: str, system: str, record: str, link: Link) -> None:
        self.rt.store.audit(
            self.run_id,
            [
                AuditEvent(
                    FIX_HANDOFF,
                    action,
                    system,
                    link.target_object,
                    record,
                    "ok",
                    source_ref=f"{link.source_system}:{link.source_id}",
                    detail=f"{handoff}: the linked record is gone",
                )
            ],
        )

    def _records(
        self, connector: Connector, system: str, entity_name: str, ids: Sequence[str]
    ) -> Iterable[list[RecordEnvelope]]:
        spec = self.rt.mapping(system)
        entity = spec.entities[entity_name]
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.batch):
            chunk = unique[start : start + self.batch]
            yield connector.read_by_ids(entity.object, chunk, fields=entity.source_fields())

    def _process(
        self,
        step: str,
        handoff: BatchHandoff,
        connector: Connector,
        system: str,
        entity_name: str,
        ids: Sequence[str],
    ) -> None:
        """Hand these records to ``handoff`` while holding its lease, as a run would."""
        try:
            with self.rt.store.holding(self.rt.store.lease(handoff.lease_name)):
                for records in self._records(connector, system, entity_name, ids):
                    self._merge(step, handoff.process(records))
        except LeaseHeld as exc:
            log.warning("reconcile --fix: %s", exc)
            self.counts[f"{step}: not fixed, a run is in progress"] += len(ids)

    def _merge(self, step: str, report: BatchReport) -> None:
        for key, value in report.counts.items():
            if key != "seen" and value:
                self.counts[f"{step}: {key}"] += value

    # steps -----------------------------------------------------------------------------

    def _won_to_project(self, deals: list[str]) -> None:
        settings = self.rt.loaded.config.handoffs.won_to_project
        if not deals or settings is None:
            return
        handoff = WonToProject(self.rt, settings, run_id=self.run_id)
        self._process(WON_TO_PROJECT, handoff, self.rc.crm, self.rc.crm_name, "Opportunity", deals)

    def _risks(self, items: list[str]) -> None:
        settings = self.rc.risk_cfg
        if not items or settings is None:
            return
        note_object = self.rt.mapping(self.rc.crm_name).entities["Note"].object
        self._forget_gone(RISK_TO_ACCOUNT_MANAGER, [f"risk:{i}" for i in items], note_object)
        handoff = RiskToAccountManager(self.rt, settings, run_id=self.run_id)
        self._process(RISK_TO_ACCOUNT_MANAGER, handoff, self.rc.pm, self.rc.pm_name, "Risk", items)

    def _feedback(self, items: list[str]) -> None:
        settings = self.rc.feedback_cfg
        if not items or settings is None:
            return
        lead_object = self.rt.mapping(self.rc.crm_name).entities["Lead"].object
        self._forget_gone(FEEDBACK_TO_LEAD, items, lead_object)
        handoff = FeedbackToLead(self.rt, settings, run_id=self.run_id)
        self._process(FEEDBACK_TO_LEAD, handoff, self.rc.pm, self.rc.pm_name, "Feedback", items)

    def _forget_gone(self, handoff: str, source_ids: list[str], crm_object: str) -> None:
        """Forget the links of these PM items whose CRM record was deleted."""
        links = self.rt.store.links_for(
            handoff, self.rc.pm_name, source_ids, target_system=self.rc.crm_name
        )
        if not links:
            return
        alive = {
            r.id
            for r in self.rc.crm.read_by_ids(
                crm_object, sorted({lk.target_id for lk in links.values()})
            )
        }
        for link in links.values():
            if link.target_id not in alive:
                self.rt.store.drop_link(link)
                self.counts["links_forgotten"] += 1
                self._audit(handoff, "forget_link", link.target_system, link.target_id, link)

    def _drift(self, rows: list[tuple[str | None, str | None, str | None]]) -> None:
        pairs = {p.label: p for p in self.rc.pairs}
        own: dict[tuple[str, str], list[FieldPair]] = {}
        synced: set[str] = set()
        for crm, pm, label in rows:
            pair = pairs.get(label or "")
            if crm is None or pm is None or pair is None:
                continue
            if pair.by == "sync":
                synced.add(crm)
            else:
                own.setdefault((crm, pm), []).append(pair)
        self._write_deal_fields(own)
        if synced and self.rc.sync_cfg is not None:
            handoff = Sync(self.rt, self.rc.sync_cfg, run_id=self.run_id)
            self._process(
                "sync", handoff, self.rc.crm, self.rc.crm_name, "Opportunity", sorted(synced)
            )

    def _write_deal_fields(self, own: dict[tuple[str, str], list[FieldPair]]) -> None:
        """Write the deal's value of won-to-project's drifted fields onto the project."""
        if not own:
            return
        rc = self.rc
        opps: dict[str, Opportunity] = {}
        for records in self._records(rc.crm, rc.crm_name, "Opportunity", [d for d, _ in own]):
            mapped, _ = to_unified_many(rc.crm_map, "Opportunity", [r.raw for r in records])
            opps.update({o.refs[rc.crm_name]: o for o in mapped if isinstance(o, Opportunity)})
        people = rc.people(o.owner.email for o in opps.values() if o.owner)
        writable = rc.pm_map.entities["Project"].write_rules()
        updates: list[tuple[str, str, dict[str, Any], list[str]]] = []
        for (deal, project), drifted in own.items():
            opp = opps.get(deal)
            if opp is None:
                continue
            data: dict[str, Any] = {
                "budget": opp.amount,
                "account": opp.account,
                "custom": opp.custom,
            }
            email = opp.owner.email if opp.owner else None
            if email and email.lower() in people:
                data["manager"] = {"refs": {rc.pm_name: people[email.lower()]}}
            only = [
                name for pair in drifted for name in _writable(_project_writes(pair.pm), writable)
            ]
            if not only:
                self.counts["drift: not writable"] += len(drifted)
                continue
            payload = from_unified(rc.pm_map, "Project", data, only=only, system=rc.pm_name)
            updates.append((deal, project, payload, [p.label for p in drifted]))
        if not updates:
            return
        results = rc.pm.update(
            rc.pm_map.entities["Project"].object,
            [(project, payload) for _, project, payload, _ in updates],
        )
        for (deal, project, _, labels), result in zip(updates, results, strict=True):
            self.counts["drift: fields written" if result.ok else "drift: write failed"] += 1
            self.rt.store.audit(
                self.run_id,
                [
                    AuditEvent(
                        FIX_HANDOFF,
                        "fix_fields",
                        rc.pm_name,
                        "Project",
                        project,
                        "ok" if result.ok else "failed",
                        source_ref=f"{rc.crm_name}:{deal}",
                        detail=", ".join(labels) + ("" if result.ok else f": {result.error}"),
                    )
                ],
            )


def _project_writes(field: str) -> tuple[tuple[str, ...], ...]:
    """The write rules that set a compared project field; a custom field is its own rule."""
    return _PROJECT_WRITES.get(field) or (((field,),) if field.startswith("custom.") else ())


def _fixable(result: ReconcileResult) -> set[tuple[str, str | None, str | None, str | None]]:
    return {
        (d.kind.value, d.crm_ref, d.pm_ref, d.field) for d in result.discrepancies() if d.fixable
    }


def _writable(groups: Sequence[tuple[str, ...]], writable: Iterable[str]) -> list[str]:
    mapped = set(writable)
    for group in groups:
        if found := [name for name in group if name in mapped]:
            return found
    return []
