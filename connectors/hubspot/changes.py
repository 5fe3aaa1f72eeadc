"""Incremental reads through the CRM search API: keyset paging on the modified date.

A search sorted by the last-modified date (ascending) and filtered on
``>= since``; each next page searches again from the newest date seen and
leaves out what it already gave at that date, so a record modified during the
read cannot push another out of sight, and no search nears the 10,000-result
window. A search sorts by one property only, so when a whole page shares one
date (a bulk import: any number of records), the records of that date are
read by id instead: modified date equal to it and ``hs_object_id`` above the
last id read, sorted by ``hs_object_id``; then the read goes on after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.hubspot.records import epoch_ms

if TYPE_CHECKING:
    from handoff_hub.connectors.hubspot.client import HubSpotClient

__all__ = ["SearchPage", "SearchPlan", "search_changes"]

Stamp = Callable[[Mapping[str, Any]], dt.datetime]
ID_PROPERTY = "hs_object_id"
"""Every object's record id as a property: unique, so it orders records sharing a date."""
_MS = dt.timedelta(milliseconds=1)


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
            "limit": min(self.limit, self.window),
        }

    def tie_body(self, at: dt.datetime, after_id: int | None) -> dict[str, Any]:
        """The search for the records modified exactly ``at`` whose id is above ``after_id``."""
        filters = [
            {"propertyName": self.modified, "operator": "EQ", "value": epoch_ms(at)},
            *self.filters,
        ]
        if after_id is not None:
            filters.insert(
                1, {"propertyName": ID_PROPERTY, "operator": "GT", "value": str(after_id)}
            )
        return {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": ID_PROPERTY, "direction": "ASCENDING"}],
            "properties": self.properties,
            "limit": min(self.limit, self.window),
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
    ``after`` offsets would skip records: a record modified while the read
    pages (the hub's own write-back) moves to the end of the result and every
    record behind it moves one place up. A page whose records all share one
    date with more to come is a tie, read by id (:func:`_tie`). The first
    page is yielded even when empty (it carries the cursor). ``seen``: ids
    already handled at ``since``, left out like those a later page leaves out.
    """
    total: int | None = None
    start = since
    seen_at_start: set[str] = set(seen) if since is not None else set()
    first = True
    while True:
        answer = client.search(plan.object_name, plan.body(start))
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
        stamps = [stamp(r) for r in records]
        newest = max(stamps)
        if min(stamps) == newest:
            done = {str(r.get("id")) for r in records}
            if start is not None and newest == start:
                done |= seen_at_start
            yield from _tie(client, plan, newest, done, total)
            start, seen_at_start = newest + _MS, set()
        else:
            start = newest
            seen_at_start = {
                str(r.get("id")) for r, at in zip(records, stamps, strict=True) if at == newest
            }


def _tie(
    client: HubSpotClient,
    plan: SearchPlan,
    at: dt.datetime,
    done: set[str],
    total: int | None,
) -> Iterator[SearchPage]:
    """Every record modified exactly ``at``, by id, leaving out those in ``done``.

    A record modified meanwhile leaves the tie for a later date, where the
    read that follows finds it.
    """
    after_id: int | None = None
    while True:
        answer = client.search(plan.object_name, plan.tie_body(at, after_id))
        records = [r for r in answer["results"] if isinstance(r, Mapping)]
        fresh = [r for r in records if str(r.get("id")) not in done]
        if fresh:
            yield SearchPage(fresh, total)
        ids = [n for r in records if (n := _int(r.get("id"))) is not None]
        if not ids or not _has_next(answer):
            return
        after_id = max(ids)


def _has_next(answer: Mapping[str, Any]) -> bool:
    paging = answer.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    return isinstance(following, Mapping) and bool(following.get("after"))


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
