"""Property values on write: HubSpot's checks and its text forms.

HubSpot stores every property value as text: numbers as written
(``12500.5``), booleans ``true``/``false``, datetimes as ISO 8601 in UTC with
milliseconds, dates ``YYYY-MM-DD``. An empty string clears a value. Unknown
properties, read-only ones, values outside an enumeration's options and
unreadable numbers or dates are refused with HubSpot's error codes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from handoff_hub.sandboxes.hubspot.errors import PropertyProblem
from handoff_hub.sandboxes.hubspot.schema import ObjectDef, PropertyDef

__all__ = ["check_values", "format_datetime", "moment_ms", "parse_moment", "sort_key"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def format_datetime(value: dt.datetime) -> str:
    """``2026-11-20T10:15:00.123Z``, the form HubSpot returns datetimes in."""
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@lru_cache(maxsize=65_536)
def parse_moment(text: str) -> dt.datetime:
    """Epoch milliseconds, an ISO datetime (offset required unless a date) or an ISO date.

    Raises:
        ValueError: none of those.
    """
    text = text.strip()
    if text.lstrip("-").isdigit():
        return _EPOCH + dt.timedelta(milliseconds=int(text))
    parsed = dt.datetime.fromisoformat(text)
    if len(text) == 10:
        return parsed.replace(tzinfo=dt.UTC)
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return parsed.astimezone(dt.UTC)


@lru_cache(maxsize=65_536)
def moment_ms(text: str) -> int:
    """Epoch milliseconds of a datetime or date value (cached: searches compare many).

    Raises:
        ValueError: not a datetime or date.
    """
    return (parse_moment(text) - _EPOCH) // dt.timedelta(milliseconds=1)


def check_values(
    obj: ObjectDef, values: Mapping[str, Any], *, owners: Collection[str]
) -> tuple[dict[str, str | None], list[PropertyProblem]]:
    """Clean property values for a write; every refused value is listed."""
    clean: dict[str, str | None] = {}
    problems: list[PropertyProblem] = []
    for name, value in values.items():
        spec = obj.prop(str(name))
        if spec is None:
            problems.append(
                PropertyProblem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
            )
            continue
        if spec.read_only:
            problems.append(
                PropertyProblem(
                    name,
                    "READ_ONLY_VALUE",
                    f'"{name}" is a read only property; its value cannot be set.',
                )
            )
            continue
        outcome = _clean(spec, value, owners)
        if isinstance(outcome, PropertyProblem):
            problems.append(outcome)
        else:
            clean[spec.name] = outcome
    return clean, problems


def _clean(spec: PropertyDef, value: Any, owners: Collection[str]) -> str | PropertyProblem | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping | list):
        return PropertyProblem(spec.name, "INVALID_VALUE", f"{value!r} is not a property value")
    text = ("true" if value else "false") if isinstance(value, bool) else str(value).strip()
    cleaner = {
        "number": _number,
        "bool": _bool,
        "datetime": _datetime,
        "date": _date,
        "enumeration": _enumeration,
    }.get(spec.type)
    if cleaner is None:
        return text
    return cleaner(spec, text, owners)


def _number(spec: PropertyDef, text: str, _owners: Collection[str]) -> str | PropertyProblem:
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        return PropertyProblem(spec.name, "INVALID_FLOAT", f'"{text}" was not a valid number.')
    return format(number.normalize(), "f")


def _bool(spec: PropertyDef, text: str, _owners: Collection[str]) -> str | PropertyProblem:
    if text.lower() in {"true", "false"}:
        return text.lower()
    return PropertyProblem(spec.name, "INVALID_BOOLEAN", f'"{text}" is not a valid boolean.')


def _datetime(spec: PropertyDef, text: str, _owners: Collection[str]) -> str | PropertyProblem:
    try:
        return format_datetime(parse_moment(text))
    except (ValueError, OverflowError):
        return PropertyProblem(
            spec.name, "INVALID_DATE", f'"{text}" is not a valid datetime (ISO 8601 or epoch ms).'
        )


def _date(spec: PropertyDef, text: str, _owners: Collection[str]) -> str | PropertyProblem:
    try:
        moment = parse_moment(text)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or moment.time() != dt.time(0):
        return PropertyProblem(
            spec.name, "INVALID_DATE", f'"{text}" is not a valid date (midnight UTC).'
        )
    return moment.date().isoformat()


def _enumeration(spec: PropertyDef, text: str, owners: Collection[str]) -> str | PropertyProblem:
    if spec.external_options:
        if text in owners:
            return text
        return PropertyProblem(spec.name, "INVALID_OWNER_ID", f'"{text}" is not a valid owner id')
    allowed = [value for _, value in spec.options]
    chosen = text.split(";") if spec.field_type == "checkbox" else [text]
    wrong = next((v for v in chosen if v not in allowed), None)
    if wrong is None:
        return text
    return PropertyProblem(
        spec.name,
        "INVALID_OPTION",
        f'"{wrong}" was not one of the allowed options: [{", ".join(allowed)}]',
    )


def sort_key(spec: PropertyDef | None, text: str | None) -> tuple[int, Any]:
    """A comparable key for a stored value: numbers and datetimes by value, text folded.

    No value (None, or ``""`` where a portal keeps cleared values so) sorts last.
    """
    if not text:
        return (1, "")
    if spec is not None and spec.type == "number":
        try:
            return (0, Decimal(text))
        except InvalidOperation:
            return (0, Decimal(0))
    if spec is not None and spec.type in {"datetime", "date"}:
        try:
            return (0, moment_ms(text))
        except ValueError:
            return (0, 0)
    return (0, text.casefold())
