"""Adopting what exists: link won deals to the projects an org already has.

Going live on an org whose won deals already have delivery projects (made by
hand, or by another tool), won-to-project would make a second one for each.
``hub adopt`` finds, for each won deal without a link:

1. the project the deal names (its mapped ``project_ref``: Salesforce
   ``Delivery_Project__c``, HubSpot ``delivery_project``), read from the
   project tool by that key or id;
2. a project that carries the deal's stamp (the hub made it; its link was lost);
3. a project named like the deal (the deal's name, or "account - deal"): a
   suggestion, linked only when the admin accepts name matches.

It plans first and writes nothing; applied, it records each link as
``complete`` (won-to-project then leaves the deal alone) and audits it as
``adopt``. A named project that does not exist, or a name shared by several
projects or deals, is reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from handoff_hub.hub.connector import ProjectHandle
from handoff_hub.hub.handoffs.catalogue import handoff_settings
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.mapping.engine import map_records
from handoff_hub.hub.model import Opportunity, Project, Stage
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import AuditEvent, Link

__all__ = ["ADOPT_RUN", "Adoption", "AdoptionPlan", "adopt", "plan_rows"]

ADOPT_RUN = "adopt"
"""The ``handoff`` of an applied adoption's row in the runs table."""

NAMED, STAMPED, SAME_NAME = "named by the deal", "stamped with the deal", "same name"


@dataclass(frozen=True)
class Adoption:
    """One won deal without a link, and the project it would be linked to (or why not)."""

    deal_id: str
    deal_name: str
    how: str | None = None
    project: ProjectHandle | None = None
    problem: str | None = None
    linked: bool = False


@dataclass
class AdoptionPlan:
    """What ``hub adopt`` found, and (applied) did."""

    items: list[Adoption] = field(default_factory=list)
    run_id: str | None = None

    def counts(self) -> dict[str, int]:
        """Deals by outcome: linked, to link (by how), problems, nothing found."""
        out: dict[str, int] = {}
        for item in self.items:
            key = (
                "linked"
                if item.linked
                else f"to link ({item.how})"
                if item.project
                else "problem"
                if item.problem
                else "no project found"
            )
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))


def adopt(runtime: Runtime, *, apply: bool = False, accept_names: bool = False) -> AdoptionPlan:
    """Find the projects of won, unlinked deals; with ``apply``, link them.

    Name matches are linked only with ``accept_names``; other findings always.
    """
    cfg = handoff_settings(runtime.loaded, WON_TO_PROJECT)
    deals = _unlinked_won_deals(runtime, cfg.crm, cfg.pm)
    finder = _Finder(runtime, cfg.crm, cfg.pm)
    plan = AdoptionPlan([finder.find(deal) for deal in deals])
    if apply:
        plan.run_id = _apply(runtime, plan, cfg.crm, cfg.pm, accept_names=accept_names)
    return plan


def _unlinked_won_deals(rt: Runtime, crm: str, pm: str) -> list[Opportunity]:
    spec = rt.mapping(crm)
    entity = spec.entities["Opportunity"]
    where = {**entity.where, **entity.filters.get("won", {})} or None
    pages = rt.connector(crm).read_changes(
        entity.object, since=None, fields=entity.source_fields(), where=where
    )
    deals: list[Opportunity] = []
    for page in pages:
        mapped, _ = map_records(spec, "Opportunity", page.records)
        deals += [d for d in mapped if isinstance(d, Opportunity) and d.stage is Stage.WON]
    linked = rt.store.links_for(WON_TO_PROJECT, crm, [d.refs[crm] for d in deals], target_system=pm)
    return [d for d in deals if d.refs[crm] not in linked]


