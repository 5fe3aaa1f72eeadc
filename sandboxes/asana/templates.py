"""Project templates and instantiation jobs of the Asana sandbox.

``POST /project_templates/{gid}/instantiateProject`` creates the (still empty)
project at once and answers 201 with a job naming it; the job is
``not_started``, turns ``in_progress`` on the first ``GET /jobs/{gid}`` and
``succeeded`` on the second, when the template's sections, tasks and
subtasks appear in the project, due dates counted from the requested start
date. Jobs advance by polls, not by time, so tests need no sleeps.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from handoff_hub.sandboxes.asana.api import find
from handoff_hub.sandboxes.asana.data import Job, Project, TemplateTask
from handoff_hub.sandboxes.asana.render import job_json
from handoff_hub.sandboxes.asana.router import Call, Reply, error
from handoff_hub.sandboxes.asana.store import AsanaStore
from handoff_hub.sandboxes.asana.values import WriteError, check_date, check_keys, check_text
from handoff_hub.sandboxes.asana.views import view

__all__ = ["TemplateJobs"]

_KEYS = frozenset(
    {"name", "team", "public", "privacy_setting", "is_strict", "requested_dates", "requested_roles"}
)


class TemplateJobs:
    """Instantiation and job handlers over one store."""

    def __init__(self, store: AsanaStore) -> None:
        self.store = store

    def instantiate(self, call: Call) -> Reply:
        """``POST /project_templates/{template}/instantiateProject``."""
        template, refused = find(self.store, "project_template", call.args["template"])
        if refused:
            return refused
        try:
            data = check_keys(call.data, _KEYS, ())
            name = check_text(data.get("name"), "name", limit=1024) if data.get("name") else ""
            if not name:
                raise WriteError(400, "name: Missing input")
            team = str(data.get("team") or template.team)
            if team not in self.store.teams:
                raise WriteError(400, f"team: Unknown object: {team}")
            start = _start_date(data)
        except WriteError as exc:
            return error(exc.status, exc.message)
        project = self.store.add_project(
            name, team, self.store.teams[team].workspace, template=template.gid
        )
        job = Job(self.store.gid(), template.gid, project.gid, start)
        self.store.jobs[job.gid] = job
        return 201, {"data": view(job_json(self.store, job), call.fields, full=True)}

    def job(self, call: Call) -> Reply:
        """``GET /jobs/{job}``: each poll moves the job on; the second one finishes it."""
        job, refused = find(self.store, "job", call.args["job"])
        if refused:
            return refused
        if job.status != "succeeded":
            job.polls += 1
            if job.polls >= job.polls_needed:
                self._materialize(job)
                job.status = "succeeded"
            else:
                job.status = "in_progress"
        return 200, {"data": view(job_json(self.store, job), call.fields, full=True)}

    def _materialize(self, job: Job) -> None:
        template = self.store.templates[job.template]
        project = self.store.projects.get(job.project)
        if project is None:  # deleted meanwhile
            return
        project.field_settings = list(dict.fromkeys([*project.field_settings, *template.fields]))
        sections = {name: self.store.add_section(project, name).gid for name in template.sections}
        start = dt.date.fromisoformat(job.start_on) if job.start_on else self.store.now().date()
        for spec in template.tasks:
            self._add(spec, project, sections, start, parent=None)
        project.start_on = start.isoformat()
        self.store.touch(project)

    def _add(
        self,
        spec: TemplateTask,
        project: Project,
        sections: dict[str, str],
        start: dt.date,
        *,
        parent: str | None,
    ) -> None:
        values: dict[str, Any] = {"notes": spec.notes}
        if spec.due_offset is not None:
            values["due_on"] = (start + dt.timedelta(days=spec.due_offset)).isoformat()
        if parent is None:
            values["projects"] = [project.gid]
            values["sections"] = {project.gid: sections[spec.section]}
        task = self.store.add_task(spec.name, workspace=project.workspace, parent=parent, **values)
        for child in spec.subtasks:
            self._add(child, project, sections, start, parent=task.gid)


def _start_date(data: dict[str, Any]) -> str | None:
    dates = data.get("requested_dates") or []
    if not isinstance(dates, list):
        raise WriteError(400, "requested_dates: Expected an array")
    start = None
    for entry in dates:
        if not isinstance(entry, dict) or "gid" not in entry:
            raise WriteError(400, "requested_dates: Each entry needs a gid and a value")
        if str(entry["gid"]) == "1":
            start = check_date(entry.get("value"), "requested_dates")
    if start is None and data.get("is_strict"):
        raise WriteError(422, "requested_dates: Missing a value for the date variable Start Date")
    return start
