"""Helpers for a connector's pre-flight: collecting findings, fields, rate-limit headroom."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from handoff_hub.hub.connector import CheckResult, CheckStatus, FieldNeed

__all__ = ["HEADROOM_WARNING", "Findings", "field_label", "type_fits"]

HEADROOM_WARNING = 0.2
"""Below this share of the rate-limit allocation left, a run may be throttled."""

_COMPATIBLE: dict[str, frozenset[str]] = {
    "money": frozenset({"number", "currency", "double", "int", "integer", "percent"}),
    "number": frozenset({"number", "currency", "double", "int", "integer", "percent"}),
    "integer": frozenset({"number", "double", "int", "integer", "percent"}),
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime", "date"}),
    "boolean": frozenset({"boolean", "bool", "enumeration", "checkbox"}),
}


def type_fits(rule_type: str | None, product_kind: str) -> bool:
    """Whether a product field of kind ``product_kind`` can carry a mapping rule's ``type``.

    ``product_kind`` is the product's own word (Salesforce describe ``type``,
    HubSpot property ``type``, Jira schema ``type``), lower case. A string rule
    fits any field (the product converts or refuses the value, which the run
    reports per record).
    """
    allowed = _COMPATIBLE.get(rule_type or "string")
    return allowed is None or product_kind.lower() in allowed


def field_label(need: FieldNeed) -> str:
    """``Opportunity.Delivery_Project__c (entity Opportunity, written)``."""
    how = "written" if need.write else "read"
    return f"{need.object}.{need.path} (entity {need.entity}, {how})"


@dataclass
class Findings:
    """The findings of one system's pre-flight, in the order found."""

    system: str
    results: list[CheckResult] = field(default_factory=list)

    def add(self, check: str, status: CheckStatus, detail: str, handoff: str | None = None) -> None:
        """One finding."""
        self.results.append(CheckResult(self.system, check, status, detail, handoff))

    def ok(self, check: str, detail: str, handoff: str | None = None) -> None:
        """Nothing will fail here."""
        self.add(check, CheckStatus.OK, detail, handoff)

    def warn(self, check: str, detail: str, handoff: str | None = None) -> None:
        """The hub copes, but the admin should know (an optional field left out...)."""
        self.add(check, CheckStatus.WARNING, detail, handoff)

    def problem(self, check: str, detail: str, handoff: str | None = None) -> None:
        """A run will fail, or do less than configured."""
        self.add(check, CheckStatus.PROBLEM, detail, handoff)

    def fields(self, needs: Iterable[FieldNeed], missing: dict[FieldNeed, str]) -> None:
        """One finding per missing field (a problem where needed), or one all-clear."""
        checked = list(needs)
        for need, why in missing.items():
            detail = f"{field_label(need)}: {why}"
            if need.needed:
                self.problem("fields", detail)
            else:
                self.warn("fields", detail + "; the hub leaves this rule out")
        if not missing:
            self.ok("fields", f"all {len(checked)} mapped fields exist with a compatible type")

    def headroom(self, what: str, remaining: int | None, limit: int | None) -> None:
        """The rate-limit allocation left, a warning when little is."""
        if remaining is None:
            self.ok("rate limit", f"{what}: the product sent no allocation to measure")
            return
        if limit:
            share = remaining / limit
            detail = f"{what}: {remaining} of {limit} left ({share:.0%})"
            if share < HEADROOM_WARNING:
                self.warn("rate limit", detail + "; runs may be throttled")
            else:
                self.ok("rate limit", detail)
            return
        self.ok("rate limit", f"{what}: {remaining} left")
