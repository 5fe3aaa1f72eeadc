"""Write rules of the Jira sandbox: create/edit issues, properties, comments, projects.

Validation follows Jira Cloud's: required project/issue type/summary, ADF for
rich text (a plain-string description is refused, as REST v3 does), the
Epic > Task > Sub-task hierarchy, option and user checks, and the
"cannot be set" error for unknown fields. Errors carry Jira's
``{"errorMessages": [...], "errors": {field: message}}`` shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from handoff_hub.sandboxes.jira.data import Issue, IssueType, Project
from handoff_hub.sandboxes.jira.fields import (
    CANNOT_SET,
    NOT_ADF,
    NOT_STRING,
    field_values,
    is_adf,
    label_operations,
)
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import text_adf

__all__ = [
    "WriteError",
    "add_comment",
    "comment_operations",
    "create_issue",
    "create_project",
    "delete_issue",
    "edit_issue",
    "set_property",
]

_HIERARCHY = "Given parent work item does not belong to appropriate hierarchy."
_HAS_SUBTASKS = (
    "The issue '{key}' has subtasks.  You must specify the 'deleteSubtasks' parameter"
    " to delete this issue and all its subtasks."
)
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
_PROPERTY_MAX = 32768


class WriteError(Exception):
    """A refused write; :attr:`body` is Jira's error collection."""

    def __init__(
        self,
        errors: Mapping[str, str] | None = None,
        messages: list[str] | None = None,
        status: int = 400,
    ) -> None:
        self.errors = dict(errors or {})
        self.messages = list(messages or [])
        self.status = status
        super().__init__(str(self.body))

    @property
    def body(self) -> dict[str, Any]:
        """``{"errorMessages": [...], "errors": {...}}``."""
        return {"errorMessages": self.messages, "errors": self.errors}


def _parts(body: Any) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    if not isinstance(body, Mapping):
        raise WriteError(messages=["The request body must be a JSON object."])
    fields, update = body.get("fields") or {}, body.get("update") or {}
    if not isinstance(fields, Mapping) or not isinstance(update, Mapping):
        raise WriteError(messages=["'fields' and 'update' must be JSON objects."])
    return fields, update


def _hierarchy(
    issue_type: IssueType,
    project: str,
    parent: Issue | None,
    store: JiraStore,
    errors: dict[str, str],
) -> None:
    if parent is None:
        if issue_type.level < 0:
            errors["parent"] = "Sub-task issue types require a parent work item."
        return
    parent_type = store.issue_type(parent.issuetype)
    if parent_type is None or parent_type.level != issue_type.level + 1:
        errors["parent"] = _HIERARCHY
    elif issue_type.level < 0 and parent.project != project:
        errors["project"] = "Sub-tasks must be created in the same project as the parent."


# issues ----------------------------------------------------------------------------


def create_issue(store: JiraStore, body: Any, *, adf: bool = True) -> Issue:
    """Validate and create one issue (``IssueUpdateDetails``); ``adf`` False: REST v2 text.

    Raises:
        WriteError: with every field error at once.
    """
    fields, update = _parts(body)
    errors: dict[str, str] = {}
    project = _ref(store.project, fields.get("project"), ("key", "id"))
    if project is None:
        errors["project"] = "Specify a valid project ID or key"
    issue_type = _ref(store.issue_type, fields.get("issuetype"), ("name", "id"))
    if issue_type is None:
        errors["issuetype"] = (
            "Specify an issue type" if not fields.get("issuetype") else "Specify a valid issue type"
        )
    rest = {k: v for k, v in fields.items() if k not in {"project", "issuetype"}}
    values = field_values(store, rest, errors, adf=adf)
    label_operations(update, values, [], errors)
    if "summary" not in rest:
        errors["summary"] = "You must specify a summary of the issue."
    properties = _properties(body.get("properties"))
    if project is not None and issue_type is not None and "parent" not in errors:
        _hierarchy(issue_type, project.key, values.get("parent"), store, errors)
    if errors or project is None or issue_type is None:
        raise WriteError(errors)
    parent = values.pop("parent", None)
    issue = store.add_issue(
        project,
        issue_type,
        values.pop("summary"),
        parent=parent.id if parent else None,
        **_plain(values),
    )
    issue.properties.update(properties)
    return issue


