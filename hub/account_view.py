"""The 360° view of one customer: deals, their projects and delivery, leads, what the hub did.

The account is found by id, else by name (exact, then partial, without regard
to case; several matches are listed for the admin to choose). A company's view
takes in its departments (accounts whose parent it is, at any depth), their
deals and projects, with roll-ups per account and in total. Deals are read
with a filter on the account where the CRM can filter on it (Salesforce
AccountId, one read per account), else streamed once and matched; departments
likewise by their parent field (Salesforce ParentId), else from one streamed
read of the accounts. Everything else is read by id or by
project, in one call per kind: linked projects, their milestones, open risks
and feedback, and the leads feedback became; then the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from handoff_hub.hub.connector import RecordEnvelope
from handoff_hub.hub.customers import read_customers
from handoff_hub.hub.errors import HubError, MappingError, RecordError
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK_TO_LEAD
from handoff_hub.hub.handoffs.project_work import records_of_projects
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.mapping.spec import FieldRule, is_simple_path
from handoff_hub.hub.model import (
    Account,
    Feedback,
    Milestone,
    Money,
    Opportunity,
    Project,
    Risk,
    Stage,
    TaskStatus,
    money_text,
)
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import AuditEventRow, Link

__all__ = ["AccountNotFound", "AccountView", "DealView", "Rollup", "account_view"]

CANDIDATES_SHOWN = 10


class AccountNotFound(HubError):
    """No account, or more than one, answers to the name given."""


@dataclass
class DealView:
    """One deal of the account, with its delivery project when it has one.

    A deal with several projects (a template set) shows its first here and
    the others, each a view of the same deal, in :attr:`more`.
    """

    opportunity: Opportunity
    link: Link | None = None
    project: Project | None = None
    milestones: list[Milestone] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    feedback: list[tuple[Feedback, Link | None]] = field(default_factory=list)
    more: list[DealView] = field(default_factory=list)

    def custom_fields(self) -> list[tuple[str, str, str]]:
        """``(name, deal's value, project's value)`` of each custom field either side has."""
        deal = self.opportunity.custom
        project = self.project.custom if self.project else {}
        names = list(dict.fromkeys([*deal, *project]))
        return [(n, _shown(deal.get(n)), _shown(project.get(n))) for n in names]

    def delivery(self) -> dict[str, Any]:
        """The project part, JSON-safe."""
        return {
            "slot": self.link.slot if self.link else None,
            "project": self.project.model_dump(mode="json", exclude_none=True)
            if self.project
            else None,
            "project_url": self.link.target_url if self.link else None,
            "milestones": [m.model_dump(mode="json", exclude_none=True) for m in self.milestones],
            "open_risks": [r.model_dump(mode="json", exclude_none=True) for r in self.risks],
            "feedback": [
                {
                    **f.model_dump(mode="json", exclude_none=True),
                    "lead": lk.target_id if lk else None,
                    "lead_url": lk.target_url if lk else None,
                }
                for f, lk in self.feedback
            ],
        }


@dataclass
class Rollup:
    """What one account's deals (or a whole customer's) add up to; money per currency."""

    name: str
    deals: int = 0
    won: int = 0
    projects: int = 0
    open_risks: int = 0
    pipeline: dict[str, Decimal] = field(default_factory=dict)
    won_amount: dict[str, Decimal] = field(default_factory=dict)
    budget: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, deals: Iterable[DealView]) -> Rollup:
        """The roll-up of ``deals``: counts, open pipeline, won amounts and budgets."""
        rollup = cls(name)
        for deal in deals:
            rollup.add(deal)
        return rollup

    def add(self, deal: DealView) -> None:
        """Count one deal and its project."""
        opp = deal.opportunity
        self.deals += 1
        if opp.stage is Stage.WON:
            self.won += 1
            _add(self.won_amount, opp.amount)
        elif opp.stage is Stage.OPEN:
            _add(self.pipeline, opp.amount)
        if deal.project is not None:
            self.projects += 1
            self.open_risks += len(deal.risks)
            _add(self.budget, deal.project.budget)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe figures; amounts as text, keyed by currency (``unknown`` without one)."""
        return {
            "name": self.name,
            "deals": self.deals,
            "won": self.won,
            "projects": self.projects,
            "open_risks": self.open_risks,
            "pipeline_by_currency": _texts(self.pipeline),
            "won_by_currency": _texts(self.won_amount),
            "budget_by_currency": _texts(self.budget),
        }

    @staticmethod
    def show(totals: dict[str, Decimal]) -> str:
        """Amounts for people, one per currency: ``EUR 480,500.00; USD 12.00``."""
        return "; ".join(
            money_text(v, None if k == UNKNOWN else k) for k, v in sorted(totals.items())
        )


