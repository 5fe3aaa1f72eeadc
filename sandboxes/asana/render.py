"""Asana's JSON shapes for the sandbox's resources.

Each resource renders once in a rich form whose references (assignee, owner,
projects...) carry every field a dotted ``opt_fields`` path may ask for;
:mod:`handoff_hub.sandboxes.asana.views` cuts what a client sees out of it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.sandboxes.asana.data import (
    CustomField,
    EnumOption,
    Job,
    Project,
    Section,
    Story,
    Task,
    Template,
)
from handoff_hub.sandboxes.asana.store import AsanaStore

__all__ = [
    "field_json",
    "field_setting_json",
    "job_json",
    "project_json",
    "section_json",
    "stamp",
    "story_json",
    "task_json",
    "team_json",
    "template_json",
    "user_json",
    "workspace_json",
]


def stamp(value: dt.datetime | None) -> str | None:
    """An instant as Asana writes it: ``2026-11-20T10:15:32.123Z``."""
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# references ----------------------------------------------------------------------


def user_json(store: AsanaStore, gid: str | None) -> dict[str, Any] | None:
    """A user (also the rich form of a reference to one)."""
    user = store.users.get(gid or "")
    if user is None:
        return None
    return {
        "gid": user.gid,
        "resource_type": "user",
        "name": user.name,
        "email": user.email,
        "photo": None,
        "workspaces": [workspace_json(store, w) for w in sorted(store.member_of)],
    }


def workspace_json(store: AsanaStore, gid: str) -> dict[str, Any]:
    """A workspace."""
    workspace = store.workspaces[gid]
    return {
        "gid": gid,
        "resource_type": "workspace",
        "name": workspace.name,
        "is_organization": workspace.is_organization,
        "email_domains": ["acme-delivery.example", "acme-sales.example"],
    }


def _team(store: AsanaStore, gid: str | None) -> dict[str, Any] | None:
    team = store.teams.get(gid or "")
    return None if team is None else {"gid": team.gid, "resource_type": "team", "name": team.name}


def _project_ref(store: AsanaStore, gid: str) -> dict[str, Any]:
    return {"gid": gid, "resource_type": "project", "name": store.projects[gid].name}


def _task_ref(store: AsanaStore, gid: str | None) -> dict[str, Any] | None:
    task = store.tasks.get(gid or "")
    if task is None:
        return None
    return {
        "gid": task.gid,
        "resource_type": "task",
        "name": task.name,
        "resource_subtype": task.resource_subtype,
    }


# custom fields -------------------------------------------------------------------


def _option(option: EnumOption) -> dict[str, Any]:
    return {
        "gid": option.gid,
        "resource_type": "enum_option",
        "name": option.name,
        "enabled": option.enabled,
        "color": option.color,
    }


def field_json(custom: CustomField) -> dict[str, Any]:
    """A custom field's definition."""
    body: dict[str, Any] = {
        "gid": custom.gid,
        "resource_type": "custom_field",
        "name": custom.name,
        "type": custom.subtype,
        "resource_subtype": custom.subtype,
        "representation_type": custom.subtype,
        "description": custom.description,
        "enabled": True,
        "is_formula_field": False,
        "is_global_to_workspace": True,
        "has_notifications_enabled": True,
        "is_value_read_only": False,
    }
    if custom.subtype == "enum":
        body["enum_options"] = [_option(o) for o in custom.options]
    if custom.subtype == "number":
        body |= {"precision": custom.precision, "format": custom.format}
        if custom.currency_code:
            body["currency_code"] = custom.currency_code
    return body


def _field_value(store: AsanaStore, custom: CustomField, value: Any) -> dict[str, Any]:
    body = {k: v for k, v in field_json(custom).items() if k != "description"}
    if custom.subtype == "people":
        people = [store.users[g] for g in value or () if g in store.users]
        body["people_value"] = [
            {"gid": u.gid, "resource_type": "user", "name": u.name} for u in people
        ]
        body["display_value"] = ", ".join(u.name for u in people) or None
    elif custom.subtype == "enum":
        option = custom.option(value)
        body["enum_value"] = None if option is None else _option(option)
        body["display_value"] = None if option is None else option.name
    elif custom.subtype == "date":
        body["date_value"] = None if value is None else {"date": value}
        body["display_value"] = value
    elif custom.subtype == "number":
        body["number_value"] = value
        body["display_value"] = None if value is None else f"{value:.{custom.precision}f}"
    else:
        body["text_value"] = value
        body["display_value"] = value
    return body


def _values(
    store: AsanaStore, fields: Sequence[CustomField], values: Mapping[str, Any]
) -> list[dict[str, Any]]:
    return [_field_value(store, f, values.get(f.gid)) for f in fields]


# resources -----------------------------------------------------------------------


