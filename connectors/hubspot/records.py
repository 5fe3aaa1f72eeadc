"""Record helpers of the HubSpot connector: field names, payloads, filters, dates.

Pure functions over the dicts the CRM API sends and receives. A HubSpot
record is ``{id, properties: {...}, createdAt, updatedAt, archived}``; every
property value travels as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from handoff_hub.connectors.hubspot import settings
from handoff_hub.hub.connector import FilterValue
from handoff_hub.hub.errors import ConnectorError, QueryBuildError
from handoff_hub.hub.http.query import search_text

__all__ = [
    "association_inputs",
    "blank_to_null",
    "epoch_ms",
    "latest",
    "modified_property",
    "parse_stamp",
    "property_name",
    "property_names",
    "property_text",
    "search_filter",
    "wanted_links",
    "write_properties",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_RESERVED = "_associate"
"""Key of a write record naming records to associate it with at creation."""


def modified_property(object_name: str) -> str:
    """The property holding an object's last-modified date."""
    return settings.MODIFIED_PROPERTY.get(object_name, settings.DEFAULT_MODIFIED_PROPERTY)


def property_name(field: str) -> str | None:
    """The property a field path reads (``properties.dealname`` or ``dealname``).

    None for the record's own keys (``id``, ``updatedAt``) and for what the
    connector adds itself (``_stage.label``, ``_owner.email``); an owner
    property read through its owner (``_owners.delivery_lead.email``) is that
    property.
    """
    head, _, rest = field.partition(".")
    if head in ("properties", settings.OWNERS_KEY):
        return rest.split(".", 1)[0] or None
    if head in settings.RECORD_KEYS or head.startswith("_"):
        return None
    return head


def owner_properties(fields: Iterable[str]) -> set[str]:
    """The owner properties ``fields`` read through their owner (``_owners.<property>.email``)."""
    prefix = settings.OWNERS_KEY + "."
    return {name for f in fields if f.startswith(prefix) and (name := property_name(f))}


def property_names(fields: Iterable[str], *extra: str) -> list[str]:
    """Unique property names of ``fields`` plus ``extra``, in order."""
    names = [property_name(f) for f in fields]
    return list(dict.fromkeys(n for n in (*names, *extra) if n))


def property_text(value: Any) -> str:
    """A value as HubSpot property text: ``true``, ``12.5``, ISO dates, ``""`` clears."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return format(Decimal(str(value)).normalize(), "f")
    if isinstance(value, list | tuple):
        return ";".join(property_text(v) for v in value)  # multi-select enumerations
    return str(value)


def blank_to_null(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read record whose blank property values (``""``) are null.

    HubSpot sends ``""`` for a value that was cleared and null for one never
    set; both mean no value, and ``""`` is no number, date or option.
    """
    properties = raw.get("properties")
    if not isinstance(properties, Mapping) or "" not in properties.values():
        return raw
    cleaned = {k: (None if v == "" else v) for k, v in properties.items()}
    return {**raw, "properties": cleaned}


def write_properties(record: Mapping[str, Any]) -> dict[str, str]:
    """The ``properties`` object of a write from a flat map, a ``properties`` map, or both.

    Keys starting with ``_`` (``_associate``, ``_company``) are not properties.
    """
    inner = record.get("properties")
    merged = {
        **{k: v for k, v in record.items() if k != "properties"},
        **(inner if isinstance(inner, Mapping) else {}),
    }
    return {str(k): property_text(v) for k, v in merged.items() if not str(k).startswith("_")}


def wanted_links(record: Mapping[str, Any]) -> dict[str, list[str]]:
    """Records to associate a new record with: ``_associate`` plus ``_company.id``.

    ``{"_associate": {"contacts": ["1"]}, "_company": {"id": "2"}}`` gives
    ``{"contacts": ["1"], "companies": ["2"]}``; ``_company`` is what the
    connector adds on read, so a mapping can write it back the same way.
    """
    wanted: dict[str, list[str]] = {}
    for to_object, ids in (record.get(_RESERVED) or {}).items():
        listed = [ids] if isinstance(ids, str | int) else ids
        wanted.setdefault(str(to_object), []).extend(str(i) for i in listed)
    company = record.get("_company")
    if isinstance(company, Mapping) and company.get("id"):
        wanted.setdefault(settings.COMPANIES, []).append(str(company["id"]))
    return {k: list(dict.fromkeys(v)) for k, v in wanted.items()}


def association_inputs(
    from_object: str, wanted: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """The ``associations`` of a create input, with HubSpot's default association types.

    Raises:
        QueryBuildError: no default association type is known for the pair.
    """
    inputs: list[dict[str, Any]] = []
    for to_object, ids in wanted.items():
        type_id = settings.DEFAULT_ASSOCIATION_TYPES.get((from_object, to_object))
        if type_id is None:
            raise QueryBuildError(f"no default association from {from_object} to {to_object}")
        for to_id in ids:
            inputs.append(
                {
                    "to": {"id": str(to_id)},
                    "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
                    ],
                }
            )
    return inputs


def search_filter(name: str, value: FilterValue | Sequence[FilterValue]) -> dict[str, Any]:
    """A search filter: EQ for a value, IN for a list, NOT_HAS_PROPERTY for None."""
    if value is None:
        return {"propertyName": name, "operator": "NOT_HAS_PROPERTY"}
    if isinstance(value, list | tuple):
        texts = [search_text(property_text(v)) for v in value]
        return {"propertyName": name, "operator": "IN", "values": texts}
    return {"propertyName": name, "operator": "EQ", "value": search_text(property_text(value))}


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_stamp(value: Any, what: str, system: str) -> dt.datetime:
    """A HubSpot datetime (``2026-11-20T10:15:00.123Z`` or epoch milliseconds) as aware UTC.

    Raises:
        ConnectorError: naming ``what`` (object, record id, property) when unreadable.
    """
    text = str(value).strip() if value is not None else ""
    try:
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
        return _utc(dt.datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        raise ConnectorError(f"{what} is not a datetime: {value!r}", system=system) from None


def epoch_ms(value: dt.datetime) -> str:
    """Whole milliseconds since the epoch (rounded down), the form search filters take."""
    return str((_utc(value) - _EPOCH) // dt.timedelta(milliseconds=1))


def latest(*values: dt.datetime | None) -> dt.datetime | None:
    """The largest of the given datetimes, or None when all are None."""
    present = [v for v in values if v is not None]
    return max(present, default=None)
