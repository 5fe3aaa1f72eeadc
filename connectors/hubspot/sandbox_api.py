"""Request handling of the sandbox's CRM endpoints, free of HTTP details.

Batch read / create / update / upsert, single records, lists, associations
v4 and owners, producing the bodies HubSpot returns. Batch answers are
``{"status": "COMPLETE", "results", "startedAt", "completedAt"}``, with
``errors`` and ``numErrors`` (HTTP 207) when some records were not found. A
batch create or update with one invalid record is refused whole (400), as
HubSpot does; results of a create do not come back in input order, and echo
each input's ``objectWriteTraceId``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.hubspot.sandbox_errors import ApiError, record_error
from connectors.hubspot.sandbox_schema import ObjectDef, find_object
from connectors.hubspot.sandbox_store import (
    ASSOCIATION_TYPES,
    Record,
    RecordStore,
    association_label,
)
from connectors.hubspot.sandbox_values import format_datetime

__all__ = [
    "MAX_BATCH",
    "associate_default",
    "association_batch_read",
    "association_list",
    "batch_create",
    "batch_read",
    "batch_update",
    "batch_upsert",
    "object_or_error",
    "render",
    "requested",
]

MAX_BATCH = 100
MAX_ASSOCIATION_BATCH = 1000
Reply = tuple[int, Any]


def object_or_error(name: str) -> ObjectDef:
    """The object type of a URL, or HubSpot's refusal of an unknown one."""
    obj = find_object(name)
    if obj is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {name}")
    return obj


def requested(obj: ObjectDef, names: Sequence[str] | None) -> list[str]:
    """Properties a read returns: those asked for that exist (else the defaults), plus ids."""
    asked = [n for n in names or [] if obj.prop(n) is not None] if names else list(obj.defaults)
    return list(dict.fromkeys([*asked, obj.created, obj.modified, "hs_object_id"]))


def render(
    record: Record, properties: Sequence[str], *, trace: str | None = None
) -> dict[str, Any]:
    """A record as the CRM API returns it."""
    body: dict[str, Any] = {
        "id": record.id,
        "properties": {name: record.props.get(name) for name in properties},
        "createdAt": format_datetime(record.created),
        "updatedAt": format_datetime(record.updated),
        "archived": record.archived,
    }
    if trace is not None:
        body["objectWriteTraceId"] = trace
    return body


def _envelope(store: RecordStore, results: list[Any], errors: list[Any]) -> Reply:
    started = store.moment()
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
    body |= {"startedAt": started, "completedAt": store.moment()}
    return (207 if errors else 200), body


def _inputs(body: Any, limit: int = MAX_BATCH) -> list[Mapping[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, Mapping) else None
    if not isinstance(inputs, list) or not all(isinstance(i, Mapping) for i in inputs):
        raise ApiError(400, "VALIDATION_ERROR", "Invalid input JSON: inputs must be a list")
    if len(inputs) > limit:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Batch input size {len(inputs)} is larger than the maximum of {limit}",
        )
    return inputs


def _unique_property(obj: ObjectDef, name: Any) -> str:
    spec = obj.prop(str(name))
    if spec is None or not spec.unique:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"{name} is not a unique property of {obj.upper}; idProperty must be unique",
        )
    return spec.name


def _missing(obj: ObjectDef, ids: Sequence[str]) -> dict[str, Any]:
    return record_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {obj.upper} objects, they may be deleted or not exist. Check that"
        " ids are valid.",
        ids,
    )


def _locate(store: RecordStore, obj: ObjectDef, key: Any, id_property: str | None) -> Record | None:
    if id_property:
        return store.by_unique(obj, id_property, str(key))
    return store.get(obj, key)


def batch_read(store: RecordStore, obj: ObjectDef, body: Any) -> Reply:
    """``POST .../batch/read``: by id, or by a unique property with ``idProperty``."""
    inputs = _inputs(body)
    id_property = body.get("idProperty")
    if id_property:
        id_property = _unique_property(obj, id_property)
    names = requested(obj, body.get("properties"))
    if id_property:
        names = list(dict.fromkeys([id_property, *names]))
    results, missing = [], []
    for item in inputs:
        record = _locate(store, obj, item.get("id"), id_property)
        if record is None:
            missing.append(str(item.get("id")))
        else:
            results.append(render(record, names))
    return _envelope(store, results, [_missing(obj, missing)] if missing else [])


def _associations(store: RecordStore, obj: ObjectDef, raw: Any) -> list[tuple[str, str, bool]]:
    """Checked ``associations`` of a create input: (to type, to id, primary)."""
    wanted = []
    for link in raw or []:
        to_id = str((link.get("to") or {}).get("id"))
        types = [t.get("associationTypeId") for t in link.get("types") or []]
        target = next(
            (
                t
                for (f, t), (default, primary) in ASSOCIATION_TYPES.items()
                if f == obj.name and types and all(x in (default, primary) for x in types)
            ),
            None,
        )
        to_obj = find_object(target) if target else None
        if to_obj is None or store.get(to_obj, to_id) is None:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"One or more associations are invalid: no object {to_id} for association types"
                f" {types} from {obj.upper}",
            )
        primary_id = ASSOCIATION_TYPES[(obj.name, to_obj.name)][1]
        wanted.append((to_obj.name, to_id, primary_id in types))
    return wanted


