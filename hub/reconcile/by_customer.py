"""KPIs per top-level customer: a company's departments count under the company.

``hub kpis --by customer`` asks for it. It reads what the KPIs of the whole
pair read (the deals, the won-to-project links, the linked projects) plus the
CRM's accounts (id, name, parent: one streamed read), and groups each won
deal of the window under the top of its account's tree
(:class:`hub.customers.Customers`). Money stays per currency. A deal's
project is counted through its link (a project found only by its stamp is
reconcile's ``unlinked_project``); leads from feedback are not attributed to
customers, so that figure is left at 0 here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from handoff_hub.hub.customers import Customers, read_customers
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.model import Opportunity, Project, Stage, TaskStatus
from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link

__all__ = ["NO_ACCOUNT", "CustomerKpis", "kpis_by_customer"]

NO_ACCOUNT = "(no account)"
"""The group of won deals that name no account."""

BATCH = 200
"""Deals whose links and projects are looked up in one go."""


@dataclass
class CustomerKpis:
    """The KPIs of one top-level customer (``ref`` None: deals without an account)."""

    ref: str | None
    name: str
    kpis: KpiReport

    def as_dict(self) -> dict[str, object]:
        """JSON-safe: the customer, then its figures."""
        return {"customer": self.name, "ref": self.ref, **self.kpis.as_dict()}


def kpis_by_customer(
    runtime: Runtime, *, window_days: int = 90, today: dt.date | None = None
) -> list[CustomerKpis]:
    """The window's KPIs per top-level customer, the customer with most won deals first."""
    won = runtime.loaded.config.handoffs.won_to_project
    if won is None:
        return []
    end = today or dt.datetime.now(dt.UTC).date()
    grouping = _Grouping(runtime, won.crm, won.pm, end - dt.timedelta(days=window_days), end)
    for batch in grouping.won_deals():
        grouping.add(batch)
    rows = list(grouping.groups.values())
    return sorted(rows, key=lambda r: (-r.kpis.won_deals, r.name.casefold()))


class _Grouping:
    def __init__(self, runtime: Runtime, crm: str, pm: str, start: dt.date, end: dt.date) -> None:
        self.rt, self.crm, self.pm = runtime, crm, pm
        self.start, self.end = start, end
        self.customers: Customers = read_customers(
            runtime.connector(crm), runtime.mapping(crm), crm
        )
        self.groups: dict[str | None, CustomerKpis] = {}

    def won_deals(self) -> Iterator[list[Opportunity]]:
        """The window's won deals, a batch at a time."""
        spec = self.rt.mapping(self.crm)
        entity = spec.entity("Opportunity")
        batch: list[Opportunity] = []
        for page in self.rt.connector(self.crm).read_changes(
            entity.object, since=None, fields=entity.source_fields(), where=entity.where or None
        ):
            opps, _ = to_unified_many(spec, "Opportunity", [r.raw for r in page.records])
            batch += [o for o in opps if isinstance(o, Opportunity) and self._counts(o)]
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def add(self, deals: list[Opportunity]) -> None:
        """Count a batch of won deals, their links and their projects under their customers."""
        ids = [d.refs[self.crm] for d in deals]
        links = self.rt.store.links_for(WON_TO_PROJECT, self.crm, ids, target_system=self.pm)
        projects = self._projects(list(links.values()))
        for deal in deals:
            kpis = self._group(deal).kpis
            kpis.won_deals += 1
            if deal.amount is not None:
                kpis.add_amount(deal.amount)
            link = links.get(deal.refs[self.crm])
            if link is None:
                continue
            kpis.won_with_project += 1
            if (days := _days(deal, link)) is not None:
                kpis.days_to_project.append(days)
            project = projects.get(link.target_key or "") or projects.get(link.target_id)
            if project is not None:
                self._project(kpis, deal, project)

    def _counts(self, deal: Opportunity) -> bool:
        day = deal.close_date
        return deal.stage is Stage.WON and day is not None and self.start <= day <= self.end

    def _group(self, deal: Opportunity) -> CustomerKpis:
        account = deal.account.ref(self.crm) if deal.account else None
        top = self.customers.top(account) if account else None
        if top not in self.groups:
            name = self.customers.name(top) if top else NO_ACCOUNT
            if top and top not in self.customers.accounts and deal.account and deal.account.name:
                name = deal.account.name
            self.groups[top] = CustomerKpis(top, name, KpiReport(self.start, self.end))
        return self.groups[top]

    def _projects(self, links: list[Link]) -> dict[str, Project]:
        if not links:
            return {}
        spec = self.rt.mapping(self.pm)
        entity = spec.entity("Project")
        raws = self.rt.pm(self.pm).read_by_ids(
            entity.object,
            [lk.target_key or lk.target_id for lk in links],
            fields=entity.source_fields(),
        )
        projects, _ = to_unified_many(spec, "Project", [r.raw for r in raws])
        return {p.refs[self.pm]: p for p in projects if isinstance(p, Project)}

    def _project(self, kpis: KpiReport, deal: Opportunity, project: Project) -> None:
        """As the whole pair's KPIs count a project: done, late or on time, and its budget."""
        kpis.projects += 1
        if project.status is TaskStatus.DONE:
            kpis.projects_done += 1
            kpis.projects_on_time += 1
        elif project.due is not None and project.due < self.end:
            kpis.projects_late += 1
        else:
            kpis.projects_on_time += 1
        if project.budget is not None:
            kpis.add_budget(project.budget, deal.amount)


def _days(deal: Opportunity, link: Link) -> float | None:
    if deal.close_date is None or link.created_at is None:
        return None
    won_at = dt.datetime.combine(deal.close_date, dt.time(), dt.UTC)
    return max((link.created_at - won_at).total_seconds() / 86400, 0.0)
