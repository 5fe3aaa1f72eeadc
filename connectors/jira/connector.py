"""Jira Cloud connector: implements :class:`hub.connector.PmConnector`.

Reads are JQL searches (built only by :mod:`handoff_hub.hub.http.query`) on
``POST /rest/api/3/search/jql``. ``read_changes`` asks for
``updated >= "<cursor minute in the API user's time zone>"`` ordered by
``updated ASC, key ASC``: JQL dates have minute precision, so a read from a
cursor returns that minute's issues again (overlap, never a gap). Records are
identified by issue key (``DEL-12``). Writes use bulk create (50 per call) and
one ``PUT`` per edited issue, as Jira has no synchronous bulk edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from handoff_hub.connectors.jira import settings, webhooks
from handoff_hub.connectors.jira import where as record_where
from handoff_hub.connectors.jira.client import JiraClient, describe_error, observe_limits
from handoff_hub.connectors.jira.config import (
    JiraConfig,
    credentials_hint,
    load_config,
    resolve_secrets,
)
from handoff_hub.connectors.jira.lookups import Lookups
from handoff_hub.connectors.jira.preflight import jira_preflight
from handoff_hub.connectors.jira.project_ops import ProjectOps
from handoff_hub.connectors.jira.records import adf, is_issue_ref, jql_minute, stamp_label
from handoff_hub.connectors.jira.values import issue_update, jql_name
from handoff_hub.hub.connector import (
    PM_CAPABILITIES,
    Capability,
    ChangePage,
    CheckResult,
    FilterValue,
    NewProject,
    PreflightNeeds,
    ProjectHandle,
    ProjectOutcome,
    RecordEnvelope,
    WriteResult,
)
from handoff_hub.hub.errors import ConnectorError, NotFoundError, RecordError
from handoff_hub.hub.http import (
    BasicToken,
    ProductWire,
    api_client_for,
    build_client,
    chunks,
    cursor_text,
    parse_cursor,
    parse_timestamp,
)
from handoff_hub.hub.http.concurrent import in_parallel, waves
from handoff_hub.hub.http.query import Condition, jql
from handoff_hub.hub.mapping.transforms import adf_to_text

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.systems import SystemConfig
    from handoff_hub.hub.http import RetryPolicy

__all__ = ["JiraConnector"]

WIRE = ProductWire(settings.DEFAULT_RATE_LIMIT, describe_error, observe_limits)

_ORDER = ("updated ASC", "key ASC")


class JiraConnector:
    """Read and write Jira Cloud issues; create delivery projects from templates."""

    # Checking an entity's ``where`` on a record read by id (webhooks): product knowledge.
    read_scope = staticmethod(record_where.read_scope)
    where_fields = staticmethod(record_where.where_fields)
    where_value = staticmethod(record_where.where_value)

    # Its webhooks, received by ``hub serve`` (:mod:`handoff_hub.connectors.jira.webhooks`).
    webhook_model = staticmethod(webhooks.webhook_model)
    webhook_receiver = staticmethod(webhooks.receiver)

    name: ClassVar[str] = "jira"
    settings_model: ClassVar[type[JiraConfig]] = JiraConfig
    """The model of ``systems.<name>.settings`` (checked by ``hub validate``)."""
    capabilities: ClassVar[frozenset[Capability]] = PM_CAPABILITIES

    def __init__(
        self,
        client: JiraClient,
        config: JiraConfig,
        *,
        base_url: str,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.system = client.system
        self.base_url = base_url.rstrip("/")
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.projects = ProjectOps(client, config, base_url=self.base_url)
        self.lookups = Lookups(client)
        self._zone: str | None = config.time_zone
        self._zone_read_at: dt.datetime | None = None
        self._fields: list[Mapping[str, Any]] | None = None

    @classmethod
    def from_config(
        cls,
        system: SystemConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> JiraConnector:
        """Build the connector from its ``systems.<name>`` section (see :class:`Connector`)."""
        config = load_config(system)
        secrets = resolve_secrets(system, config)
        http = build_client(
            system.base_url,
            auth=BasicToken(secrets.email, secrets.api_token),
            transport=transport,
            timeout=system.timeout_seconds,
        )
        hint = credentials_hint(system.name, config)
        api = api_client_for(system, http, WIRE, credentials_hint=hint, retry=retry)
        return cls(JiraClient(api), config, base_url=system.base_url)

    # reading -----------------------------------------------------------------

    def read_changes(
        self,
        object_name: str,
        *,
        since: str | None,
        fields: Sequence[str] = (),
        where: Mapping[str, FilterValue] | None = None,
        page_size: int | None = None,
        seen: Collection[str] = (),
    ) -> Iterator[ChangePage]:
        """Yield pages of issues updated at or after ``since``, oldest first.

        Args:
            object_name: ``issue``.
            since: ISO 8601 cursor from an earlier page, or None for everything.
            fields: Issue fields to return (``summary``, ``customfield_10050``);
                default: every navigable field. ``updated`` is always included.
            where: Equality filters ANDed to the JQL, e.g. ``{"issuetype": "Epic"}``
                (None means ``IS EMPTY``); epic mode adds ``project = <project_key>``
                unless a project is given.
            page_size: Issues asked per page (default: the ``page_size`` setting, 100).
                Up to 5000 may be asked: Jira gives that many only for ``id``/``key``,
                and fewer where fields are asked; pages follow ``nextPageToken``
                whatever their size.
            seen: Ids already handled at ``since``; re-reading them costs no calls here.

        Yields:
            One ChangePage per search page. Its cursor is the largest ``updated``
            seen, held back to (start of the read - 60 s) so that changes still
            on their way into Jira's search index are read next time.
        """
        self._object(object_name)
        since_at = parse_cursor(since, self.system, naive_is_utc=False) if since else None
        conditions = self._filters(where)
        if since_at is not None:
            minute = jql_minute(since_at, self.time_zone())
            conditions.append(Condition(settings.MODIFIED_FIELD, ">=", minute))
        query = jql(
            conditions or [Condition(settings.CREATED_FIELD, "IS NOT", None)], order_by=_ORDER
        )
        started, newest = self.clock(), since_at
        size = min(page_size or self.config.page_size, settings.SEARCH_PAGE_SIZE_MAX)
        for page in self.client.search(query, self._read_fields(fields), page_size=size):
            records = [
                self._envelope(raw, f"search result {i + 1}")
                for i, raw in enumerate(page["issues"])
            ]
            newest = max(
                [t for t in (newest, *(r.modified_at for r in records)) if t], default=None
            )
            yield ChangePage(records=records, cursor=self._cursor(newest, since_at, started))

    def _cursor(
        self, newest: dt.datetime | None, since_at: dt.datetime | None, started: dt.datetime
    ) -> str | None:
        if newest is None:
            return None
        held = min(newest, started - dt.timedelta(seconds=settings.CURSOR_LAG_SECONDS))
        return cursor_text(max(held, since_at) if since_at else held)

    def _filters(self, where: Mapping[str, FilterValue] | None) -> list[Condition]:
        conditions = [_condition(jql_name(k), v) for k, v in (where or {}).items()]
        if self.config.mode == "epic" and not any(c.field == "project" for c in conditions):
            conditions.insert(0, Condition("project", "=", self.config.project_key))
        return conditions

    def _read_fields(self, fields: Sequence[str]) -> list[str]:
        if not fields:
            return list(settings.DEFAULT_READ_FIELDS)
        names = [f.removeprefix("fields.").split(".", 1)[0] for f in fields]
        chosen = [n for n in names if n and n not in settings.SYSTEM_KEYS]
        return list(dict.fromkeys([*chosen, settings.MODIFIED_FIELD]))

    def time_zone(self) -> str:
        """The API user's time zone, in which Jira reads JQL dates.

        The ``time_zone`` setting, else ``/myself``, read once per run and kept
        across runs (:meth:`facts`) for :data:`settings.TIME_ZONE_TRUST_SECONDS`.
        """
        if self._zone is None:
            self._zone = str(self.client.myself().get("timeZone") or "UTC")
            self._zone_read_at = self.clock()
        return self._zone

    def facts(self) -> dict[str, str]:
        """The time zone ``/myself`` answered and when (none when it is a setting)."""
        if self.config.time_zone or self._zone is None or self._zone_read_at is None:
            return {}
        return {"time_zone": self._zone, "time_zone_read_at": cursor_text(self._zone_read_at)}

    def recall(self, facts: Mapping[str, str]) -> None:
        """Trust a time zone an earlier run read, while it is fresh enough."""
        zone, read_at = facts.get("time_zone"), facts.get("time_zone_read_at")
        if self.config.time_zone or self._zone_read_at is not None or not zone or not read_at:
            return
        try:
            when = dt.datetime.fromisoformat(read_at)
        except ValueError:
            return
        age = (self.clock() - when).total_seconds() if when.tzinfo else None
        if age is not None and 0 <= age <= settings.TIME_ZONE_TRUST_SECONDS:
            self._zone, self._zone_read_at = zone, when

    def read_by_ids(
        self, object_name: str, ids: Sequence[str], *, fields: Sequence[str] = ()
    ) -> list[RecordEnvelope]:
        """Issues by key (or numeric id); missing ones are left out.

        ``key IN (...)`` in chunks of 100; Jira refuses a whole query naming a
        key that does not exist, so such a chunk is read issue by issue instead.
        A value that is neither a key nor an id names no issue and is left out.
        """
        self._object(object_name)
        wanted = [i for i in dict.fromkeys(ids) if is_issue_ref(i)]
        chosen = self._read_fields(fields)
        found: list[Mapping[str, Any]] = []
        for batch in chunks(wanted, settings.IDS_PER_QUERY):
            field = "id" if all(i.isdigit() for i in batch) else "key"
            query = jql([Condition(field, "IN", list(batch))], order_by=["key ASC"])
            try:
                found += self.lookups.search_all(query, chosen)
            except RecordError:
                found += [i for i in (self.client.get_issue(k, chosen) for k in batch) if i]
        return [self._envelope(raw, f"issue {i + 1}", stamped=False) for i, raw in enumerate(found)]

    def find_by_external_id(
        self, object_name: str, external_field: str, values: Sequence[str]
    ) -> dict[str, str]:
        """Map each found value to the key of the issue carrying it.

        ``external_field`` ``"label"`` means the hub's stamp label of a source
        id (``hh-src-...``); any other name is an issue field (``customfield_10051``),
        searched with ``IN`` or, for text fields, ``~`` and then compared exactly.
        """
        self._object(object_name)
        unique = list(dict.fromkeys(values))
        if external_field == settings.LABEL_FIELD:
            return self.lookups.by_label(unique)
        text = self._is_text(external_field)
        return self.lookups.by_field(external_field, unique, text=text)

    def _is_text(self, field: str) -> bool:
        if field in {"summary", "description", "environment"}:
            return True
        for described in self.describe(settings.ISSUE_OBJECT)["fields"]:
            if described.get("id") == field:
                schema = described.get("schema") or {}
                return schema.get("custom") in settings.TEXT_FIELD_TYPES
        return False

    def describe(self, object_name: str) -> Mapping[str, Any]:
        """``{"fields": [...]}`` from ``GET /field`` (cached for the connector's lifetime)."""
        self._object(object_name)
        if self._fields is None:
            self._fields = self.client.fields()
        return {"fields": self._fields}

    def preflight(self, needs: PreflightNeeds) -> list[CheckResult]:
        """``hub check``: the API user, permissions, project, fields and create screens."""
        return jira_preflight(self.client, self.config, needs).results

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """The custom fields among ``fields`` the site lacks; system fields every site has.

        A custom field is named by its id (``customfield_10060``) or a path below ``fields.``.

        Ids of custom fields differ per site: a mapping naming one the site does
        not have would fail every write that sets it.
        """
        known = {str(f.get("id")) for f in self.describe(object_name)["fields"]}
        return [f for f in fields if (cf := _custom_field(f)) is not None and cf not in known]

    def default_currency(self) -> str | None:
        """None: Jira has no currency of its own (a budget's comes from the mapping)."""
        return None

    def find_users(self, emails: Sequence[str]) -> dict[str, str]:
        """Map e-mail addresses to active Atlassian account ids (unknown ones left out).

        Where a user hides their e-mail, a search that finds exactly one active
        Atlassian account for the address counts as a match.
        """
        return self.lookups.users(emails)

    # writing -----------------------------------------------------------------

    def create(self, object_name: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Create issues, 50 per call; one result per record (id = issue key), in order.

        A record is either a field map or a whole ``IssueUpdateDetails``
        (``{"fields": ..., "properties": ...}``); a plain-text description is
        turned into ADF.
        """
        self._object(object_name)
        updates = [issue_update(r) for r in records]
        return [
            WriteResult(o.index, o.ok, id=o.key, created=True if o.ok else None, error=o.error)
            for o in self.client.create_issues(updates)
        ]

    def update(
        self, object_name: str, records: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult]:
        """Edit ``(key, fields)`` pairs, one ``PUT`` each; a refused one does not stop the rest.

        The PUTs go ``concurrency`` at a time (two edits of one issue in order).
        """
        self._object(object_name)

        def edit(item: tuple[int, tuple[str, Mapping[str, Any]]]) -> WriteResult:
            index, (key, fields) = item
            try:
                self.client.edit_issue(key, issue_update(fields))
            except (RecordError, NotFoundError) as exc:
                return WriteResult(index, False, id=key, created=False, error=str(exc))
            return WriteResult(index, True, id=key, created=False)

        results: list[WriteResult] = []
        for run in waves(enumerate(records), lambda item: [item[1][0]]):
            results += in_parallel(edit, run, workers=self.client.api.concurrency)
        return results

    def add_comment(self, object_name: str, record_id: str, text: str) -> str:
        """Comment on an issue (the text becomes an ADF document); return the comment id."""
        self._object(object_name)
        comment = self.client.add_comment(record_id, adf(text))
        return str(comment.get("id"))

    def comment_texts(self, object_name: str, record_id: str) -> list[str]:
        """The issue's comments as plain text (ADF flattened), oldest first."""
        self._object(object_name)
        return [str(adf_to_text(c.get("body")) or "") for c in self.client.comments(record_id)]

    # projects ------------------------------------------------------------------

    def find_project(self, source_id: str) -> ProjectHandle | None:
        """The Epic stamped with ``source_id`` (label, confirmed by entity property)."""
        return self.projects.find(source_id)

    def find_projects(self, source_ids: Sequence[str]) -> dict[str, ProjectHandle]:
        """The Epic stamped with each of ``source_ids``: one search per 50 of them."""
        return self.projects.find_many(source_ids)

    def create_project(self, project: NewProject) -> ProjectHandle:
        """Create the Epic (epic mode) or a project and its Epic (project mode), then the WBS."""
        return self.projects.create(project)

    def create_projects(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Many deals' Epics, then their tasks, in bulk calls of 50 across deals and projects."""
        return self.projects.create_many(projects)

    def complete_project(self, handle: ProjectHandle, project: NewProject) -> ProjectHandle:
        """Create the template tasks missing under the Epic (after a crash mid-create)."""
        return self.projects.complete(handle, project)

    project_stamp_fields: tuple[str, ...] = ("labels",)

    def project_stamp(self, raw: Mapping[str, Any]) -> str | None:
        """The Epic's stamp label (``hh-src-...``), or None."""
        labels = (raw.get("fields") or {}).get("labels") or []
        prefix = settings.STAMP_LABEL_PREFIX
        return next((str(lb) for lb in labels if str(lb).startswith(prefix)), None)

    def stamp_key(self, source_id: str) -> str:
        """The stamp label of ``source_id`` (Jira compares labels without case)."""
        return stamp_label(source_id)

    # misc ----------------------------------------------------------------------

    def record_url(self, object_name: str, record_id: str) -> str:
        """``{base}/browse/{key}`` for an issue or a project."""
        return self.projects.url(record_id)

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()

    def _object(self, object_name: str) -> str:
        name = settings.OBJECT_ALIASES.get(object_name.lower())
        if name is None:
            raise ConnectorError(
                f"unknown object {object_name!r}; known: {settings.ISSUE_OBJECT}",
                system=self.system,
            )
        return name

    def _envelope(self, raw: Any, where: str, *, stamped: bool = True) -> RecordEnvelope:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str):
            shown = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
            raise ConnectorError(f"{where} has no key (present: {shown})", system=self.system)
        updated = (raw.get("fields") or {}).get(settings.MODIFIED_FIELD)
        modified = None
        if stamped or updated is not None:
            modified = parse_timestamp(updated, f"issue {raw['key']} updated", self.system)
        return RecordEnvelope(
            system=self.system,
            object=settings.ISSUE_OBJECT,
            id=raw["key"],
            raw=raw,
            modified_at=modified,
        )


def _condition(field: str, value: FilterValue) -> Condition:
    """``IS EMPTY`` for None, ``IN`` for a list, ``=`` otherwise."""
    if value is None:
        return Condition(field, "IS", None)
    if isinstance(value, list):
        return Condition(field, "IN", list(value))
    return Condition(field, "=", value)


def _custom_field(path: str) -> str | None:
    """``customfield_10060`` of ``fields.customfield_10060.value`` or of the bare id."""
    parts = path.split(".")
    first = parts[1] if parts[0] == "fields" and len(parts) > 1 else parts[0]
    return first if first.startswith("customfield_") else None