def _ref(lookup: Callable[[Any], Any], value: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(value, Mapping):
        return None
    ref = next((value[k] for k in keys if value.get(k)), None)
    return lookup(ref) if ref is not None else None


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    custom = {k: values.pop(k) for k in list(values) if k.startswith("customfield_")}
    return {**values, "custom": {k: v for k, v in custom.items() if v is not None}}


def edit_issue(store: JiraStore, issue: Issue, body: Any, *, adf: bool = True) -> None:
    """Validate and apply ``PUT /issue/{key}``; ``updated`` moves only if something changed.

    ``update.comment`` ``add`` operations add comments; ``adf`` False: REST v2 text.

    Raises:
        WriteError: with every field error at once.
    """
    fields, update = _parts(body)
    errors = {k: CANNOT_SET.format(name=k) for k in fields if k in {"project", "issuetype"}}
    values = field_values(
        store, {k: v for k, v in fields.items() if k not in errors}, errors, adf=adf
    )
    label_operations(update, values, issue.labels, errors, others=frozenset({"comment"}))
    comments = comment_operations(update.get("comment"), errors, adf=adf)
    if "parent" in values and "parent" not in errors:
        issue_type = store.issue_type(issue.issuetype)
        assert issue_type is not None
        _hierarchy(issue_type, issue.project, values["parent"], store, errors)
    if errors:
        raise WriteError(errors)
    if "parent" in values:
        values["parent"] = values["parent"].id if values["parent"] else None
    changed = False
    for name, value in values.items():
        if name.startswith("customfield_"):
            changed |= issue.custom.get(name) != value
            issue.custom[name] = value
        else:
            changed |= getattr(issue, name) != value
            setattr(issue, name, value)
    if changed:
        store.touch(issue)
    for comment in comments:
        store.add_comment(issue, comment)


def comment_operations(ops: Any, errors: dict[str, str], *, adf: bool) -> list[dict[str, Any]]:
    """The bodies of ``update.comment`` ``add`` operations (the only verb Jira allows)."""
    if ops is None:
        return []
    bodies = []
    for op in ops if isinstance(ops, list) else [None]:
        added = op.get("add") if isinstance(op, Mapping) else None
        try:
            bodies.append(_comment_body(added, adf=adf))
        except WriteError as exc:
            errors.update(exc.errors)
    return bodies


def _properties(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise WriteError(messages=["'properties' must be a list of {key, value} objects."])
    found: dict[str, Any] = {}
    for item in value:
        key = item.get("key") if isinstance(item, Mapping) else None
        _check_property(key, item.get("value") if isinstance(item, Mapping) else None)
        found[str(key)] = item["value"]
    return found


def _check_property(key: Any, value: Any) -> None:
    if not isinstance(key, str) or not 0 < len(key) <= 255:
        raise WriteError(messages=["The property key cannot be longer than 255 characters."])
    if len(json.dumps(value)) > _PROPERTY_MAX:
        raise WriteError(
            messages=[
                f"The property '{key}' is too big. The maximum size is {_PROPERTY_MAX} bytes."
            ]
        )


def set_property(store: JiraStore, issue: Issue, key: str, raw: bytes) -> bool:
    """Store an entity property (the body is the JSON value); True when it is new.

    Raises:
        WriteError: the body is no JSON, the key or the value is too long.
    """
    try:
        value = json.loads(raw)
    except ValueError:
        raise WriteError(messages=["The property value must be a valid JSON."]) from None
    _check_property(key, value)
    created = key not in issue.properties
    issue.properties[key] = value
    store.touch(issue)
    return created


def add_comment(store: JiraStore, issue: Issue, body: Any, *, adf: bool = True) -> dict[str, Any]:
    """Validate and store a comment (its ``body`` ADF, or a string in REST v2).

    Raises:
        WriteError: the body is missing or not in the version's form.
    """
    return store.add_comment(issue, _comment_body(body, adf=adf))


def _comment_body(body: Any, *, adf: bool) -> dict[str, Any]:
    content = body.get("body") if isinstance(body, Mapping) else None
    if content is None or content == "":
        raise WriteError({"comment": "Comment body can not be empty!"})
    if adf and not is_adf(content):
        raise WriteError({"comment": NOT_ADF})
    if not adf:
        if not isinstance(content, str):
            raise WriteError({"comment": NOT_STRING})
        text = text_adf(content)
        if text is None:
            raise WriteError({"comment": "Comment body can not be empty!"})
        return text
    return dict(content)


def delete_issue(store: JiraStore, issue: Issue, *, subtasks: bool) -> None:
    """Delete an issue as ``DELETE /issue/{key}`` does: its sub-tasks only when asked.

    Issues of a higher level keep living: a deleted Epic's children lose their parent.

    Raises:
        WriteError: it has sub-tasks and ``subtasks`` is False.
    """
    children = store.children(issue)
    below = {c.id for c in children if _level(store, c) < 0}
    if below and not subtasks:
        raise WriteError(messages=[_HAS_SUBTASKS.format(key=issue.key)])
    for child in children:
        if child.id in below:
            store.issues.pop(child.id, None)
        else:
            child.parent = None
            store.touch(child)
    store.issues.pop(issue.id, None)


def _level(store: JiraStore, issue: Issue) -> int:
    found = store.issue_type(issue.issuetype)
    return found.level if found else 0


# projects --------------------------------------------------------------------------


def create_project(store: JiraStore, body: Any) -> Project:
    """Validate and create a project (``CreateProjectDetails``).

    Raises:
        WriteError: with every problem at once.
    """
    if not isinstance(body, Mapping):
        raise WriteError(messages=["The request body must be a JSON object."])
    errors: dict[str, str] = {}
    key, name = str(body.get("key") or ""), str(body.get("name") or "")
    if not _PROJECT_KEY.match(key):
        errors["projectKey"] = (
            "Project keys must start with an uppercase letter, followed by"
            " one or more uppercase alphanumeric characters."
        )
    elif key in store.projects:
        errors["projectKey"] = f"Project '{store.projects[key].name}' uses this project key."
    if not name.strip() or len(name) > 80:
        errors["projectName"] = "The project name must be 1 to 80 characters long."
    elif any(p.name.lower() == name.lower() for p in store.projects.values()):
        errors["projectName"] = "A project with that name already exists."
    if body.get("projectTypeKey") not in {"software", "business", "service_desk"}:
        errors["projectTypeKey"] = "The project type key is invalid."
    lead = store.users.get(str(body.get("leadAccountId") or ""))
    if lead is None or not lead.active:
        errors["projectLead"] = "You must specify a valid project lead."
    if errors or lead is None:
        raise WriteError(errors)
    return store.add_project(
        key,
        name,
        lead.account_id,
        project_type_key=str(body["projectTypeKey"]),
        description=str(body.get("description") or ""),
    )
