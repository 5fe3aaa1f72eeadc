"""Read handlers of the Asana sandbox: single resources and paged listings.

Listings answer in Asana's storage order (a project's tasks in the order
they were added), never by ``modified_at``; ``modified_since`` only filters.
Lists show compact records unless ``opt_fields`` asks for more; a single
resource shows its full form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from handoff_hub.sandboxes.asana.paging import OffsetBook, PagingError
from handoff_hub.sandboxes.asana.render import (
    field_json,
    project_json,
    section_json,
    story_json,
    task_json,
    template_json,
    user_json,
    workspace_json,
)
from handoff_hub.sandboxes.asana.router import Call, Reply, error
from handoff_hub.sandboxes.asana.search import search_tasks
from handoff_hub.sandboxes.asana.store import AsanaStore
from handoff_hub.sandboxes.asana.views import view

__all__ = ["AsanaReads", "find", "parse_instant"]

_TASK_SCOPE = (
    "Must specify exactly one of project, tag, section, user task list, or assignee + workspace"
)


def parse_instant(text: str, name: str) -> dt.datetime:
    """An ISO 8601 query parameter as an aware instant.

    Raises:
        ValueError: with Asana's message naming the parameter.
    """
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: Invalid date-time: {text}") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def find(store: AsanaStore, kind: str, gid: str) -> tuple[Any, Reply | None]:
    """A resource by gid, or the 400/403/404 Asana answers instead."""
    if not gid.isdigit():
        return None, error(400, f"{kind}: Not a recognized ID: {gid}")
    if kind == "workspace" and gid in store.workspaces and gid not in store.member_of:
        return None, error(403, "Forbidden")
    tables: dict[str, dict[str, Any]] = {
        "task": store.tasks,
        "project": store.projects,
        "user": store.users,
        "workspace": store.workspaces,
        "team": store.teams,
        "project_template": store.templates,
        "job": store.jobs,
    }
    found = tables[kind].get(gid)
    if found is None:
        return None, error(404, f"{kind}: Unknown object: {gid}")
    return found, None


class AsanaReads:
    """GET handlers over one store."""

    def __init__(self, store: AsanaStore, book: OffsetBook) -> None:
        self.store = store
        self.book = book

    def page(
        self, call: Call, gids: Callable[[], list[str]], rich: Callable[[str], dict[str, Any]]
    ) -> Reply:
        """A page of a listing: ``gids`` lists it, ``rich`` renders one of its items."""
        try:
            page = self.book.page(call.params, path=call.path, base=call.base, items=gids)
        except PagingError as exc:
            return error(400, exc.message)
        body: dict[str, Any] = {"data": [view(rich(g), call.fields, full=False) for g in page.gids]}
        if page.paged:
            body["next_page"] = page.next_page
        return 200, body

    def one(self, call: Call, rich: dict[str, Any]) -> Reply:
        """A single resource in its full form (or the ``opt_fields`` asked for)."""
        return 200, {"data": view(rich, call.fields, full=True)}

    def _task(self, gid: str) -> dict[str, Any]:
        return task_json(self.store, self.store.tasks[gid], "https://app.asana.com")

    def _project(self, gid: str) -> dict[str, Any]:
        return project_json(self.store, self.store.projects[gid], "https://app.asana.com")

    # users and workspaces --------------------------------------------------------

    def me(self, call: Call) -> Reply:
        """``GET /users/me``."""
        return self.one(call, user_json(self.store, self.store.api_user.gid) or {})

    def user(self, call: Call) -> Reply:
        """``GET /users/{user}`` (a gid, an e-mail address or ``me``)."""
        user = self.store.user(call.args["user"])
        if user is None:
            return error(404, f"user: Unknown object: {call.args['user']}")
        return self.one(call, user_json(self.store, user.gid) or {})

    def users(self, call: Call) -> Reply:
        """``GET /users?workspace=`` and ``GET /workspaces/{workspace}/users``."""
        workspace = call.args.get("workspace") or call.params.get("workspace")
        if workspace:
            _, refused = find(self.store, "workspace", workspace)
            if refused:
                return refused
        gids = list(self.store.users)
        return self.page(call, lambda: gids, lambda g: user_json(self.store, g) or {})

    def workspaces(self, call: Call) -> Reply:
        """``GET /workspaces``: the workspaces the API user is a member of."""
        gids = sorted(self.store.member_of)
        return self.page(call, lambda: gids, lambda g: workspace_json(self.store, g))

    def workspace(self, call: Call) -> Reply:
        """``GET /workspaces/{workspace}``."""
        _, refused = find(self.store, "workspace", call.args["workspace"])
        return refused or self.one(call, workspace_json(self.store, call.args["workspace"]))

    def custom_fields(self, call: Call) -> Reply:
        """``GET /workspaces/{workspace}/custom_fields``."""
        _, refused = find(self.store, "workspace", call.args["workspace"])
        if refused:
            return refused
        gids = list(self.store.fields)
        return self.page(call, lambda: gids, lambda g: field_json(self.store.fields[g]))

    def typeahead(self, call: Call) -> Reply:
        """``GET /workspaces/{workspace}/typeahead?resource_type=user&query=``."""
        _, refused = find(self.store, "workspace", call.args["workspace"])
        if refused:
            return refused
        if call.params.get("resource_type") != "user":
            return error(400, "resource_type: Missing input")
        query = call.params.get("query", "").lower()
        count = min(int(call.params.get("count") or 20), 100)
        found = [
            u.gid
            for u in self.store.users.values()
            if not query
            or u.email.lower().startswith(query)
            or any(w.lower().startswith(query) for w in u.name.split())
        ][:count]
        return 200, {
            "data": [view(user_json(self.store, g) or {}, call.fields, full=False) for g in found]
        }

    # projects --------------------------------------------------------------------

    def projects(self, call: Call) -> Reply:
        """``GET /projects?workspace=&team=&archived=``, of a team or of a workspace.

        Also ``GET /teams/{team}/projects`` and ``GET /workspaces/{workspace}/projects``.
        """
        team = call.args.get("team") or call.params.get("team")
        workspace = call.args.get("workspace") or call.params.get("workspace")
        for kind, gid in (("team", team), ("workspace", workspace)):
            if gid:
                _, refused = find(self.store, kind, gid)
                if refused:
                    return refused
        archived = call.params.get("archived")

        def gids() -> list[str]:
            return [
                p.gid
                for p in self.store.projects.values()
                if (not team or p.team == team)
                and (not workspace or p.workspace == workspace)
                and (archived is None or p.archived == (archived == "true"))
            ]

        return self.page(call, gids, self._project)

    def project(self, call: Call) -> Reply:
        """``GET /projects/{project}``."""
        project, refused = find(self.store, "project", call.args["project"])
        return refused or self.one(call, self._project(project.gid))

    def project_tasks(self, call: Call) -> Reply:
        """``GET /projects/{project}/tasks``."""
        project, refused = find(self.store, "project", call.args["project"])
        if refused:
            return refused
        return self.page(
            call, lambda: [t.gid for t in self.store.project_tasks(project.gid)], self._task
        )

    def sections(self, call: Call) -> Reply:
        """``GET /projects/{project}/sections``."""
        project, refused = find(self.store, "project", call.args["project"])
        if refused:
            return refused
        return self.page(
            call,
            lambda: [s.gid for s in self.store.sections.values() if s.project == project.gid],
            lambda g: section_json(self.store, self.store.sections[g]),
        )

    # tasks -----------------------------------------------------------------------

    def tasks(self, call: Call) -> Reply:
        """``GET /tasks``: one scope (project, section, assignee + workspace), filtered."""
        params = call.params
        scopes = [k for k in ("project", "section", "tag", "user_task_list") if params.get(k)]
        if params.get("assignee") or params.get("workspace"):
            if not (params.get("assignee") and params.get("workspace")):
                return error(400, _TASK_SCOPE)
            scopes.append("assignee")
        if len(scopes) != 1:
            return error(400, _TASK_SCOPE)
        try:
            candidates = self._scoped(scopes[0], params)
            keep = _time_filter(params)
        except ValueError as exc:
            return error(400, str(exc))
        except LookupError as exc:
            return error(404, str(exc.args[0]))
        # Checked on every page; listed (a scan of the tasks) only for a first page.
        return self.page(call, lambda: [t.gid for t in keep(candidates())], self._task)

    def _scoped(self, scope: str, params: dict[str, str]) -> Callable[[], list[Any]]:
        """Check the scope now; the returned function lists its tasks."""
        store = self.store
        if scope == "project":
            project = params["project"]
            if project not in store.projects:
                raise LookupError(f"project: Unknown object: {project}")
            return lambda: store.project_tasks(project)
        if scope == "section":
            section = params["section"]
            if section not in store.sections:
                raise LookupError(f"section: Unknown object: {section}")
            return lambda: [t for t in store.tasks.values() if section in t.sections.values()]
        if scope == "assignee":
            user = store.user(params["assignee"])
            if user is None:
                raise LookupError(f"assignee: Unknown object: {params['assignee']}")
            workspace = params["workspace"]
            return lambda: [
                t
                for t in store.tasks.values()
                if t.assignee == user.gid and t.workspace == workspace
            ]
        raise ValueError(f"{scope}: this sandbox does not emulate it")

    def task(self, call: Call) -> Reply:
        """``GET /tasks/{task}``."""
        task, refused = find(self.store, "task", call.args["task"])
        return refused or self.one(call, self._task(task.gid))

    def subtasks(self, call: Call) -> Reply:
        """``GET /tasks/{task}/subtasks``."""
        task, refused = find(self.store, "task", call.args["task"])
        if refused:
            return refused
        return self.page(call, lambda: [t.gid for t in self.store.subtasks(task.gid)], self._task)

    def stories(self, call: Call) -> Reply:
        """``GET /tasks/{task}/stories``."""
        task, refused = find(self.store, "task", call.args["task"])
        if refused:
            return refused
        by_gid = {s.gid: s for s in task.stories}
        return self.page(
            call, lambda: list(by_gid), lambda g: story_json(self.store, by_gid[g], task)
        )

    def search(self, call: Call) -> Reply:
        """``GET /workspaces/{workspace}/tasks/search`` (premium only; no offset paging)."""
        _, refused = find(self.store, "workspace", call.args["workspace"])
        if refused:
            return refused
        if not self.store.premium:
            return error(402, "Search is only available to premium users.")
        try:
            found = search_tasks(self.store, call.args["workspace"], call.params)
        except ValueError as exc:
            return error(400, str(exc))
        return 200, {"data": [view(self._task(t.gid), call.fields, full=False) for t in found]}

    # templates and jobs ----------------------------------------------------------

    def templates(self, call: Call) -> Reply:
        """``GET /project_templates?team=`` (or ``workspace=``) and ``GET /teams/{team}/...``."""
        team = call.args.get("team") or call.params.get("team")
        workspace = call.params.get("workspace")
        for kind, gid in (("team", team), ("workspace", workspace)):
            if gid:
                _, refused = find(self.store, kind, gid)
                if refused:
                    return refused
        gids = [
            t.gid
            for t in self.store.templates.values()
            if (not team or t.team == team)
            and (not workspace or self.store.teams[t.team].workspace == workspace)
        ]
        return self.page(
            call, lambda: gids, lambda g: template_json(self.store, self.store.templates[g])
        )

    def template(self, call: Call) -> Reply:
        """``GET /project_templates/{template}``."""
        template, refused = find(self.store, "project_template", call.args["template"])
        return refused or self.one(call, template_json(self.store, template))


def _time_filter(params: dict[str, str]) -> Callable[[Sequence[Any]], list[Any]]:
    """Read ``modified_since`` and ``completed_since`` now; the function filters by them.

    Raises:
        ValueError: with Asana's message for a bad date-time.
    """
    since = params.get("modified_since")
    completed = params.get("completed_since")
    modified = parse_instant(since, "modified_since") if since else None
    done = parse_instant(completed, "completed_since") if completed and completed != "now" else None

    def keep(tasks: Sequence[Any]) -> list[Any]:
        kept = list(tasks)
        if modified is not None:
            kept = [t for t in kept if t.modified_at >= modified]
        if completed == "now":
            kept = [t for t in kept if not t.completed]
        elif done is not None:
            kept = [
                t
                for t in kept
                if not t.completed or (t.completed_at is not None and t.completed_at >= done)
            ]
        return kept

    return keep
