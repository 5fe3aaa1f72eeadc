"""Run a parsed SOQL query against the sandbox's records.

Fields resolve case-insensitively against the org's describe metadata, across
relationships (``Account.Owner.Email``); filter values are type-checked as
Salesforce does (``INVALID_FIELD``). Text compares case-insensitively, ids by
their 15-character key, and ``!=`` / ``NOT IN`` match nulls, as in SOQL.
Records sharing hides from the integration user are not there: not as rows,
and a relationship to one reads as null although its id field holds the id.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handoff_hub.sandboxes.salesforce.org import OrgSchema
from handoff_hub.sandboxes.salesforce.rules import ID_PATTERN, normalise_text
from handoff_hub.sandboxes.salesforce.schema import FieldDef, ObjectDef, kind_of
from handoff_hub.sandboxes.salesforce.soql import (
    Comparison,
    Expr,
    Literal,
    Logical,
    Negation,
    Query,
    SoqlError,
    like_pattern,
    parse,
    parse_datetime,
)
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = ["attributes", "run_query"]

Record = Mapping[str, Any]
Matcher = Callable[[Record], bool]
_SOAP_WORDS = {"number": "double", "boolean": "boolean", "date": "date", "datetime": "dateTime"}


@dataclass(frozen=True)
class _Path:
    hops: tuple[FieldDef, ...]
    leaf: FieldDef


def attributes(object_name: str, record_id: str, version: str) -> dict[str, str]:
    """The ``attributes`` block every record in a response carries."""
    url = f"/services/data/v{version}/sobjects/{object_name}/{record_id}"
    return {"type": object_name, "url": url}


def run_query(
    text: str, store: RecordStore, version: str, *, include_deleted: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Execute SOQL; return the projected records and the total count.

    ``include_deleted`` (queryAll) adds the records in the recycle bin.

    Raises:
        SoqlError: MALFORMED_QUERY, INVALID_TYPE, INVALID_FIELD or INVALID_QUERY_FILTER_OPERATOR.
    """
    query = parse(text)
    try:
        return _run(query, store, version, include_deleted=include_deleted)
    except SoqlError as exc:
        raise _located(exc, text) from None


def _run(
    query: Query, store: RecordStore, version: str, *, include_deleted: bool
) -> tuple[list[dict[str, Any]], int]:
    schema = store.schema
    obj = schema.find(query.sobject)
    if obj is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a"
            " custom object, be sure to append the '__c' after the entity name. Please reference"
            " your WSDL or the describe call for the appropriate names.",
        )
    paths = [_resolve(schema, obj, name) for name in query.fields]
    matcher = _compile(obj, query.where, store) if query.where else None
    table = store.visible(obj.name) + (store.recycled(obj.name) if include_deleted else [])
    rows: list[Record] = [r for r in table if matcher is None or matcher(r)]
    rows = _ordered(obj, query, rows, store)
    rows = rows[query.offset or 0 :]
    rows = rows[: query.limit] if query.limit is not None else rows
    if query.count_only:
        return [], len(rows)
    return [_project(obj, row, paths, store, version) for row in rows], len(rows)


def _located(error: SoqlError, text: str) -> SoqlError:
    r"""The error with Salesforce's pointer into the query: the line, a caret, the column.

    ``\nSELECT Id, Nope FROM Account\n           ^\nERROR at Row:1:Column:12\n<message>``;
    a long query is shown as the stretch around the error.
    """
    if error.near is None:
        return error
    match = re.search(rf"(?<![\w.]){re.escape(error.near)}(?![\w.])", text, re.IGNORECASE)
    if match is None:
        return error
    row = text.count("\n", 0, match.start()) + 1
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.start())
    line = text[line_start : len(text) if line_end < 0 else line_end]
    column = match.start() - line_start
    first = max(0, column - 60)
    shown = line[first : column + 60]
    pointer = " " * (column - first) + "^"
    message = f"\n{shown}\n{pointer}\nERROR at Row:{row}:Column:{column + 1}\n{error.message}"
    return SoqlError(error.code, message)


def _resolve(schema: OrgSchema, obj: ObjectDef, dotted: str) -> _Path:
    *relations, leaf_name = dotted.split(".")
    candidates = [obj]
    hops = []
    for relation in relations:
        hop = next((h for o in candidates if (h := o.relationship(relation))), None)
        if hop is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{relation}' in field path. If you are"
                " attempting to use a custom relationship, be sure to append the '__r' after the"
                " custom relationship name. Please reference your WSDL or the describe call for"
                " the appropriate names.",
                near=dotted,
            )
        hops.append(hop)
        candidates = [schema.object(name) for name in hop.reference_to]
    leaf = next((f for o in candidates if (f := o.field(leaf_name))), None)
    if leaf is None:
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{leaf_name}' on entity '{candidates[0].name}'. If you are"
            " attempting to use a custom field, be sure to append the '__c' after the custom"
            " field name. Please reference your WSDL or the describe call for the appropriate"
            " names.",
            near=dotted,
        )
    return _Path(tuple(hops), leaf)


