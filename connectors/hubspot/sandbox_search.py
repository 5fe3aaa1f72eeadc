"""The sandbox's CRM search: filter groups, one sort, ``after`` paging, the window.

As HubSpot documents it: filter groups are ORed, filters in a group ANDed; at
most 5 groups, 10 filters a group, 25 in all; one sort; ``limit`` up to 200;
``after`` is an offset, and no search pages past the 10,000th result (the
request is refused with 400). Datetime filter values are epoch milliseconds
(ISO text works too); text compares without regard to case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.hubspot.sandbox_errors import ApiError
from connectors.hubspot.sandbox_schema import ObjectDef, PropertyDef
from connectors.hubspot.sandbox_store import Record
from connectors.hubspot.sandbox_values import moment_ms, sort_key

__all__ = ["MAX_LIMIT", "WINDOW", "SearchCache", "run_search"]

MAX_LIMIT = 200
WINDOW = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25
Test = Callable[[str | None], bool]


def _bad(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


class SearchCache:
    """Sorted results of the last few queries, while the records stay unchanged.

    Paging through one query asks the same question with another ``after``;
    answering it from the sorted list of the first page keeps a sandbox with
    tens of thousands of records fast. Any write (a new ``version``) drops it.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._entries: dict[tuple[Any, ...], list[Record]] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], list[Record]]) -> list[Record]:
        """The cached result for ``key``, computing (and keeping) it when missing."""
        if key not in self._entries:
            self._entries[key] = compute()
            while len(self._entries) > self.size:
                self._entries.pop(next(iter(self._entries)))
        return self._entries[key]


def run_search(
    obj: ObjectDef,
    records: Sequence[Record],
    body: Any,
    *,
    window: int = WINDOW,
    cache: SearchCache | None = None,
    version: int = 0,
) -> tuple[list[Record], int, int | None]:
    """Matching records of one page, the total, and the next ``after`` (None on the last page).

    ``version`` identifies the state of ``records`` for ``cache``.

    Raises:
        ApiError: 400 for a request HubSpot refuses (limits, window, unknown property).
    """
    if not isinstance(body, Mapping):
        raise _bad("Invalid input JSON: a search request is a JSON object")
    limit = _int(body.get("limit", 10), "limit")
    after = _int(body.get("after") or 0, "after")
    if not 1 <= limit <= MAX_LIMIT:
        raise _bad(f"limit must be between 1 and {MAX_LIMIT}, was {limit}")
    if after + limit > window:
        raise _bad(
            f"The search cannot page past {window} results: after ({after}) + limit ({limit})"
            f" is more than {window}. Narrow the filters to page further."
        )

    def compute() -> list[Record]:
        return _matched(obj, records, body)

    question = json.dumps(
        [obj.name, version, body.get("filterGroups"), body.get("sorts")], sort_keys=True
    )
    matched = cache.get((question,), compute) if cache is not None else compute()
    page = matched[after : after + limit]
    following = after + limit if after + limit < len(matched) else None
    return page, len(matched), following


def _matched(obj: ObjectDef, records: Sequence[Record], body: Mapping[str, Any]) -> list[Record]:
    groups = _groups(obj, body.get("filterGroups") or [])
    matched = [r for r in records if not groups or any(all(t(r) for t in g) for g in groups)]
    key, descending = _sorter(obj, body.get("sorts") or [])
    matched.sort(key=key, reverse=descending)
    return matched


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise _bad(f"{name} must be a whole number, was {value!r}") from None


def _groups(obj: ObjectDef, raw: Any) -> list[list[Callable[[Record], bool]]]:
    if not isinstance(raw, list) or len(raw) > MAX_GROUPS:
        raise _bad(f"filterGroups must be a list of at most {MAX_GROUPS} groups")
    groups = []
    total = 0
    for group in raw:
        filters = group.get("filters") if isinstance(group, Mapping) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise _bad(f"a filter group has a list of at most {MAX_FILTERS_PER_GROUP} filters")
        total += len(filters)
        groups.append([_filter(obj, f) for f in filters])
    if total > MAX_FILTERS:
        raise _bad(f"a search takes at most {MAX_FILTERS} filters in all, got {total}")
    return groups


