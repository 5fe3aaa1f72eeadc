"""Write handlers of the Asana sandbox: tasks, subtasks, comments, projects, sections.

Every write is checked before anything changes (keys, types, references,
custom fields), so a refused request leaves no trace. A write marks the
object modified; a comment marks its task modified; a new subtask leaves its
parent as it was (Asana counts only a task's own changes).
"""

from __future__ import annotations

import re
from typing import Any

from handoff_hub.sandboxes.asana.api import find
from handoff_hub.sandboxes.asana.data import Project, Task
from handoff_hub.sandboxes.asana.render import project_json, section_json, story_json, task_json
from handoff_hub.sandboxes.asana.router import Call, Reply, error
from handoff_hub.sandboxes.asana.store import AsanaStore
from handoff_hub.sandboxes.asana.values import (
    WriteError,
    check_bool,
    check_custom_fields,
    check_date,
    check_keys,
    check_text,
    check_user,
)
from handoff_hub.sandboxes.asana.views import view

__all__ = ["AsanaWrites"]

_TASK_FIELDS = frozenset(
    {
        "name",
        "notes",
        "html_notes",
        "assignee",
        "due_on",
        "start_on",
        "completed",
        "resource_subtype",
        "custom_fields",
        "followers",
        "liked",
    }
)
_TASK_HOME = frozenset({"projects", "parent", "workspace", "memberships"})
_READ_ONLY = frozenset(
    {"gid", "resource_type", "created_at", "modified_at", "completed_at", "permalink_url"}
)
_PROJECT_FIELDS = frozenset(
    {
        "name",
        "notes",
        "html_notes",
        "owner",
        "due_on",
        "due_date",
        "start_on",
        "color",
        "default_view",
        "privacy_setting",
        "public",
        "archived",
        "custom_fields",
        "icon",
    }
)
_SUBTYPES = frozenset({"default_task", "milestone", "approval"})
_NO_HOME = "You should specify one of workspace, parent, projects"
_BASE = "https://app.asana.com"


