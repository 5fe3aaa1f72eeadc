"""Incremental reads through the CRM search API: keyset paging on the modified date.

A search sorted by the last-modified date (ascending) and filtered on
``>= since``; each next page searches again from the newest date seen and
leaves out what it already gave at that date, so a record modified during the
read cannot push another out of sight, and no search nears the 10,000-result
window unless more records than a page share one date (then ``after`` pages
through that date, the last page shortened to end at the window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.hubspot.records import epoch_ms, latest
from hub.errors import ConnectorError

if TYPE_CHECKING:
    from connectors.hubspot.client import HubSpotClient

__all__ = ["SearchPage", "SearchPlan", "search_changes"]

Stamp = Callable[[Mapping[str, Any]], dt.datetime]


@dataclass(frozen=True)
class SearchPlan:
    """What to search: object, properties, extra filters, page size and window."""

    object_name: str
    modified: str
    properties: list[str]
    filters: list[dict[str, Any]] = field(default_factory=list)
    limit: int = 100
    window: int = 10_000

    def body(self, since: dt.datetime | None) -> dict[str, Any]:
        """The search request body for a (re)start at ``since``."""
        filters = list(self.filters)
        if since is not None:
            filters.insert(
                0, {"propertyName": self.modified, "operator": "GTE", "value": epoch_ms(since)}
            )
        return {
            "filterGroups": [{"filters": filters}] if filters else [],
            "sorts": [{"propertyName": self.modified, "direction": "ASCENDING"}],
            "properties": self.properties,
            "limit": self.limit,
        }


@dataclass(frozen=True)
class SearchPage:
    """One page of search results and the size of the whole result, if known."""

    records: list[Mapping[str, Any]]
    total: int | None


def search_changes(
    client: HubSpotClient,
    plan: SearchPlan,
    since: dt.datetime | None,
    stamp: Stamp,
    *,
    seen: Collection[str] = (),
) -> Iterator[SearchPage]:
    """Yield every page of records modified at or after ``since``, oldest first.

    Each next page is a new search from the newest modified date seen so far
    (keyset paging), leaving out the records already yielded at that date.
    ``after`` offsets alone would skip records: a record modified while the
    read pages (the hub's own write-back) moves to the end of the result and
    every record behind it moves one place up. Only while a whole page shares
    the date it started from does the read page on with ``after``, within the
    10,000-result window. The first page is yielded even when empty (it
    carries the cursor). ``seen``: ids already handled at ``since``, left out
    like those a later page leaves out.

    Raises:
        ConnectorError: more records than the window holds share one modified date.
    """
    total: int | None = None
    start = since
    seen_at_start: set[str] = set(seen) if since is not None else set()
    after = 0
    first = True
    while True:
        body = plan.body(start)
        if after:
            if after >= plan.window:
                _restart_at(plan, start, start, client.system)
            body["after"] = str(after)
            body["limit"] = min(plan.limit, plan.window - after)
        answer = client.search(plan.object_name, body)
        records = [r for r in answer["results"] if isinstance(r, Mapping)]
        total = total if total is not None else _int(answer.get("total"))
        fresh = [
            r
            for r in records
            if start is None or stamp(r) != start or str(r.get("id")) not in seen_at_start
        ]
        if fresh or first:
            yield SearchPage(fresh, total)
        first = False
        if not records or not _has_next(answer):
            return
        newest = latest(None, *(stamp(r) for r in records))
        if newest is not None and (start is None or newest > start):
            start, after = newest, 0
            seen_at_start = {str(r.get("id")) for r in records if stamp(r) == newest}
        else:
            seen_at_start |= {str(r.get("id")) for r in records}
            after += len(records)


def _has_next(answer: Mapping[str, Any]) -> bool:
    paging = answer.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    return isinstance(following, Mapping) and bool(following.get("after"))


def _restart_at(
    plan: SearchPlan, start: dt.datetime | None, newest: dt.datetime | None, system: str
) -> dt.datetime:
    if newest is None or (start is not None and newest <= start):
        shown = newest.isoformat() if newest else "unknown"
        raise ConnectorError(
            f"{plan.object_name}: more than {plan.window} records share the modified date"
            f" {shown}; the search cannot page past them",
            system=system,
        )
    return newest


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
