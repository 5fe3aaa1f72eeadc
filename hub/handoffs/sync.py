"""sync: fields of a linked deal and project flow the configured way.

A pair is a deal and the project won-to-project made from it. Both sides'
changes are read from their own checkpoints; every pair touched by a change
is read whole on both sides and compared field by field with the *base*: the
values both sides last agreed on, kept in the store. A side whose value
differs from the base has changed. So a write made by the hub, which comes
back as a change on the next read, equals the new base and is not copied
again: loops cannot start. When both sides changed a two-way field to
different values, the configured policy decides (crm-wins, pm-wins,
newest-wins) or, with ``report``, nothing is written and the conflict is
recorded in the audit trail until someone settles it. ``percent_complete``
is computed from the project's tasks (the share done) and flows onto the deal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.hub.config.handoffs import SyncConfig, SyncFieldConfig
from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.handoffs.base import PairHandoff, Stream
from handoff_hub.hub.handoffs.engine import BatchReport, Decision, Verdict
from handoff_hub.hub.handoffs.preview import changes_preview
from handoff_hub.hub.handoffs.project_work import percent_complete, project_items
from handoff_hub.hub.handoffs.user_fields import UserIds
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.mapping.engine import from_unified, map_records, to_unified_many
from handoff_hub.hub.model import Entity, Milestone, Opportunity, Project, Task, at_path, dump
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link

__all__ = ["HANDOFF", "Sync"]

HANDOFF = "sync"
log = logging.getLogger("hub.sync")

# Project fields the hub computes from the project's tasks (no mapping rule).
COMPUTED_PM_FIELDS = frozenset({"percent_complete"})
# The deal owner onto the project manager: people are matched by e-mail address.
OWNER_RULE = ("owner", "manager")


@dataclass
class _Pair:
    """One linked deal and project, read now, with what sync decided for them."""

    link: Link
    opp: Opportunity
    project: Project
    base: dict[str, Any]
    to_crm: dict[str, Any] = field(default_factory=dict)
    to_pm: dict[str, Any] = field(default_factory=dict)
    agreed: dict[str, Any] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


class Sync(PairHandoff[SyncConfig]):
    """The sync handoff for one CRM/PM pair of a runtime."""

    name = HANDOFF

    def __init__(self, runtime: Runtime, config: SyncConfig, *, run_id: str | None = None) -> None:
        super().__init__(runtime, config, run_id=run_id)
        self._settled: set[str] = set()  # pairs already compared in this run
        self._people: dict[str, str] = {}
        self._work: dict[str, list[Task | Milestone]] = {}
        self._users = {
            "crm": UserIds(self.crm, self.crm_map, "Opportunity"),
            "pm": UserIds(self.pm, self.pm_map, "Project"),
        }
        self._pm_users = self._users["pm"].known
        self._check_fields()

    def _check_fields(self) -> None:
        """Every synced field must be mapped, and writable on the side it flows to."""
        issues: list[Issue] = []
        crm_entity = self.crm_map.entities["Opportunity"]
        pm_entity = self.pm_map.entities["Project"]
        for n, rule in enumerate(self.cfg.fields):
            where = f"handoffs.sync.fields[{n}]"
            if (rule.crm, rule.pm) == OWNER_RULE:
                if rule.direction != "crm_to_pm":
                    issues.append(
                        Issue("<config>", None, f"{where}.direction", "must be crm_to_pm")
                    )
                if "owner.email" not in crm_entity.fields:
                    issues.append(
                        Issue("<config>", None, f"{where}.crm", _missing("owner.email", "CRM"))
                    )
                if "manager.ref" not in pm_entity.write_rules():
                    issues.append(
                        Issue("<config>", None, f"{where}.pm", "manager.ref is not written")
                    )
                continue
            if rule.crm not in crm_entity.fields:
                issues.append(Issue("<config>", None, f"{where}.crm", _missing(rule.crm, "CRM")))
            elif rule.direction != "crm_to_pm" and rule.crm not in crm_entity.write_rules():
                issues.append(Issue("<config>", None, f"{where}.crm", "is not written (read-only)"))
            if rule.pm in COMPUTED_PM_FIELDS:
                if rule.direction != "pm_to_crm":
                    issues.append(
                        Issue("<config>", None, f"{where}.direction", "must be pm_to_crm")
                    )
            elif rule.pm not in pm_entity.fields:
                issues.append(Issue("<config>", None, f"{where}.pm", _missing(rule.pm, "PM")))
            elif rule.direction != "pm_to_crm" and rule.pm not in pm_entity.write_rules():
                issues.append(Issue("<config>", None, f"{where}.pm", "is not written (read-only)"))
        if issues:
            raise ConfigError(issues)

    # reading -----------------------------------------------------------------------

    def streams(self) -> list[Stream]:
        """Changed deals, then changed projects (and their tasks, for percent complete)."""
        streams = [Stream("crm", "Opportunity"), Stream("pm", "Project")]
        if any(rule.pm in COMPUTED_PM_FIELDS for rule in self.cfg.fields):
            streams.append(Stream("pm", "Task"))
        return streams

    @property
    def lease_name(self) -> str:
        """One sync at a time of this pair of systems."""
        return f"{HANDOFF}:{self.cfg.crm}+{self.cfg.pm}"

    # planning ----------------------------------------------------------------------

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        """Compare the pairs these changes touch and, unless ``dry_run``, write the flow."""
        report = BatchReport()
        report.counts["seen"] += len(records)
        touched = {r.id for r in records}
        if self.stream.entity == "Task":
            tasks, _ = to_unified_many(self.pm_map, "Task", [r.raw for r in records])
            touched = {
                ref for t in tasks if isinstance(t, Task) for ref in (t.project, t.parent) if ref
            }
        links = [lk for lk in self._links(touched) if _pair_key(lk) not in self._settled]
        pairs = self._read_pairs(links, report)
        self._people = self._pm_people(pairs)
        self._work = self._project_work(pairs)
        for pair in pairs:
            self._compare(pair)
            report.decisions.append(self._decision(pair))
        if not dry_run:
            self._apply(pairs, report)
        return report

    def _links(self, ids: set[str]) -> list[Link]:
        side = "source" if self.stream.role == "crm" else "target"
        found = []
        for link in self.rt.store.links(WON_TO_PROJECT):
            if link.source_system != self.cfg.crm or link.target_system != self.cfg.pm:
                continue
            keys = {link.source_id} if side == "source" else {link.target_id, link.target_key}
            if keys & ids:
                found.append(link)
        return found

    def _read_pairs(self, links: list[Link], report: BatchReport) -> list[_Pair]:
        if not links:
            return []
        opps = self._read(self.crm, self.crm_map, "Opportunity", [lk.source_id for lk in links])
        projects = self._read(
            self.pm, self.pm_map, "Project", [lk.target_key or lk.target_id for lk in links]
        )
        bases = self.rt.store.sync_bases([_pair_key(lk) for lk in links])
        pairs = []
        for link in links:
            opp = opps.get(link.source_id)
            project = projects.get(link.target_key or link.target_id) or projects.get(
                link.target_id
            )
            if not isinstance(opp, Opportunity) or not isinstance(project, Project):
                report.counts["unpaired"] += 1
                continue
            pairs.append(_Pair(link, opp, project, bases.get(_pair_key(link), {})))
        return pairs

    def _read(
        self, connector: Any, spec: Any, entity_name: str, ids: Sequence[str]
    ) -> dict[str, Entity]:
        entity = spec.entities[entity_name]
        raws = connector.read_by_ids(entity.object, sorted(set(ids)), fields=entity.source_fields())
        items, failures = map_records(spec, entity_name, raws)
        for record, error in failures:
            log.warning("sync: cannot read %s %s: %s", entity_name, record.id, error)
        system = self.cfg.crm if connector is self.crm else self.cfg.pm
        return {i.refs[system]: i for i in items}

    def _pm_people(self, pairs: list[_Pair]) -> dict[str, str]:
        """Deal owners' e-mail addresses (lower case) -> their PM user ids."""
        if OWNER_RULE not in {(r.crm, r.pm) for r in self.cfg.fields}:
            return {}
        return self._pm_users.ids(p.opp.owner.email for p in pairs if p.opp.owner)

    def _project_work(self, pairs: list[_Pair]) -> dict[str, list[Task | Milestone]]:
        """The tasks of every project in the page (one read), when percent complete is synced."""
        if not any(rule.pm == "percent_complete" for rule in self.cfg.fields):
            return {}
        return project_items(
            self.pm,
            self.pm_map,
            "Task",
            [p.project.refs[self.cfg.pm] for p in pairs],
            where="handoffs.sync.fields (percent_complete)",
        )

    def _compare(self, pair: _Pair) -> None:
        crm_now, pm_now = dump(pair.opp), dump(pair.project)
        if OWNER_RULE in {(r.crm, r.pm) for r in self.cfg.fields}:
            email = pair.opp.owner.email if pair.opp.owner else None
            crm_now["owner"] = self._people.get(email.lower()) if email else None
            manager = pair.project.manager
            pm_now["manager"] = manager.ref(self.cfg.pm) if manager else None
        project_id = pair.project.refs[self.cfg.pm]
        if project_id in self._work:
            pm_now["percent_complete"] = percent_complete(self._work[project_id])
        for configured in self.cfg.fields:
            rule = _as_seen_by(pair, configured)
            if rule is None:
                continue
            name = _field_key(rule)
            crm_value, pm_value = at_path(crm_now, rule.crm), at_path(pm_now, rule.pm)
            if (rule.crm, rule.pm) == OWNER_RULE and crm_value is None:
                continue  # the owner has no PM account: leave the manager as it is
            winner = self._winner(rule, pair, name, crm_value, pm_value)
            if winner == "crm":
                pair.agreed[name] = crm_value
                if pm_value != crm_value:
                    pair.to_pm["manager.ref" if rule.pm == "manager" else rule.pm] = crm_value
            elif winner == "pm":
                pair.agreed[name] = pm_value
                if crm_value != pm_value:
                    pair.to_crm[rule.crm] = pm_value
            elif name in pair.base:
                pair.agreed[name] = pair.base[name]

    def _winner(
        self, rule: SyncFieldConfig, pair: _Pair, name: str, crm_value: Any, pm_value: Any
    ) -> str | None:
        """``crm``, ``pm``, or None (a reported conflict: leave both sides as they are)."""
        if crm_value == pm_value:
            return "crm"
        if rule.direction == "crm_to_pm":
            return "crm"
        if rule.direction == "pm_to_crm":
            return "pm"
        known = name in pair.base
        if not known and (crm_value is None or pm_value is None):
            return "pm" if crm_value is None else "crm"  # the first sync fills a blank
        crm_changed = not known or crm_value != pair.base[name]
        pm_changed = not known or pm_value != pair.base[name]
        if crm_changed and not pm_changed:
            return "crm"
        if pm_changed and not crm_changed:
            return "pm"
        policy = self.cfg.conflict
        if policy == "crm-wins":
            return "crm"
        if policy == "pm-wins":
            return "pm"
        if policy == "newest-wins":
            crm_at, pm_at = pair.opp.modified_at, pair.project.modified_at
            if crm_at is not None and pm_at is not None and crm_at != pm_at:
                return "pm" if pm_at > crm_at else "crm"  # a tie is reported
        pair.conflicts.append(
            f"{name}: CRM {crm_value!r}, PM {pm_value!r}, last agreed {pair.base.get(name)!r}"
        )
        return None

    def _decision(self, pair: _Pair) -> Decision:
        label = pair.opp.name
        changes = [f"{k} -> PM" for k in pair.to_pm] + [f"{k} -> CRM" for k in pair.to_crm]
        if pair.conflicts:
            reason = "conflict: " + "; ".join(pair.conflicts)
            if changes:
                reason += "; also " + ", ".join(changes)
            return Decision(Verdict.FAIL, pair.link.source_id, label, reason, pair.link.target_key)
        if changes:
            preview = changes_preview(
                f"{self.cfg.crm}, {self.cfg.pm}",
                {self.cfg.pm: pair.to_pm, self.cfg.crm: pair.to_crm},
            )
            return Decision(
                Verdict.UPDATE,
                pair.link.source_id,
                label,
                ", ".join(changes),
                pair.link.target_key,
                preview,
            )
        return Decision(Verdict.SKIP, pair.link.source_id, label, "in step", pair.link.target_key)

    # applying -------------------------------------------------------------------------

    def _apply(self, pairs: list[_Pair], report: BatchReport) -> None:
        crm_ok = self._write(
            self.crm,
            self.crm_map,
            "Opportunity",
            [(p, p.opp.refs[self.cfg.crm], p.to_crm) for p in pairs],
            report,
        )
        pm_ok = self._write(
            self.pm,
            self.pm_map,
            "Project",
            [(p, p.project.refs[self.cfg.pm], p.to_pm) for p in pairs],
            report,
        )
        for pair in pairs:
            wrote = bool(pair.to_crm or pair.to_pm)
            ok = crm_ok.get(id(pair), True) and pm_ok.get(id(pair), True)
            for conflict in pair.conflicts:
                report.counts["conflicts"] += 1
                self._audit("conflict", pair, "conflict", detail=f"{conflict}; policy report")
            if not ok:
                report.counts["failed"] += 1
                continue
            self._settled.add(_pair_key(pair.link))
            if pair.agreed != pair.base:
                self.rt.store.set_sync_base(_pair_key(pair.link), pair.agreed)
            if wrote:
                report.counts["updated"] += 1
            elif not pair.conflicts:
                report.counts["in_step"] += 1

    def _write(
        self,
        connector: Any,
        spec: Any,
        entity_name: str,
        writes: list[tuple[_Pair, str, dict[str, Any]]],
        report: BatchReport,
    ) -> dict[int, bool]:
        todo = [(pair, record_id, values) for pair, record_id, values in writes if values]
        if not todo:
            return {}
        system = self.cfg.pm if connector is self.pm else self.cfg.crm
        nested = [_nested(values, system) for _, _, values in todo]
        users = self._users["pm" if connector is self.pm else "crm"]
        people = users.people(nested)
        payloads = [
            from_unified(spec, entity_name, data, only=list(values), system=system, people=people)
            for (_, _, values), data in zip(todo, nested, strict=True)
        ]
        for (pair, record_id, _), data in zip(todo, nested, strict=True):
            for unset in users.unmatched(data, people):
                warning = unset.warning(system)
                log.warning("sync %s: %s", record_id, warning)
                report.counts["user_unmatched"] += 1
                self._audit("user_unmatched", pair, "warning", system=system, detail=warning)
        object_name = spec.entities[entity_name].object
        results = connector.update(
            object_name,
            [(rid, payload) for (_, rid, _), payload in zip(todo, payloads, strict=True)],
        )
        outcome: dict[int, bool] = {}
        for (pair, record_id, values), result in zip(todo, results, strict=True):
            outcome[id(pair)] = result.ok
            system = self.cfg.crm if connector is self.crm else self.cfg.pm
            self._audit(
                "sync_write",
                pair,
                "ok" if result.ok else "failed",
                system=system,
                record_id=record_id,
                detail=", ".join(f"{k}={v!r}" for k, v in values.items())
                + ("" if result.ok else f": {result.error}"),
            )
        return outcome

    def _audit(
        self,
        action: str,
        pair: _Pair,
        outcome: str,
        *,
        system: str | None = None,
        record_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        side = system or self.cfg.crm
        self.audit(
            action,
            side,
            "Opportunity" if side == self.cfg.crm else "Project",
            record_id or pair.link.source_id,
            outcome,
            source_ref=f"{self.cfg.crm}:{pair.link.source_id}",
            detail=detail,
        )


def _as_seen_by(pair: _Pair, rule: SyncFieldConfig) -> SyncFieldConfig | None:
    """The rule, if it applies to this pair: a deal's field has one project to agree with.

    That one is the deal's only project (slot ""), or the project whose key the
    deal holds (written back: a template set's first). Its other projects get
    the deal's one-way fields (``crm_to_pm``) and keep their own values of the rest.
    """
    link = pair.link
    if not link.slot or pair.opp.project_ref in (link.target_key, link.target_id):
        return rule
    return rule if rule.direction == "crm_to_pm" else None


def _pair_key(link: Link) -> str:
    return f"{link.source_system}:{link.source_id}|{link.target_system}:{link.target_id}"


def _field_key(rule: SyncFieldConfig) -> str:
    return f"{rule.crm}|{rule.pm}"


def _missing(name: str, side: str) -> str:
    return f"{name!r} has no rule in the {side} mapping"


def _nested(values: Mapping[str, Any], system: str) -> dict[str, Any]:
    """``{"account.name": "X"}`` -> ``{"account": {"name": "X"}}`` for from_unified.

    A ``.ref`` leaf is the record's id in ``system``: ``{"manager": {"refs": {system: id}}}``.
    """
    out: dict[str, Any] = {}
    for path, value in values.items():
        parts = path.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts[-1] == "ref":
            node["refs"] = {system: value}
        else:
            node[parts[-1]] = value
    return out
