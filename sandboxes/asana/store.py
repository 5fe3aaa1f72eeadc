"""The Asana sandbox's in-memory data, its gids and its clock.

Gids are 16-digit strings as Asana's are. The structure every seed shares
(workspace, teams, custom fields, the template, the delivery projects) gets
fixed gids, so that settings and test cases can name them without knowing the
seed; everything else is numbered from a counter. Callers take ``lock``.
``tasks`` is a :class:`~sandboxes.asana.index.TaskTable`, which keeps
the lookups of subtasks by parent and tasks by project in step with it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from handoff_hub.sandboxes.asana.data import (
    CustomField,
    Job,
    Project,
    Section,
    Story,
    Task,
    Team,
    Template,
    User,
    Workspace,
)
from handoff_hub.sandboxes.asana.index import TaskTable

__all__ = ["FIRST_DYNAMIC_GID", "AsanaStore"]

FIRST_DYNAMIC_GID = 1209100000000001


class AsanaStore:
    """Every resource of one sandbox domain."""

    def __init__(self, *, clock: Callable[[], dt.datetime]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._next = FIRST_DYNAMIC_GID
        self.me: User | None = None
        self.workspaces: dict[str, Workspace] = {}
        self.member_of: set[str] = set()
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.fields: dict[str, CustomField] = {}
        self.projects: dict[str, Project] = {}
        self.sections: dict[str, Section] = {}
        self.tasks = TaskTable()
        self.templates: dict[str, Template] = {}
        self.jobs: dict[str, Job] = {}
        self.premium = True
        self.search_lag = 0.0
        """Seconds before a change shows in the task search (``search_lag_seconds``)."""
        self._indexed_at: dict[str, dt.datetime] = {}

    def gid(self) -> str:
        """A new gid."""
        value = self._next
        self._next += 1
        return str(value)

    def now(self) -> dt.datetime:
        """The current time in UTC, at Asana's millisecond precision."""
        now = self.clock().astimezone(dt.UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    @property
    def api_user(self) -> User:
        """The user the API token belongs to."""
        if self.me is None:
            raise RuntimeError("the sandbox has no API user")
        return self.me

    # lookups -----------------------------------------------------------------

    def user(self, ref: Any) -> User | None:
        """A user by gid, e-mail address (any case) or ``me``."""
        if ref == "me":
            return self.me
        text = str(ref)
        found = self.users.get(text)
        if found is not None:
            return found
        return next((u for u in self.users.values() if u.email.lower() == text.lower()), None)

    def project_tasks(self, project: str) -> list[Task]:
        """Member tasks of a project, in the project's (creation) order."""
        return self.tasks.members(project)

    def subtasks(self, task: str) -> list[Task]:
        """Direct subtasks of a task, in creation order."""
        return self.tasks.children(task)

    def subtask_count(self, task: str) -> int:
        """How many direct subtasks a task has."""
        return self.tasks.child_count(task)

    def task_fields(self, task: Task) -> list[CustomField]:
        """The custom fields a task has: those of its projects (a subtask: its parent's)."""
        owner = task
        while not owner.projects and owner.parent is not None and owner.parent in self.tasks:
            owner = self.tasks[owner.parent]
        gids = dict.fromkeys(g for p in owner.projects for g in self.projects[p].field_settings)
        gids.update(dict.fromkeys(task.values))
        return [self.fields[g] for g in gids if g in self.fields]

    # changes -----------------------------------------------------------------

    def touch(self, resource: Task | Project) -> None:
        """Mark a task or project as modified now."""
        resource.modified_at = self.now()
        if isinstance(resource, Task):
            self._index_later(resource.gid)

    def _index_later(self, gid: str) -> None:
        if self.search_lag:
            self._indexed_at[gid] = self.now() + dt.timedelta(seconds=self.search_lag)
        else:
            self._indexed_at.pop(gid, None)

    def searchable(self, task: Task) -> bool:
        """Whether the task search sees the task's last change yet."""
        ready = self._indexed_at.get(task.gid)
        return ready is None or self.now() >= ready

    def add_user(self, name: str, email: str, *, gid: str | None = None) -> User:
        """Register a user."""
        user = User(gid or self.gid(), name, email)
        self.users[user.gid] = user
        return user

    def add_project(self, name: str, team: str | None, workspace: str, **values: Any) -> Project:
        """Create a project (fixed gid when ``gid=`` is given)."""
        when = values.pop("created_at", None) or self.now()
        gid = values.pop("gid", None) or self.gid()
        project = Project(
            gid, name, workspace, team, when, values.pop("modified_at", when), **values
        )
        self.projects[gid] = project
        return project

    def add_section(self, project: Project, name: str) -> Section:
        """Add a section to a project."""
        section = Section(self.gid(), name, project.gid, self.now())
        self.sections[section.gid] = section
        return section

    def add_task(self, name: str, *, workspace: str, **values: Any) -> Task:
        """Create a task by the API user (``created_at`` defaults to now)."""
        when = values.pop("created_at", None) or self.now()
        task = Task(
            self.gid(),
            name,
            workspace,
            when,
            values.pop("modified_at", when),
            values.pop("created_by", self.api_user.gid),
            **values,
        )
        self.tasks[task.gid] = task
        self._index_later(task.gid)
        return task

    def add_story(self, task: Task, text: str) -> Story:
        """A comment by the API user; the task counts as modified."""
        story = Story(self.gid(), text, self.api_user.gid, self.now())
        task.stories.append(story)
        self.touch(task)
        return story

    def delete_task(self, task: Task) -> None:
        """Delete a task and, as Asana does, its subtasks."""
        for child in self.subtasks(task.gid):
            self.delete_task(child)
        self.tasks.pop(task.gid, None)

    def add_field(self, custom: CustomField) -> CustomField:
        """Register a workspace custom field."""
        self.fields[custom.gid] = custom
        return custom

    def add_team(self, team: Team) -> Team:
        """Register a team."""
        self.teams[team.gid] = team
        return team

    def add_template(self, template: Template) -> Template:
        """Register a project template."""
        self.templates[template.gid] = template
        return template
