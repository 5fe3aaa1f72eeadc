"""Client-side filters of a read's ``where``: equality, one-of, emptiness.

Asana's listings filter on little (a project, a section, an assignee,
``modified_since``), so the other ``where`` keys are applied to the records
read. A key is a dotted path into the record (``completed``,
``assignee.gid``; an object with a gid compares by its gid) or
``custom_fields.<ref>`` for a custom field by logical name, gid or name
(an enum compares by option name, trimmed and ignoring case, as people type
option names with stray spaces). A value is matched exactly, a list means
"one of these", None means "empty".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handoff_hub.connectors.asana.fields import read_value
from handoff_hub.connectors.asana.options import option_key
from handoff_hub.hub.connector import FilterValue

if TYPE_CHECKING:
    from handoff_hub.connectors.asana.fields import FieldCatalogue

__all__ = ["RecordFilter"]

_CUSTOM = "custom_fields."


class RecordFilter:
    """The client-side part of one read's ``where``."""

    def __init__(self, filters: Mapping[str, FilterValue], catalogue: FieldCatalogue) -> None:
        self.filters = dict(filters)
        self.catalogue = catalogue

    def opt_fields(self) -> list[str]:
        """The ``opt_fields`` the filters need to see."""
        return [("custom_fields" if k.startswith(_CUSTOM) else k) for k in self.filters]

    def __call__(self, raw: Mapping[str, Any]) -> bool:
        """True when the record passes every filter."""
        return all(self._passes(raw, key, wanted) for key, wanted in self.filters.items())

    def _passes(self, raw: Mapping[str, Any], key: str, wanted: FilterValue) -> bool:
        value = self._value(raw, key)
        if not self._is_enum(key) or value is None or wanted is None:
            return _holds(value, wanted)
        options = wanted if isinstance(wanted, list) else [wanted]
        return any(option_key(value) == option_key(w) for w in options)

    def _is_enum(self, key: str) -> bool:
        if not key.startswith(_CUSTOM):
            return False
        return self.catalogue.require(key.removeprefix(_CUSTOM)).subtype == "enum"

    def _value(self, raw: Mapping[str, Any], key: str) -> Any:
        if key.startswith(_CUSTOM):
            target = self.catalogue.require(key.removeprefix(_CUSTOM))
            return read_value(raw.get("custom_fields"), target)
        value: Any = raw
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, Mapping) and "gid" in value:
            return value["gid"]
        return value


def _holds(value: Any, wanted: FilterValue) -> bool:
    if wanted is None:
        return value in (None, "", [])
    if isinstance(wanted, list):
        return any(_same(value, w) for w in wanted)
    return _same(value, wanted)


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted or str(value).lower() == str(wanted).lower()
    return value == wanted or (value is not None and str(value) == str(wanted))