UNKNOWN = "unknown"


def _add(totals: dict[str, Decimal], money: Money | None) -> None:
    if money is not None:
        key = money.currency or UNKNOWN
        totals[key] = totals.get(key, Decimal(0)) + money.amount


def _texts(totals: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in sorted(totals.items())}

    def custom_fields(self) -> list[tuple[str, str, str]]:
        """``(name, deal's value, project's value)`` of each custom field either side has."""
        deal = self.opportunity.custom
        project = self.project.custom if self.project else {}
        names = list(dict.fromkeys([*deal, *project]))
        return [(n, _shown(deal.get(n)), _shown(project.get(n))) for n in names]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


@dataclass
class AccountView:
    """Everything the hub knows of one customer, its departments included."""

    account: Account
    crm: str
    pm: str
    deals: list[DealView]
    audit: list[AuditEventRow]
    departments: list[Account] = field(default_factory=list)
    parent: Account | None = None

    def account_of(self, deal: DealView) -> str:
        """The id of the account (the company or one of its departments) a deal is on."""
        account = deal.opportunity.account
        return (account.ref(self.crm) if account else None) or ""

    def rollups(self) -> list[Rollup]:
        """One roll-up per account with deals (the company first), then the total."""
        rows = []
        for account in [self.account, *self.departments]:
            ref = account.refs.get(self.crm, "")
            own = [d for d in self.deals if self.account_of(d) == ref]
            rows.append(Rollup.of(account.name or ref, own))
        return [*rows, Rollup.of("total", self.deals)]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "account": self.account.model_dump(mode="json", exclude_none=True),
            "parent": self.parent.model_dump(mode="json", exclude_none=True)
            if self.parent
            else None,
            "departments": [a.model_dump(mode="json", exclude_none=True) for a in self.departments],
            "rollups": [r.as_dict() for r in self.rollups()],
            "deals": [
                {
                    "account": self.account_of(d),
                    "opportunity": d.opportunity.model_dump(mode="json", exclude_none=True),
                    **d.delivery(),
                    "more_projects": [m.delivery() for m in d.more],
                }
                for d in self.deals
            ],
            "audit": [
                {
                    "at": row.at.isoformat(),
                    "handoff": row.handoff,
                    "action": row.action,
                    "system": row.system,
                    "object": row.object,
                    "record": row.record_id,
                    "outcome": row.outcome,
                    "detail": row.detail,
                }
                for row in self.audit
            ],
        }


def account_view(runtime: Runtime, name_or_id: str, *, audit_limit: int = 20) -> AccountView:
    """Build the 360° view of the account ``name_or_id``.

    Raises:
        AccountNotFound: No account, or several, answer to ``name_or_id``.
    """
    return _Builder(runtime).build(name_or_id.strip(), audit_limit)


