"""Which records a handoff acts on: conditions on unified fields, beyond equality.

A handoff's ``only:`` names unified fields (dotted: ``amount.amount``,
``account.name``) and, for each, a value (equal to it) or comparisons::

    only:
      close_date: {after: 2026-01-01}          # or {within_days: 30}
      amount.amount: {">=": 10000}
      stage: {not: lost}
      account.name: {exists: true}
      type: {in: [New Business, Upsell]}

Every condition must hold. Text compares without regard to case or outer
spaces; dates and times by their calendar date; money by its amount. A record
that does not qualify is skipped with the condition it failed, never dropped
silently: plans and run summaries show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from handoff_hub.hub.model import json_at

__all__ = ["OPERATORS", "Conditions", "condition_problem"]

Today = Callable[[], dt.date]

OPERATORS = (
    "eq",
    "not",
    "in",
    "not_in",
    ">",
    ">=",
    "<",
    "<=",
    "exists",
    "after",
    "before",
    "within_days",
)
"""The comparisons a condition may use."""


def condition_problem(spec: Any) -> str | None:
    """Why a field's condition is not one the hub understands; None when it is."""
    if not isinstance(spec, Mapping):
        return None
    unknown = [str(k) for k in spec if k not in OPERATORS]
    if unknown:
        return f"unknown comparison {', '.join(unknown)} (known: {', '.join(OPERATORS)})"
    for key in ("in", "not_in"):
        if key in spec and not isinstance(spec[key], list):
            return f"{key} takes a list"
    if "exists" in spec and not isinstance(spec["exists"], bool):
        return "exists takes true or false"
    for key in ("after", "before"):
        if key in spec and _date(spec[key]) is None:
            return f"{key} takes a date (YYYY-MM-DD)"
    if "within_days" in spec and not _is_count(spec["within_days"]):
        return "within_days takes a whole number of days"
    return None


@dataclass(frozen=True)
class Conditions:
    """The ``only:`` of a handoff, ready to test unified entities."""

    fields: Mapping[str, Any]
    today: Today = lambda: dt.datetime.now(dt.UTC).date()
    label: str = "only"
    """How a failed condition's reason starts (``only``, ``template_rules[0].when``)."""

    def failed(self, entity: Any) -> str | None:
        """The first condition ``entity`` fails, as an admin reads it; None when all hold."""
        for path, spec in self.fields.items():
            value = _plain(json_at(entity, path))
            wanted = spec if isinstance(spec, Mapping) else {"eq": spec}
            for op, arg in wanted.items():
                if not _holds(op, value, arg, self.today):
                    return f"{self.label}: {path} {op} {_show(arg)} (it is {_show(value)})"
        return None

    def split(self, entities: Sequence[Any]) -> tuple[list[Any], list[tuple[Any, str]]]:
        """The entities that qualify, and each other one with the condition it failed."""
        kept: list[Any] = []
        skipped: list[tuple[Any, str]] = []
        for entity in entities:
            reason = self.failed(entity)
            if reason is None:
                kept.append(entity)
            else:
                skipped.append((entity, reason))
        return kept, skipped


def _holds(op: str, value: Any, arg: Any, today: Today) -> bool:
    if op == "exists":
        return (value is not None) is bool(arg)
    if op in ("eq", "not"):
        return _same(value, arg) is (op == "eq")
    if op in ("in", "not_in"):
        return any(_same(value, a) for a in arg) is (op == "in")
    if value is None:
        return False
    if op in ("after", "before", "within_days"):
        return _date_holds(op, _date(value), arg, today)
    return _compare(op, value, arg)


def _date_holds(op: str, day: dt.date | None, arg: Any, today: Today) -> bool:
    if day is None:
        return False
    if op == "within_days":
        return today() - dt.timedelta(days=int(arg)) <= day <= today()
    bound = _date(arg)
    return bound is not None and (day > bound if op == "after" else day < bound)


def _compare(op: str, value: Any, arg: Any) -> bool:
    left, right = _number(value), _number(arg)
    if left is None or right is None:
        left_day, right_day = _date(value), _date(arg)
        if left_day is None or right_day is None:
            return False
        return _ORDER[op](left_day, right_day)
    return _ORDER[op](left, right)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping) and "amount" in value:
        return value["amount"]  # money compares by its amount
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _same(value: Any, wanted: Any) -> bool:
    if value is None or wanted is None:
        return value is None and wanted is None
    left, right = _number(value), _number(wanted)
    if left is not None and right is not None and not isinstance(value, bool):
        return left == right
    return str(value).strip().casefold() == str(wanted).strip().casefold()


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _show(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)
