"""Which handoff runs for which change, on just the records that changed.

Each changed record is read again by id from its product (a delivery names
what changed; the product says what it is now) and handed to the handoffs
that read that kind of record, through their own ``process``, while holding
their lease: the same idempotent path as a scheduled run (links, stamps,
audit, dead letters), recorded as one ``webhook`` run.

* A CRM deal: won-to-project (a won deal gets its project), then sync.
* A PM item (Jira issue, Asana task): feedback-to-lead when the mapping's
  Feedback entity covers it, risk-to-account-manager when its Risk entity
  does, and sync (percent complete) when it is a Task of a linked project.
* A PM project linked to a deal: risk-to-account-manager (its health), sync.

A handoff whose lease is held (a scheduled run is at work) is left alone: the
change is within that run's reach or the next one's, which reads it from its
cursor. A Salesforce change has no webhook here; the scheduled read sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from handoff_hub.hub.config.handoffs import (
    FeedbackToLeadConfig,
    RiskToAccountManagerConfig,
    SyncConfig,
    WonToProjectConfig,
)
from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.handoffs.base import PairHandoff
from handoff_hub.hub.handoffs.engine import Counts
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK_TO_LEAD
from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK_TO_ACCOUNT_MANAGER
from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager
from handoff_hub.hub.handoffs.sync import COMPUTED_PM_FIELDS, Sync
from handoff_hub.hub.handoffs.sync import HANDOFF as SYNC
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link
from handoff_hub.hub.store.leases import LeaseHeld
from handoff_hub.hub.webhooks.events import Change
from handoff_hub.hub.webhooks.filters import effective_where, filter_fields, record_matches

__all__ = ["LEFT_TO_SCHEDULE", "WEBHOOK_RUN", "DispatchResult", "dispatch"]

WEBHOOK_RUN = "webhook"
"""The ``handoff`` of a webhook run's row in the runs table."""
LEFT_TO_SCHEDULE = "left to the scheduled run"

log = logging.getLogger("hub.webhooks")

_SettingsT = TypeVar("_SettingsT")
Stream = tuple[tuple[str, str] | None, list[RecordEnvelope]]
"""Records to process, and which of the handoff's streams they are: (system, entity)."""


@dataclass(frozen=True)
class DispatchResult:
    """What one dispatch did, as recorded in its run row."""

    run_id: str
    status: str
    counts: dict[str, int]


def dispatch(runtime: Runtime, changes: Sequence[Change]) -> DispatchResult:
    """Run the matching handoffs for ``changes``, recorded as one ``webhook`` run.

    A handoff that fails is recorded (``"<handoff>: error"``) and the others
    still run; one whose lease is held counts as ``"<handoff>: left to the
    scheduled run"``.
    """
    store = runtime.store
    run_id = store.start_run(WEBHOOK_RUN)
    work = _Dispatch(runtime, run_id)
    try:
        by_system: dict[str, list[Change]] = {}
        for change in dict.fromkeys(changes):
            by_system.setdefault(change.system, []).append(change)
        for system, group in by_system.items():
            deals = [c.record_id for c in group if c.kind == "deal"]
            items = [c.record_id for c in group if c.kind in ("item", "issue")]
            projects = [c.record_id for c in group if c.kind in ("project", "issue")]
            if deals:
                work.crm(system, deals)
            if items or projects:
                work.pm(system, items, projects)
    except BaseException as exc:
        store.finish_run(
            run_id, status="failed", counts=work.counts.as_dict(), error=redact(str(exc))
        )
        raise
    status = work.status()
    counts = work.counts.as_dict()
    store.finish_run(run_id, status=status, counts=counts, error="; ".join(work.errors) or None)
    return DispatchResult(run_id, status, counts)


def _enabled(settings: _SettingsT | None) -> _SettingsT | None:
    return settings if settings is not None and getattr(settings, "enabled", False) else None