class _Finder:
    def __init__(self, rt: Runtime, crm: str, pm: str) -> None:
        self.rt, self.crm, self.pm = rt, crm, pm
        self.connector = rt.pm(pm)
        self.spec = rt.mapping(pm)
        self.entity = self.spec.entities["Project"]
        self._by_name: dict[str, list[ProjectHandle]] | None = None

    def find(self, deal: Opportunity) -> Adoption:
        deal_id = deal.refs[self.crm]
        ref = (deal.project_ref or "").strip()
        if ref:
            handle = self._by_ref(ref)
            if handle is None:
                problem = f"the deal names project {ref!r}, which the project tool does not have"
                return Adoption(deal_id, deal.name, problem=problem)
            return Adoption(deal_id, deal.name, NAMED, handle)
        stamped = self.connector.find_project(f"{self.crm}:{deal_id}")
        if stamped is not None:
            return Adoption(deal_id, deal.name, STAMPED, stamped)
        return self._by_names(deal, deal_id)

    def _by_ref(self, ref: str) -> ProjectHandle | None:
        fields = self.entity.source_fields()
        found = self.connector.read_by_ids(self.entity.object, [ref], fields=fields)
        return self._handle(found[0].id) if found else None

    def _by_names(self, deal: Opportunity, deal_id: str) -> Adoption:
        names = {_fold(deal.name)}
        if deal.account and deal.account.name:
            names.add(_fold(f"{deal.account.name} - {deal.name}"))
        matches = {h.id: h for n in names for h in self._projects_by_name().get(n, [])}
        if len(matches) > 1:
            keys = ", ".join(sorted(h.key for h in matches.values()))
            problem = f"several projects are named like the deal: {keys}"
            return Adoption(deal_id, deal.name, problem=problem)
        if matches:
            return Adoption(deal_id, deal.name, SAME_NAME, next(iter(matches.values())))
        return Adoption(deal_id, deal.name)

    def _projects_by_name(self) -> dict[str, list[ProjectHandle]]:
        if self._by_name is None:
            self._by_name = {}
            pages = self.connector.read_changes(
                self.entity.object,
                since=None,
                fields=self.entity.source_fields(),
                where=self.entity.where or None,
            )
            for page in pages:
                projects, _ = map_records(self.spec, "Project", page.records)
                for project in projects:
                    if isinstance(project, Project):
                        handle = self._handle(project.refs[self.pm])
                        self._by_name.setdefault(_fold(project.name), []).append(handle)
        return self._by_name

    def _handle(self, record_id: str) -> ProjectHandle:
        """The project by its record id (the connector's own: Jira's issue key, Asana's gid)."""
        return ProjectHandle(
            record_id, record_id, self.connector.record_url(self.entity.object, record_id)
        )


def _apply(rt: Runtime, plan: AdoptionPlan, crm: str, pm: str, *, accept_names: bool) -> str:
    store = rt.store
    run_id = store.start_run(ADOPT_RUN)
    chosen = {
        i for i, a in enumerate(plan.items) if a.project and (a.how != SAME_NAME or accept_names)
    }
    taken = _shared_projects(plan.items[i] for i in chosen)
    counts: dict[str, int] = {}
    with store.holding(store.lease(f"{WON_TO_PROJECT}:{crm}")):
        for index in sorted(chosen):
            item = plan.items[index]
            assert item.project is not None
            if item.project.id in taken:
                problem = f"project {item.project.key} would be linked to several deals"
                plan.items[index] = Adoption(item.deal_id, item.deal_name, problem=problem)
                counts["problem"] = counts.get("problem", 0) + 1
                continue
            _link(rt, run_id, item, crm, pm)
            plan.items[index] = replace(item, linked=True)
            counts["linked"] = counts.get("linked", 0) + 1
    store.finish_run(run_id, status="succeeded", counts=counts)
    return run_id


def _shared_projects(items: Iterable[Adoption]) -> set[str]:
    seen: dict[str, int] = {}
    for item in items:
        if item.project is not None:
            seen[item.project.id] = seen.get(item.project.id, 0) + 1
    return {pid for pid, n in seen.items() if n > 1}


def _link(rt: Runtime, run_id: str, item: Adoption, crm: str, pm: str) -> None:
    assert item.project is not None
    project = item.project
    rt.store.record_link(
        Link(
            WON_TO_PROJECT,
            crm,
            rt.mapping(crm).entities["Opportunity"].object,
            item.deal_id,
            pm,
            rt.mapping(pm).entities["Project"].object,
            project.id,
            project.key,
            project.url,
            state="complete",
        )
    )
    rt.store.audit(
        run_id,
        [
            AuditEvent(
                WON_TO_PROJECT,
                "adopt",
                pm,
                "Project",
                project.key,
                "ok",
                source_ref=f"{crm}:{item.deal_id}",
                detail=item.how,
            )
        ],
    )


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def plan_rows(plan: AdoptionPlan) -> Sequence[tuple[str, str, str, str, str]]:
    """``(deal, name, project, how, what happens)`` per deal, for the CLI's table."""
    rows = []
    for item in plan.items:
        action = (
            "linked"
            if item.linked
            else item.problem or ("link" if item.project else "won-to-project creates one")
        )
        key = item.project.key if item.project else ""
        rows.append((item.deal_id, item.deal_name, key, item.how or "", action))
    return rows
