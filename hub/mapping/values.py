"""Value conversions of the mapping engine: product values <-> unified values.

Readers turn what an API sent (``"1200.50"``, ``"2026-11-20T10:15:00.000+0000"``)
into the unified kinds (Decimal, aware UTC datetime, date, bool...); writers turn
unified values back into JSON-safe product values (Decimal -> float for
``number``, str for ``decimal``, dates as ISO text). Failures raise
:class:`ValueProblem`, which the engine turns into a field-level error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from pydantic import BaseModel

from handoff_hub.hub.errors import MappingError

__all__ = [
    "ValueProblem",
    "convert",
    "converter",
    "json_safe",
    "map_key",
    "money_parts",
    "parse_date",
    "parse_datetime",
    "product_value",
    "to_decimal",
]

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class ValueProblem(MappingError):
    """A value does not convert; the engine adds the field and the product path."""

    def __init__(self, reason: str, value: Any = None) -> None:
        self.reason = reason
        self.value = value
        super().__init__(reason)


def convert(kind: str | None, value: Any) -> Any:
    """``value`` as the unified ``kind`` (unchanged when kind is None or money).

    Raises:
        ValueProblem: The value does not fit the kind.
    """
    func = _CONVERTERS.get(kind or "")
    return value if func is None else func(value)


def converter(kind: str | None) -> Callable[[Any], Any] | None:
    """The function :func:`convert` applies for ``kind``; None when it keeps the value."""
    return _CONVERTERS.get(kind or "")


def _string(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (Mapping, list, tuple)):
        raise ValueProblem("expected text, got a structure", value)
    return str(value)


def _integer(value: Any) -> int:
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise ValueProblem("expected a whole number", value)
    return int(number)


def _number(value: Any) -> float:
    return float(to_decimal(value))


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from a number or numeric text (never a bool).

    Raises:
        ValueProblem: Not a finite number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueProblem("expected a number", value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueProblem("expected a number", value) from None
    if not number.is_finite():
        raise ValueProblem("expected a finite number", value)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueProblem("expected true or false", value)


def _email(value: Any) -> str:
    """A person as a custom ``user`` field holds them: their e-mail address, lower case."""
    text = _string(value).strip().lower()
    if text.count("@") != 1 or text.startswith("@") or text.endswith("@") or " " in text:
        raise ValueProblem("expected an e-mail address (user fields match people by e-mail)", value)
    return text


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def parse_datetime(value: Any) -> dt.datetime:
    """An aware UTC datetime from a datetime, an ISO date, or an ISO datetime with offset.

    Salesforce and Jira send ``2026-11-20T10:15:00.000+0000``; ``Z`` and
    ``+00:00`` work too. A date alone is midnight UTC; a time without an offset
    is refused (it would be a guess).

    Raises:
        MappingError: The value is not such a date or datetime.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif isinstance(value, str):
        parsed = _iso_datetime(value.strip())
    else:
        raise ValueProblem("expected an ISO 8601 datetime", value)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueProblem("datetime has no timezone offset", value)
    return parsed.astimezone(dt.UTC)


def parse_date(value: Any) -> dt.date:
    """A date from a date, an ISO date (``2026-11-20``) or an ISO datetime (its UTC date).

    Raises:
        MappingError: The value is not a date.
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            parsed = _iso_datetime(value.strip())
            return parsed.astimezone(dt.UTC).date() if parsed.tzinfo else parsed.date()
    raise ValueProblem("expected an ISO 8601 date", value)


def _iso_datetime(text: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueProblem("expected an ISO 8601 date or datetime", text) from None
    if len(text) == 10:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed


def product_value(kind: str | None, value: Any) -> Any:
    """A unified value as the JSON-safe product value of ``kind``.

    Raises:
        ValueProblem: The value does not fit the kind.
    """
    if kind == "money":
        return float(money_parts(value)[0])
    if kind in {"number", "decimal"} and _is_money(value):
        value = money_parts(value)[0]
    if kind == "number":
        return float(to_decimal(value))
    if kind == "decimal":
        return str(to_decimal(value))
    if kind in {"date", "datetime"}:
        return convert(kind, value).isoformat()
    if kind is None or kind == "list":
        return json_safe(convert(kind, value) if kind else value)
    return convert(kind, value)


def money_parts(value: Any) -> tuple[Decimal, str | None]:
    """Amount and currency of a Money, a money dict or a bare number (no currency)."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping) and "amount" in value:
        currency = value.get("currency")
        return to_decimal(value["amount"]), None if currency is None else str(currency)
    return to_decimal(value), None


def _is_money(value: Any) -> bool:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    return isinstance(value, Mapping) and "amount" in value


def json_safe(value: Any) -> Any:
    """A value with enums, Decimals, dates and models turned into JSON types."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def map_key(value: Any) -> str:
    """The text a value is looked up by in a value map (``true``, ``won``, ``42``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "decimal": to_decimal,
    "boolean": _boolean,
    "date": parse_date,
    "datetime": parse_datetime,
    "list": _list,
    "enum": _string,
    "user": _email,
}
