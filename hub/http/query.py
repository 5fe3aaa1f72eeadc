"""SOQL and JQL assembly: the only place a query string is built.

Values always pass through :func:`soql_literal` / :func:`jql_literal`, which
quote and escape them so that no field value can change a query's meaning;
field names must match the product's identifier grammar; operators come from
a closed list. Anything else raises :class:`~hub.errors.QueryBuildError`, as do
values no product could hold: a NUL character, an unpaired surrogate.
:func:`search_text` applies the same check to values sent outside SOQL and JQL
(JSON search filters, URL parameters).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handoff_hub.hub.errors import QueryBuildError
from handoff_hub.hub.unicode_text import unpaired_surrogate

__all__ = [
    "Condition",
    "jql",
    "jql_field",
    "jql_literal",
    "search_text",
    "soql",
    "soql_field",
    "soql_like_pattern",
    "soql_literal",
]

_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_JQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What Jira's JQL grammar (CONTROLCHARS) refuses raw inside a quoted string;
# ``\uXXXX`` carries them instead.
_JQL_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
# Used with fullmatch: ``$`` would also accept a trailing newline.
_SOQL_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*")
_JQL_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*|cf\[\d+\]")
_SOQL_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "LIKE"})
_JQL_OPS = frozenset({"=", "!=", "<", "<=", ">", ">=", "~", "!~", "IN", "NOT IN", "IS", "IS NOT"})
_MAX_LITERAL = 100_000


@dataclass(frozen=True)
class Condition:
    """``field op value``; combined with AND."""

    field: str
    op: str
    value: Any


def _escape(value: str, table: dict[str, str]) -> str:
    if len(value) > _MAX_LITERAL:
        raise QueryBuildError(f"value of {len(value)} characters is too long for a query")
    if "\x00" in value:
        raise QueryBuildError("value contains a NUL character")
    return "".join(table.get(ch, ch) for ch in search_text(value))


def search_text(value: str) -> str:
    """A value for a search outside SOQL and JQL (JSON filters, URL parameters).

    Those carry any text, but an unpaired surrogate cannot be encoded as UTF-8
    at all: it is refused here, as the literals refuse it, rather than failing
    deep inside the HTTP client.
    """
    if (surrogate := unpaired_surrogate(value)) is not None:
        code = ord(surrogate)
        raise QueryBuildError(f"value contains an unpaired surrogate (U+{code:04X})")
    return value


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise QueryBuildError(f"{value!r} is not a finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise QueryBuildError(f"{value!r} is not a finite number")
    if isinstance(value, int):
        return str(int(value))  # an IntEnum member renders as its number
    # Plain positional notation: neither language reads ``1e+20`` or ``1E+3``.
    return format(Decimal(repr(value)) if isinstance(value, float) else value, "f")


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise QueryBuildError("datetime in a query must carry a timezone")
    return value.astimezone(dt.UTC)


def soql_literal(value: Any) -> str:
    """A SOQL literal for ``value``: quoted and escaped strings, typed everything else."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, dt.datetime):
        return _utc(value).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + _escape(value, _SOQL_ESCAPES) + "'"
    raise QueryBuildError(f"cannot put a {type(value).__name__} into SOQL")


def soql_like_pattern(text: str, *, prefix: bool = False, suffix: bool = False) -> str:
    """A LIKE literal matching ``text`` literally, with optional ``%`` around it."""
    escaped = _escape(text, _SOQL_ESCAPES).replace("%", "\\%").replace("_", "\\_")
    return "'" + ("%" if prefix else "") + escaped + ("%" if suffix else "") + "'"


def soql_field(name: str) -> str:
    """Check a field or relationship path (``Owner.Email``) against SOQL's grammar."""
    if not isinstance(name, str) or not _SOQL_IDENT.fullmatch(name):
        raise QueryBuildError(f"{name!r} is not a valid SOQL field name")
    return name


def _check_values(op: str, value: Any) -> None:
    # str and bytes are Sequences too, but of characters and ints, not of values.
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence) or not value:
        raise QueryBuildError(f"{op} needs a non-empty list of values")


