"""Evaluate a parsed JQL query against the sandbox's issues, with Jira's rules.

Values are compared as data, never re-parsed: a literal is one value whatever
characters it holds. As in Jira: ``=``/``!=``/``IN``/``NOT IN`` never match an
empty field (use ``IS EMPTY``); text fields take only ``~``, ``!~``, ``IS`` and
``IS NOT``; an unknown project, issue type, status, user, option or issue key
is an error; date literals are read in the searching user's time zone; a query
without any condition is refused (``/search/jql`` allows only bounded queries).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from handoff_hub.sandboxes.jira.data import PRIORITIES, FieldDef, Issue
from handoff_hub.sandboxes.jira.index import IssueIndex
from handoff_hub.sandboxes.jira.jql import (
    And,
    Clause,
    EmptyValue,
    FunctionCall,
    JqlError,
    ListValue,
    Literal,
    Node,
    Not,
    Or,
    Sort,
    TextQuery,
    TextTerm,
    parse,
    parse_text,
)
from handoff_hub.sandboxes.jira.store import JiraStore

__all__ = ["adf_text", "search"]

Predicate = Callable[[Issue], bool]
_ALIASES = {
    "issuekey": "key",
    "issue": "key",
    "id": "key",
    "type": "issuetype",
    "due": "duedate",
    "createddate": "created",
    "updateddate": "updated",
}
_EQUALITY = frozenset({"=", "!=", "IN", "NOT IN", "IS", "IS NOT"})
_ORDERING = frozenset({">", ">=", "<", "<="})
_TEXT = frozenset({"~", "!~", "IS", "IS NOT"})
_OPS: dict[str, frozenset[str]] = {
    "key": _EQUALITY | _ORDERING,
    "text": _TEXT,
    "adf": _TEXT,
    "fulltext": frozenset({"~", "!~"}),
    "datetime": _EQUALITY | _ORDERING,
    "date": _EQUALITY | _ORDERING,
    "number": _EQUALITY | _ORDERING,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([+-]?)((?:\d+[wdhm]\s*)+)$", re.IGNORECASE)
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_PRIORITY_RANK = {p.lower(): n for n, p in enumerate(reversed(PRIORITIES))}
_MAX_ORDER_TERMS = 7
_UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)


@dataclass(frozen=True)
class _Field:
    name: str  # as written in the query
    kind: str
    definition: FieldDef | None = None


@dataclass(frozen=True)
class _Context:
    store: JiraStore
    zone: ZoneInfo
    now: dt.datetime


def search(store: JiraStore, text: str, *, zone: str) -> list[Issue]:
    """The issues matching ``text`` in its ORDER BY order.

    Raises:
        JqlError: for a malformed, unbounded or invalid query (Jira's 400 messages).
    """
    query = parse(text)
    if query.where is None:
        raise JqlError(_UNBOUNDED)
    if len(query.order_by) > _MAX_ORDER_TERMS:
        raise JqlError(f"The ORDER BY clause can contain at most {_MAX_ORDER_TERMS} fields.")
    context = _Context(store, ZoneInfo(zone), store.clock().astimezone(dt.UTC))
    predicate = _node(query.where, context)
    found = [issue for issue in _candidates(query.where, context) if predicate(issue)]
    order = query.order_by or (Sort("created", descending=True),)
    return _sorted(found, order, context)


def _candidates(where: Node, context: _Context) -> Iterable[Issue]:
    """Every issue the query can match: all, or those the store's index names.

    A top-level clause ``parent``/``project``/``issuetype``/``labels`` ``=`` or ``IN``
    names them. Only narrows: the caller still evaluates the whole query on each candidate.
    """
    best: set[int] | frozenset[int] | None = None
    for clause in _conjuncts(where):
        keys = _indexed(clause, context)
        if keys is not None and (best is None or len(keys) < len(best)):
            best = keys
    issues = context.store.issues
    return issues.values() if best is None else issues.lookup(best)


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, And):
        for item in node.items:
            yield from _conjuncts(item)
    else:
        yield node


_INDEX_LOOKUPS: dict[tuple[str, str], Callable[[IssueIndex, Any], frozenset[int] | set[int]]] = {
    ("parent", "parent"): IssueIndex.children,
    ("project", "project"): IssueIndex.in_project,
    ("issuetype", "issuetype"): IssueIndex.of_type,
    ("labels", "labels"): IssueIndex.labelled,
}
"""The store's lookup for each indexed (field, kind) of a ``=``/``IN`` clause."""


def _indexed(node: Node, context: _Context) -> set[int] | frozenset[int] | None:
    """Keys of the issues an indexed field's ``=``/``IN`` clause can match, else None."""
    if not isinstance(node, Clause) or node.op not in {"=", "IN"}:
        return None
    operand = node.operand
    items = operand.items if isinstance(operand, ListValue) else (operand,)
    if not items or not all(isinstance(item, Literal) for item in items):
        return None
    field = _field(node.field, context.store)
    name = field.definition.id if field.definition else ""
    lookup = _INDEX_LOOKUPS.get((name, field.kind))
    if lookup is None:
        return None
    index = context.store.issues.index
    targets = {_value(item, field, context, node.op) for item in items if isinstance(item, Literal)}
    found = [lookup(index, t) for t in targets]
    return found[0] if len(found) == 1 else frozenset().union(*found)


def _node(node: Node, context: _Context) -> Predicate:
    if isinstance(node, Clause):
        return _clause(node, context)
    if isinstance(node, Not):
        inner = _node(node.item, context)
        return lambda issue: not inner(issue)
    parts = [_node(item, context) for item in node.items]
    if isinstance(node, And):
        return lambda issue: all(p(issue) for p in parts)
    assert isinstance(node, Or)
    return lambda issue: any(p(issue) for p in parts)


def _field(name: str, store: JiraStore) -> _Field:
    plain = _ALIASES.get(name.lower(), name.lower())
    if plain in {"key", "text"}:
        return _Field(name, "key" if plain == "key" else "fulltext")
    definition = store.field(name)
    if definition is None:
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
    return _Field(name, definition.kind, definition)


def _clause(clause: Clause, context: _Context) -> Predicate:
    field = _field(clause.field, context.store)
    allowed = _OPS.get(field.kind, _EQUALITY)
    if clause.op not in allowed:
        raise JqlError(f"The operator '{clause.op}' is not supported by the '{field.name}' field.")
    values = _getter(field, context)
    if clause.op in {"IS", "IS NOT"}:
        if not isinstance(clause.operand, EmptyValue):
            raise JqlError(f"The operator '{clause.op}' only supports EMPTY and NULL.")
        wanted = clause.op == "IS NOT"
        return lambda issue: bool(values(issue)) == wanted
    if isinstance(clause.operand, EmptyValue):
        return _empty_comparison(clause, values)
    if clause.op in {"~", "!~"}:
        return _text_clause(clause, values)
    targets = _targets(clause, field, context)
    if field.kind in {"datetime", "date"} and clause.op in _EQUALITY:
        exact = values  # JQL dates name a minute: = matches any time within it

        def values(issue: Issue) -> list[Any]:
            return [v.replace(second=0, microsecond=0) for v in exact(issue)]

    return _comparison(clause.op, targets, values)


def _empty_comparison(clause: Clause, values: Callable[[Issue], list[Any]]) -> Predicate:
    if clause.op not in {"=", "!="}:
        raise JqlError(f"The operator '{clause.op}' does not support the EMPTY value.")
    wanted = clause.op == "!="
    return lambda issue: bool(values(issue)) == wanted


def _text_clause(clause: Clause, values: Callable[[Issue], list[Any]]) -> Predicate:
    if not isinstance(clause.operand, Literal):
        raise JqlError(f"The operator '{clause.op}' does not support a list of values.")
    query = parse_text(clause.operand.text, clause.field)
    if clause.op == "~":
        return lambda issue: any(_text_match(query, str(v).lower()) for v in values(issue))
    return lambda issue: (
        bool(values(issue)) and not any(_text_match(query, str(v).lower()) for v in values(issue))
    )


def _text_match(query: TextQuery, text: str) -> bool:
    """Some group of the query holds: its words and phrases in ``text``, its exclusions not.

    Words match as substrings (``*``/``?`` as wildcards), which stands in for
    Jira's stemming; a group of exclusions alone matches nothing, as in Lucene.
    """
    return any(
        any(not c.excluded for c in group)
        and all(_text_item(c.item, text) != c.excluded for c in group)
        for group in query.groups
    )


def _text_item(item: TextTerm | TextQuery, text: str) -> bool:
    if isinstance(item, TextQuery):
        return _text_match(item, text)
    if item.phrase:
        return " ".join(item.text.lower().split()) in " ".join(text.split())
    pattern = "".join(
        (r"\S*" if c == "*" else r"\S") if c in "*?" and not escaped else re.escape(c.lower())
        for c, escaped in item.chars
    )
    return re.search(pattern, text) is not None


def _comparison(op: str, targets: list[Any], values: Callable[[Issue], list[Any]]) -> Predicate:
    if op in {"=", "IN"}:
        return lambda issue: any(v in targets for v in values(issue))
    if op in {"!=", "NOT IN"}:
        return lambda issue: bool(values(issue)) and not any(v in targets for v in values(issue))
    compare = _COMPARE[op]
    return lambda issue: any(compare(v, t) for v in values(issue) for t in targets)


def _targets(clause: Clause, field: _Field, context: _Context) -> list[Any]:
    operand = clause.operand
    if clause.op in {"IN", "NOT IN"} and not isinstance(operand, ListValue):
        operand = ListValue((operand,)) if not isinstance(operand, EmptyValue) else operand
    if isinstance(operand, ListValue):
        if clause.op not in {"IN", "NOT IN"}:
            raise JqlError(f"The operator '{clause.op}' does not support a list of values.")
        return [_value(item, field, context, clause.op) for item in operand.items]
    assert isinstance(operand, Literal | FunctionCall)
    return [_value(operand, field, context, clause.op)]


def _value(value: Literal | FunctionCall, field: _Field, context: _Context, op: str) -> Any:
    if isinstance(value, FunctionCall):
        return _function(value, field, context)
    text, store = value.text, context.store
    kind = field.kind
    if kind == "key":
        return _key_value(text, store, op)
    if kind in {"project", "issuetype", "status", "priority", "user"}:
        return _named_value(text, field, store)
    if kind == "labels":
        return text.lower()
    if kind == "parent":
        found = store.issue(text)
        return found.id if found else -1
    if kind == "number":
        return _number(text, field)
    if kind == "option":
        return _option(text, field)
    if kind in {"datetime", "date"}:
        return _date(text, field, context)
    return text


def _key_value(text: str, store: JiraStore, op: str) -> tuple[str, int]:
    found = store.issue(text)
    if found is not None:
        return found.project, found.number
    project, _, number = text.upper().rpartition("-")
    if op in _ORDERING and project and number.isdigit():
        return project, int(number)
    raise JqlError(f"An issue with key '{text}' does not exist for field 'key'.")


def _named_value(text: str, field: _Field, store: JiraStore) -> str:
    found: str | None = None
    if field.kind == "project":
        project = store.project(text)
        found = project.key.lower() if project else None
    elif field.kind == "issuetype":
        issue_type = store.issue_type(text)
        found = issue_type.name.lower() if issue_type else None
    elif field.kind == "status":
        status = store.status(text)
        found = status.name.lower() if status else None
    elif field.kind == "user":
        user = store.user(text)
        found = user.account_id if user else None
    else:
        found = next((p.lower() for p in PRIORITIES if p.lower() == text.lower()), None)
    if found is None:
        raise JqlError(f"The value '{text}' does not exist for the field '{field.name}'.")
    return found


def _number(text: str, field: _Field) -> float:
    try:
        return float(text)
    except ValueError:
        raise JqlError(
            f"The value '{text}' is not a valid number for field '{field.name}'."
        ) from None


def _option(text: str, field: _Field) -> str:
    options = field.definition.options if field.definition else ()
    if text.lower() not in (o.lower() for o in options):
        name = field.definition.name if field.definition else field.name
        raise JqlError(f"The option '{text}' for field '{name}' does not exist.")
    return text.lower()


def _date(text: str, field: _Field, context: _Context) -> dt.datetime:
    for fmt in _DATE_FORMATS:
        try:
            local = dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=context.zone).astimezone(dt.UTC)
    match = _PERIOD.match(text.strip())
    if match is None:
        raise JqlError(
            f"Date value '{text}' for field '{field.name}' is invalid. Valid formats include:"
            " 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period"
            " format e.g. '-5d', '4w 2d'."
        )
    seconds = sum(
        int(n) * _UNITS[u.lower()]
        for n, u in re.findall(r"(\d+)([wdhm])", match.group(2), re.IGNORECASE)
    )
    sign = -1 if match.group(1) == "-" else 1
    return context.now + dt.timedelta(seconds=sign * seconds)


