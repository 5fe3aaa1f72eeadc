"""Find, create and complete a deal's delivery project in Asana.

**The stamp.** Every project the hub creates carries the CRM source id
(``salesforce:006...``) in the CRM-id text custom field, and as a last line of
its notes (``Handoff Hub source: ...``), the fallback where the field is
missing or was cleared.

**Finding.** :meth:`ProjectOps.find` lists the team's projects
(``GET /projects?workspace=&team=``, 100 a page, ``opt_fields`` with
``custom_fields`` and ``notes``) and compares the stamp exactly. Two documented
alternatives do not fit: the task search (``/workspaces/{gid}/tasks/search``)
finds tasks, not projects; the project search
(``/workspaces/{gid}/projects/search`` with ``custom_fields.{gid}.value``) is
premium-only and its index trails writes by 10-60 seconds, exactly the window
in which a crashed run is retried. The project list reads its own writes.

**Creating.** Without an Asana template the project is created with
``POST /projects``, stamp and mapped fields in the same request, then its
work breakdown (:mod:`handoff_hub.connectors.asana.wbs`). With one
(``ProjectTemplate.product_template``), ``POST /project_templates/{gid}/
instantiateProject`` answers a job naming the new project at once; the project
is stamped right away, then the job is polled (``GET /jobs/{gid}``) until it
succeeds, and the hub template's own tasks, if any, are added by name. An
unstamped project of the same name made from the same template (left by a run
that died between the instantiation and the stamp) is adopted rather than
instantiated again.

A create answered 5xx, or whose connection dropped or timed out, may or may
not have happened: the connector looks (``find``, or the orphan check) before
it sends it again, up to four times (:func:`hub.http.create_then_verify`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana import settings
from handoff_hub.connectors.asana.batch import action
from handoff_hub.connectors.asana.bulk_projects import BulkProjects
from handoff_hub.connectors.asana.fields import read_value
from handoff_hub.connectors.asana.projects import plan_wbs, requested_dates
from handoff_hub.connectors.asana.records import api_path, gid_of, notes_with_stamp, stamp_in_notes
from handoff_hub.connectors.asana.values import asana_payload
from handoff_hub.hub.connector import ProjectHandle
from handoff_hub.hub.errors import (
    ConnectorError,
    HubError,
    NotFoundError,
    RecordError,
    TransientError,
)
from handoff_hub.hub.http import create_then_verify

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.batch import ActionResult
    from handoff_hub.connectors.asana.client import AsanaClient
    from handoff_hub.connectors.asana.config import AsanaConfig
    from handoff_hub.connectors.asana.fields import FieldCatalogue
    from handoff_hub.connectors.asana.lookups import Lookups
    from handoff_hub.connectors.asana.wbs import WbsWriter
    from handoff_hub.hub.connector import NewProject, ProjectOutcome

__all__ = ["ProjectOps"]

log = logging.getLogger("hub.asana")
_OWNED = frozenset({"gid", "resource_type", "workspace", "team", "name"})


class ProjectOps:
    """The project handoff's Asana side: one project per deal, in the configured team."""

    def __init__(
        self,
        client: AsanaClient,
        config: AsanaConfig,
        *,
        catalogue: FieldCatalogue,
        lookups: Lookups,
        wbs: WbsWriter,
        app_url: str,
    ) -> None:
        self.client = client
        self.config = config
        self.catalogue = catalogue
        self.lookups = lookups
        self.wbs = wbs
        self.app_url = app_url.rstrip("/")

    @property
    def system(self) -> str:
        """The hub's name for this system."""
        return self.client.system

    def url(self, gid: str) -> str:
        """The project's list view."""
        return settings.APP_PROJECT_URL.format(app=self.app_url, project=gid)

    def handle(self, gid: str, **extra: Any) -> ProjectHandle:
        """The handoff's handle of project ``gid``."""
        return ProjectHandle(gid, gid, self.url(gid), **extra)

    # finding ---------------------------------------------------------------

    def stamp_of(self, project: Mapping[str, Any]) -> str | None:
        """The source id a project carries: the CRM-id field, else its notes' stamp line."""
        field = self.catalogue.find("crm_id")
        value = read_value(project.get("custom_fields"), field) if field else None
        return str(value) if value else stamp_in_notes(project.get("notes"))

    def find(self, source_id: str) -> ProjectHandle | None:
        """The oldest team project stamped with ``source_id`` (exact match)."""
        return self.find_many([source_id]).get(source_id)

    def find_many(self, source_ids: Sequence[str]) -> dict[str, ProjectHandle]:
        """The oldest team project stamped with each of ``source_ids``, by source id.

        Asana cannot search projects by a field (workspace search is premium and
        lags), so the team's projects are listed: once for all the ids.
        """
        wanted = set(source_ids)
        found: dict[str, ProjectHandle] = {}
        if not wanted:
            return found
        for project in self.lookups.team_projects(settings.FIND_PROJECT_FIELDS):
            stamp = self.stamp_of(project)
            if stamp in wanted and stamp not in found:
                found[stamp] = self.handle(str(project["gid"]))
        return found

    # creating ----------------------------------------------------------------

    def create(self, project: NewProject) -> ProjectHandle:
        """Create the project (from the Asana template, if named) and its work breakdown.

        Raises:
            ConfigError: the template's tasks are inconsistent (checked first).
            RecordError: Asana refused the project, a field value, or some tasks.
        """
        plan = plan_wbs(project.template)
        data = self.payload(project)
        if project.template.product_template:
            gid = self._from_template(project, project.template.product_template, data)
            existing = self.wbs.existing(gid, plan) if plan.size else {}
        else:
            gid = self._create_plain(project, data)
            existing = {}
        log.info("%s: created project %s for %s", self.system, gid, project.source_id)
        task_ids = self.wbs.complete(gid, project, plan, existing) if plan.size else ()
        return self.handle(gid, created=True, task_ids=task_ids)

    def payload(self, project: NewProject) -> dict[str, Any]:
        """Mapped fields plus the hub's own: name, stamp (field and notes), owner."""
        fields = {k: v for k, v in project.fields.items() if k not in _OWNED}
        fields["notes"] = notes_with_stamp(fields.get("notes"), project.source_id)
        custom = dict(fields.get("custom_fields") or {})
        if self.catalogue.find("crm_id") is not None:
            custom["crm_id"] = project.source_id
        else:
            log.warning(
                "%s: no CRM-id custom field %r; the stamp is kept in the notes only",
                self.system,
                self.config.crm_id_field,
            )
        if custom:
            fields["custom_fields"] = custom
        if project.manager_id and not fields.get("owner"):
            fields["owner"] = project.manager_id
        return {"name": project.name, **asana_payload(fields, self.catalogue)}

    def create_many(self, projects: Sequence[NewProject]) -> list[ProjectOutcome]:
        """Every project and its work breakdown in ``/batch`` calls across deals; one outcome each.

        Raises:
            ConfigError: a template's tasks are inconsistent (checked before any write).
        """
        return BulkProjects(self).create(projects)

    def _create_plain(self, project: NewProject, data: Mapping[str, Any]) -> str:
        body = {**data, "workspace": self.config.workspace_gid}
        if self.config.team_gid:
            body["team"] = self.config.team_gid

        def create() -> str:
            created = self.client.post(settings.PROJECTS_PATH, body, fields=("name",))
            return self._gid(created, "project create")

        def find() -> str | None:
            found = self.find(project.source_id)
            return None if found is None else found.id

        return create_then_verify(create, find, attempts=settings.CREATE_ATTEMPTS)

    def _from_template(self, project: NewProject, template: str, data: Mapping[str, Any]) -> str:
        orphan = self._orphan(project.name, template)
        gid, job = self.start_from_template(project, template, data, orphan=orphan)
        self._await(job)  # None: an adopted project
        return gid

    def start_from_template(
        self, project: NewProject, template: str, data: Mapping[str, Any], *, orphan: str | None
    ) -> tuple[str, str | None]:
        """Instantiate the template (or adopt ``orphan``) and stamp the project at once.

        Returns:
            The project's gid and its instantiation job's (None for an adopted project).
        """
        if orphan is not None:
            log.info("%s: adopting unstamped project %s", self.system, orphan)
            self._put(orphan, data)
            return orphan, None
        info = self.client.get(
            api_path(settings.TEMPLATE_PATH, template=template),
            fields=("name", "requested_dates"),
            allow_missing=True,
        )
        if info is None:
            raise NotFoundError(f"project template {template} does not exist", system=self.system)
        request: dict[str, Any] = {"name": project.name}
        if self.config.team_gid:
            request["team"] = self.config.team_gid
        dates = requested_dates(info.get("requested_dates"), project, data.get("due_on"))
        if dates:
            request["requested_dates"] = dates
        job = self._instantiate(project, template, request)
        gid = gid_of(job.get("new_project")) if isinstance(job, Mapping) else None
        if gid is None:
            raise ConnectorError("instantiation answered no new_project", system=self.system)
        self._put(gid, data)  # stamp first
        return gid, gid_of(job)

    def orphans(self) -> dict[tuple[str, str], str]:
        """Unstamped team projects made from a template, by (name, template gid); the oldest."""
        found: dict[tuple[str, str], str] = {}
        for project in self.lookups.team_projects(settings.FIND_PROJECT_FIELDS):
            made_from = gid_of(project.get("created_from_template"))
            if made_from and not self.stamp_of(project):
                found.setdefault((str(project.get("name")), made_from), str(project["gid"]))
        return found

    def await_jobs(self, jobs: Mapping[str, str]) -> dict[str, HubError | None]:
        """Poll many instantiation jobs together (``GET /jobs`` actions in ``/batch`` calls).

        Returns:
            By the caller's key: None once the job succeeded, else why not (a
            failed job is a record error, one still running a transient one).
        """
        pending = dict(jobs)
        done: dict[str, HubError | None] = {}
        for _ in range(settings.JOB_POLLS):
            keys = list(pending)
            actions = [
                action("GET", api_path(settings.JOB_PATH, job=pending[k]), fields=("status",))
                for k in keys
            ]
            for key, result in zip(keys, self.wbs.runner.run(actions), strict=True):
                status = _job_status(result)
                if status in {"succeeded", "failed"} or (not result.ok and result.status < 500):
                    job = pending.pop(key)
                    done[key] = None if status == "succeeded" else self._job_failed(job, result)
            if not pending:
                return done
            self.client.pause(self.config.job_poll_seconds)
        for key, job in pending.items():
            done[key] = TransientError(
                f"instantiation job {job} still running after {settings.JOB_POLLS} polls",
                system=self.system,
            )
        return done

    def _job_failed(self, job: str, result: ActionResult) -> RecordError:
        why = "failed" if result.ok else f"could not be read ({result.error()})"
        return RecordError(f"instantiation job {job} {why}", system=self.system)

    def _instantiate(
        self, project: NewProject, template: str, request: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """``instantiateProject``; after an unsure answer, adopt what it made before resending."""
        path = api_path(settings.INSTANTIATE_PATH, template=template)

        def create() -> Mapping[str, Any]:
            job = self.client.post(path, request)
            if not isinstance(job, Mapping):
                raise ConnectorError("instantiation answered no job", system=self.system)
            return job

        def find() -> Mapping[str, Any] | None:
            orphan = self._orphan(project.name, template)
            return None if orphan is None else {"gid": None, "new_project": {"gid": orphan}}

        return create_then_verify(create, find, attempts=settings.CREATE_ATTEMPTS)

    def _orphan(self, name: str, template: str) -> str | None:
        """An unstamped team project of this name made from this template (oldest first)."""
        for project in self.lookups.team_projects(settings.FIND_PROJECT_FIELDS):
            made_from = gid_of(project.get("created_from_template"))
            if project.get("name") == name and made_from == template and not self.stamp_of(project):
                return str(project["gid"])
        return None

    def _put(self, gid: str, data: Mapping[str, Any]) -> None:
        """Update a project; the CRM-id field is left out where the project lacks it.

        The stamp's notes line, in the same update, keeps such a project findable.

        Raises:
            RecordError: Asana refused the update; a mapped field the project
                lacks is named, with what to do.
        """
        try:
            self.client.put(api_path(settings.PROJECT_PATH, project=gid), data)
        except RecordError as exc:
            lacking = self.catalogue.not_on_object(str(exc))
            stamp = self.catalogue.find("crm_id")
            if lacking is not None and stamp is not None and lacking.gid == stamp.gid:
                log.warning(
                    "%s: project %s has no %r field; its stamp is kept in its notes only",
                    self.system,
                    gid,
                    stamp.name,
                )
                rest = _without_field(data, stamp.gid)
                if rest:
                    self._put(gid, rest)
                return
            explained = self.catalogue.absent_error(str(exc), f"project {gid}")
            if explained is None:
                raise
            raise RecordError(explained, system=self.system, status=exc.status) from None

    def _await(self, job_gid: str | None) -> None:
        """Poll the instantiation job until it has succeeded.

        Raises:
            RecordError: the job failed (the project exists, stamped; a rerun completes it).
            TransientError: the job was still running after every poll.
        """
        if job_gid is None:
            return
        status = "unknown"
        for _ in range(settings.JOB_POLLS):
            job = self.client.get(api_path(settings.JOB_PATH, job=job_gid), fields=("status",))
            status = str(job.get("status") if isinstance(job, Mapping) else "unknown")
            if status == "succeeded":
                return
            if status == "failed":
                raise RecordError(f"instantiation job {job_gid} failed", system=self.system)
            self.client.pause(self.config.job_poll_seconds)
        raise TransientError(
            f"instantiation job {job_gid} still {status} after {settings.JOB_POLLS} polls",
            system=self.system,
        )

    def _gid(self, body: Any, what: str) -> str:
        gid = gid_of(body)
        if gid is None:
            raise ConnectorError(f"{what} answered no gid", system=self.system)
        return gid

    # completing ------------------------------------------------------------

    def complete(self, handle: ProjectHandle, project: NewProject) -> ProjectHandle:
        """Put back a missing stamp and create the template tasks still missing.

        Raises:
            NotFoundError: the project no longer exists.
            RecordError: Asana refused some of the missing tasks.
        """
        plan = plan_wbs(project.template)
        path = api_path(settings.PROJECT_PATH, project=handle.id)
        current = self.client.get(path, fields=settings.FIND_PROJECT_FIELDS, allow_missing=True)
        if not isinstance(current, Mapping):
            raise NotFoundError(f"project {handle.id} does not exist", system=self.system)
        self._restore_stamp(handle.id, current, project.source_id)
        existing = self.wbs.existing(handle.id, plan) if plan.size else {}
        task_ids = self.wbs.complete(handle.id, project, plan, existing) if plan.size else ()
        return self.handle(handle.id, created=False, task_ids=task_ids)

    def _restore_stamp(self, gid: str, current: Mapping[str, Any], source_id: str) -> None:
        update: dict[str, Any] = {}
        if stamp_in_notes(current.get("notes")) != source_id:
            update["notes"] = notes_with_stamp(current.get("notes"), source_id)
        field = self.catalogue.find("crm_id")
        if field is not None and read_value(current.get("custom_fields"), field) != source_id:
            update["custom_fields"] = {field.gid: source_id}
        if update:
            self._put(gid, update)


def _job_status(result: ActionResult) -> str:
    data = result.data if result.ok else None
    return str(data.get("status")) if isinstance(data, Mapping) else "unknown"


def _without_field(data: Mapping[str, Any], gid: str) -> dict[str, Any]:
    """``data`` without the value of custom field ``gid`` (nor an emptied ``custom_fields``)."""
    custom = {k: v for k, v in (data.get("custom_fields") or {}).items() if k != gid}
    rest = {k: v for k, v in data.items() if k != "custom_fields"}
    return {**rest, "custom_fields": custom} if custom else rest
