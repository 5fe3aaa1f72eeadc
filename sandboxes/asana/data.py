"""The Asana sandbox's resources as plain dataclasses (no HTTP, no JSON)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.kit.tables import WATCHED

__all__ = [
    "CustomField",
    "EnumOption",
    "Job",
    "Project",
    "Section",
    "Story",
    "Task",
    "Team",
    "Template",
    "TemplateTask",
    "User",
    "Workspace",
]


@dataclass
class User:
    """A person in the workspace."""

    gid: str
    name: str
    email: str


@dataclass
class Workspace:
    """A workspace or organization."""

    gid: str
    name: str
    is_organization: bool = True


@dataclass
class Team:
    """A team of an organization."""

    gid: str
    name: str
    workspace: str


@dataclass
class EnumOption:
    """One option of an enum custom field."""

    gid: str
    name: str
    color: str
    enabled: bool = True


@dataclass
class CustomField:
    """A workspace custom field: ``text``, ``number``, ``enum``, ``date`` or ``people``."""

    gid: str
    name: str
    subtype: str
    description: str = ""
    options: list[EnumOption] = field(default_factory=list)
    precision: int = 0
    format: str = "none"
    currency_code: str | None = None

    def option(self, gid: Any) -> EnumOption | None:
        """The enabled option with this gid."""
        return next((o for o in self.options if o.gid == str(gid) and o.enabled), None)


@dataclass
class Section:
    """A section of a project."""

    gid: str
    name: str
    project: str
    created_at: dt.datetime


@dataclass
class Story:
    """A comment on a task."""

    gid: str
    text: str
    created_by: str
    created_at: dt.datetime


@dataclass
class Project:
    """A project; ``values`` are its custom field values (gid -> number, text or option gid)."""

    gid: str
    name: str
    workspace: str
    team: str | None
    created_at: dt.datetime
    modified_at: dt.datetime
    notes: str = ""
    owner: str | None = None
    due_on: str | None = None
    start_on: str | None = None
    completed: bool = False
    completed_at: dt.datetime | None = None
    archived: bool = False
    color: str | None = "light-green"
    privacy_setting: str = "public_to_workspace"
    default_view: str = "list"
    values: dict[str, Any] = field(default_factory=dict)
    field_settings: list[str] = field(default_factory=list)
    template: str | None = None
    absent_fields: set[str] = field(default_factory=set)
    """Fields the project lacks for itself too: a write of one is refused."""


_FILED = frozenset({"parent", "projects"})
"""The task attributes a TaskTable files tasks by (their lists are replaced, not edited)."""


@dataclass
class Task:
    """A task or subtask; ``projects`` are the projects it is a member of."""

    gid: str
    name: str
    workspace: str
    created_at: dt.datetime
    modified_at: dt.datetime
    created_by: str
    notes: str = ""
    assignee: str | None = None
    due_on: str | None = None
    start_on: str | None = None
    completed: bool = False
    completed_at: dt.datetime | None = None
    parent: str | None = None
    projects: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    stories: list[Story] = field(default_factory=list)
    resource_subtype: str = "default_task"
    followers: list[str] = field(default_factory=list)

    def __setattr__(self, name: str, value: Any) -> None:
        # A task stored in a TaskTable re-files itself when its parent or projects are set.
        slot = self.__dict__.get(WATCHED) if name in _FILED else None
        if slot is None:
            object.__setattr__(self, name, value)
        else:
            slot.changing(self, name, value)


@dataclass
class TemplateTask:
    """One task of a project template: due ``due_offset`` days after the start date."""

    name: str
    section: str
    due_offset: int | None = None
    notes: str = ""
    subtasks: list[TemplateTask] = field(default_factory=list)


@dataclass
class Template:
    """A project template of a team."""

    gid: str
    name: str
    team: str
    owner: str
    description: str
    sections: list[str]
    tasks: list[TemplateTask]
    fields: list[str] = field(default_factory=list)


@dataclass
class Job:
    """An instantiation job; it succeeds on the ``polls_needed``-th poll."""

    gid: str
    template: str
    project: str
    start_on: str | None
    polls_needed: int = 2
    polls: int = 0
    status: str = "not_started"
