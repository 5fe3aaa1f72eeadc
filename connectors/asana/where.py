"""An entity's ``where`` checked on a task or project read by id, as the connector filters.

``custom_fields.<name or gid>`` compares the field's enum option name (or its
text or number); other keys are dotted paths, an object comparing by its gid.
Option names come trimmed: people type them with stray spaces (``" High"``),
and the hub compares without regard to case.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handoff_hub.connectors.asana.options import option_key
from handoff_hub.hub.connector import FilterValue

__all__ = ["read_scope", "where_fields", "where_value"]

_CUSTOM = "custom_fields."


def read_scope(
    settings: Mapping[str, Any], where: Mapping[str, FilterValue]
) -> dict[str, FilterValue]:
    """``where`` as it is: Asana reads add no scope of their own."""
    del settings
    return dict(where)


def where_fields(where: Mapping[str, FilterValue]) -> list[str]:
    """Fields a read by id must ask for to check ``where`` (custom fields as one)."""
    return list(dict.fromkeys("custom_fields" if k.startswith(_CUSTOM) else k for k in where))


def where_value(raw: Mapping[str, Any], key: str) -> Any:
    """The record's value for ``key``."""
    if key.startswith(_CUSTOM):
        ref = key.removeprefix(_CUSTOM)
        for item in raw.get("custom_fields") or ():
            if isinstance(item, Mapping) and _named(item, ref):
                return _custom_value(item)
        return None
    value: Any = raw
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value.get("gid") if isinstance(value, Mapping) else value


def _named(item: Mapping[str, Any], ref: str) -> bool:
    return ref == item.get("gid") or option_key(ref) == option_key(item.get("name") or "")


def _custom_value(item: Mapping[str, Any]) -> Any:
    if isinstance(enum := item.get("enum_value"), Mapping):
        return _trimmed(enum.get("name"))
    if isinstance(options := item.get("multi_enum_values"), list):
        return [_trimmed(o.get("name")) for o in options if isinstance(o, Mapping)]
    for name in ("text_value", "number_value", "display_value"):
        if item.get(name) is not None:
            return item[name]
    return None


def _trimmed(name: Any) -> Any:
    return name.strip() if isinstance(name, str) else name
