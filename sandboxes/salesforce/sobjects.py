"""sObject resources scripts use beyond the connector's, free of HTTP details.

Describe global (``GET /sobjects``), basic information (``GET
/sobjects/{type}``), rows by external id (``GET`` / ``PATCH`` / ``DELETE``
``/sobjects/{type}/{field}/{value}``), record delete, and Get Updated / Get
Deleted (``/sobjects/{type}/updated|deleted?start=&end=``), with the bodies
and status codes of the REST API Developer Guide. Each answer is
``(status, body)``; a refused request raises :class:`BadRequest`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from handoff_hub.sandboxes.salesforce.api import BadRequest, project
from handoff_hub.sandboxes.salesforce.org import OrgSchema
from handoff_hub.sandboxes.salesforce.query import attributes
from handoff_hub.sandboxes.salesforce.rules import format_datetime, normalise_text
from handoff_hub.sandboxes.salesforce.schema import FieldDef, ObjectDef, object_flags
from handoff_hub.sandboxes.salesforce.soql import parse_datetime
from handoff_hub.sandboxes.salesforce.store import RecordStore

__all__ = [
    "basic_info",
    "delete_by_external_id",
    "delete_record",
    "deleted_records",
    "describe_global",
    "get_by_external_id",
    "updated_records",
    "upsert_by_external_id",
]

Answer = tuple[int, Any]
MAX_REPLICATION_DAYS = 30
UPSERT_RESULT_VERSION = 46
"""From API 46.0 an upsert answers with ``created`` (and an update with 200, not 204)."""
_NOT_ACCESSIBLE = "Provided external ID field does not exist or is not accessible: {}"


def _sobject_urls(obj: ObjectDef, version: str) -> dict[str, str]:
    root = f"/services/data/v{version}/sobjects/{obj.name}"
    return {"sobject": root, "describe": root + "/describe", "rowTemplate": root + "/{ID}"}


def _global_entry(obj: ObjectDef, version: str) -> dict[str, Any]:
    return {
        **object_flags(obj),
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.plural,
        "keyPrefix": obj.key_prefix,
        "associateEntityType": None,
        "associateParentEntity": None,
        "urls": _sobject_urls(obj, version),
    }


def describe_global(schema: OrgSchema, version: str) -> Answer:
    """``GET /sobjects``: every object of the org, with the org's encoding and batch size."""
    sobjects = [_global_entry(o, version) for _, o in sorted(schema.objects.items())]
    return 200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects}


def basic_info(store: RecordStore, obj: ObjectDef, version: str) -> Answer:
    """``GET /sobjects/{type}``: the object's summary and its most recently changed records."""
    shown = ["Id", "Name"] if obj.field("Name") else ["Id"]
    recent = sorted(store.visible(obj.name), key=lambda r: r["SystemModstamp"], reverse=True)
    items = [project(obj, r, shown, version) for r in recent[:3]]
    return 200, {"objectDescribe": _global_entry(obj, version), "recentItems": items}


def _external_field(obj: ObjectDef, name: str) -> FieldDef:
    field = obj.field(name)
    if field is None:
        raise BadRequest(404, "NOT_FOUND", _NOT_ACCESSIBLE.format(name))
    if not (field.external_id or field.unique or field.name == "Id"):
        raise BadRequest(
            400,
            "INVALID_FIELD",
            f"Field name provided, {field.name} is not an External ID or indexed field for"
            f" {obj.name}",
        )
    return field


def _matches(
    store: RecordStore, obj: ObjectDef, field: FieldDef, value: str
) -> list[dict[str, Any]]:
    wanted = normalise_text(field, value)
    return [
        r
        for r in store.visible(obj.name)
        if isinstance(r.get(field.name), str) and normalise_text(field, r[field.name]) == wanted
    ]


def _choices(obj: ObjectDef, rows: Sequence[Mapping[str, Any]], version: str) -> Answer:
    """300 Multiple Choices: the URLs of every record the external id matched."""
    return 300, [attributes(obj.name, r["Id"], version)["url"] for r in rows]


def get_by_external_id(
    store: RecordStore,
    obj: ObjectDef,
    field_name: str,
    value: str,
    fields: Sequence[str] | None,
    version: str,
) -> Answer:
    """``GET /sobjects/{type}/{field}/{value}``: the one record carrying the value."""
    rows = _by_external_id(store, obj, field_name, value)
    if len(rows) > 1:
        return _choices(obj, rows, version)
    return 200, project(obj, rows[0], fields, version)


