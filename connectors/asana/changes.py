"""Incremental reads: tasks and projects changed since a cursor.

Asana lists are not ordered by ``modified_at``, so a read hands records out
in pages as they are read, each gid once, and only the last page moves the
cursor: to the newest ``modified_at`` read, held back to (start of the read -
30 s), as a task edited while the listing paged may have moved between its
pages. Every earlier page keeps the cursor where the read began: storing it
can repeat records, never skip one, and a run that stops midway reads again
from there, the records it handled being remembered by the checkpoint (so
nothing is done twice).

The listings are read on threads, a few projects at a time
(``listings_at_once``), into a buffer that spills to a temporary file
(:func:`handoff_hub.hub.http.fanin.fan_in`): the fetching never waits for
the caller, so a listing's offset token cannot expire while the caller works
on a page, the first page is handed out as soon as it is read, and memory
stays flat in the number of tasks.

Tasks are listed with ``GET /tasks?project=...&modified_since=...`` (also
``section`` or ``assignee`` + workspace); ``where={"parent": gid}`` lists a
task's subtasks (``GET /tasks/{gid}/subtasks``, filtered here, as that listing
has no ``modified_since``). Without a scope the configured ``project_gid`` is
read, else every project of the team. A project's listing holds its member
tasks: subtasks are not members unless added to the project. A read from a
cursor goes through the workspace task search instead where the workspace
allows it (:mod:`handoff_hub.connectors.asana.task_search`): one call, however
many projects. Projects are listed with ``GET /projects?workspace=...&team=...``,
which has no ``modified_since`` either, so they are filtered here.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.filters import RecordFilter
from handoff_hub.connectors.asana.records import api_path, wire_time
from handoff_hub.connectors.asana.task_search import SearchStalled, SearchUnavailable, TaskSearch
from handoff_hub.hub.connector import ChangePage, FilterValue, RecordEnvelope
from handoff_hub.hub.errors import ConnectorError, QueryBuildError
from handoff_hub.hub.http import cursor_text, parse_timestamp
from handoff_hub.hub.http.fanin import fan_in
from handoff_hub.hub.http.query import search_text

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.client import AsanaClient
    from handoff_hub.connectors.asana.config import AsanaConfig
    from handoff_hub.connectors.asana.fields import FieldCatalogue
    from handoff_hub.hub.http.spill import SpillQueue

__all__ = ["ChangeReader", "opt_fields"]

Listing = tuple[str, dict[str, Any]]
Page = list[Mapping[str, Any]]

PAGES_IN_MEMORY = 4
"""Listing pages read ahead and kept in memory; further ones wait in the spill file."""


def opt_fields(fields: Sequence[str], defaults: Sequence[str], *extra: str) -> str:
    """``opt_fields`` for a read: the asked fields (or the defaults) plus ``extra``."""
    chosen = [f for f in fields if f and f != "gid"] or list(defaults)
    return ",".join(dict.fromkeys([*chosen, *extra]))


@dataclass
class _Read:
    """What one read asks, and how far its cursor is held back (search holds it longer)."""

    kind: str
    since_at: dt.datetime | None
    chosen: str
    projects: Listing | None
    """The project listing of a read of projects."""
    hold_seconds: float = settings.CURSOR_LAG_SECONDS


@dataclass
class _Plan:
    read: _Read
    records: Iterator[Mapping[str, Any]]


class ChangeReader:
    """Reads one object's changes since a cursor."""

    def __init__(
        self,
        client: AsanaClient,
        config: AsanaConfig,
        catalogue: FieldCatalogue,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.client = client
        self.config = config
        self.catalogue = catalogue
        self.clock = clock
        self.search = TaskSearch(client, config)
        self.buffer: Callable[[], SpillQueue[Page]] | None = None
        """Makes the read-ahead buffer of a listing read (tests look at what it held)."""

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.client.system

    def read(
        self,
        kind: str,
        *,
        since_at: dt.datetime | None,
        fields: Sequence[str],
        where: Mapping[str, FilterValue] | None,
        page_size: int,
        seen: Collection[str] = (),
    ) -> Iterator[ChangePage]:
        """Yield pages of records modified at or after ``since_at``, as they are read.

        ``seen``: ids handled at ``since_at`` itself, left out when read unchanged.
        """
        started = self.clock()
        hold = cursor_text(since_at) if since_at else None
        wrap = self.envelope_for(kind)
        newest: dt.datetime | None = None
        page: list[RecordEnvelope] = []
        count = 0
        plan = self._plan(kind, since_at, fields, dict(where or {}))
        done_at_start = frozenset(seen) if since_at is not None else frozenset()
        for raw in plan.records:
            record = wrap(raw)
            if not _not_older(record, since_at) or (
                record.id in done_at_start and record.modified_at == since_at
            ):
                continue
            if record.modified_at is not None and (newest is None or record.modified_at > newest):
                newest = record.modified_at
            page.append(record)
            count += 1
            if len(page) == page_size:
                yield ChangePage(page, hold)
                page = []
        cursor = self._cursor(newest, since_at, started, plan.read.hold_seconds)
        yield ChangePage(page, cursor, count)

    def _cursor(
        self,
        newest: dt.datetime | None,
        since_at: dt.datetime | None,
        started: dt.datetime,
        hold_seconds: float,
    ) -> str | None:
        if newest is None:
            return cursor_text(since_at) if since_at else None
        held = min(newest, started - dt.timedelta(seconds=hold_seconds))
        return cursor_text(max(held, since_at) if since_at else held)

    def _plan(
        self,
        kind: str,
        since_at: dt.datetime | None,
        fields: Sequence[str],
        filters: dict[str, FilterValue],
    ) -> _Plan:
        defaults = (
            settings.DEFAULT_TASK_FIELDS
            if kind == settings.TASK_OBJECT
            else settings.DEFAULT_PROJECT_FIELDS
        )
        scope: dict[str, FilterValue] = {}
        projects: Listing | None = None
        if kind == settings.TASK_OBJECT:
            scope = {k: filters.pop(k) for k in settings.TASK_SCOPES if k in filters}
        else:
            projects = self._project_listing(filters)
        keep = RecordFilter(filters, self.catalogue)
        chosen = opt_fields(fields, defaults, settings.MODIFIED_FIELD, *keep.opt_fields())
        read = _Read(kind, since_at, chosen, projects)
        return _Plan(read, self._records(read, scope, keep))

    def _records(
        self, read: _Read, scope: dict[str, FilterValue], keep: RecordFilter
    ) -> Iterator[Mapping[str, Any]]:
        """Each record read that the filters keep, once: searched, else listed."""
        seen: set[str] = set()
        searched = self._searched(read, scope)
        for source in (searched, self._listed(read, scope)):
            if source is None:
                continue
            try:
                for page in source:
                    for item in page:
                        gid = str(item["gid"])
                        if gid not in seen and keep(item):
                            seen.add(gid)
                            yield item
            except (SearchUnavailable, SearchStalled):
                read.hold_seconds = settings.CURSOR_LAG_SECONDS
                continue
            return

    def _searched(self, read: _Read, scope: dict[str, FilterValue]) -> Iterator[Page] | None:
        if read.kind != settings.TASK_OBJECT or read.since_at is None:
            return None
        params = self.search.scope(scope)
        if params is None:
            return None
        read.hold_seconds = max(settings.CURSOR_LAG_SECONDS, self.config.search_overlap_seconds)
        return self.search.pages(params, read.since_at, read.chosen)

    def _listed(self, read: _Read, scope: dict[str, FilterValue]) -> Iterable[Page]:
        """The listings' pages, read a few listings at a time on threads, never waiting."""
        if read.projects is not None:
            listings = [read.projects]
        else:
            listings = self._task_listings(dict(scope), read.since_at)
        sources = [
            functools.partial(
                self.client.pages,
                path,
                {**params, "opt_fields": read.chosen},
                page_size=self.config.page_size,
            )
            for path, params in listings
        ]
        pages = fan_in(
            sources,
            workers=self.config.listings_at_once,
            depth=PAGES_IN_MEMORY,
            queue=self.buffer() if self.buffer else None,
        )
        try:
            yield from pages
        finally:
            pages.close()

    def _task_listings(
        self, filters: dict[str, FilterValue], since_at: dt.datetime | None
    ) -> list[Listing]:
        scope: dict[str, FilterValue] = {
            k: filters.pop(k) for k in settings.TASK_SCOPES if k in filters
        }
        since = {}
        if since_at is not None:
            margin = dt.timedelta(seconds=settings.MODIFIED_SINCE_MARGIN_SECONDS)
            since = {"modified_since": wire_time(since_at - margin)}
        if not scope:
            projects = (
                [self.config.project_gid] if self.config.project_gid else self._team_projects()
            )
            return [(settings.TASKS_PATH, {"project": p, **since}) for p in projects]
        if len(scope) > 1:
            scopes = ", ".join(settings.TASK_SCOPES)
            raise ConnectorError(
                f"tasks are listed by one of {scopes}; got {sorted(scope)}", system=self.system
            )
        [(key, value)] = scope.items()
        listings: list[Listing] = []
        for one in (search_text(str(v)) for v in (value if isinstance(value, list) else [value])):
            if key == "parent":
                if not (one.isascii() and one.isdigit()):
                    raise QueryBuildError(f"parent {one!r} is not an Asana task gid")
                listings.append((api_path(settings.SUBTASKS_PATH, task=one), {}))
            elif key == "assignee":
                params = {"assignee": one, "workspace": self.config.workspace_gid}
                listings.append((settings.TASKS_PATH, {**params, **since}))
            else:
                listings.append((settings.TASKS_PATH, {key: one, **since}))
        return listings

    def _team_projects(self) -> list[str]:
        path, params = self._project_listing({})
        items = self.client.list_all(path, params, page_size=settings.PAGE_SIZE_MAX)
        return [str(i["gid"]) for i in items]

    def _project_listing(self, filters: dict[str, FilterValue]) -> Listing:
        params: dict[str, Any] = {"workspace": self.config.workspace_gid}
        team = filters.pop("team", None) or self.config.team_gid
        if isinstance(team, list):
            raise ConnectorError("projects are listed for one team at a time", system=self.system)
        if team:
            params["team"] = str(team)
        if "archived" in filters:
            params["archived"] = "true" if filters.pop("archived") else "false"
        return settings.PROJECTS_PATH, params

    def envelope_for(self, kind: str) -> Callable[[Mapping[str, Any]], RecordEnvelope]:
        """A function wrapping one raw record of ``kind`` in an envelope."""

        def wrap(raw: Mapping[str, Any]) -> RecordEnvelope:
            gid = raw.get("gid") if isinstance(raw, Mapping) else None
            if not gid:
                raise ConnectorError(f"a {kind} record has no gid", system=self.system)
            stamp = raw.get(settings.MODIFIED_FIELD)
            modified = (
                None
                if stamp is None
                else parse_timestamp(stamp, f"{kind} {gid} modified_at", self.system)
            )
            return RecordEnvelope(self.system, kind, str(gid), raw, modified)

        return wrap


def _not_older(record: RecordEnvelope, since_at: dt.datetime | None) -> bool:
    if since_at is None:
        return True
    return record.modified_at is None or record.modified_at >= since_at
