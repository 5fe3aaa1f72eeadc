"""The Jira sandbox's data model and catalogues, with their wire (JSON) renderings.

Users, projects, issue types, statuses, fields and issues live here.

Times are stored as aware UTC datetimes and rendered the way Jira does, in the
viewing user's time zone with a numeric offset (``2026-11-20T10:15:32.123+0100``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from handoff_hub.sandboxes.kit.tables import WATCHED

if TYPE_CHECKING:
    from handoff_hub.sandboxes.jira.wire import Endpoint

__all__ = [
    "FIELDS",
    "ISSUE_TYPES",
    "PRIORITIES",
    "STATUSES",
    "FieldDef",
    "Issue",
    "IssueType",
    "Labels",
    "Project",
    "Status",
    "User",
    "jira_time",
]

_CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:"
_INDEXED = frozenset({"parent", "project", "issuetype", "labels"})


class Labels(list[str]):
    """An issue's labels: replaced whole, never changed in place.

    The search index files an issue under its labels when they are set; a
    label appended in place would be missed by every indexed search, so
    changing the list in place raises instead.
    """

    def _replace_instead(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("set issue.labels to a new list; the search index files it")

    append = extend = insert = remove = pop = clear = sort = reverse = _replace_instead
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _replace_instead

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))


@dataclass
class User:
    """An Atlassian account."""

    account_id: str
    display_name: str
    email: str | None
    time_zone: str = "UTC"
    active: bool = True
    account_type: str = "atlassian"
    email_hidden: bool = False

    def json(self, at: Endpoint, *, full: bool = False) -> dict[str, Any]:
        """``User`` / ``UserDetails`` as Jira renders it (no e-mail when it is hidden)."""
        size = {
            s: f"https://avatar.example/{self.account_id}/{s[:2]}.png"
            for s in ("48x48", "24x24", "16x16", "32x32")
        }
        body: dict[str, Any] = {
            "self": f"{at.api}/user?accountId={self.account_id}",
            "accountId": self.account_id,
            "accountType": self.account_type,
            "avatarUrls": size,
            "displayName": self.display_name,
            "active": self.active,
            "timeZone": self.time_zone,
        }
        if self.email and not self.email_hidden:
            body["emailAddress"] = self.email
        if full:
            body["locale"] = "en_US"
        return body


@dataclass(frozen=True)
class IssueType:
    """An issue type and its level: Epic 1, standard 0, sub-task -1."""

    id: str
    name: str
    level: int
    description: str

    def json(self, at: Endpoint) -> dict[str, Any]:
        """The ``issuetype`` field value."""
        return {
            "self": f"{at.api}/issuetype/{self.id}",
            "id": self.id,
            "description": self.description,
            "name": self.name,
            "subtask": self.level < 0,
            "hierarchyLevel": self.level,
            "iconUrl": f"{at.host}/rest/api/2/universal_avatar/view/type/issuetype/avatar/"
            + self.id,
        }


@dataclass(frozen=True)
class Status:
    """A workflow status and its category (new, indeterminate, done)."""

    id: str
    name: str
    category: str

    def json(self, at: Endpoint) -> dict[str, Any]:
        """The ``status`` field value."""
        categories = {
            "new": (2, "To Do", "blue-gray"),
            "indeterminate": (4, "In Progress", "yellow"),
            "done": (3, "Done", "green"),
        }
        number, label, colour = categories[self.category]
        return {
            "self": f"{at.api}/status/{self.id}",
            "id": self.id,
            "name": self.name,
            "description": "",
            "iconUrl": f"{at.host}/images/icons/statuses/generic.png",
            "statusCategory": {
                "self": f"{at.api}/statuscategory/{number}",
                "id": number,
                "key": self.category,
                "colorName": colour,
                "name": label,
            },
        }


ISSUE_TYPES = (
    IssueType("10000", "Epic", 1, "A big user story that needs to be broken down."),
    IssueType("10001", "Task", 0, "A small, distinct piece of work."),
    IssueType("10002", "Subtask", -1, "A small piece of work that's part of a larger task."),
    IssueType("10003", "Bug", 0, "A problem or error."),
)
STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "In Review", "indeterminate"),
    Status("10002", "Done", "done"),
    Status("10003", "On Hold", "indeterminate"),  # a site's own status, unmapped on purpose
)
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")


@dataclass(frozen=True)
class FieldDef:
    """One field of ``GET /field``; ``kind`` drives JQL and write validation."""

    id: str
    name: str
    kind: str
    schema: dict[str, Any]
    options: tuple[str, ...] = ()
    settable: bool = True

    @property
    def custom(self) -> bool:
        """True for custom fields."""
        return self.id.startswith("customfield_")

    @property
    def clause_names(self) -> list[str]:
        """Names JQL accepts for the field."""
        if self.custom:
            number = self.id.removeprefix("customfield_")
            return [f"cf[{number}]", self.name]
        return [self.id]

    def json(self) -> dict[str, Any]:
        """``FieldDetails`` as Jira renders it."""
        return {
            "id": self.id,
            "key": self.id,
            "name": self.name,
            "custom": self.custom,
            "orderable": self.settable,
            "navigable": True,
            "searchable": True,
            "clauseNames": self.clause_names,
            "schema": dict(self.schema),
        }


def _system(fid: str, name: str, kind: str, wire: str, **extra: Any) -> FieldDef:
    return FieldDef(
        fid,
        name,
        kind,
        {"type": wire, "system": fid, **extra},
        settable=fid not in {"status", "created", "updated", "creator"},
    )


def _custom(
    number: int, name: str, kind: str, wire: str, custom: str, options: tuple[str, ...] = ()
) -> FieldDef:
    schema = {"type": wire, "custom": _CUSTOM + custom, "customId": number}
    return FieldDef(f"customfield_{number}", name, kind, schema, options)


FIELDS = (
    _system("summary", "Summary", "text", "string"),
    _system("description", "Description", "adf", "string"),
    _system("issuetype", "Issue Type", "issuetype", "issuetype"),
    _system("project", "Project", "project", "project"),
    _system("status", "Status", "status", "status"),
    _system("labels", "Labels", "labels", "array", items="string"),
    _system("parent", "Parent", "parent", "issuelink"),
    _system("assignee", "Assignee", "user", "user"),
    _system("reporter", "Reporter", "user", "user"),
    _system("creator", "Creator", "user", "user"),
    _system("priority", "Priority", "priority", "priority"),
    _system("created", "Created", "datetime", "datetime"),
    _system("updated", "Updated", "datetime", "datetime"),
    _system("duedate", "Due date", "date", "date"),
    _custom(10050, "Budget", "number", "number", "float"),
    _custom(10051, "Customer", "text", "string", "textfield"),
    _custom(10052, "Delivery health", "option", "option", "select", ("Green", "Amber", "Red")),
    _custom(10053, "Budget currency", "text", "string", "textfield"),
    # The site admin's own fields, not the hub's: a region and a delivery start date.
    _custom(10060, "Region", "option", "option", "select", ("Europe", "Americas", "APAC")),
    _custom(10061, "Delivery start", "date", "date", "datepicker"),
    _custom(10062, "Delivery lead", "user", "user", "userpicker"),
)


@dataclass
class Project:
    """A Jira project."""

    id: int
    key: str
    name: str
    lead: str
    project_type_key: str = "software"
    description: str = ""
    counter: int = 0

    def json(self, at: Endpoint) -> dict[str, Any]:
        """The ``project`` field value (a project summary)."""
        return {
            "self": f"{at.api}/project/{self.id}",
            "id": str(self.id),
            "key": self.key,
            "name": self.name,
            "projectTypeKey": self.project_type_key,
            "simplified": True,
            "avatarUrls": {
                s: f"{at.api}/universal_avatar/view/type/project/avatar/1"
                for s in ("48x48", "24x24", "16x16", "32x32")
            },
        }


@dataclass
class Issue:
    """An issue as the sandbox stores it (references by id, times in UTC)."""

    id: int
    key: str
    project: str
    issuetype: str
    status: str
    summary: str
    created: dt.datetime
    updated: dt.datetime
    reporter: str | None = None
    description: dict[str, Any] | None = None
    labels: list[str] = field(default_factory=list)
    parent: int | None = None
    assignee: str | None = None
    priority: str | None = "Medium"
    duedate: dt.date | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    remote_links: list[dict[str, Any]] = field(default_factory=list)

    def __setattr__(self, name: str, value: Any) -> None:
        # An issue stored in an IssueTable re-files itself when a looked-up value changes.
        if name == "labels" and not isinstance(value, Labels):
            value = Labels(value)
        slot = self.__dict__.get(WATCHED) if name in _INDEXED else None
        if slot is None:
            object.__setattr__(self, name, value)
        else:
            slot.changing(self, name, value)

    @property
    def number(self) -> int:
        """The number after the dash of the key."""
        return int(self.key.rpartition("-")[2])


def jira_time(value: dt.datetime, zone: str) -> str:
    """``2026-11-20T10:15:32.123+0100``: Jira's timestamp in a user's time zone."""
    local = value.astimezone(ZoneInfo(zone))
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + local.strftime("%z")
    )