def _function(call: FunctionCall, field: _Field, context: _Context) -> Any:
    name = call.name.lower()
    if name == "currentuser" and field.kind == "user":
        return context.store.me.account_id
    if field.kind in {"datetime", "date"} and name in {"now", "startofday", "endofday"}:
        if name == "now":
            return context.now
        local = context.now.astimezone(context.zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        if name == "endofday":
            local += dt.timedelta(days=1, milliseconds=-1)
        return local.astimezone(dt.UTC)
    raise JqlError(f"Unable to find JQL function '{call.name}({', '.join(call.args)})'.")


def adf_text(document: Any) -> str:
    """The plain text of an ADF node."""
    if isinstance(document, Mapping):
        if document.get("type") == "text":
            return str(document.get("text", ""))
        return " ".join(adf_text(child) for child in document.get("content") or [])
    return ""


def _getter(field: _Field, context: _Context) -> Callable[[Issue], list[Any]]:
    kind = field.kind
    if kind == "key":
        return lambda i: [(i.project, i.number)]
    if kind == "fulltext":
        return lambda i: [
            " ".join(
                [
                    i.summary,
                    adf_text(i.description),
                    *(str(v) for v in i.custom.values() if isinstance(v, str)),
                ]
            )
        ]
    name = field.definition.id if field.definition else field.name
    return lambda issue: _issue_values(issue, name, kind, context)


def _issue_values(issue: Issue, name: str, kind: str, context: _Context) -> list[Any]:
    if name.startswith("customfield_"):
        value = issue.custom.get(name)
        if isinstance(value, Mapping):
            value = str(value.get("value", "")).lower()
        return [] if value is None else [value]
    if kind == "labels":
        return [label.lower() for label in issue.labels]
    if kind == "adf":
        return [adf_text(issue.description)] if issue.description else []
    if name == "duedate":
        due = issue.duedate
        return (
            []
            if due is None
            else [dt.datetime.combine(due, dt.time(), context.zone).astimezone(dt.UTC)]
        )
    value = {"creator": issue.reporter}.get(name, getattr(issue, name, None))
    if value is None:
        return []
    return [value.lower() if kind in {"project", "issuetype", "status", "priority"} else value]


def _sorted(issues: list[Issue], order: Sequence[Sort], context: _Context) -> list[Issue]:
    result = sorted(issues, key=lambda i: i.id)
    for term in reversed(order):
        field = _field(term.field, context.store)
        if field.kind in {"labels", "fulltext", "adf"}:
            raise JqlError(f"Field '{term.field}' does not support sorting.")
        getter = _getter(field, context)

        def key(
            issue: Issue, get: Callable[[Issue], list[Any]] = getter, kind: str = field.kind
        ) -> tuple[bool, Any]:
            found = get(issue)
            if not found:
                return (True, None)
            value = found[0]
            return (False, _PRIORITY_RANK.get(value, 0) if kind == "priority" else value)

        result = sorted(result, key=key, reverse=term.descending)
    return result
