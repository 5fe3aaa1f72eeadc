"""The sandbox's CRM search: filter groups, one sort, ``after`` paging, the window.

As HubSpot documents it: filter groups are ORed, filters in a group ANDed; at
most 5 groups, 10 filters a group, 25 in all; one sort; ``limit`` up to 200;
``after`` is an offset, and no search pages past the 10,000th result (the
request is refused with 400). Datetime filter values are epoch milliseconds
(ISO text works too); text compares without regard to case.
"""

from __future__ import annotations

import json
from bisect import bisect_left, insort
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.schema import ObjectDef, PropertyDef
from handoff_hub.sandboxes.hubspot.store import Record, RecordStore
from handoff_hub.sandboxes.hubspot.values import moment_ms, sort_key

__all__ = ["MAX_LIMIT", "WINDOW", "SearchViews", "run_search", "search_view"]

MAX_LIMIT = 200
WINDOW = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25
Test = Callable[[str | None], bool]
RecordTest = Callable[[Record], bool]
SortKey = Callable[[Record], tuple[Any, ...]]
Parsed = list[list[tuple[Mapping[str, Any], RecordTest]]]
_RANGE_OPERATORS = frozenset({"EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"})


def _bad(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)


class SearchViews:
    """Sorted, filtered views of the store's live records, kept up to date on every write.

    A view holds the sort keys of the records that pass a search's filters
    (leaving out its range filters on the sort property, when that is the
    last-modified date), in sort order. A search bisects into it for its
    range and slices its page, so keyset paging (a new search from the newest
    date seen, after every page) costs a page and a bisection instead of a
    filter and sort of every record. Writes (the store tells every view) move
    the written record within each view of its type; beyond ``size`` views
    used once, and ``size`` used again, the least recently used are dropped.
    """

    def __init__(self, store: RecordStore, size: int = 8) -> None:
        self.size = size
        self._store = store
        self._trial: dict[tuple[str, str], _View] = {}
        """Views used once (lookups by value mostly), least recently used first."""
        self._kept: dict[tuple[str, str], _View] = {}
        """Views used again (paged reads), least recently used first."""
        store.watch(self._touched)

    def view(self, obj: ObjectDef, signature: str, test: RecordTest, key: SortKey) -> _View:
        """The view of ``signature`` (test and key), built from the live records when missing.

        A view asked for a second time is kept apart from those used once, so
        a run of one-off searches cannot push out the view a read pages through.
        """
        name = (obj.name, signature)
        view = self._kept.pop(name, None) or self._trial.pop(name, None)
        if view is None:
            view = _View(test, key, self._store.records(obj), self._store.tables[obj.name])
            _bounded_put(self._trial, name, view, self.size)
        else:
            _bounded_put(self._kept, name, view, self.size)
        return view

    def _touched(self, obj: ObjectDef, record: Record) -> None:
        for views in (self._trial, self._kept):
            for name, view in list(views.items()):
                if name[0] == obj.name and not view.update(record):
                    del views[name]  # its filter now fails on a value: rebuild (and refuse)


def _bounded_put(
    views: dict[tuple[str, str], _View], name: tuple[str, str], view: _View, size: int
) -> None:
    views[name] = view
    while len(views) > size:
        views.pop(next(iter(views)))


class _View:
    """Sort keys (ending in the record id) of the live records that pass a test, sorted."""

    def __init__(
        self,
        test: RecordTest,
        key: SortKey,
        records: Sequence[Record],
        table: Mapping[str, Record],
    ) -> None:
        self.test = test
        self.key = key
        self.table = table
        self.key_of = {r.id: key(r) for r in records if test(r)}
        self.keys = sorted(self.key_of.values())

    def update(self, record: Record) -> bool:
        """Move one written record; False when the test cannot judge it any more."""
        old = self.key_of.pop(record.id, None)
        if old is not None:
            del self.keys[bisect_left(self.keys, old)]
        try:
            passes = not record.archived and self.test(record)
        except ApiError:
            return False
        if passes:
            new = self.key(record)
            insort(self.keys, new)
            self.key_of[record.id] = new
        return True

    def span(self, low: int | None, high: int | None, bounded: bool) -> tuple[int, int]:
        """Positions of the keys whose date (``(0, ms, id)`` keys) lies in [low, high]."""
        if not bounded:
            return 0, len(self.keys)
        start = bisect_left(self.keys, (0, low)) if low is not None else 0
        stop = bisect_left(self.keys, (0, high + 1) if high is not None else (1,))
        return start, max(start, stop)

    def records(self, keys: Sequence[tuple[Any, ...]]) -> list[Record]:
        """The records of some keys."""
        return [self.table[str(k[-1])] for k in keys]


def run_search(
    obj: ObjectDef,
    records: Sequence[Record],
    body: Any,
    *,
    window: int = WINDOW,
) -> tuple[list[Record], int, int | None]:
    """Matching records of one page, the total, and the next ``after`` (None on the last page).

    The plain way: filter and sort every record. :func:`search_view` answers
    the same from a :class:`SearchViews`.

    Raises:
        ApiError: 400 for a request HubSpot refuses (limits, window, unknown property).
    """
    limit, after = _paging(body, window)
    matched = _matched(obj, records, body)
    page = matched[after : after + limit]
    following = after + limit if after + limit < len(matched) else None
    return page, len(matched), following