def _value(path: _Path, record: Record, store: RecordStore) -> Any:
    current: Record | None = record
    for hop in path.hops:
        found = store.readable(current.get(hop.name)) if current is not None else None
        current = found[1] if found else None
    return None if current is None else current.get(path.leaf.name)


def _comparable(field: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    kind = kind_of(field)
    if kind == "string":
        return normalise_text(field, str(value))
    if kind == "number":
        return Decimal(str(value))
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if kind == "datetime":
        return value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    return bool(value)


def _check_literal(field: FieldDef, literal: Literal) -> None:
    kind = kind_of(field)
    is_id = field.type in {"id", "reference"} and literal.kind == "string"
    if is_id and not ID_PATTERN.match(str(literal.value)):
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {literal.value}")
    if literal.kind in {"null", kind}:
        return
    if kind == "string":
        wanted = "must be of type string and should be enclosed in quotes"
    else:
        word = _SOAP_WORDS.get(kind, kind)
        wanted = f"must be of type {word} and should not be enclosed in quotes"
    raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{field.name}' {wanted}")


def _compile(obj: ObjectDef, expr: Expr, store: RecordStore) -> Matcher:
    if isinstance(expr, Logical):
        parts = [_compile(obj, item, store) for item in expr.items]
        if expr.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(expr, Negation):
        inner = _compile(obj, expr.item, store)
        return lambda r: not inner(r)
    return _compile_comparison(obj, expr, store)


def _compile_comparison(obj: ObjectDef, cmp: Comparison, store: RecordStore) -> Matcher:
    path = _resolve(store.schema, obj, cmp.field)
    field = path.leaf
    if field.type == "textarea":
        raise SoqlError(
            "INVALID_FIELD", f"field '{field.name}' can not be filtered in a query call"
        )
    for literal in cmp.values:
        _check_literal(field, literal)
    if cmp.op == "LIKE":
        if kind_of(field) != "string":
            raise SoqlError("INVALID_FIELD", f"invalid operator on field '{field.name}': LIKE")
        pattern = like_pattern(cmp.values[0].raw)
        return lambda r: isinstance(v := _value(path, r, store), str) and bool(pattern.fullmatch(v))
    wanted = [_comparable(field, lit.value) for lit in cmp.values]
    test = _OPERATORS[cmp.op]
    return lambda r: test(_comparable(field, _value(path, r, store)), wanted)


def _ordering(a: Any, b: Any, check: Callable[[Any, Any], bool]) -> bool:
    return a is not None and b is not None and check(a, b)


_OPERATORS: dict[str, Callable[[Any, list[Any]], bool]] = {
    "=": lambda v, w: v == w[0],
    "!=": lambda v, w: v != w[0],
    "<": lambda v, w: _ordering(v, w[0], lambda a, b: a < b),
    "<=": lambda v, w: _ordering(v, w[0], lambda a, b: a <= b),
    ">": lambda v, w: _ordering(v, w[0], lambda a, b: a > b),
    ">=": lambda v, w: _ordering(v, w[0], lambda a, b: a >= b),
    "IN": lambda v, w: v is not None and v in w,
    "NOT IN": lambda v, w: v not in w,
}


def _ordered(obj: ObjectDef, query: Query, rows: list[Record], store: RecordStore) -> list[Record]:
    for term in reversed(query.order_by):
        path = _resolve(store.schema, obj, term.field)

        def key(row: Record, path: _Path = path) -> Any:
            return _comparable(path.leaf, _value(path, row, store))

        nulls = [r for r in rows if key(r) is None]
        values = sorted((r for r in rows if key(r) is not None), key=key, reverse=term.descending)
        rows = values + nulls if term.nulls_last else nulls + values
    return rows


def _project(
    obj: ObjectDef, record: Record, paths: list[_Path], store: RecordStore, version: str
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": attributes(obj.name, record["Id"], version)}
    for path in paths:
        target: dict[str, Any] | None = out
        current: Record = record
        for hop in path.hops:
            found = store.readable(current.get(hop.name))
            assert hop.relationship is not None and target is not None
            if found is None:
                target.setdefault(hop.relationship, None)
                target = None
                break
            nested = target.get(hop.relationship)
            if nested is None:
                nested = {"attributes": attributes(found[0], found[1]["Id"], version)}
                target[hop.relationship] = nested
            target, current = nested, found[1]
        if target is not None:
            target[path.leaf.name] = current.get(path.leaf.name)
    return out