def upsert_by_external_id(
    store: RecordStore, obj: ObjectDef, field_name: str, value: str, body: Any, version: str
) -> Answer:
    """``PATCH /sobjects/{type}/{field}/{value}``: 201 created, 200 (204 before 46.0) updated."""
    field = _external_field(obj, field_name)
    if not isinstance(body, dict):
        raise BadRequest(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    given = next((v for k, v in body.items() if k.casefold() == field.name.casefold()), value)
    if given != value:
        raise BadRequest(
            400,
            "INVALID_FIELD",
            f"The {field.name} value in the request body doesn't match the one in the URL",
        )
    rows = _matches(store, obj, field, value)
    if len(rows) > 1:
        return _choices(obj, rows, version)
    if rows:
        outcome = store.modify(obj, rows[0]["Id"], body)
    else:
        outcome = store.insert(obj, {**body, field.name: value})
    if not outcome.ok:
        return 400, [e.as_rest() for e in outcome.errors]
    with_flag = int(version.partition(".")[0]) >= UPSERT_RESULT_VERSION
    result: dict[str, Any] = {"id": outcome.id, "success": True, "errors": []}
    if with_flag:
        result["created"] = outcome.created
    if outcome.created:
        return 201, result
    return (200, result) if with_flag else (204, None)


def delete_record(store: RecordStore, obj: ObjectDef, record_id: str) -> Answer:
    """``DELETE /sobjects/{type}/{id}``: to the recycle bin, 204 No Content."""
    if not obj.deletable:
        raise BadRequest(
            405,
            "METHOD_NOT_ALLOWED",
            "HTTP Method 'DELETE' not allowed. Allowed are GET,HEAD,PATCH",
        )
    found = store.readable(record_id)
    if found is None or found[0] != obj.name:
        if isinstance(record_id, str) and record_id[:15] in store.bin:
            raise BadRequest(404, "ENTITY_IS_DELETED", "entity is deleted")
        raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
    store.delete(obj.name, found[1]["Id"])
    return 204, None


def delete_by_external_id(
    store: RecordStore, obj: ObjectDef, field_name: str, value: str, version: str
) -> Answer:
    """``DELETE /sobjects/{type}/{field}/{value}``."""
    rows = _by_external_id(store, obj, field_name, value)
    if len(rows) > 1:
        return _choices(obj, rows, version)
    return delete_record(store, obj, rows[0]["Id"])


def _by_external_id(
    store: RecordStore, obj: ObjectDef, field_name: str, value: str
) -> list[dict[str, Any]]:
    """The records carrying ``value`` in an External ID field; 404 when there are none."""
    rows = _matches(store, obj, _external_field(obj, field_name), value)
    if not rows:
        raise BadRequest(404, "NOT_FOUND", _NOT_ACCESSIBLE.format(value))
    return rows


def _window(store: RecordStore, start: str | None, end: str | None) -> tuple[dt.datetime, ...]:
    try:
        first, last = parse_datetime(str(start)), parse_datetime(str(end))
    except ValueError:
        raise BadRequest(
            400,
            "MISSING_ARGUMENT",
            "start and end must be given as ISO 8601 date/times (2024-05-01T00:00:00+00:00)",
        ) from None
    first, last = (t.replace(second=0, microsecond=0) for t in (first, last))
    if last <= first:
        raise BadRequest(400, "INVALID_REPLICATION_DATE", "end must be after start")
    if first < store.now() - dt.timedelta(days=MAX_REPLICATION_DAYS):
        raise BadRequest(400, "INVALID_REPLICATION_DATE", "start cannot be more than 30 days ago")
    return first, min(last, store.now().replace(second=0, microsecond=0))


def _covered(store: RecordStore, obj: ObjectDef, end: dt.datetime) -> dt.datetime:
    """The end, or the minute of the oldest change still uncommitted, whichever is earlier."""
    pending = [parse_datetime(r["SystemModstamp"]) for n, r in store.held.values() if n == obj.name]
    oldest = min(pending, default=end)
    return min(end, oldest.replace(second=0, microsecond=0))


def updated_records(
    store: RecordStore, obj: ObjectDef, start: str | None, end: str | None
) -> Answer:
    """``GET /sobjects/{type}/updated``: ids changed in [start, end), to the minute."""
    first, last = _window(store, start, end)
    covered = _covered(store, obj, last)
    rows = [r for r in store.visible(obj.name) if first <= parse_datetime(r["SystemModstamp"])]
    ids = [r["Id"] for r in rows if parse_datetime(r["SystemModstamp"]) < covered]
    return 200, {"ids": ids, "latestDateCovered": format_datetime(covered)}


def deleted_records(
    store: RecordStore, obj: ObjectDef, start: str | None, end: str | None
) -> Answer:
    """``GET /sobjects/{type}/deleted``: records deleted in [start, end)."""
    first, last = _window(store, start, end)
    gone = [
        {"id": record["Id"], "deletedDate": when}
        for name, record, when in store.bin.values()
        if name == obj.name and first <= parse_datetime(when) < last
    ]
    org = store.records("Organization")
    born = parse_datetime(org[0]["CreatedDate"]) if org else first
    return 200, {
        "deletedRecords": gone,
        "earliestDateAvailable": format_datetime(born.replace(second=0, microsecond=0)),
        "latestDateCovered": format_datetime(last),
    }
