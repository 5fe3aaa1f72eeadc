"""Changed tasks through the workspace task search: one call for an incremental read.

``GET /workspaces/{gid}/tasks/search?modified_at.after=...&sort_by=modified_at
&sort_ascending=true&limit=100`` answers the tasks changed since a cursor,
oldest first, in the scope the read's listings would cover (``projects.any``,
``sections.any`` or ``teams.any``). Search has no paging and answers at most
100 tasks: the next query moves ``modified_at.after`` to just before the
newest task answered (the tasks at that very millisecond come again and are
kept once by the caller). It is for premium workspaces (and premium teams)
only: other users get 402 Payment Required, after which the connector lists
project by project for the rest of the run. Search calls are also limited to
60 a minute (a 429 with ``Retry-After``, retried by the HTTP layer).

Search is eventually consistent: Asana indexes a change 10-60 s after it is
made (longer during incidents). So a read through search never moves its
cursor past (start of the read - ``search_overlap_seconds``): a task whose
change the index had not yet seen is still at or after the cursor the next
read starts from. The trade-off: the tasks changed in the last overlap
before a read are read again by the next one (the hub's checkpoint drops the
versions it already handled), and a change indexed later than the overlap is
missed by search until the task changes again; a longer overlap narrows
that, at the cost of more re-reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.records import api_path, wire_time
from handoff_hub.hub.errors import RecordError
from handoff_hub.hub.http import parse_timestamp

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.client import AsanaClient
    from handoff_hub.connectors.asana.config import AsanaConfig

__all__ = ["SearchStalled", "SearchUnavailable", "TaskSearch"]

_PAYMENT_REQUIRED = 402
_STEP = dt.timedelta(milliseconds=1)
_SEARCH_SCOPES = {"project": "projects.any", "section": "sections.any"}


class SearchUnavailable(Exception):
    """The workspace is not premium: search answered 402."""


class SearchStalled(Exception):
    """More than a search's 100 results share one millisecond: the query cannot move on."""


class TaskSearch:
    """The search side of an incremental task read; remembers a 402 for the connector's life."""

    def __init__(self, client: AsanaClient, config: AsanaConfig) -> None:
        self.client = client
        self.config = config
        self.available: bool | None = None if config.search_changes else False

    def scope(self, scope: Mapping[str, Any]) -> dict[str, str] | None:
        """The search parameters covering what the listings of ``scope`` would, or None.

        None: search cannot say the same (subtasks of a parent, an assignee's
        tasks, a workspace without a team or project setting), or is off.
        """
        if self.available is False:
            return None
        if not scope:
            if self.config.project_gid:
                return {"projects.any": self.config.project_gid}
            return {"teams.any": self.config.team_gid} if self.config.team_gid else None
        if len(scope) != 1:
            return None
        [(key, value)] = scope.items()
        if key not in _SEARCH_SCOPES:
            return None
        values = value if isinstance(value, list) else [value]
        gids = [str(v) for v in values]
        if not gids or not all(g.isascii() and g.isdigit() for g in gids):
            return None
        return {_SEARCH_SCOPES[key]: ",".join(gids)}

    def pages(
        self, scope: Mapping[str, str], since_at: dt.datetime, opt_fields: str
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Tasks modified at or after ``since_at`` (less a margin), oldest first, page by page.

        Raises:
            SearchUnavailable: the first query answered 402 (remembered).
            SearchStalled: a full page brought no task not already answered.
        """
        path = api_path(settings.TASK_SEARCH_PATH, workspace=self.config.workspace_gid)
        after = since_at - dt.timedelta(seconds=settings.MODIFIED_SINCE_MARGIN_SECONDS)
        answered: set[str] = set()
        while True:
            found = self._query(path, {**scope, "opt_fields": opt_fields}, after)
            fresh = [t for t in found if str(t["gid"]) not in answered]
            answered.update(str(t["gid"]) for t in fresh)
            yield fresh
            if len(found) < settings.PAGE_SIZE_MAX:
                return
            if not fresh:
                raise SearchStalled(wire_time(after))
            after = self._newest(found) - _STEP

    def _query(
        self, path: str, params: Mapping[str, str], after: dt.datetime
    ) -> list[Mapping[str, Any]]:
        query = {
            **params,
            "modified_at.after": wire_time(after),
            "sort_by": "modified_at",
            "sort_ascending": "true",
            "limit": settings.PAGE_SIZE_MAX,
        }
        try:
            hits = self.client.call("GET", path, params=query)
        except RecordError as exc:
            if exc.status == _PAYMENT_REQUIRED:
                self.available = False
                raise SearchUnavailable(str(exc)) from None
            raise
        self.available = True
        return [t for t in hits or [] if isinstance(t, Mapping) and t.get("gid")]

    def _newest(self, found: list[Mapping[str, Any]]) -> dt.datetime:
        stamps = [
            parse_timestamp(t[settings.MODIFIED_FIELD], "task modified_at", self.client.system)
            for t in found
            if t.get(settings.MODIFIED_FIELD)
        ]
        if not stamps:
            raise SearchStalled("search answered tasks without modified_at")
        return max(stamps)
