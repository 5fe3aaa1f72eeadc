"""Test helpers over an Asana sandbox's data (``AsanaSandbox.state``).

They read and change the store directly, as a person in Asana's web app
would (outside the REST API the connector uses), and take the store's lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from handoff_hub.sandboxes.asana.auth import AsanaAuth
from handoff_hub.sandboxes.asana.data import CustomField, EnumOption, Project, Task
from handoff_hub.sandboxes.asana.paging import OffsetBook
from handoff_hub.sandboxes.asana.render import project_json, task_json
from handoff_hub.sandboxes.asana.store import AsanaStore
from handoff_hub.sandboxes.asana.views import view

__all__ = ["AsanaState"]

_BASE = "https://app.asana.com"


class AsanaState:
    """Look at and change the sandbox's projects and tasks without the API."""

    def __init__(self, store: AsanaStore, auth: AsanaAuth, book: OffsetBook) -> None:
        self.store = store
        self.auth = auth
        self.book = book

    def _task(self, gid: str) -> Task:
        task = self.store.tasks.get(gid)
        if task is None:
            raise KeyError(f"no task {gid!r}")
        return task

    def _project(self, gid: str) -> Project:
        project = self.store.projects.get(gid)
        if project is None:
            raise KeyError(f"no project {gid!r}")
        return project

    def _field(self, ref: str) -> CustomField:
        found = next((f for f in self.store.fields.values() if ref in (f.gid, f.name)), None)
        if found is None:
            raise KeyError(f"no custom field {ref!r}")
        return found

    # projects ----------------------------------------------------------------

    def projects(self, *, team: str | None = None) -> list[str]:
        """Gids of the projects (of one team), in creation order."""
        with self.store.lock:
            return [p.gid for p in self.store.projects.values() if team in (None, p.team)]

    def project(self, gid: str) -> dict[str, Any]:
        """A project as ``GET /projects/{gid}`` shows it."""
        with self.store.lock:
            return view(project_json(self.store, self._project(gid), _BASE), None, full=True)

    def modify_project(self, gid: str, **changes: Any) -> None:
        """Change a project's attributes (``name=``, ``notes=``, ``fields={"CRM ID": ...}``)."""
        with self.store.lock:
            project = self._project(gid)
            for name, value in changes.items():
                if name == "fields":
                    project.values.update(self._values(value, project))
                elif hasattr(project, name) and name != "gid":
                    setattr(project, name, value)
                else:
                    raise KeyError(f"cannot change {name!r}")
            self.store.touch(project)

    # tasks -------------------------------------------------------------------

    def count(self) -> int:
        """Number of tasks and subtasks in the domain."""
        with self.store.lock:
            return len(self.store.tasks)

    def tasks(self, project: str) -> list[str]:
        """Gids of a project's member tasks, in the project's order."""
        with self.store.lock:
            return [t.gid for t in self.store.project_tasks(project)]

    def subtasks(self, task: str) -> list[str]:
        """Gids of a task's direct subtasks."""
        with self.store.lock:
            return [t.gid for t in self.store.subtasks(task)]

    def tree(self, project: str) -> dict[str, Any]:
        """``{task name: {subtask name: {...}}}`` of a project's tasks."""
        with self.store.lock:
            return {t.name: self._branch(t.gid) for t in self.store.project_tasks(project)}

    def _branch(self, gid: str) -> dict[str, Any]:
        return {t.name: self._branch(t.gid) for t in self.store.subtasks(gid)}

    def task(self, gid: str) -> dict[str, Any]:
        """A task as ``GET /tasks/{gid}`` shows it."""
        with self.store.lock:
            return view(task_json(self.store, self._task(gid), _BASE), None, full=True)

    def value(self, gid: str, field: str) -> Any:
        """A task's or project's custom field value (an enum: the option's name)."""
        with self.store.lock:
            owner = self.store.tasks.get(gid) or self._project(gid)
            custom = self._field(field)
            value = owner.values.get(custom.gid)
            option = custom.option(value) if custom.subtype == "enum" else None
            return option.name if option else value

    def stories(self, task: str) -> list[str]:
        """The texts of a task's comments."""
        with self.store.lock:
            return [s.text for s in self._task(task).stories]

    # delivery events (tests and the demo) ---------------------------------------

    def add_task(self, project: str, name: str, **fields: Any) -> str:
        """A task in a project's first section, with custom field values by name or gid."""
        with self.store.lock:
            home = self._project(project)
            values = self._values(fields, home)
            task = self.store.add_task(name, workspace=home.workspace, projects=[home.gid])
            section = next(
                (s.gid for s in self.store.sections.values() if s.project == home.gid), None
            )
            if section is not None:
                task.sections = {home.gid: section}
            task.values.update(values)
            self.store.touch(task)
            return task.gid

    def add_feedback(self, project: str, text: str, kind: str = "feedback") -> str:
        """Flag customer feedback, a ``need`` or an ``upsell`` in a project; return its gid."""
        option = {"feedback": "Customer feedback", "need": "New need", "upsell": "Upsell"}[kind]
        with self.store.lock:
            home, field = self._project(project), self._field("Customer").gid
            fields = {} if field in home.absent_fields else {"Customer": home.values.get(field)}
        return self.add_task(project, text, Feedback=option, **fields)

    def add_risk(self, project: str, title: str, severity: str = "high") -> str:
        """Raise a risk (tag-free: the Risk field says how bad) in a project; return its gid."""
        return self.add_task(project, title, Risk=severity.capitalize())

    def add_milestone(self, project: str, name: str, due: dt.date) -> str:
        """A milestone task in a project, due on ``due``; return its gid."""
        gid = self.add_task(project, name)
        self.modify(gid, resource_subtype="milestone", due_on=due.isoformat())
        return gid

    def resolve(self, gid: str) -> None:
        """Complete a task (a risk that has been dealt with)."""
        self.modify(gid, completed=True)

    def set_health(self, project: str, health: str) -> None:
        """Set a project's Health field (green, amber, red)."""
        self.modify_project(project, fields={"Health": health.capitalize()})

    def set_budget(self, project: str, amount: float) -> None:
        """Change a project's Budget as its owner would."""
        self.modify_project(project, fields={"Budget": amount})

    def budget_currency(self, project: str) -> str | None:
        """The currency a project's budget is in (its Budget currency field)."""
        with self.store.lock:
            currency = self._project(project).values.get(self._field("Budget currency").gid)
        return str(currency) if currency else None

    def modify(self, gid: str, **changes: Any) -> None:
        """Change a task as a person would (``name=``, ``completed=``, ``fields={...}``)."""
        with self.store.lock:
            task = self._task(gid)
            for name, value in changes.items():
                if name == "fields":
                    task.values.update(self._values(value))
                elif hasattr(task, name) and name not in {"gid", "projects", "parent"}:
                    setattr(task, name, value)
                else:
                    raise KeyError(f"cannot change {name!r}")
            self.store.touch(task)

    def _values(self, values: Mapping[str, Any], project: Project | None = None) -> dict[str, Any]:
        """Values by field gid (an enum's by option gid); a field ``project`` lacks is refused."""
        absent = project.absent_fields if project is not None else set()
        lacking = [ref for ref in values if self._field(ref).gid in absent]
        if lacking:
            raise KeyError(f"project {project and project.gid} has no custom field {lacking}")
        out: dict[str, Any] = {}
        for ref, value in values.items():
            custom = self._field(ref)
            if custom.subtype == "enum" and value is not None:
                option = next((o for o in custom.options if _picks(o, value)), None)
                value = option.gid if option else value
            out[custom.gid] = value
        return out

    def delete_project(self, gid: str) -> None:
        """Delete a project and its tasks."""
        with self.store.lock:
            self._project(gid)
            for task in self.tasks(gid):
                self.store.delete_task(self._task(task))
            self.store.projects.pop(gid, None)

    def delete(self, gid: str) -> None:
        """Delete a task and its subtasks."""
        with self.store.lock:
            self.store.delete_task(self._task(gid))

    # sessions ----------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Expire every OAuth access token (the next request gets 401)."""
        self.auth.expire_all()

    def expire_offsets(self) -> None:
        """Expire every offset token handed out so far."""
        with self.store.lock:
            self.book.expire_all()

    def users(self) -> dict[str, str]:
        """E-mail -> gid of every user."""
        with self.store.lock:
            return {u.email: u.gid for u in self.store.users.values()}

    def set_premium(self, premium: bool) -> None:
        """Turn the workspace's premium features (search) on or off."""
        with self.store.lock:
            self.store.premium = premium


def _picks(option: EnumOption, value: Any) -> bool:
    """A person picks an option by what it says, whatever its stray spaces or case."""
    text = str(value)
    return text == option.gid or text.strip().casefold() == option.name.strip().casefold()
