"""Does a record read by id belong to an entity? Its mapping's ``where``, checked here.

A scheduled run asks the product for the records of an entity (``where``
becomes JQL or a listing filter); a webhook only names a record, and reading
it by id returns it whatever it is. So before a record is handed to
feedback-to-lead or risk-to-account-manager, the entity's ``where`` is
checked on the record, with the meaning the connector gives it:

* Jira: a key is an issue field (``labels``, ``issuetype``, ``project``); an
  object field matches by its name, value, key or id, a list field when one
  element does; like JQL, case does not matter. In epic mode the connector
  reads only its ``project_key`` project, so that is checked too.
* Asana: ``custom_fields.<name or gid>`` compares the field's enum option
  name (or text, number); other keys are dotted paths, an object comparing
  by its gid.

For another connector the answer is None ("cannot tell"): its records are
left to the scheduled run rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.connector import FilterValue

__all__ = ["effective_where", "filter_fields", "record_matches"]

_CUSTOM = "custom_fields."
_OBJECT_KEYS = ("name", "value", "key", "gid", "id")


def effective_where(
    connector: str, settings: Mapping[str, Any], where: Mapping[str, FilterValue]
) -> dict[str, FilterValue]:
    """``where`` plus the scope the connector adds to every read of its own accord."""
    scoped = dict(where)
    project = settings.get("project_key")
    if connector == "jira" and settings.get("mode", "epic") == "epic" and project:
        scoped.setdefault("project", str(project))
    return scoped


def filter_fields(connector: str, where: Mapping[str, FilterValue]) -> list[str]:
    """The fields a read by id must ask for so that :func:`record_matches` can check ``where``."""
    if connector == "asana":
        return list(dict.fromkeys("custom_fields" if k.startswith(_CUSTOM) else k for k in where))
    return list(where)


def record_matches(
    connector: str, raw: Mapping[str, Any], where: Mapping[str, FilterValue]
) -> bool | None:
    """True when ``raw`` passes every filter of ``where``; None when the connector is unknown."""
    if not where:
        return True
    if connector == "jira":
        read = _jira_value
    elif connector == "asana":
        read = _asana_value
    else:
        return None
    return all(_holds(read(raw, key), wanted) for key, wanted in where.items())


def _jira_value(raw: Mapping[str, Any], key: str) -> Any:
    if key in ("key", "id"):
        return raw.get(key)
    fields = raw.get("fields")
    return _plain(fields.get(key)) if isinstance(fields, Mapping) else None


def _asana_value(raw: Mapping[str, Any], key: str) -> Any:
    if key.startswith(_CUSTOM):
        ref = key.removeprefix(_CUSTOM)
        for item in raw.get("custom_fields") or ():
            if isinstance(item, Mapping) and ref in (item.get("name"), item.get("gid")):
                return _custom_value(item)
        return None
    value: Any = raw
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value.get("gid") if isinstance(value, Mapping) else value


def _custom_value(item: Mapping[str, Any]) -> Any:
    if isinstance(enum := item.get("enum_value"), Mapping):
        return enum.get("name")
    if isinstance(options := item.get("multi_enum_values"), list):
        return [o.get("name") for o in options if isinstance(o, Mapping)]
    for name in ("text_value", "number_value", "display_value"):
        if item.get(name) is not None:
            return item[name]
    return None


def _plain(value: Any) -> Any:
    """A field as the values a JQL equality may match: an object by any of its names."""
    if isinstance(value, Mapping):
        return [value[k] for k in _OBJECT_KEYS if value.get(k) is not None]
    if isinstance(value, list):
        return [v for item in value for v in (_plain(item) if _is_object(item) else [item])]
    return value


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping)


def _holds(value: Any, wanted: FilterValue) -> bool:
    if wanted is None:
        return value in (None, "", [])
    values: Sequence[Any] = value if isinstance(value, list) else [value]
    options = wanted if isinstance(wanted, list) else [wanted]
    return any(_same(v, w) for v in values for w in options)


def _same(value: Any, wanted: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool) or isinstance(wanted, bool):
        return str(value).lower() == str(wanted).lower()
    return str(value).casefold() == str(wanted).casefold()
