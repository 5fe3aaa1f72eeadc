"""Request handling of the sandbox's CRM reads, free of HTTP details.

Batch read, associations v4 and what batch writes share (inputs, envelopes,
rendering), producing the bodies HubSpot returns. Batch answers are
``{"status": "COMPLETE", "results", "startedAt", "completedAt"}``, with
``errors`` and ``numErrors`` (HTTP 207) when some records were not found.
How the portal orders results and echoes trace ids is its :class:`Answers`
(from the org profile); batch writes are in :mod:`handoff_hub.sandboxes.hubspot.batch`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.hubspot.errors import ApiError, record_error
from handoff_hub.sandboxes.hubspot.schema import ObjectDef, find_object
from handoff_hub.sandboxes.hubspot.store import (
    ASSOCIATION_TYPES,
    Record,
    RecordStore,
    association_label,
)
from handoff_hub.sandboxes.hubspot.values import format_datetime

__all__ = [
    "MAX_BATCH",
    "Answers",
    "associate_default",
    "associate_labelled",
    "associated_ids",
    "association_batch_read",
    "association_list",
    "batch_inputs",
    "batch_read",
    "dissociate",
    "envelope",
    "locate",
    "missing_error",
    "object_or_error",
    "render",
    "requested",
    "unique_property",
]

MAX_BATCH = 100
MAX_ASSOCIATION_BATCH = 1000
Reply = tuple[int, Any]
UNIQUE_CONTACT_PROPERTY = "email"
"""Contacts are read and written by e-mail as ``idProperty``, though it is no unique property."""


@dataclass
class Answers:
    """How the portal answers batch calls (the org profile's batch switches).

    ``shuffled``: results in an order of the portal's own; otherwise a create
    answers in reverse input order and the rest in input order. ``traces``:
    results echo each input's ``objectWriteTraceId``. ``partial``: invalid
    inputs of a write are refused one by one in a 207, not the whole batch.
    """

    shuffled: bool = False
    traces: bool = True
    partial: bool = False
    leads_require_contact: bool = True
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def ordered(self, results: list[Any], *, reverse: bool = False) -> list[Any]:
        """Results in the order this portal sends them."""
        if self.shuffled:
            self.rng.shuffle(results)
        elif reverse:
            results.reverse()
        return results

    def trace(self, item: Mapping[str, Any]) -> str | None:
        """The trace id a result echoes for its input, if the portal echoes them."""
        trace = item.get("objectWriteTraceId")
        return str(trace) if self.traces and trace is not None else None


STRICT = Answers()
"""The answers of single-record endpoints and of the default portal."""


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
    if record.archived_at is not None:
        body["archivedAt"] = format_datetime(record.archived_at)
    if trace is not None:
        body["objectWriteTraceId"] = trace
    return body


def envelope(store: RecordStore, results: list[Any], errors: list[Any]) -> Reply:
    """A batch answer: 200, or 207 multi-status with ``numErrors`` and ``errors``."""
    started = store.moment()
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body |= {"numErrors": len(errors), "errors": errors}
    body |= {"startedAt": started, "completedAt": store.moment()}
    return (207 if errors else 200), body


def batch_inputs(body: Any, limit: int = MAX_BATCH) -> list[Mapping[str, Any]]:
    """A batch request's ``inputs``, or HubSpot's refusal of a malformed or oversized one."""
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


def unique_property(obj: ObjectDef, name: Any) -> str:
    """The property an ``idProperty`` names, or HubSpot's refusal of one that is not unique."""
    spec = obj.prop(str(name))
    if obj.name == "contacts" and spec is not None and spec.name == UNIQUE_CONTACT_PROPERTY:
        return spec.name
    if spec is None or not spec.unique:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"{name} is not a unique property of {obj.upper}; idProperty must be unique",
        )
    return spec.name


def missing_error(obj: ObjectDef, ids: Sequence[str]) -> dict[str, Any]:
    """The 207 error entry naming ids that were not found."""
    return record_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {obj.upper} objects, they may be deleted or not exist. Check that"
        " ids are valid.",
        ids,
    )


def locate(
    store: RecordStore,
    obj: ObjectDef,
    key: Any,
    id_property: str | None,
    *,
    archived: bool = False,
) -> Record | None:
    """The live (or archived) record an input names, by id or by its ``idProperty`` value."""
    if archived:
        return store.archived(obj, key) if not id_property else None
    if id_property:
        return store.by_unique(obj, id_property, str(key))
    return store.get(obj, key)