class _Builder:
    def __init__(self, runtime: Runtime) -> None:
        won = runtime.loaded.config.handoffs.won_to_project
        systems = list(runtime.loaded.config.systems)
        self.rt = runtime
        self.crm_name = won.crm if won else systems[0]
        self.pm_name = won.pm if won else systems[-1]
        self.crm = runtime.connector(self.crm_name)
        self.pm = runtime.pm(self.pm_name)
        self.crm_map = runtime.mapping(self.crm_name)
        self.pm_map = runtime.mapping(self.pm_name)

    def build(self, name_or_id: str, audit_limit: int) -> AccountView:
        account = self._account(name_or_id)
        departments = self._departments(account.refs[self.crm_name])
        ids = [a.refs[self.crm_name] for a in [account, *departments]]
        deals = [DealView(o) for o in self._deals(ids)]
        self._projects(deals)
        return AccountView(
            account,
            self.crm_name,
            self.pm_name,
            deals,
            self._audit(deals, audit_limit),
            departments=departments,
            parent=self._by_id(account.parent) if account.parent else None,
        )

    # the account -----------------------------------------------------------------------

    def _account(self, name_or_id: str) -> Account:
        entity = self.crm_map.entity("Account")
        if not name_or_id:
            raise AccountNotFound("give an account name or id")
        try:
            records = self.crm.read_by_ids(
                entity.object, [name_or_id], fields=entity.source_fields()
            )
        except RecordError:
            records = []  # not an id in this CRM's format (Salesforce refuses the query)
        by_id = self._crm_items("Account", records)
        if by_id and isinstance(by_id[0], Account):
            return by_id[0]
        wanted = name_or_id.casefold()
        exact: list[Account] = []
        partial: list[Account] = []
        for page in self.crm.read_changes(
            entity.object, since=None, fields=entity.source_fields(), where=entity.where or None
        ):
            for account in self._crm_items("Account", page.records):
                if not isinstance(account, Account):
                    continue
                name = (account.name or "").casefold()
                if name == wanted:
                    exact.append(account)
                elif wanted in name:
                    partial.append(account)
        found = exact or partial
        if len(found) == 1:
            return found[0]
        if not found:
            raise AccountNotFound(f"no account named or with id {name_or_id!r} in {self.crm_name}")
        shown = ", ".join(f"{a.name} ({a.refs[self.crm_name]})" for a in found[:CANDIDATES_SHOWN])
        more = f" and {len(found) - CANDIDATES_SHOWN} more" if len(found) > CANDIDATES_SHOWN else ""
        raise AccountNotFound(
            f"{len(found)} accounts match {name_or_id!r}: {shown}{more}; give the id"
        )

    def _by_id(self, account_id: str) -> Account | None:
        entity = self.crm_map.entity("Account")
        records = self.crm.read_by_ids(entity.object, [account_id], fields=entity.source_fields())
        found = [a for a in self._crm_items("Account", records) if isinstance(a, Account)]
        return found[0] if found else None

    # departments -----------------------------------------------------------------------

    def _departments(self, account_id: str) -> list[Account]:
        """The accounts below this one, by name.

        Read by their parent field, level by level, where the CRM filters on it;
        else from one read of every account.
        """
        entity = self.crm_map.entity("Account")
        rule = entity.fields.get("parent")
        if rule is None or rule.path is None:
            return []
        if not _filterable(rule):
            tree = read_customers(self.crm, self.crm_map, self.crm_name)
            return [tree.accounts[ref] for ref in tree.departments(account_id)]
        found: dict[str, Account] = {}
        level = [account_id]
        while level:
            below = {
                a.refs[self.crm_name]: a
                for parent in level
                for a in self._children(rule, parent)
                if a.refs[self.crm_name] not in found and a.refs[self.crm_name] != account_id
            }
            found.update(below)
            level = list(below)
        return sorted(
            found.values(), key=lambda a: ((a.name or "").casefold(), a.refs[self.crm_name])
        )

    def _children(self, rule: FieldRule, parent: str) -> list[Account]:
        entity = self.crm_map.entity("Account")
        assert rule.path is not None
        where = {**entity.where, rule.path: parent}
        return [
            a
            for page in self.crm.read_changes(
                entity.object, since=None, fields=entity.source_fields(), where=where
            )
            for a in self._crm_items("Account", page.records)
            if isinstance(a, Account) and a.parent == parent
        ]

    def _crm_items(self, name: str, records: Sequence[RecordEnvelope]) -> list[Any]:
        items, _ = to_unified_many(self.crm_map, name, [r.raw for r in records])
        return items

    # deals -----------------------------------------------------------------------------

    def _deals(self, account_ids: list[str]) -> list[Opportunity]:
        entity = self.crm_map.entity("Opportunity")
        rule = entity.fields.get("account.ref")
        if rule is None or rule.path is None:
            raise MappingError(
                f"the {self.crm_map.system} mapping reads no Opportunity account.ref"
            )
        path = rule.path
        wheres = (
            [{**entity.where, path: a} for a in account_ids]
            if _filterable(rule)
            else [entity.where]
        )
        wanted = set(account_ids)
        deals: list[Opportunity] = []
        for where in wheres:
            for page in self.crm.read_changes(
                entity.object, since=None, fields=entity.source_fields(), where=where or None
            ):
                for opp in self._crm_items("Opportunity", page.records):
                    if (
                        isinstance(opp, Opportunity)
                        and opp.account
                        and opp.account.ref(self.crm_name) in wanted
                    ):
                        deals.append(opp)
        return sorted(deals, key=lambda o: (o.close_date is None, o.close_date), reverse=True)

    # delivery --------------------------------------------------------------------------

    def _projects(self, deals: list[DealView]) -> None:
        links = self.rt.store.link_sets(
            WON_TO_PROJECT,
            self.crm_name,
            [d.opportunity.refs[self.crm_name] for d in deals],
            target_system=self.pm_name,
        )
        for deal in deals:
            found = links.get(deal.opportunity.refs[self.crm_name], [])
            deal.link = found[0] if found else None
            deal.more = [DealView(deal.opportunity, link) for link in found[1:]]
        linked = [v for d in deals for v in (d, *d.more) if v.link is not None]
        if not linked:
            return
        entity = self.pm_map.entity("Project")
        raws = self.pm.read_by_ids(
            entity.object,
            [d.link.target_key or d.link.target_id for d in linked if d.link],
            fields=entity.source_fields(),
        )
        projects, _ = to_unified_many(self.pm_map, "Project", [r.raw for r in raws])
        by_key = {p.refs[self.pm_name]: p for p in projects if isinstance(p, Project)}
        for deal in linked:
            assert deal.link is not None
            deal.project = by_key.get(deal.link.target_key or "") or by_key.get(deal.link.target_id)
        ids = [d.project.refs[self.pm_name] for d in linked if d.project]
        milestones = self._of_projects("Milestone", ids)
        risks = self._of_projects("Risk", ids)
        feedback = self._of_projects("Feedback", ids)
        leads = self.rt.store.links_for(
            FEEDBACK_TO_LEAD,
            self.pm_name,
            [f.refs[self.pm_name] for items in feedback.values() for f in items],
            target_system=self.crm_name,
        )
        for deal in linked:
            if deal.project is None:
                continue
            key = deal.project.refs[self.pm_name]
            deal.milestones = [m for m in milestones.get(key, []) if isinstance(m, Milestone)]
            deal.risks = [
                r
                for r in risks.get(key, [])
                if isinstance(r, Risk) and r.status is not TaskStatus.DONE
            ]
            deal.feedback = [
                (f, leads.get(f.refs[self.pm_name]))
                for f in feedback.get(key, [])
                if isinstance(f, Feedback)
            ]

    def _of_projects(self, entity_name: str, ids: list[str]) -> dict[str, list[Any]]:
        entity = self.pm_map.entities.get(entity_name)
        if entity is None or not entity.scope_field or not ids:
            return {}
        return records_of_projects(
            self.pm, self.pm_map, entity_name, ids, where=f"{self.pm_map.system} {entity_name}"
        )

    # audit -----------------------------------------------------------------------------

    def _audit(self, deals: list[DealView], limit: int) -> list[AuditEventRow]:
        rows: dict[int, AuditEventRow] = {}
        for deal in (v for d in deals for v in (d, *d.more)):
            deal_id = deal.opportunity.refs[self.crm_name]
            refs = [deal_id, f"{self.crm_name}:{deal_id}"]
            if deal.link is not None:
                refs += [deal.link.target_id, deal.link.target_key or ""]
            if deal.project is not None:
                pm, key = self.pm_name, deal.project.refs[self.pm_name]
                refs += [f"{pm}:health:{key}"]
                refs += [f"{pm}:risk:{r.refs[pm]}" for r in deal.risks]
                refs += [f"{pm}:{f.refs[pm]}" for f, _ in deal.feedback]
            for ref in filter(None, refs):
                for row in self.rt.store.audit_events(record_id=ref, limit=limit):
                    rows[row.id] = row
        return sorted(rows.values(), key=lambda r: r.id, reverse=True)[:limit]


def _filterable(rule: FieldRule) -> bool:
    """Whether the connector can filter on the rule's product field (a plain field name)."""
    path = rule.path or ""
    return is_simple_path(path) and not path.startswith("_") and "." not in path
