"""Field drift: where a linked deal and project disagree on a field the hub maps.

The fields compared are those won-to-project writes from the deal (contract
amount as budget, with its currency; account name; deal owner as project
manager, matched by e-mail) and every field the sync handoff keeps in step
(status, dates, percent complete, ...), each only where both mappings read it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from handoff_hub.hub.config.handoffs import SyncConfig
from handoff_hub.hub.mapping.spec import MappingSpec
from handoff_hub.hub.model import Money, Opportunity, Project, json_at, money_text

__all__ = [
    "DealSide",
    "FieldPair",
    "computed_values",
    "custom_pairs",
    "drift_pairs",
    "pair_values",
    "show",
]

OWNER_PAIR = ("owner", "manager")
COMPUTED = frozenset({"percent_complete"})


@dataclass(frozen=True)
class FieldPair:
    """A deal field and a project field that should hold the same value.

    ``direction`` says which side a fix copies from; ``by`` names the handoff
    that owns the pair (won-to-project's pairs are fixed by writing the deal's
    value onto the project, sync's by running sync for the deal).
    """

    crm: str
    pm: str
    direction: str
    by: str

    @property
    def label(self) -> str:
        """``amount -> budget``, as reports name it."""
        return self.crm if self.crm == self.pm else f"{self.crm} / {self.pm}"


def drift_pairs(
    crm_map: MappingSpec, pm_map: MappingSpec, sync: SyncConfig | None
) -> list[FieldPair]:
    """The field pairs to compare, won-to-project's first, each pair once."""
    opp = crm_map.entities["Opportunity"].fields
    project = pm_map.entities["Project"].fields
    pairs: list[FieldPair] = []
    if "amount" in opp and "budget" in project:
        pairs.append(FieldPair("amount", "budget", "crm_to_pm", "won-to-project"))
    if "account.name" in opp and "account.name" in project:
        pairs.append(FieldPair("account.name", "account.name", "crm_to_pm", "won-to-project"))
    if "owner.email" in opp and "manager.ref" in project:
        pairs.append(FieldPair("owner", "manager", "crm_to_pm", "won-to-project"))
    pairs += custom_pairs(crm_map, pm_map)
    seen = {(p.crm, p.pm) for p in pairs}
    for rule in sync.fields if sync else ():
        readable = rule.pm in COMPUTED or rule.pm in project or (rule.crm, rule.pm) == OWNER_PAIR
        if (rule.crm, rule.pm) not in seen and rule.crm in opp and readable:
            pairs.append(FieldPair(rule.crm, rule.pm, rule.direction, "sync"))
            seen.add((rule.crm, rule.pm))
        elif (rule.crm, rule.pm) == OWNER_PAIR and OWNER_PAIR not in seen:
            pairs.append(FieldPair("owner", "manager", rule.direction, "sync"))
            seen.add(OWNER_PAIR)
    return pairs


def custom_pairs(crm_map: MappingSpec, pm_map: MappingSpec) -> list[FieldPair]:
    """The org's own fields that deal and project both read: won-to-project carries them over."""
    deal = crm_map.entities["Opportunity"].custom_rules()
    project = pm_map.entities["Project"].custom_rules()
    return [
        FieldPair(f"custom.{name}", f"custom.{name}", "crm_to_pm", "won-to-project")
        for name, rule in deal.items()
        if rule.reads and name in project and project[name].reads
    ]


@dataclass(frozen=True)
class DealSide:
    """What comparing a won deal with its project needs of the deal, and no more.

    The deals pass keeps one per won deal in the reconcile's index (as compact
    JSON) and the projects pass reads it back: a few plain fields, where the
    whole unified deal would be validated again on every read.
    """

    id: str
    name: str
    close_date: dt.date | None
    amount: Money | None
    owner_email: str | None
    values: Mapping[str, Any]
    """The deal's value of each pair's CRM field, in the JSON form a dump gives."""

    @classmethod
    def of(cls, opp: Opportunity, deal_id: str, pairs: Sequence[FieldPair]) -> DealSide:
        """The side of ``opp`` the ``pairs`` compare."""
        return cls(
            id=deal_id,
            name=opp.name,
            close_date=opp.close_date,
            amount=opp.amount,
            owner_email=opp.owner.email if opp.owner else None,
            values={p.crm: _plain(json_at(opp, p.crm)) for p in pairs if not _by_attributes(p)},
        )

    def to_json(self) -> str:
        """Compact JSON, for the index."""
        money = [str(self.amount.amount), self.amount.currency] if self.amount else None
        day = self.close_date.isoformat() if self.close_date else None
        return _COMPACT.encode([self.id, self.name, day, money, self.owner_email, self.values])

    @classmethod
    def from_json(cls, text: str) -> DealSide:
        """The side :meth:`to_json` wrote."""
        deal_id, name, day, money, email, values = json.loads(text)
        # built without validation: to_json wrote it from a validated Money
        amount = (
            Money.model_construct(amount=Decimal(money[0]), currency=money[1]) if money else None
        )
        close = dt.date.fromisoformat(day) if day else None
        return cls(deal_id, name, close, amount, email, values)


_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _by_attributes(pair: FieldPair) -> bool:
    """Pairs compared through :class:`DealSide`'s own attributes (owner, amount)."""
    return (pair.crm, pair.pm) == OWNER_PAIR or pair.pm == "budget"


def pair_values(
    pair: FieldPair,
    deal: DealSide,
    project: Project,
    *,
    pm_system: str,
    people: Mapping[str, str],
    percent: int | None,
) -> tuple[Any, Any] | None:
    """The deal's and the project's value of a pair, comparable; None when not comparable.

    Amounts compare with their currencies: a budget in another currency than
    the deal's, or of unknown currency, differs. Not comparable: a deal owner who has
    no account in the project tool (the manager cannot be set to them), and an
    account name the deal cannot read (an account hidden by sharing).
    """
    if (pair.crm, pair.pm) == OWNER_PAIR:
        email = deal.owner_email
        want = people.get(email.lower()) if email else None
        if want is None:
            return None
        have = project.manager.ref(pm_system) if project.manager else None
        return want, have
    if pair.pm == "budget":
        return deal.amount, project.budget
    if pair.pm in COMPUTED:
        return computed_values(pair, deal, percent)
    crm_value = deal.values.get(pair.crm)
    if pair.crm == "account.name" and crm_value is None:
        return None  # the deal's account is one the integration user cannot read
    pm_value = _plain(json_at(project, pair.pm))
    if pair.crm.startswith("custom."):
        return _comparable(crm_value), _comparable(pm_value)
    return crm_value, pm_value


def computed_values(pair: FieldPair, deal: DealSide, value: Any) -> tuple[Any, Any]:
    """The deal's value of a computed pair (percent complete) and the project's ``value``."""
    crm_value = deal.values.get(pair.crm)
    if pair.crm.startswith("custom."):
        return _comparable(crm_value), _comparable(value)
    return crm_value, value


def _comparable(value: Any) -> Any:
    """A custom field's value as compared: money by amount and currency, numbers exactly."""
    if isinstance(value, Mapping) and "amount" in value:
        return Money.model_validate(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return value


def show(value: Any) -> str | None:
    """A value as an admin reads it in a report."""
    if value is None:
        return None
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping) and {"amount", "currency"} <= set(value):
        return money_text(value["amount"], value.get("currency"))
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Enum):
        return value.value
    return value
