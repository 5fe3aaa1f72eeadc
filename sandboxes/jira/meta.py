"""The API user's permissions and the create metadata of a project's issue types.

``GET /mypermissions?permissions=...`` answers, per permission asked, whether the
user holds it (``permissions`` is required; an unknown key is a 400).
``GET /issue/createmeta/{project}/issuetypes`` pages the issue types one can
create in the project, and ``.../issuetypes/{id}`` the fields of their create
screen, as Jira Cloud answers since the old ``createmeta`` expand was retired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.sandboxes.jira.api import Reply, error
from handoff_hub.sandboxes.jira.data import FIELDS, ISSUE_TYPES, FieldDef, IssueType
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import Endpoint

__all__ = ["JiraMeta"]

_PERMISSIONS: dict[str, tuple[str, str, str]] = {
    "ADMINISTER": ("0", "Administer Jira", "GLOBAL"),
    "BROWSE_PROJECTS": ("10", "Browse Projects", "PROJECT"),
    "CREATE_ISSUES": ("11", "Create Issues", "PROJECT"),
    "EDIT_ISSUES": ("12", "Edit Issues", "PROJECT"),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "PROJECT"),
    "ADD_COMMENTS": ("15", "Add Comments", "PROJECT"),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "PROJECT"),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "PROJECT"),
    "CREATE_PROJECT": ("44", "Create team-managed projects", "GLOBAL"),
}
_SCREEN = ("summary", "issuetype", "project", "description", "labels", "assignee", "reporter")
_ON_CHILDREN = ("parent", "priority", "duedate")
_ON_EPICS = (
    "duedate",
    "priority",
    "customfield_10050",
    "customfield_10051",
    "customfield_10052",
    "customfield_10053",
    "customfield_10060",
    "customfield_10061",
    "customfield_10062",
)
_REQUIRED = {"summary", "issuetype", "project"}
_PAGE = 50


class JiraMeta:
    """Permission and create-metadata resources of one sandbox site."""

    def __init__(self, store: JiraStore, *, administer: bool) -> None:
        self.store = store
        self.administer = administer

    def my_permissions(self, params: Mapping[str, str]) -> Reply:
        """``GET /mypermissions``: the permissions asked for, held or not."""
        asked = [k.strip() for k in params.get("permissions", "").split(",") if k.strip()]
        if not asked:
            return error(400, "The 'permissions' query parameter is required.")
        unknown = [k for k in asked if k not in _PERMISSIONS]
        if unknown:
            return error(404, f"No project permissions or global permissions found: {unknown[0]}")
        project = params.get("projectKey") or params.get("projectId")
        if project and self.store.project(project) is None:
            return error(404, f"No project could be found with key '{project}'.")
        return 200, {"permissions": {k: self._permission(k) for k in asked}}

    def _permission(self, key: str) -> dict[str, Any]:
        number, name, kind = _PERMISSIONS[key]
        held = self.administer if kind == "GLOBAL" else True
        return {
            "id": number,
            "key": key,
            "name": name,
            "type": kind,
            "description": f"Ability to {name.lower()}.",
            "havePermission": held,
        }

    def issue_types(self, at: Endpoint, key: str, params: Mapping[str, str]) -> Reply:
        """``GET /issue/createmeta/{project}/issuetypes``."""
        if self.store.project(key) is None:
            return error(404, f"No project could be found with key '{key}'.")
        types = [t.json(at) for t in ISSUE_TYPES]
        return 200, _page("issueTypes", types, params)

    def issue_type_fields(
        self, at: Endpoint, key: str, type_id: str, params: Mapping[str, str]
    ) -> Reply:
        """``GET /issue/createmeta/{project}/issuetypes/{id}``: its create screen."""
        if self.store.project(key) is None:
            return error(404, f"No project could be found with key '{key}'.")
        kind = next((t for t in ISSUE_TYPES if t.id == type_id), None)
        if kind is None:
            return error(404, f"The issue type with id '{type_id}' does not exist.")
        fields = [_field_meta(f) for f in _screen(kind)]
        return 200, _page("fields", fields, params)


def _screen(kind: IssueType) -> list[FieldDef]:
    names = set(_SCREEN) | set(_ON_EPICS if kind.level > 0 else _ON_CHILDREN)
    return [f for f in FIELDS if f.id in names]


def _field_meta(field: FieldDef) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "fieldId": field.id,
        "key": field.id,
        "name": field.name,
        "required": field.id in _REQUIRED,
        "schema": dict(field.schema),
        "hasDefaultValue": field.id == "issuetype",
        "operations": ["add", "set", "remove"] if field.id == "labels" else ["set"],
    }
    if field.options:
        meta["allowedValues"] = [
            {"value": name, "id": str(10100 + n)} for n, name in enumerate(field.options)
        ]
    return meta


def _page(key: str, values: Sequence[Any], params: Mapping[str, str]) -> dict[str, Any]:
    first = params.get("startAt", "")
    start = int(first) if first.isdigit() else 0
    size = params.get("maxResults", "")
    count = int(size) if size.isdigit() and int(size) > 0 else _PAGE
    chunk = list(values[start : start + count])
    return {key: chunk, "maxResults": count, "startAt": start, "total": len(values)}
