"""Field values of the Jira sandbox's issue writes: one checker per field.

Each checker turns a request value into the stored form, or records Jira's
error message for the field. Unknown fields get Jira's "cannot be set" error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from handoff_hub.sandboxes.jira.data import PRIORITIES
from handoff_hub.sandboxes.jira.store import JiraStore
from handoff_hub.sandboxes.jira.wire import text_adf

__all__ = [
    "CANNOT_SET",
    "NOT_ADF",
    "NOT_STRING",
    "field_values",
    "is_adf",
    "label_operations",
]

CANNOT_SET = "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_STRING = "Operation value must be a string"
_NO_USER = "Specified user does not exist or you do not have required permissions"
_INVALID = object()


def is_adf(value: Any) -> bool:
    """True for an ADF document root."""
    return (
        isinstance(value, Mapping)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def _summary(_store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    if not isinstance(value, str) or not value.strip():
        errors[name] = "You must specify a summary of the issue."
    elif len(value) > 255:
        errors[name] = "Summary must be less than 255 characters."
    else:
        return value
    return _INVALID


def _description(_store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    if value is None or is_adf(value):
        return value
    errors[name] = NOT_ADF
    return _INVALID


def _description_text(_store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    """REST v2: rich text is a string (stored as ADF)."""
    if value is None or isinstance(value, str):
        return text_adf(value) if value else None
    errors[name] = NOT_STRING
    return _INVALID


def _labels(_store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        errors[name] = "Labels must be a list of strings."
        return _INVALID
    for label in value:
        if re.search(r"\s", label) or len(label) > 255:
            errors[name] = f"The label '{label}' contains spaces which is invalid."
            return _INVALID
    return list(dict.fromkeys(value))


def _parent(store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    if value is None:
        return None
    ref = value.get("key") or value.get("id") if isinstance(value, Mapping) else None
    found = store.issue(ref) if ref else None
    if found is None:
        errors[name] = "Could not find issue by id or key."
        return _INVALID
    return found


def _user(store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    if value is None:
        return None
    ref = value.get("accountId") if isinstance(value, Mapping) else None
    user = store.users.get(ref) if isinstance(ref, str) else None
    if user is None:
        errors[name] = _NO_USER
    elif not user.active:
        errors[name] = f"User '{user.display_name}' cannot be assigned issues."
    else:
        return user.account_id
    return _INVALID


def _priority(_store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    ref = str(value.get("name") or value.get("id") or "") if isinstance(value, Mapping) else ""
    for number, priority in enumerate(PRIORITIES, start=1):
        if ref.lower() in {priority.lower(), str(number)}:
            return priority
    errors[name] = "The priority selected is invalid."
    return _INVALID


def _duedate(_store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[name] = f"Error parsing date string: {value}"
        return _INVALID


def _custom(store: JiraStore, value: Any, errors: dict[str, str], name: str) -> Any:
    definition = store.field(name)
    if value is None:
        return None
    assert definition is not None
    if definition.kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        errors[name] = "Operation value must be a number"
    elif definition.kind == "date":
        return _duedate(store, value, errors, name)
    elif definition.kind == "text":
        if isinstance(value, str) and len(value) <= 255:
            return value
        errors[name] = "Operation value must be a string of at most 255 characters"
    elif definition.kind == "user":
        return _user(store, value, errors, name)
    else:
        wanted = value.get("value") or value.get("id") if isinstance(value, Mapping) else None
        match = next((o for o in definition.options if str(wanted).lower() == o.lower()), None)
        if match is not None:
            return {"value": match}
        errors[name] = f"Option value '{wanted}' is not valid"
    return _INVALID


_SETTERS: dict[str, Callable[[JiraStore, Any, dict[str, str], str], Any]] = {
    "summary": _summary,
    "description": _description,
    "labels": _labels,
    "parent": _parent,
    "assignee": _user,
    "reporter": _user,
    "priority": _priority,
    "duedate": _duedate,
}


def field_values(
    store: JiraStore, fields: Mapping[str, Any], errors: dict[str, str], *, adf: bool = True
) -> dict[str, Any]:
    """Stored values of ``fields``; problems go into ``errors`` by field name.

    ``adf`` False reads rich text as REST v2 sends it: a string.
    """
    values: dict[str, Any] = {}
    setters = _SETTERS if adf else {**_SETTERS, "description": _description_text}
    for name, value in fields.items():
        definition = store.field(name) if name.startswith("customfield_") else None
        setter = setters.get(name) or (_custom if definition is not None else None)
        if setter is None:
            errors[name] = CANNOT_SET.format(name=name)
            continue
        result = setter(store, value, errors, name)
        if result is not _INVALID:
            values[name] = result
    return values


def label_operations(
    update: Mapping[str, Any],
    values: dict[str, Any],
    current: list[str],
    errors: dict[str, str],
    *,
    others: frozenset[str] = frozenset(),
) -> None:
    """Apply ``update.labels`` operations (add, remove, set).

    Updates of the fields in ``others`` are the caller's; any other is refused.
    """
    for name, ops in update.items():
        if name in others:
            continue
        if name != "labels" or not isinstance(ops, list):
            errors[name] = CANNOT_SET.format(name=name)
            continue
        labels = list(values.get("labels", current))
        for op in ops:
            for verb, label in op.items() if isinstance(op, Mapping) else ():
                if verb == "add" and label not in labels:
                    labels.append(label)
                elif verb == "remove" and label in labels:
                    labels.remove(label)
                elif verb == "set":
                    labels = list(label)
        values["labels"] = labels