class _Dispatch:
    def __init__(self, runtime: Runtime, run_id: str) -> None:
        self.rt = runtime
        self.run_id = run_id
        self.handoffs = runtime.loaded.config.handoffs
        self.counts = Counts()
        self.errors: list[str] = []
        self.ran = 0
        self.held = 0

    def status(self) -> str:
        if self.errors:
            return "failed"
        if any(k.endswith(": failed") and v for k, v in self.counts.items()):
            return "completed_with_failures"
        return "skipped" if self.held and not self.ran else "succeeded"

    # CRM side --------------------------------------------------------------------

    def crm(self, system: str, ids: list[str]) -> None:
        won: WonToProjectConfig | None = _enabled(self.handoffs.won_to_project)
        sync: SyncConfig | None = _enabled(self.handoffs.sync)
        won = won if won is not None and won.crm == system else None
        sync = sync if sync is not None and sync.crm == system else None
        if won is None and sync is None:
            self.counts["deals no handoff reads"] += len(ids)
            return
        records: list[RecordEnvelope] = []
        with self._step(f"read {system}"):
            records = self._read(system, "Opportunity", ids)
        self.counts["deals read"] += len(records)
        if won is not None:
            with self._step(WON_TO_PROJECT):
                handoff = WonToProject(self.rt, won, run_id=self.run_id)
                self._process(WON_TO_PROJECT, handoff, [(None, records)], won.batch_size)
        if sync is not None:
            with self._step(SYNC):
                synced = Sync(self.rt, sync, run_id=self.run_id)
                deals = (system, "Opportunity")
                self._process(SYNC, synced, [(deals, records)], sync.batch_size)

    # PM side ---------------------------------------------------------------------

    def pm(self, system: str, items: list[str], projects: list[str]) -> None:
        feedback: FeedbackToLeadConfig | None = _enabled(self.handoffs.feedback_to_lead)
        risk: RiskToAccountManagerConfig | None = _enabled(self.handoffs.risk_to_account_manager)
        sync: SyncConfig | None = _enabled(self.handoffs.sync)
        feedback = feedback if feedback is not None and feedback.pm == system else None
        risk = risk if risk is not None and risk.pm == system else None
        sync = sync if sync is not None and sync.pm == system else None
        if feedback is None and risk is None and sync is None:
            self.counts["items no handoff reads"] += len(set(items) | set(projects))
            return
        entities = [
            name
            for name, wanted in (
                ("Feedback", feedback is not None),
                ("Risk", risk is not None),
                ("Task", sync is not None and _computes(sync)),
            )
            if wanted
        ]
        picked: dict[str, list[RecordEnvelope]] = {}
        linked: dict[str, list[Link]] = {}
        found: list[RecordEnvelope] = []
        with self._step(f"read {system}"):
            picked = self._read_items(system, entities, items)
            linked = self.rt.store.links_to(WON_TO_PROJECT, system, projects) if projects else {}
            read_ids = {lk.target_key or lk.target_id for links in linked.values() for lk in links}
            found = self._read(system, "Project", sorted(read_ids)) if read_ids else []
        if feedback is not None:
            with self._step(FEEDBACK_TO_LEAD):
                handoff = FeedbackToLead(self.rt, feedback, run_id=self.run_id)
                streams: list[Stream] = [(None, picked.get("Feedback", []))]
                self._process(FEEDBACK_TO_LEAD, handoff, streams, feedback.batch_size)
        if risk is not None:
            with self._step(RISK_TO_ACCOUNT_MANAGER):
                self._risk(risk, picked.get("Risk", []), _of(found, linked, risk.crm))
        if sync is not None:
            with self._step(SYNC):
                self._sync_pm(system, sync, picked.get("Task", []), _of(found, linked, sync.crm))

    def _risk(
        self,
        settings: RiskToAccountManagerConfig,
        risks: list[RecordEnvelope],
        projects: list[RecordEnvelope],
    ) -> None:
        handoff = RiskToAccountManager(self.rt, settings, run_id=self.run_id)
        streams: list[Stream] = [((settings.pm, "Risk"), risks)]
        if settings.health_levels or settings.write_health:
            streams.append(((settings.pm, "Project"), projects))
        self._process(RISK_TO_ACCOUNT_MANAGER, handoff, streams, settings.batch_size)

    def _sync_pm(
        self,
        system: str,
        settings: SyncConfig,
        tasks: list[RecordEnvelope],
        projects: list[RecordEnvelope],
    ) -> None:
        handoff = Sync(self.rt, settings, run_id=self.run_id)
        streams: list[Stream] = [((system, "Project"), projects), ((system, "Task"), tasks)]
        self._process(SYNC, handoff, streams, settings.batch_size)

    # helpers ---------------------------------------------------------------------

    @contextmanager
    def _step(self, name: str) -> Iterator[None]:
        """One handoff's (or read's) part: a held lease or an error does not stop the rest."""
        try:
            yield
        except LeaseHeld as exc:
            self.held += 1
            self.counts[f"{name}: {LEFT_TO_SCHEDULE}"] += 1
            log.info("webhook: %s: a run is at work (%s); it or the next takes these", name, exc)
        except Exception as exc:
            message = redact(f"{name}: {type(exc).__name__}: {exc}")
            self.errors.append(message)
            self.counts[f"{name}: error"] += 1
            log.error("webhook: %s", message)

    def _process(
        self, name: str, handoff: PairHandoff[Any], streams: Sequence[Stream], batch: int
    ) -> None:
        """Hand the streams' records to ``handoff`` while holding its lease, as a run would."""
        streams = [(stream, records) for stream, records in streams if records]
        if not streams:
            return
        store = self.rt.store
        with store.holding(store.lease(handoff.lease_name)):
            for stream, records in streams:
                if stream is not None:
                    handoff.read_as(*stream)
                for start in range(0, len(records), batch):
                    report = handoff.process(records[start : start + batch])
                    for key, value in report.counts.items():
                        if value:
                            self.counts[f"{name}: {key}"] += value
        self.ran += 1

    def _read(self, system: str, entity_name: str, ids: Sequence[str]) -> list[RecordEnvelope]:
        entity = self.rt.mapping(system).entities[entity_name]
        wanted = list(dict.fromkeys(ids))
        return self.rt.connector(system).read_by_ids(
            entity.object, wanted, fields=entity.source_fields()
        )

    def _read_items(
        self, system: str, entity_names: Sequence[str], ids: Sequence[str]
    ) -> dict[str, list[RecordEnvelope]]:
        """Read ``ids`` once per product object; keep, per entity, the records it covers."""
        if not ids or not entity_names:
            return {}
        spec = self.rt.mapping(system)
        config = self.rt.loaded.config.systems[system]
        kind, settings = config.connector, config.settings
        wheres = {
            name: effective_where(kind, settings, spec.entities[name].where)
            for name in entity_names
        }
        by_object: dict[str, list[str]] = {}
        for name in entity_names:
            by_object.setdefault(spec.entities[name].object, []).append(name)
        picked: dict[str, list[RecordEnvelope]] = {}
        for object_name, names in by_object.items():
            fields: list[str] = []
            for name in names:
                fields += spec.entities[name].source_fields() + filter_fields(kind, wheres[name])
            records = self.rt.connector(system).read_by_ids(
                object_name, list(dict.fromkeys(ids)), fields=list(dict.fromkeys(fields))
            )
            for name in names:
                picked[name] = self._covered(name, kind, wheres[name], records)
        return picked

    def _covered(
        self, entity: str, kind: str, where: dict[str, Any], records: list[RecordEnvelope]
    ) -> list[RecordEnvelope]:
        covered = []
        for record in records:
            matches = record_matches(kind, record.raw, where)
            if matches is None:
                self.counts[f"{entity}: {LEFT_TO_SCHEDULE} ({kind} records cannot be told)"] += 1
            elif matches:
                covered.append(record)
        return covered


def _computes(settings: SyncConfig) -> bool:
    return any(rule.pm in COMPUTED_PM_FIELDS for rule in settings.fields)


def _of(
    records: list[RecordEnvelope], linked: dict[str, list[Link]], crm: str
) -> list[RecordEnvelope]:
    """The project records linked to a deal of ``crm``."""
    ids = {
        key
        for links in linked.values()
        for lk in links
        if lk.source_system == crm
        for key in (lk.target_id, lk.target_key)
        if key
    }
    return [r for r in records if r.id in ids]