class AsanaWrites:
    """POST/PUT/DELETE handlers over one store."""

    def __init__(self, store: AsanaStore) -> None:
        self.store = store

    def _answer(self, call: Call, status: int, rich: dict[str, Any]) -> Reply:
        return status, {"data": view(rich, call.fields, full=True)}

    # tasks -------------------------------------------------------------------

    def create_task(self, call: Call) -> Reply:
        """``POST /tasks``: in projects, under a parent, or in a workspace."""
        try:
            data = check_keys(call.data, _TASK_FIELDS | _TASK_HOME, _READ_ONLY)
            home = self._home(data)
            parent = self.store.tasks.get(home["parent"] or "")
            allowed = self._allowed(home["projects"], parent)
            values = self._task_values(data, allowed)
        except WriteError as exc:
            return error(exc.status, exc.message)
        sections = {p: home["sections"].get(p) or self._first_section(p) for p in home["projects"]}
        task = self.store.add_task(
            values.pop("name", ""),
            workspace=home["workspace"],
            parent=home["parent"],
            projects=home["projects"],
            sections={p: s for p, s in sections.items() if s},
        )
        self._apply(task, values)
        return self._answer(call, 201, task_json(self.store, task, _BASE))

    def create_subtask(self, call: Call) -> Reply:
        """``POST /tasks/{task}/subtasks``."""
        parent, refused = find(self.store, "task", call.args["task"])
        if refused:
            return refused
        try:
            data = check_keys(call.data, _TASK_FIELDS | {"projects"}, _READ_ONLY)
            projects = self._projects(data.pop("projects", []), parent.workspace)
            values = self._task_values(data, self._allowed(projects, parent))
        except WriteError as exc:
            return error(exc.status, exc.message)
        task = self.store.add_task(
            values.pop("name", ""),
            workspace=parent.workspace,
            parent=parent.gid,
            projects=projects,
            sections={p: s for p in projects if (s := self._first_section(p))},
        )
        self._apply(task, values)
        return self._answer(call, 201, task_json(self.store, task, _BASE))

    def update_task(self, call: Call) -> Reply:
        """``PUT /tasks/{task}``: projects and parent change through their own endpoints."""
        task, refused = find(self.store, "task", call.args["task"])
        if refused:
            return refused
        try:
            data = check_keys(call.data, _TASK_FIELDS, _READ_ONLY | _TASK_HOME)
            allowed = {f.gid for f in self.store.task_fields(task)}
            values = self._task_values(data, allowed)
        except WriteError as exc:
            return error(exc.status, exc.message)
        self._apply(task, values)
        return self._answer(call, 200, task_json(self.store, task, _BASE))

    def delete_task(self, call: Call) -> Reply:
        """``DELETE /tasks/{task}`` (its subtasks go with it)."""
        task, refused = find(self.store, "task", call.args["task"])
        if refused:
            return refused
        self.store.delete_task(task)
        return 200, {"data": {}}

    def add_story(self, call: Call) -> Reply:
        """``POST /tasks/{task}/stories``: a comment (``text`` or ``html_text``)."""
        task, refused = find(self.store, "task", call.args["task"])
        if refused:
            return refused
        try:
            data = check_keys(call.data, {"text", "html_text", "is_pinned", "sticker_name"}, ())
            if "html_text" in data:
                text = re.sub(r"<[^>]+>", "", check_text(data["html_text"], "html_text"))
            elif data.get("text"):
                text = check_text(data["text"], "text")
            else:
                raise WriteError(400, "text: Missing input")
        except WriteError as exc:
            return error(exc.status, exc.message)
        story = self.store.add_story(task, text)
        return self._answer(call, 201, story_json(self.store, story, task))

    def _home(self, data: dict[str, Any]) -> dict[str, Any]:
        memberships = data.pop("memberships", None) or []
        sections = {
            str(m.get("project")): str(m.get("section"))
            for m in memberships
            if isinstance(m, dict) and m.get("section")
        }
        listed = data.pop("projects", None) or []
        if not isinstance(listed, list):
            raise WriteError(400, "projects: Expected an array")
        projects = listed + [str(m.get("project")) for m in memberships if isinstance(m, dict)]
        parent = data.pop("parent", None)
        workspace = data.pop("workspace", None)
        if not projects and not parent and not workspace:
            raise WriteError(400, _NO_HOME)
        if parent is not None and str(parent) not in self.store.tasks:
            raise WriteError(400, f"parent: Unknown object: {parent}")
        if workspace is None:
            workspace = (
                self._project_workspace(projects[0])
                if projects
                else self.store.tasks[str(parent)].workspace
            )
        self._workspace(str(workspace))
        return {
            "projects": self._projects(projects, str(workspace)),
            "parent": None if parent is None else str(parent),
            "workspace": str(workspace),
            "sections": sections,
        }

    def _first_section(self, project: str) -> str | None:
        """Where Asana puts a task added to a project without a section: the first one."""
        return next((s.gid for s in self.store.sections.values() if s.project == project), None)

    def _project_workspace(self, gid: Any) -> str:
        project = self.store.projects.get(str(gid))
        if project is None:
            raise WriteError(400, f"projects: [0]: Unknown object: {gid}")
        return project.workspace

    def _workspace(self, gid: str) -> None:
        if gid in self.store.workspaces and gid not in self.store.member_of:
            raise WriteError(403, "Forbidden")
        if gid not in self.store.workspaces:
            raise WriteError(400, f"workspace: Unknown object: {gid}")

    def _projects(self, gids: Any, workspace: str) -> list[str]:
        if not isinstance(gids, list):
            raise WriteError(400, "projects: Expected an array")
        for index, gid in enumerate(gids):
            project = self.store.projects.get(str(gid))
            if project is None or project.workspace != workspace:
                raise WriteError(400, f"projects: [{index}]: Unknown object: {gid}")
        return list(dict.fromkeys(str(g) for g in gids))

    def _allowed(self, projects: list[str], parent: Task | None) -> set[str]:
        allowed = {g for p in projects for g in self.store.projects[p].field_settings}
        if parent is not None:
            allowed |= {f.gid for f in self.store.task_fields(parent)}
        return allowed

    def _task_values(self, data: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key in {"name", "notes"}:
                values[key] = check_text(value, key, limit=1024 if key == "name" else 65536)
            elif key == "html_notes":
                values["notes"] = re.sub(r"<[^>]+>", "", check_text(value, key))
            elif key in {"due_on", "start_on"}:
                values[key] = check_date(value, key)
            elif key in {"completed", "liked"}:
                values[key] = check_bool(value, key)
            elif key == "assignee":
                values[key] = check_user(self.store, value, key)
            elif key == "followers":
                values[key] = [check_user(self.store, v, key) for v in value or []]
            elif key == "resource_subtype":
                if value not in _SUBTYPES:
                    raise WriteError(400, f"resource_subtype: Not one of {sorted(_SUBTYPES)}")
                values[key] = value
            elif key == "custom_fields":
                values["values"] = check_custom_fields(self.store, value, allowed)
        if values.get("start_on") and not values.get("due_on") and "due_on" not in data:
            raise WriteError(400, "start_on: A start date requires a due date")
        return values

    def _apply(self, task: Task, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "values":
                task.values.update(value)
            elif key == "completed":
                task.completed_at = self.store.now() if value else None
                task.completed = value
            elif key != "liked":
                setattr(task, key, value)
        self.store.touch(task)

    # projects and sections -----------------------------------------------------

    def create_project(self, call: Call) -> Reply:
        """``POST /projects``: in a team (required in an organization) or a workspace."""
        try:
            data = check_keys(call.data, _PROJECT_FIELDS | {"team", "workspace"}, _READ_ONLY)
            team, workspace = self._project_home(
                data.pop("team", None), data.pop("workspace", None)
            )
            values = self._project_values(data, None)
            if not values.get("name"):
                raise WriteError(400, "name: Missing input")
        except WriteError as exc:
            return error(exc.status, exc.message)
        project = self.store.add_project(values.pop("name"), team, workspace)
        self.store.add_section(project, "Untitled section")
        self._apply_project(project, values)
        return self._answer(call, 201, project_json(self.store, project, _BASE))

    def update_project(self, call: Call) -> Reply:
        """``PUT /projects/{project}``."""
        project, refused = find(self.store, "project", call.args["project"])
        if refused:
            return refused
        try:
            data = check_keys(call.data, _PROJECT_FIELDS | {"team"}, _READ_ONLY | {"workspace"})
            if "team" in data:
                data["team"], _ = self._project_home(data["team"], project.workspace)
            values = self._project_values(data, project)
        except WriteError as exc:
            return error(exc.status, exc.message)
        self._apply_project(project, values)
        return self._answer(call, 200, project_json(self.store, project, _BASE))

    def create_section(self, call: Call) -> Reply:
        """``POST /projects/{project}/sections``."""
        project, refused = find(self.store, "project", call.args["project"])
        if refused:
            return refused
        try:
            data = check_keys(call.data, {"name", "insert_before", "insert_after"}, ())
            name = check_text(data.get("name"), "name", limit=1024) if "name" in data else ""
            if not name:
                raise WriteError(400, "name: Missing input")
        except WriteError as exc:
            return error(exc.status, exc.message)
        section = self.store.add_section(project, name)
        self.store.touch(project)
        return self._answer(call, 201, section_json(self.store, section))

    def _project_home(self, team: Any, workspace: Any) -> tuple[str | None, str]:
        if team is not None:
            found = self.store.teams.get(str(team))
            if found is None:
                raise WriteError(400, f"team: Unknown object: {team}")
            if workspace is not None and str(workspace) != found.workspace:
                raise WriteError(400, "team: The team is not in the given workspace")
            workspace = found.workspace
        if workspace is None:
            raise WriteError(400, "workspace: Missing input")
        self._workspace(str(workspace))
        if team is None and self.store.workspaces[str(workspace)].is_organization:
            raise WriteError(400, "team: Missing input")
        return (None if team is None else str(team)), str(workspace)

    def _project_values(self, data: dict[str, Any], project: Project | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        allowed = (
            set(self.store.fields) - project.absent_fields
            if project is not None and project.absent_fields
            else None
        )
        for key, value in data.items():
            if key in {"name", "notes", "color", "default_view", "privacy_setting", "icon"}:
                values[key] = check_text(value, key) if value is not None else None
            elif key == "html_notes":
                values["notes"] = re.sub(r"<[^>]+>", "", check_text(value, key))
            elif key in {"due_on", "due_date", "start_on"}:
                values["due_on" if key == "due_date" else key] = check_date(value, key)
            elif key in {"archived", "public"}:
                values[key] = check_bool(value, key)
            elif key == "owner":
                values[key] = check_user(self.store, value, key)
            elif key == "custom_fields":
                values["values"] = check_custom_fields(self.store, value, allowed)
            elif key == "team":
                values[key] = value
        return values

    def _apply_project(self, project: Project, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "values":
                project.values.update(value)
            elif key == "public":
                project.privacy_setting = "public_to_workspace" if value else "private"
            elif key == "icon":
                continue
            else:
                setattr(project, key, value)
        project.modified_at = self.store.now()