def batch_create(store: RecordStore, obj: ObjectDef, body: Any) -> Reply:
    """``POST .../batch/create``: all or nothing; results in no particular order."""
    inputs = _inputs(body)
    checked = []
    for item in inputs:
        clean = store.validate(obj, item.get("properties") or {}, None)
        links = _associations(store, obj, item.get("associations"))
        if obj.name == "leads" and not any(to == "contacts" for to, _, _ in links):
            raise ApiError(
                400, "VALIDATION_ERROR", "A lead must be associated with an existing contact."
            )
        checked.append((item, clean, links))
    store.check_unique(obj, [(None, clean) for _, clean, _ in checked])
    results = []
    for item, clean, links in checked:
        record = store.insert(obj, clean)
        for to_type, to_id, primary in links:
            store.associate(obj.name, record.id, to_type, to_id, primary=primary)
        trace = item.get("objectWriteTraceId")
        results.append(render(record, _written(obj, clean), trace=_text(trace)))
    results.reverse()  # HubSpot does not promise input order; clients match trace ids
    return 201, _envelope(store, results, [])[1]


def _unique_ids(keys: Sequence[str]) -> None:
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Duplicate IDs found in batch input: {repeated}. IDs must be unique",
        )


def batch_update(store: RecordStore, obj: ObjectDef, body: Any) -> Reply:
    """``POST .../batch/update``: ids not found are reported (207); bad values refuse all."""
    inputs = _inputs(body)
    _unique_ids([str(i.get("id")) for i in inputs])
    found, missing = [], []
    for item in inputs:
        id_property = item.get("idProperty")
        id_property = _unique_property(obj, id_property) if id_property else None
        record = _locate(store, obj, item.get("id"), id_property)
        if record is None:
            missing.append(str(item.get("id")))
            continue
        found.append((item, record, store.validate(obj, item.get("properties") or {}, record)))
    store.check_unique(obj, [(record, clean) for _, record, clean in found])
    results = []
    for item, record, clean in found:
        store.modify(obj, record, clean)
        trace = _text(item.get("objectWriteTraceId"))
        results.append(render(record, _written(obj, clean), trace=trace))
    return _envelope(store, results, [_missing(obj, missing)] if missing else [])


def batch_upsert(store: RecordStore, obj: ObjectDef, body: Any) -> Reply:
    """``POST .../batch/upsert`` by a unique ``idProperty``; results say ``new``."""
    inputs = _inputs(body)
    keys = [str(i.get("id")) for i in inputs]
    _unique_ids(keys)
    planned = []
    for item, key in zip(inputs, keys, strict=True):
        name = _unique_property(obj, item.get("idProperty"))
        record = store.by_unique(obj, name, key)
        values = {**(item.get("properties") or {}), name: key}
        planned.append((item, record, store.validate(obj, values, record)))
    store.check_unique(obj, [(record, clean) for _, record, clean in planned])
    results = []
    for item, record, clean in planned:
        new = record is None
        if record is None:
            record = store.insert(obj, clean)
        else:
            store.modify(obj, record, clean)
        trace = _text(item.get("objectWriteTraceId"))
        shown = render(record, _written(obj, clean), trace=trace)
        results.append({**shown, "new": new})
    return _envelope(store, results, [])


def _written(obj: ObjectDef, clean: Mapping[str, Any]) -> list[str]:
    """Properties a write answers with: the defaults and those written."""
    return requested(obj, [*obj.defaults, *clean])


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# associations v4 --------------------------------------------------------------------


def _association_to(store: RecordStore, from_type: str, from_id: str, to_type: str) -> list[Any]:
    return [
        {
            "toObjectId": int(to_id),
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": t, "label": association_label(t)}
                for t in sorted(types, key=lambda t: association_label(t) is None)
            ],
        }
        for to_id, types in store.associations(from_type, from_id, to_type).items()
    ]


def association_batch_read(
    store: RecordStore, from_obj: ObjectDef, to_obj: ObjectDef, body: Any
) -> Reply:
    """``POST /crm/v4/associations/{from}/{to}/batch/read``."""
    inputs = _inputs(body, MAX_ASSOCIATION_BATCH)
    results, missing = [], []
    for item in inputs:
        from_id = str(item.get("id"))
        if store.get(from_obj, from_id) is None:
            missing.append(from_id)
            continue
        to = _association_to(store, from_obj.name, from_id, to_obj.name)
        if to:
            results.append({"from": {"id": from_id}, "to": to})
    errors = []
    if missing:
        errors.append(
            record_error(
                "OBJECT_NOT_FOUND", f"No {from_obj.upper} objects found for the given ids", missing
            )
        )
    return _envelope(store, results, errors)


def association_list(
    store: RecordStore, from_obj: ObjectDef, from_id: str, to_obj: ObjectDef
) -> Reply:
    """``GET /crm/v4/objects/{from}/{id}/associations/{to}``."""
    if store.get(from_obj, from_id) is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"No {from_obj.singular} with id {from_id}")
    return 200, {"results": _association_to(store, from_obj.name, from_id, to_obj.name)}


def associate_default(
    store: RecordStore, from_obj: ObjectDef, from_id: str, to_obj: ObjectDef, to_id: str
) -> Reply:
    """``PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{id}``."""
    if (from_obj.name, to_obj.name) not in ASSOCIATION_TYPES:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"No default association type from {from_obj.upper} to {to_obj.upper}",
        )
    for obj, record_id in ((from_obj, from_id), (to_obj, to_id)):
        if store.get(obj, record_id) is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"No {obj.singular} with id {record_id}")
    type_id = store.associate(from_obj.name, from_id, to_obj.name, to_id)
    result = {
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
        "from": {"id": from_id},
        "to": {"id": to_id},
    }
    return _envelope(store, [result], [])