def batch_read(
    store: RecordStore,
    obj: ObjectDef,
    body: Any,
    answers: Answers = STRICT,
    *,
    archived: bool = False,
) -> Reply:
    """``POST .../batch/read``: by id, or by a unique property with ``idProperty``.

    ``archived`` (the query parameter) reads archived records only.
    """
    inputs = batch_inputs(body)
    id_property = body.get("idProperty")
    if id_property:
        id_property = unique_property(obj, id_property)
    names = requested(obj, body.get("properties"))
    if id_property:
        names = list(dict.fromkeys([id_property, *names]))
    results, missing = [], []
    for item in inputs:
        record = locate(store, obj, item.get("id"), id_property, archived=archived)
        if record is None:
            missing.append(str(item.get("id")))
        else:
            results.append(render(record, names))
    errors = [missing_error(obj, missing)] if missing else []
    return envelope(store, answers.ordered(results), errors)


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
    inputs = batch_inputs(body, MAX_ASSOCIATION_BATCH)
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
    return envelope(store, results, errors)


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
    _both_exist(store, (from_obj, from_id), (to_obj, to_id))
    type_id = store.associate(from_obj.name, from_id, to_obj.name, to_id)
    result = {
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
        "from": {"id": from_id},
        "to": {"id": to_id},
    }
    return envelope(store, [result], [])


def associate_labelled(
    store: RecordStore,
    from_obj: ObjectDef,
    from_id: str,
    to_obj: ObjectDef,
    to_id: str,
    body: Any,
) -> Reply:
    """``PUT /crm/v4/objects/{from}/{id}/associations/{to}/{id}`` with association types.

    HubSpot-defined types of the pair only (the sandbox portal has no labels
    of its own); answers 201 with the pair's labels.
    """
    pair = ASSOCIATION_TYPES.get((from_obj.name, to_obj.name))
    specs = body if isinstance(body, list) else []
    types = [s.get("associationTypeId") for s in specs if isinstance(s, Mapping)]
    if pair is None or not types or any(t not in pair for t in types):
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"association types {types} are not valid from {from_obj.upper} to {to_obj.upper}",
        )
    _both_exist(store, (from_obj, from_id), (to_obj, to_id))
    primary = pair[1] is not None and pair[1] in types
    store.associate(from_obj.name, from_id, to_obj.name, to_id, primary=primary)
    return 201, {
        "fromObjectTypeId": from_obj.type_id,
        "fromObjectId": int(from_id),
        "toObjectTypeId": to_obj.type_id,
        "toObjectId": int(to_id),
        "labels": ["Primary"] if primary else [],
    }


def dissociate(
    store: RecordStore, from_obj: ObjectDef, from_id: str, to_obj: ObjectDef, to_id: str
) -> Reply:
    """``DELETE /crm/v4/objects/{from}/{id}/associations/{to}/{id}``: every type, 204."""
    store.dissociate(from_obj.name, from_id, to_obj.name, to_id)
    return 204, None


def associated_ids(
    store: RecordStore, obj: ObjectDef, record_id: str, names: Sequence[str]
) -> dict[str, Any]:
    """The ``associations`` of a v3 record read: per object type asked for, ids and types."""
    found: dict[str, Any] = {}
    for name in names:
        to_obj = find_object(name)
        if to_obj is None or (obj.name, to_obj.name) not in ASSOCIATION_TYPES:
            continue
        results = [
            {"id": to_id, "type": _type_name(obj, to_obj, type_id)}
            for to_id, type_ids in store.associations(obj.name, record_id, to_obj.name).items()
            for type_id in sorted(type_ids)
        ]
        if results:
            found[to_obj.name] = {"results": results}
    return found


def _type_name(from_obj: ObjectDef, to_obj: ObjectDef, type_id: int) -> str:
    """``deal_to_company`` (primary, or the only type), ``..._unlabeled`` beside a primary."""
    name = f"{from_obj.singular}_to_{to_obj.singular}"
    default, primary = ASSOCIATION_TYPES[(from_obj.name, to_obj.name)]
    return f"{name}_unlabeled" if primary is not None and type_id == default else name


def _both_exist(store: RecordStore, *records: tuple[ObjectDef, str]) -> None:
    for obj, record_id in records:
        if store.get(obj, record_id) is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"No {obj.singular} with id {record_id}")