def search_view(
    obj: ObjectDef,
    views: SearchViews,
    body: Any,
    *,
    window: int = WINDOW,
) -> tuple[list[Record], int, int | None]:
    """What :func:`run_search` answers over the live records, from a sorted view.

    Raises:
        ApiError: 400 for a request HubSpot refuses (limits, window, unknown property).
    """
    limit, after = _paging(body, window)
    groups = _parsed_groups(obj, body.get("filterGroups") or [])
    spec, descending = _sort_spec(obj, body.get("sorts") or [])
    key = _sort_key(spec)
    ranged = spec is not None and spec.name == obj.modified and spec.type == "datetime"
    low, high, bounded, rest = _ranges(spec, groups) if ranged else (None, None, False, groups)
    signature = json.dumps(
        [spec.name if spec else None, [[raw for raw, _ in g] for g in rest]], sort_keys=True
    )
    tests = [[t for _, t in g] for g in rest]
    view = views.view(obj, signature, _any_all(tests), key)
    start, stop = view.span(low, high, bounded)
    total = stop - start
    if descending:
        keys = view.keys[max(start, stop - after - limit) : max(start, stop - after)][::-1]
    else:
        keys = view.keys[start + after : min(stop, start + after + limit)]
    following = after + limit if after + limit < total else None
    return view.records(keys), total, following


def _paging(body: Any, window: int) -> tuple[int, int]:
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
    return limit, after


def _matched(obj: ObjectDef, records: Sequence[Record], body: Mapping[str, Any]) -> list[Record]:
    groups = _groups(obj, body.get("filterGroups") or [])
    matched = [r for r in records if not groups or any(all(t(r) for t in g) for g in groups)]
    key, descending = _sorter(obj, body.get("sorts") or [])
    matched.sort(key=key, reverse=descending)
    return matched


def _any_all(groups: list[list[RecordTest]]) -> RecordTest:
    """The test of filter groups: any group whose filters all pass (no groups: all pass)."""
    if not groups:
        return lambda _record: True
    if len(groups) == 1:
        tests = groups[0]
        return lambda record: all(t(record) for t in tests)
    return lambda record: any(all(t(record) for t in g) for g in groups)


def _ranges(
    spec: PropertyDef | None, groups: Parsed
) -> tuple[int | None, int | None, bool, Parsed]:
    """A single group's range filters on the sort date as [low, high] ms; the other filters."""
    if spec is None or len(groups) != 1:
        return None, None, False, groups
    low: int | None = None
    high: int | None = None
    bounded = False
    rest = []
    for raw, test in groups[0]:
        operator = str(raw.get("operator", ""))
        if str(raw.get("propertyName", "")) != spec.name or operator not in _RANGE_OPERATORS:
            rest.append((raw, test))
            continue
        bounded = True
        wanted = _key(spec, str(raw["value"]))
        if operator in {"EQ", "GTE", "GT", "BETWEEN"}:
            floor = wanted + 1 if operator == "GT" else wanted
            low = floor if low is None else max(low, floor)
        if operator in {"EQ", "LTE", "LT", "BETWEEN"}:
            top = (
                _key(spec, str(raw.get("highValue", raw["value"])))
                if operator == "BETWEEN"
                else wanted
            )
            top = top - 1 if operator == "LT" else top
            high = top if high is None else min(high, top)
    return low, high, bounded, [rest] if rest else []


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise _bad(f"{name} must be a whole number, was {value!r}") from None


def _groups(obj: ObjectDef, raw: Any) -> list[list[RecordTest]]:
    return [[t for _, t in g] for g in _parsed_groups(obj, raw)]


def _parsed_groups(obj: ObjectDef, raw: Any) -> Parsed:
    """Checked filter groups: each filter as given and its test."""
    if not isinstance(raw, list) or len(raw) > MAX_GROUPS:
        raise _bad(f"filterGroups must be a list of at most {MAX_GROUPS} groups")
    groups: Parsed = []
    total = 0
    for group in raw:
        filters = group.get("filters") if isinstance(group, Mapping) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise _bad(f"a filter group has a list of at most {MAX_FILTERS_PER_GROUP} filters")
        total += len(filters)
        groups.append([(f, _filter(obj, f)) for f in filters])
    if total > MAX_FILTERS:
        raise _bad(f"a search takes at most {MAX_FILTERS} filters in all, got {total}")
    return groups


def _filter(obj: ObjectDef, raw: Any) -> RecordTest:
    if not isinstance(raw, Mapping):
        raise _bad("a filter is an object with propertyName and operator")
    name = str(raw.get("propertyName", ""))
    spec = obj.prop(name)
    if spec is None:
        raise _bad(f"Property {name!r} does not exist on {obj.upper}; it cannot be filtered on")
    test = _test(spec, str(raw.get("operator", "")), raw)
    return lambda record: test(record.props.get(spec.name) or None)  # "": cleared, no value


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


def _sorter(obj: ObjectDef, sorts: Any) -> tuple[SortKey, bool]:
    spec, descending = _sort_spec(obj, sorts)
    return _sort_key(spec), descending


def _sort_spec(obj: ObjectDef, sorts: Any) -> tuple[PropertyDef | None, bool]:
    """The sort property (None: by id) and whether descending."""
    if not isinstance(sorts, list) or len(sorts) > 1:
        raise _bad("a search takes at most one sort")
    if not sorts:
        return None, False
    sort = sorts[0]
    name = sort.get("propertyName") if isinstance(sort, Mapping) else str(sort).lstrip("-")
    spec = obj.prop(str(name))
    if spec is None:
        raise _bad(f"Property {name!r} does not exist on {obj.upper}; it cannot be sorted on")
    descending = isinstance(sort, Mapping) and sort.get("direction") == "DESCENDING"
    return spec, descending


def _sort_key(spec: PropertyDef | None) -> SortKey:
    """A record's sort key, unique as it ends with the id (no sort: by id)."""
    if spec is None:
        return lambda r: (int(r.id),)
    return lambda r: (*sort_key(spec, r.props.get(spec.name)), int(r.id))
