"""Incremental reads through the CRM search API, past its 10,000-result window.

A search sorted by the last-modified date (ascending) and filtered on
``>= since`` pages with ``after`` offsets, but no search may page past 10,000
results (``after + limit``). The last page of a window is shortened to end
exactly at it; then the search starts again, filtered from the last modified
date seen: records at exactly that date come back once more (a read may
repeat, never skip).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.hubspot import settings
from connectors.hubspot.records import epoch_ms, latest
from hub.errors import ConnectorError
from hub.http import PageRequest, TokenPaginator

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
    client: HubSpotClient, plan: SearchPlan, since: dt.datetime | None, stamp: Stamp
) -> Iterator[SearchPage]:
    """Yield every page of records modified at or after ``since``, oldest first.

    Raises:
        ConnectorError: more records than the window holds share one modified date.
    """
    total: int | None = None
    start = since
    while True:
        paginator = TokenPaginator(
            token_path=settings.NEXT_PAGE_PATH, param="after", placement="body"
        )
        request = PageRequest(url=plan.object_name, json=plan.body(start))
        newest: dt.datetime | None = None
        restart = False
        while paginator.has_next:
            if _past_window(request, plan):
                start = _restart_at(plan, start, newest, client.system)
                restart = True
                break
            body = client.search(plan.object_name, _within_window(request, plan))
            paginator.update_state(body)
            records = [r for r in body["results"] if isinstance(r, Mapping)]
            total = total if total is not None else _int(body.get("total"))
            newest = latest(newest, *(stamp(r) for r in records))
            yield SearchPage(records, total)
            request = paginator.update_request(request)
        if not restart:
            return


def _after(request: PageRequest) -> int | None:
    return _int((request.json or {}).get("after"))


def _past_window(request: PageRequest, plan: SearchPlan) -> bool:
    after = _after(request)
    return after is not None and after >= plan.window


def _within_window(request: PageRequest, plan: SearchPlan) -> dict[str, Any]:
    """The request body, its last page shortened to end exactly at the window."""
    body = dict(request.json or {})
    after = _after(request)
    if after is not None and after + plan.limit > plan.window:
        body["limit"] = plan.window - after
    return body


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
