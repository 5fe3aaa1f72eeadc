"""Asana connector: implements :class:`hub.connector.PmConnector`.

Objects are ``tasks`` and ``projects``, identified by gid. Reads list with
``opt_fields`` and offset paging, several projects at once, or search the
workspace for a read from a cursor (:mod:`handoff_hub.connectors.asana.changes`).
Writes and reads by id go through the batch API, 10 actions per call, each record
answered on its own (:mod:`handoff_hub.connectors.asana.batch`). Custom fields are
written by gid, name or logical name (:mod:`handoff_hub.connectors.asana.values`).
Delivery projects are found by the CRM id stamped on them and created from an
Asana project template or from the hub's template (:mod:`handoff_hub.connectors.asana.project_ops`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from handoff_hub.connectors.asana import settings, webhooks
from handoff_hub.connectors.asana import where as record_where
from handoff_hub.connectors.asana.batch import BatchRunner, action, raise_for_action
from handoff_hub.connectors.asana.changes import ChangeReader, opt_fields
from handoff_hub.connectors.asana.client import (
    AsanaClient,
    describe_error,
    observe_limits,
    token_request_factory,
)
from handoff_hub.connectors.asana.config import (
    AsanaConfig,
    credentials_hint,
    load_config,
    resolve_secrets,
)
from handoff_hub.connectors.asana.fields import FieldCatalogue
from handoff_hub.connectors.asana.lookups import Lookups
from handoff_hub.connectors.asana.preflight import asana_preflight
from handoff_hub.connectors.asana.project_ops import ProjectOps
from handoff_hub.connectors.asana.records import api_path, gid_of
from handoff_hub.connectors.asana.wbs import WbsWriter
from handoff_hub.connectors.asana.writes import ITEM_PATHS, RecordWriter
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
from handoff_hub.hub.errors import ConnectorError
from handoff_hub.hub.http import (
    BearerToken,
    OAuth2Token,
    ProductWire,
    api_client_for,
    build_client,
    parse_cursor,
)

if TYPE_CHECKING:
    import httpx

    from handoff_hub.hub.config.systems import SystemConfig
    from handoff_hub.hub.http import RetryPolicy

_CUSTOM_PREFIX = "custom_fields."

__all__ = ["AsanaConnector"]

_DEFAULT_FIELDS = {
    settings.TASK_OBJECT: settings.DEFAULT_TASK_FIELDS,
    settings.PROJECT_OBJECT: settings.DEFAULT_PROJECT_FIELDS,
}


class AsanaConnector:
    """Read and write Asana tasks and projects; create delivery projects from templates."""

    # Checking an entity's ``where`` on a record read by id (webhooks): product knowledge.
    read_scope = staticmethod(record_where.read_scope)
    where_fields = staticmethod(record_where.where_fields)
    where_value = staticmethod(record_where.where_value)

    # Its webhooks, received by ``hub serve`` (:mod:`handoff_hub.connectors.asana.webhooks`).
    webhook_model = staticmethod(webhooks.webhook_model)
    webhook_receiver = staticmethod(webhooks.receiver)

    name: ClassVar[str] = "asana"
    settings_model: ClassVar[type[AsanaConfig]] = AsanaConfig
    """The model of ``systems.<name>.settings`` (checked by ``hub validate``)."""
    capabilities: ClassVar[frozenset[Capability]] = PM_CAPABILITIES

    def __init__(
        self,
        client: AsanaClient,
        config: AsanaConfig,
        *,
        base_url: str,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.system = client.system
        self.app_url = (config.app_url or base_url).rstrip("/")
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.runner = BatchRunner(client)
        self.catalogue = FieldCatalogue(client, config)
        self.writer = RecordWriter(self.runner, self.catalogue, config)
        self.lookups = Lookups(client, config, self.catalogue)
        self.changes = ChangeReader(client, config, self.catalogue, lambda: self.clock())
        self.projects = ProjectOps(
            client,
            config,
            catalogue=self.catalogue,
            lookups=self.lookups,
            wbs=WbsWriter(client, self.runner),
            app_url=self.app_url,
        )

    @classmethod
    def from_config(
        cls,
        system: SystemConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> AsanaConnector:
        """Build the connector from its ``systems.<name>`` section (see :class:`Connector`)."""
        config = load_config(system)
        secrets = resolve_secrets(system, config)
        base = _host(system.base_url)
        hint = credentials_hint(system.name, config)
        auth: httpx.Auth
        if config.auth_flow == "oauth":
            auth = OAuth2Token(
                token_request_factory(base, secrets), system=system.name, setting_hint=hint
            )
        else:
            assert secrets.access_token is not None  # resolve_secrets checked it
            auth = BearerToken(secrets.access_token)
        http = build_client(base, auth=auth, transport=transport, timeout=system.timeout_seconds)
        wire = ProductWire(settings.RATE_LIMITS[config.plan], describe_error, observe_limits)
        api = api_client_for(system, http, wire, credentials_hint=hint, retry=retry)
        return cls(AsanaClient(api), config, base_url=base)

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
        """Yield pages of records modified at or after ``since``, as they are read.

        Args:
            object_name: ``tasks`` or ``projects``.
            since: ISO 8601 cursor from an earlier page, or None for everything.
            fields: ``opt_fields`` to return (``name``, ``assignee.email``,
                ``custom_fields``); default: the connector's usual set.
                ``modified_at`` is always included.
            where: Tasks: ``project``, ``section``, ``assignee`` or ``parent``
                choose the listing (default: the ``project_gid`` setting, else
                every team project); projects: ``team``, ``archived``. Other
                keys are equality filters applied to the records read.
            page_size: Records per yielded page (default: the ``page_size`` setting).
            seen: Ids already handled at ``since``; re-reading them costs no calls here.

        Yields:
            ChangePages whose cursor stays at ``since`` until the last page, which
            carries the newest ``modified_at`` read, held back 30 s behind the
            start of the read (``search_overlap_seconds`` when searched).
        """
        kind = self._object(object_name)
        since_at = parse_cursor(since, self.system, naive_is_utc=False) if since else None
        return self.changes.read(
            kind,
            since_at=since_at,
            fields=fields,
            where=where,
            page_size=max(1, page_size or self.config.page_size),
            seen=seen,
        )

    def read_by_ids(
        self, object_name: str, ids: Sequence[str], *, fields: Sequence[str] = ()
    ) -> list[RecordEnvelope]:
        """Records by gid through the batch API (10 per call); missing ones are left out."""
        kind = self._object(object_name)
        wanted = [i for i in dict.fromkeys(ids) if str(i).isdigit()]
        chosen = opt_fields(fields, _DEFAULT_FIELDS[kind], settings.MODIFIED_FIELD).split(",")
        actions = [
            action("GET", api_path(ITEM_PATHS[kind], task=g, project=g), fields=chosen)
            for g in wanted
        ]
        wrap = self.changes.envelope_for(kind)
        found = []
        for result in self.runner.run(actions):
            if result.status == 404:
                continue
            raise_for_action(result, self.system, f"read {kind} {wanted[result.index]}")
            found.append(wrap(result.data))
        return found

    def find_by_external_id(
        self, object_name: str, external_field: str, values: Sequence[str]
    ) -> dict[str, str]:
        """Map each found value to the gid of the oldest record holding it.

        ``external_field`` names a custom field by gid, name or logical name
        (``crm_id``, the hub's stamp). Projects are matched over the team's
        project list (the CRM id also in their notes); tasks through the
        workspace task search, or by listing project tasks where search is
        not available (non-premium workspaces).
        """
        kind = self._object(object_name)
        unique = [str(v) for v in dict.fromkeys(values)]
        if not unique:
            return {}
        if kind == settings.PROJECT_OBJECT:
            return self.lookups.projects_by_field(external_field, unique)
        return self.lookups.tasks_by_field(external_field, unique)

    def describe(self, object_name: str) -> Mapping[str, Any]:
        """``{"fields": [...]}``: the workspace's custom fields (gid, name, type, options)."""
        self._object(object_name)
        return {
            "fields": [
                {"gid": f.gid, "name": f.name, "type": f.subtype, "options": list(f.options)}
                for f in self.catalogue.fields()
            ]
        }

    def preflight(self, needs: PreflightNeeds) -> list[CheckResult]:
        """``hub check``: user and workspace, team, template, custom fields and options."""
        return asana_preflight(self.client, self.config, self.catalogue, needs).results

    def missing_fields(self, object_name: str, fields: Sequence[str]) -> list[str]:
        """The custom fields among ``fields`` (``custom_fields.<ref>``) the workspace lacks.

        ``<ref>`` is a logical name, gid or name, as writes take it; other paths are
        the API's own attributes, which every workspace has.
        """
        self._object(object_name)
        return [
            path
            for path in fields
            if path.startswith(_CUSTOM_PREFIX)
            and self.catalogue.find(path.removeprefix(_CUSTOM_PREFIX).split(".")[0]) is None
        ]

    def default_currency(self) -> str | None:
        """None: a workspace has no currency of its own (a budget's comes from the mapping)."""
        return None

    def find_users(self, emails: Sequence[str]) -> dict[str, str]:
        """Map e-mail addresses to the gids of the workspace's users (unknown ones left out)."""
        return self.lookups.users(emails)

    # writing -----------------------------------------------------------------

    def create(self, object_name: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        """Create records through the batch API; one result per record (id = gid), in order.

        A task without ``projects``, ``parent`` or ``workspace`` goes into the
        ``project_gid`` setting's project (else the workspace); a project
        without them into the configured workspace and team. A create Asana
        answered 5xx is reported as failed although it may exist: the engine
        looks for the stamp before it creates again.
        """
        return self.writer.create(self._object(object_name), records)

    def update(
        self, object_name: str, records: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[WriteResult]:
        """Update ``(gid, fields)`` pairs in batches; a refused one does not stop the rest."""
        return self.writer.update(self._object(object_name), records)

    def add_comment(self, object_name: str, record_id: str, text: str) -> str:
        """Post a comment story on a task; return the story gid.

        Asana projects have no comment stories (their updates are status
        updates, which also set the project's status colour), so only tasks take
        comments.
        """
        if self._object(object_name) != settings.TASK_OBJECT:
            raise ConnectorError(
                "Asana takes comments on tasks only (a project has status updates)",
                system=self.system,
            )
        story = self.client.post(
            api_path(settings.STORIES_PATH, task=record_id), {"text": text}, fields=("text",)
        )
        gid = gid_of(story)
        if gid is None:
            raise ConnectorError("comment answered no gid", system=self.system)
        return gid

    def comment_texts(self, object_name: str, record_id: str) -> list[str]:
        """The text of the task's comment stories, oldest first (a project has none)."""
        if self._object(object_name) != settings.TASK_OBJECT:
            return []
        stories = self.client.list_all(
            api_path(settings.STORIES_PATH, task=record_id),
            {"opt_fields": "text,resource_subtype,type"},
            page_size=settings.PAGE_SIZE_MAX,
        )
        return [
            str(s.get("text") or "")
            for s in stories
            if s.get("resource_subtype") == "comment_added" or s.get("type") == "comment"
        ]

    # projects ------------------------------------------------------------------

    def find_project(self, source_id: str) -> ProjectHandle | None:
        """The team project stamped with ``source_id`` (CRM-id custom field, or notes)."""
        return self.projects.find(source_id)

    def find_projects(self, source_ids: Sequence[str]) -> dict[str, ProjectHandle]:
        """The team project stamped with each of ``source_ids``: one listing for them all."""
        return self.projects.find_many(source_ids)

    def create_project(self, project: NewProject) -> ProjectHandle:
        """Create the project (instantiating an Asana template if named) and its WBS."""
        return self.projects.create(project)

    def create_projects(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Many deals' projects, then their tasks level by level, in ``/batch`` calls."""
        return self.projects.create_many(projects)

    def complete_project(self, handle: ProjectHandle, project: NewProject) -> ProjectHandle:
        """Restore the stamp and create the template tasks missing (after a crash mid-create)."""
        return self.projects.complete(handle, project)

    project_stamp_fields: tuple[str, ...] = ("notes", "custom_fields")

    def project_stamp(self, raw: Mapping[str, Any]) -> str | None:
        """The source id in the project's CRM-id field, else in its notes' stamp line."""
        return self.projects.stamp_of(raw)

    def stamp_key(self, source_id: str) -> str:
        """Asana keeps the source id as it is."""
        return source_id

    # misc ----------------------------------------------------------------------

    def record_url(self, object_name: str, record_id: str) -> str:
        """``{app}/0/0/{task}`` for a task, ``{app}/0/{project}/list`` for a project."""
        if self._object(object_name) == settings.PROJECT_OBJECT:
            return self.projects.url(record_id)
        return settings.APP_TASK_URL.format(app=self.app_url, task=record_id)

    def close(self) -> None:
        """Release the HTTP client."""
        self.client.close()

    def _object(self, object_name: str) -> str:
        name = settings.OBJECT_ALIASES.get(object_name.lower())
        if name is None:
            known = f"{settings.TASK_OBJECT}, {settings.PROJECT_OBJECT}"
            raise ConnectorError(
                f"unknown object {object_name!r}; known: {known}", system=self.system
            )
        return name


def _host(base_url: str) -> str:
    """The API host: a base URL given with ``/api/1.0`` is cut back to it."""
    base = base_url.rstrip("/")
    return base.removesuffix(settings.API_ROOT)
