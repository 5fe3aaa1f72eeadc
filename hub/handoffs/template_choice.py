"""Which template(s) a won deal gets: its projects' slots, and the stamps that find them.

``handoffs.won_to_project.template_rules`` are tried in order; the first whose
``when:`` the deal meets names one template (the deal's one project) or a set
(one project per template: implementation and training). A deal no rule
matches gets ``template:``, the default; without one it is skipped, with the
conditions each rule failed.

Each project is a **slot** of its deal: ``""`` for the deal's one project
(the stamp is the deal's source id, as before sets existed), else the key of
its template, stamped ``<source id>#<template key>``. Every create looks for
its own slot's stamp, so a crash between two creates never makes a second
copy of the first, and a rerun creates only what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from handoff_hub.hub.config.handoffs import WonToProjectConfig
from handoff_hub.hub.handoffs.conditions import Conditions
from handoff_hub.hub.model import Opportunity

__all__ = ["SLOT_MARK", "Slot", "TemplateChoice", "slot_stamp"]

SLOT_MARK = "#"
"""Between a deal's source id and its project's slot in a stamp."""


@dataclass(frozen=True)
class Slot:
    """One project a deal should have: its slot name and template key."""

    name: str
    template: str
    primary: bool = True
    """The first project of the deal's set: its key is written back onto the deal."""


def slot_stamp(source_id: str, slot: str) -> str:
    """The stamp of a deal's project in ``slot``: the source id alone for the deal's one project."""
    return f"{source_id}{SLOT_MARK}{slot}" if slot else source_id


@dataclass(frozen=True)
class _Rule:
    conditions: Conditions
    slots: tuple[Slot, ...]


class TemplateChoice:
    """The rules of a won-to-project section, ready to choose a deal's slots."""

    def __init__(
        self, config: WonToProjectConfig, today: Callable[[], dt.date] | None = None
    ) -> None:
        extra = {"today": today} if today is not None else {}
        self.rules = [
            _Rule(
                Conditions(rule.when, label=f"template_rules[{i}].when", **extra),
                _slots(rule.chosen(), single=rule.template is not None),
            )
            for i, rule in enumerate(config.template_rules)
        ]
        self.default = _slots([config.template], single=True) if config.template else ()

    def choose(self, opp: Opportunity) -> tuple[tuple[Slot, ...], str | None]:
        """The deal's slots, and (when it has none) why no rule matched."""
        reasons: list[str] = []
        for rule in self.rules:
            failed = rule.conditions.failed(opp)
            if failed is None:
                return rule.slots, None
            reasons.append(failed)
        if self.default:
            return self.default, None
        return (), "no template rule matches and there is no default template: " + "; ".join(
            reasons
        )

    def slot_names(self) -> set[str]:
        """Every slot a rule or the default can give (to find projects by any of their stamps)."""
        return {s.name for rule in self.rules for s in rule.slots} | {s.name for s in self.default}

    def template_keys(self) -> list[str]:
        """Every template key the rules and the default name, each once."""
        keys = [s.template for rule in self.rules for s in rule.slots]
        return list(dict.fromkeys([*keys, *(s.template for s in self.default)]))


def _slots(keys: Sequence[str], *, single: bool) -> tuple[Slot, ...]:
    if single:
        return (Slot("", keys[0]),)
    return tuple(Slot(key, key, primary=i == 0) for i, key in enumerate(dict.fromkeys(keys)))