def _filter(obj: ObjectDef, raw: Any) -> Callable[[Record], bool]:
    if not isinstance(raw, Mapping):
        raise _bad("a filter is an object with propertyName and operator")
    name = str(raw.get("propertyName", ""))
    spec = obj.prop(name)
    if spec is None:
        raise _bad(f"Property {name!r} does not exist on {obj.upper}; it cannot be filtered on")
    test = _test(spec, str(raw.get("operator", "")), raw)
    return lambda record: test(record.props.get(spec.name))


def _test(spec: PropertyDef, operator: str, raw: Mapping[str, Any]) -> Test:
    if operator == "HAS_PROPERTY":
        return lambda v: v is not None
    if operator == "NOT_HAS_PROPERTY":
        return lambda v: v is None
    if operator in {"IN", "NOT_IN"}:
        values = raw.get("values")
        if not isinstance(values, list):
            raise _bad(f"operator {operator} needs a values list")
        keys = {_key(spec, str(x)) for x in values}
        if operator == "IN":
            return lambda v: v is not None and _key(spec, v) in keys
        return lambda v: v is None or _key(spec, v) not in keys
    if operator in {"CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}:
        token = str(raw.get("value", "")).strip("*").casefold()
        contains = operator == "CONTAINS_TOKEN"
        return lambda v: (v is not None and token in v.casefold()) == contains
    return _comparison(spec, operator, raw)


def _comparison(spec: PropertyDef, operator: str, raw: Mapping[str, Any]) -> Test:
    if "value" not in raw:
        raise _bad(f"operator {operator} needs a value")
    wanted = _key(spec, str(raw["value"]))
    high = _key(spec, str(raw.get("highValue", raw["value"])))
    checks: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda k: k == wanted,
        "NEQ": lambda k: k != wanted,
        "LT": lambda k: k < wanted,
        "LTE": lambda k: k <= wanted,
        "GT": lambda k: k > wanted,
        "GTE": lambda k: k >= wanted,
        "BETWEEN": lambda k: wanted <= k <= high,
    }
    if operator not in checks:
        raise _bad(f"Unknown operator {operator!r}")
    check = checks[operator]
    if operator == "NEQ":
        return lambda v: v is None or check(_key(spec, v))
    return lambda v: v is not None and _comparable(check, _key(spec, v))


def _comparable(check: Callable[[Any], bool], key: Any) -> bool:
    try:
        return check(key)
    except TypeError:  # a text value against a number filter
        return False


def _key(spec: PropertyDef, text: str) -> Any:
    if spec.type == "number":
        try:
            return Decimal(text)
        except InvalidOperation:
            return text.casefold()
    if spec.type in {"datetime", "date"}:
        try:
            return moment_ms(text)
        except (ValueError, OverflowError):
            raise _bad(f"{text!r} is not a valid date for {spec.name}") from None
    return text.strip().casefold()


def _sorter(obj: ObjectDef, sorts: Any) -> tuple[Callable[[Record], Any], bool]:
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise _bad("a search takes at most one sort")
    if not sorts:
        return (lambda r: int(r.id)), False
    sort = sorts[0]
    name = sort.get("propertyName") if isinstance(sort, Mapping) else str(sort).lstrip("-")
    spec = obj.prop(str(name))
    if spec is None:
        raise _bad(f"Property {name!r} does not exist on {obj.upper}; it cannot be sorted on")
    descending = isinstance(sort, Mapping) and sort.get("direction") == "DESCENDING"
    return (lambda r: (*sort_key(spec, r.props.get(spec.name)), int(r.id))), descending
