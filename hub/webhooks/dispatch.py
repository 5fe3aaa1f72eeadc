"""Which handoff runs for which change, on just the records that changed.

Each changed record is read again by id from its product (a delivery names
what changed; the product says what it is now) and handed to every enabled
handoff of the catalogue with a stream of its entity on its system
(``PairHandoff.streams``), in the catalogue's order, through their own
``process``, while holding their lease: the same idempotent path as a
scheduled run (links, stamps, audit, dead letters), recorded as one
``webhook`` run. So, with the handoffs of today:

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
from typing import Any

from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.digest import RunOutcome
from handoff_hub.hub.handoffs.base import PairHandoff
from handoff_hub.hub.handoffs.base import Stream as HandoffStream
from handoff_hub.hub.handoffs.catalogue import HANDOFFS
from handoff_hub.hub.handoffs.engine import Counts
from handoff_hub.hub.handoffs.runner import tell_run_end
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
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
            work.system(system, group)
    except BaseException as exc:
        store.finish_run(
            run_id, status="failed", counts=work.counts.as_dict(), error=redact(str(exc))
        )
        raise
    status = work.status()
    counts = work.counts.as_dict()
    error = "; ".join(work.errors) or None
    store.finish_run(run_id, status=status, counts=counts, error=error)
    for handoff in work.built:
        tell_run_end(handoff, RunOutcome(handoff.name, run_id, status, counts, error))
    return DispatchResult(run_id, status, counts)


class _Dispatch:
    def __init__(self, runtime: Runtime, run_id: str) -> None:
        self.rt = runtime
        self.run_id = run_id
        self.handoffs = runtime.loaded.config.handoffs
        self.counts = Counts()
        self.errors: list[str] = []
        self.ran = 0
        self.held = 0
        self._built: list[PairHandoff[Any]] | None = None

    @property
    def built(self) -> list[PairHandoff[Any]]:
        """The handoffs this dispatch built (none before the first change)."""
        return self._built or []

    def status(self) -> str:
        if self.errors:
            return "failed"
        if any(k.endswith(": failed") and v for k, v in self.counts.items()):
            return "completed_with_failures"
        return "skipped" if self.held and not self.ran else "succeeded"

    def system(self, system: str, changes: Sequence[Change]) -> None:
        """Every enabled handoff that reads from ``system``, in the catalogue's order."""
        handoffs = [h for h in self._handoffs() if _streams_of(h, system)]
        if not handoffs:
            noun = "deals" if all(c.kind == "deal" for c in changes) else "items"
            self.counts[f"{noun} no handoff reads"] += len({c.record_id for c in changes})
            return
        wanted = {stream.entity for h in handoffs for stream in _streams_of(h, system)}
        records: _Records = _Records({}, [], {})
        with self._step(f"read {system}"):
            records = self._read_changed(system, wanted, changes)
        for handoff in handoffs:
            with self._step(handoff.name):
                streams: list[Stream] = [
                    ((s.role, s.entity), records.of(s.entity, handoff.cfg.crm))
                    for s in _streams_of(handoff, system)
                ]
                self._process(handoff.name, handoff, streams, handoff.cfg.batch_size)

    def _handoffs(self) -> list[PairHandoff[Any]]:
        """The enabled handoffs, built once per dispatch; one that cannot be built is an error."""
        if self._built is None:
            self._built = []
            for kind in HANDOFFS.values():
                settings = getattr(self.handoffs, kind.config_key)
                if settings is not None and settings.enabled:
                    with self._step(kind.name):
                        self._built.append(kind.build(self.rt, settings, run_id=self.run_id))
        return self._built

    def _read_changed(self, system: str, entities: set[str], changes: Sequence[Change]) -> _Records:
        """The changed records, read again by id, per entity the handoffs read from them."""
        deals = [c.record_id for c in changes if c.kind == "deal"]
        items = [c.record_id for c in changes if c.kind in ("item", "issue")]
        projects = [c.record_id for c in changes if c.kind in ("project", "issue")]
        picked: dict[str, list[RecordEnvelope]] = {}
        if "Opportunity" in entities and deals:
            picked["Opportunity"] = self._read(system, "Opportunity", deals)
            self.counts["deals read"] += len(picked["Opportunity"])
        item_entities = sorted(entities - {"Opportunity", "Project"})
        picked |= self._read_items(system, item_entities, items)
        linked: dict[str, list[Link]] = {}
        found: list[RecordEnvelope] = []
        if "Project" in entities and projects:
            linked = self.rt.store.links_to(WON_TO_PROJECT, system, projects)
            read_ids = {lk.target_key or lk.target_id for links in linked.values() for lk in links}
            found = self._read(system, "Project", sorted(read_ids)) if read_ids else []
        return _Records(picked, found, linked)

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


def _streams_of(handoff: PairHandoff[Any], system: str) -> list[HandoffStream]:
    return [s for s in handoff.streams() if handoff.system(s.role) == system]


@dataclass(frozen=True)
class _Records:
    """What one system's changes are, read again: per entity, and the linked projects."""

    picked: dict[str, list[RecordEnvelope]]
    projects: list[RecordEnvelope]
    links: dict[str, list[Link]]

    def of(self, entity: str, crm: str) -> list[RecordEnvelope]:
        """The records of ``entity``; projects only where linked to a deal of ``crm``."""
        if entity != "Project":
            return self.picked.get(entity, [])
        ids = {
            key
            for links in self.links.values()
            for lk in links
            if lk.source_system == crm
            for key in (lk.target_id, lk.target_key)
            if key
        }
        return [r for r in self.projects if r.id in ids]
