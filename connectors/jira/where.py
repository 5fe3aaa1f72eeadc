"""An entity's ``where`` checked on an issue read by id, with the meaning JQL gives it.

A key is an issue field (``labels``, ``issuetype``, ``project``); an object
field matches by its name, value, key or id, a list field when one element
does. In epic mode every read is in the configured project, so that scope is
part of the ``where`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.hub.connector import FilterValue

__all__ = ["read_scope", "where_fields", "where_value"]

_OBJECT_KEYS = ("name", "value", "key", "gid", "id")


def read_scope(
    settings: Mapping[str, Any], where: Mapping[str, FilterValue]
) -> dict[str, FilterValue]:
    """``where`` plus the project an epic-mode connector confines every read to."""
    scoped = dict(where)
    project = settings.get("project_key")
    if settings.get("mode", "epic") == "epic" and project:
        scoped.setdefault("project", str(project))
    return scoped


def where_fields(where: Mapping[str, FilterValue]) -> list[str]:
    """Issue fields a read by id must ask for to check ``where``."""
    return list(where)


def where_value(raw: Mapping[str, Any], key: str) -> Any:
    """The issue's value for ``key``: an object as the names JQL may match it by."""
    if key in ("key", "id"):
        return raw.get(key)
    fields = raw.get("fields")
    return _plain(fields.get(key)) if isinstance(fields, Mapping) else None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return [value[k] for k in _OBJECT_KEYS if value.get(k) is not None]
    if isinstance(value, list):
        return [
            v for item in value for v in (_plain(item) if isinstance(item, Mapping) else [item])
        ]
    return value