def _soql_condition(cond: Condition) -> str:
    op = cond.op.upper()
    if op not in _SOQL_OPS:
        raise QueryBuildError(f"operator {cond.op!r} is not allowed in SOQL")
    if op in {"IN", "NOT IN"}:
        _check_values(op, cond.value)
        rendered = "(" + ", ".join(soql_literal(v) for v in cond.value) + ")"
    else:
        rendered = soql_literal(cond.value)
    return f"{soql_field(cond.field)} {op} {rendered}"


def soql(
    fields: Sequence[str],
    sobject: str,
    *,
    where: Sequence[Condition] = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
) -> str:
    """Assemble ``SELECT ... FROM ... WHERE ... ORDER BY ... LIMIT`` safely."""
    if not fields:
        raise QueryBuildError("a SOQL query needs at least one field")
    parts = [
        "SELECT " + ", ".join(soql_field(f) for f in dict.fromkeys(fields)),
        "FROM " + soql_field(sobject),
    ]
    if where:
        parts.append("WHERE " + " AND ".join(_soql_condition(c) for c in where))
    if order_by:
        parts.append("ORDER BY " + ", ".join(_order(o, soql_field) for o in order_by))
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise QueryBuildError(f"LIMIT must be a whole number >= 0, not {limit!r}")
        parts.append(f"LIMIT {int(limit)}")
    return " ".join(parts)


def _order(term: str, check: Any) -> str:
    name, _, direction = term.partition(" ")
    direction = direction.strip().upper() or "ASC"
    if direction not in {"ASC", "DESC"}:
        raise QueryBuildError(f"sort direction {direction!r} is not ASC or DESC")
    return f"{check(name)} {direction}"


def jql_literal(value: Any) -> str:
    r"""A JQL literal: strings in double quotes with backslash escapes.

    Characters Jira's grammar refuses raw in a string (control characters,
    U+FDD0..U+FDEF, U+FFFE, U+FFFF) are written as ``\uXXXX``.
    """
    if isinstance(value, bool):
        return '"true"' if value else '"false"'
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, dt.datetime):
        utc = _utc(value)
        return f'"{_jql_date(utc)} {utc.hour:02d}:{utc.minute:02d}"'
    if isinstance(value, dt.date):
        return '"' + _jql_date(value) + '"'
    if isinstance(value, str):
        escaped = _escape(value, _JQL_ESCAPES)
        return '"' + _JQL_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'
    raise QueryBuildError(f"cannot put a {type(value).__name__} into JQL")


def _jql_date(value: dt.date) -> str:
    # Not strftime: glibc prints year 24 (a typo for 2024) as "24", not "0024".
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def jql_field(name: str) -> str:
    """Check a JQL field name (``project``, ``cf[10050]``)."""
    if not isinstance(name, str) or not _JQL_IDENT.fullmatch(name):
        raise QueryBuildError(f"{name!r} is not a valid JQL field name")
    return name


def _jql_condition(cond: Condition) -> str:
    op = cond.op.upper()
    if op not in _JQL_OPS:
        raise QueryBuildError(f"operator {cond.op!r} is not allowed in JQL")
    if op in {"IS", "IS NOT"}:
        if cond.value is not None:
            raise QueryBuildError(f"{op} only compares with EMPTY (None)")
        return f"{jql_field(cond.field)} {op} EMPTY"
    if op in {"IN", "NOT IN"}:
        _check_values(op, cond.value)
        rendered = "(" + ", ".join(jql_literal(v) for v in cond.value) + ")"
    else:
        rendered = jql_literal(cond.value)
    return f"{jql_field(cond.field)} {op} {rendered}"


def jql(where: Sequence[Condition], *, order_by: Sequence[str] = ()) -> str:
    """Assemble ``cond AND cond ... ORDER BY ...`` safely."""
    text = " AND ".join(_jql_condition(c) for c in where)
    if order_by:
        text += " ORDER BY " + ", ".join(_order(o, jql_field) for o in order_by)
    return text.strip()