def task_json(store: AsanaStore, task: Task, base: str) -> dict[str, Any]:
    """A task's rich form."""
    home = task.projects[0] if task.projects else "0"
    return {
        "gid": task.gid,
        "resource_type": "task",
        "name": task.name,
        "resource_subtype": task.resource_subtype,
        "assignee": user_json(store, task.assignee),
        "assignee_status": "upcoming",
        "completed": task.completed,
        "completed_at": stamp(task.completed_at),
        "created_at": stamp(task.created_at),
        "created_by": {"gid": task.created_by, "resource_type": "user"},
        "due_at": None,
        "due_on": task.due_on,
        "start_at": None,
        "start_on": task.start_on,
        "followers": [user_json(store, f) for f in task.followers if f in store.users],
        "hearted": False,
        "hearts": [],
        "liked": False,
        "likes": [],
        "num_hearts": 0,
        "num_likes": 0,
        "memberships": [
            {
                "project": _project_ref(store, p),
                "section": _section_ref(store, task.sections.get(p)),
            }
            for p in task.projects
        ],
        "modified_at": stamp(task.modified_at),
        "notes": task.notes,
        "html_notes": f"<body>{html.escape(task.notes)}</body>",
        "num_subtasks": store.subtask_count(task.gid),
        "parent": _task_ref(store, task.parent),
        "projects": [_project_ref(store, p) for p in task.projects],
        "tags": [],
        "workspace": workspace_json(store, task.workspace),
        "custom_fields": _values(store, store.task_fields(task), task.values),
        "permalink_url": f"{base}/0/{home}/{task.gid}",
    }


def _section_ref(store: AsanaStore, gid: str | None) -> dict[str, Any] | None:
    section = store.sections.get(gid or "")
    if section is None:
        return None
    return {"gid": section.gid, "resource_type": "section", "name": section.name}


def project_json(store: AsanaStore, project: Project, base: str) -> dict[str, Any]:
    """A project's rich form."""
    owner = user_json(store, project.owner)
    template = store.templates.get(project.template or "")
    return {
        "gid": project.gid,
        "resource_type": "project",
        "name": project.name,
        "archived": project.archived,
        "color": project.color,
        "icon": "list",
        "created_at": stamp(project.created_at),
        "custom_field_settings": [
            field_setting_json(store, project, n) for n in range(len(project.field_settings))
        ],
        "default_view": project.default_view,
        "due_date": project.due_on,
        "due_on": project.due_on,
        "start_on": project.start_on,
        "html_notes": f"<body>{html.escape(project.notes)}</body>",
        "notes": project.notes,
        "members": [owner] if owner else [],
        "modified_at": stamp(project.modified_at),
        "public": project.privacy_setting == "public_to_workspace",
        "privacy_setting": project.privacy_setting,
        "default_access_level": "editor",
        "minimum_access_level_for_customization": "admin",
        "minimum_access_level_for_sharing": "admin",
        "custom_fields": _values(store, [store.fields[g] for g in project.values], project.values),
        "completed": project.completed,
        "completed_at": stamp(project.completed_at),
        "completed_by": None,
        "followers": [owner] if owner else [],
        "owner": owner,
        "team": _team(store, project.team),
        "workspace": workspace_json(store, project.workspace),
        "permalink_url": f"{base}/0/{project.gid}/{project.gid}",
        "created_from_template": None
        if template is None
        else {"gid": template.gid, "resource_type": "project_template", "name": template.name},
    }


def field_setting_json(store: AsanaStore, project: Project, number: int) -> dict[str, Any]:
    """The ``number``-th custom field setting of a project (its gid: the project's and number)."""
    parent = _project_ref(store, project.gid)
    return {
        "gid": f"{project.gid}{number}",
        "resource_type": "custom_field_setting",
        "custom_field": field_json(store.fields[project.field_settings[number]]),
        "is_important": number == 0,
        "parent": parent,
        "project": parent,
    }


def team_json(store: AsanaStore, gid: str) -> dict[str, Any]:
    """A team."""
    team = store.teams[gid]
    return {
        "gid": team.gid,
        "resource_type": "team",
        "name": team.name,
        "description": "",
        "html_description": "<body></body>",
        "organization": {
            "gid": team.workspace,
            "resource_type": "workspace",
            "name": store.workspaces[team.workspace].name,
        },
        "permalink_url": f"https://app.asana.com/0/{team.gid}/overview",
        "visibility": "request_to_join",
    }


def section_json(store: AsanaStore, section: Section) -> dict[str, Any]:
    """A section."""
    return {
        "gid": section.gid,
        "resource_type": "section",
        "name": section.name,
        "created_at": stamp(section.created_at),
        "project": _project_ref(store, section.project),
        "projects": [_project_ref(store, section.project)],
    }


def story_json(store: AsanaStore, story: Story, task: Task) -> dict[str, Any]:
    """A comment story."""
    return {
        "gid": story.gid,
        "resource_type": "story",
        "resource_subtype": "comment_added",
        "type": "comment",
        "text": story.text,
        "html_text": f"<body>{html.escape(story.text)}</body>",
        "created_at": stamp(story.created_at),
        "created_by": user_json(store, story.created_by),
        "is_editable": True,
        "is_edited": False,
        "is_pinned": False,
        "hearted": False,
        "num_hearts": 0,
        "liked": False,
        "num_likes": 0,
        "source": "api",
        "target": _task_ref(store, task.gid),
    }


def template_json(store: AsanaStore, template: Template) -> dict[str, Any]:
    """A project template."""
    return {
        "gid": template.gid,
        "resource_type": "project_template",
        "name": template.name,
        "description": template.description,
        "html_description": f"<body>{html.escape(template.description)}</body>",
        "public": True,
        "owner": user_json(store, template.owner),
        "team": _team(store, template.team),
        "color": "dark-green",
        "requested_dates": [
            {
                "gid": "1",
                "name": "Start Date",
                "description": "Choose a start date for your project.",
            }
        ],
        "requested_roles": [],
    }


def job_json(store: AsanaStore, job: Job) -> dict[str, Any]:
    """An instantiation job."""
    return {
        "gid": job.gid,
        "resource_type": "job",
        "resource_subtype": "instantiate_project",
        "status": job.status,
        "new_project": _project_ref(store, job.project),
        "new_task": None,
    }
