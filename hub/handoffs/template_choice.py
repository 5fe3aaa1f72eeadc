"""Which template(s) a won deal gets: its projects' slots, and the stamps that find them.

``handoffs.won_to_project.template_rules`` are tried in order; the first whose
``when:`` the deal meets names one template (the deal's one project) or a set
(one project per template: implementation and training). A deal no rule
matches gets ``template:``, the default; without one it is skipped, with the
conditions each rule failed.

A rule with ``per_value:`` names a list-typed field of the deal (the delivery
sites, the product lines): one project per value, each its own slot
``value:<normalised value>`` (lower case, runs of anything but letters and
digits as ``-``), from ``template:`` or the value's own under
``value_templates:``. A deal whose field is empty does not match the rule.
A value added later is one more slot, made on the next run; a value removed
leaves its project, which reconcile reports (more projects than the rules say).

Each project is a **slot** of its deal: ``""`` for the deal's one project
(the stamp is the deal's source id, as before sets existed), else the key of
its template (or ``value:<value>``), stamped ``<source id>#<slot>``. Every
create looks for its own slot's stamp, so a crash between two creates never
makes a second copy of the first, and a rerun creates only what is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from handoff_hub.hub.config.handoffs import TemplateRuleConfig, WonToProjectConfig
from handoff_hub.hub.handoffs.conditions import Conditions
from handoff_hub.hub.model import Opportunity, json_at

__all__ = ["SLOT_MARK", "VALUE_SLOT", "Slot", "TemplateChoice", "slot_stamp", "value_slot"]

SLOT_MARK = "#"
"""Between a deal's source id and its project's slot in a stamp."""
VALUE_SLOT = "value:"
"""How the slot of a per-value project starts (``value:berlin``)."""
MAX_SLOT = 64
"""Longest slot the link store keeps (``links.slot``)."""
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Slot:
    """One project a deal should have: its slot name and template key."""

    name: str
    template: str
    primary: bool = True
    """The first project of the deal's set: its key is written back onto the deal."""
    value: str | None = None
    """A per-value project's value, as the deal holds it (``{{ value }}`` in its name)."""


def value_slot(value: object) -> str:
    """The slot of the project for one value of a per-value field; ``""`` for a blank value.

    At most :data:`MAX_SLOT` characters (the link store's column): a longer value
    keeps its start and ends in a hash of the whole.
    """
    key = _NOT_WORD.sub("-", str(value).strip().casefold()).strip("-")
    room = MAX_SLOT - len(VALUE_SLOT)
    if len(key) > room:
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        key = f"{key[: room - 11]}-{digest}"
    return f"{VALUE_SLOT}{key}" if key else ""


def slot_stamp(source_id: str, slot: str) -> str:
    """The stamp of a deal's project in ``slot``: the source id alone for the deal's one project."""
    return f"{source_id}{SLOT_MARK}{slot}" if slot else source_id


@dataclass(frozen=True)
class _Rule:
    conditions: Conditions
    slots: tuple[Slot, ...]
    per_value: str | None = None
    template: str = ""
    value_templates: Mapping[str, str] = field(default_factory=dict)
    """Slot of a value -> its own template key."""

    def values(self, opp: Opportunity) -> list[tuple[str, str]]:
        """``(slot, value)`` of each distinct value of the deal's per-value field, in order."""
        if self.per_value is None:
            return []
        held = json_at(opp, self.per_value)
        items = held if isinstance(held, list) else [] if held in (None, "") else [held]
        found: dict[str, str] = {}
        for item in items:
            if (slot := value_slot(item)) and slot not in found:
                found[slot] = str(item).strip()
        return list(found.items())

    def value_slots(self, opp: Opportunity) -> tuple[Slot, ...]:
        """One slot per value; the first is the deal's primary project."""
        return tuple(
            Slot(slot, self.value_templates.get(slot, self.template), i == 0, value)
            for i, (slot, value) in enumerate(self.values(opp))
        )


class TemplateChoice:
    """The rules of a won-to-project section, ready to choose a deal's slots."""

    def __init__(
        self, config: WonToProjectConfig, today: Callable[[], dt.date] | None = None
    ) -> None:
        extra = {"today": today} if today is not None else {}
        self.rules = [
            _rule(rule, Conditions(rule.when, label=f"template_rules[{i}].when", **extra))
            for i, rule in enumerate(config.template_rules)
        ]
        self.default = _slots([config.template], single=True) if config.template else ()

    def choose(self, opp: Opportunity) -> tuple[tuple[Slot, ...], str | None]:
        """The deal's slots, and (when it has none) why no rule matched."""
        reasons: list[str] = []
        for i, rule in enumerate(self.rules):
            failed = rule.conditions.failed(opp)
            if failed is None and rule.per_value is not None:
                if slots := rule.value_slots(opp):
                    return slots, None
                failed = f"template_rules[{i}].per_value: {rule.per_value} is empty"
            if failed is None:
                return rule.slots, None
            reasons.append(failed)
        if self.default:
            return self.default, None
        return (), "no template rule matches and there is no default template: " + "; ".join(
            reasons
        )

    def slot_names(self) -> set[str]:
        """Every fixed slot a rule or the default can give (to find projects by their stamps).

        Per-value slots depend on the deal: :meth:`value_slot_names`.
        """
        return {s.name for rule in self.rules for s in rule.slots} | {s.name for s in self.default}

    def has_per_value(self) -> bool:
        """True when a rule makes one project per value."""
        return any(rule.per_value is not None for rule in self.rules)

    def value_slot_names(self, opp: Opportunity) -> set[str]:
        """The per-value slots the deal's values give under any rule, whether it matches or not."""
        return {slot for rule in self.rules for slot, _ in rule.values(opp)}

    def template_keys(self) -> list[str]:
        """Every template key the rules and the default name, each once."""
        keys = [s.template for rule in self.rules for s in rule.slots]
        keys += [k for rule in self.rules for k in (rule.template, *rule.value_templates.values())]
        return list(dict.fromkeys(k for k in [*keys, *(s.template for s in self.default)] if k))


def _rule(rule: TemplateRuleConfig, conditions: Conditions) -> _Rule:
    if rule.per_value is None:
        return _Rule(conditions, _slots(rule.chosen(), single=rule.template is not None))
    return _Rule(
        conditions,
        (),
        per_value=rule.per_value,
        template=rule.template or "",
        value_templates={value_slot(v): key for v, key in rule.value_templates.items()},
    )


def _slots(keys: Sequence[str], *, single: bool) -> tuple[Slot, ...]:
    if single:
        return (Slot("", keys[0]),)
    return tuple(Slot(key, key, primary=i == 0) for i, key in enumerate(dict.fromkeys(keys)))
