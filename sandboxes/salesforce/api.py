"""Request handling of the sandbox's record endpoints, free of HTTP details.

sObject Collections create / update / upsert / retrieve and single-record
reads, producing exactly the bodies Salesforce returns. Request-level
problems raise :class:`BadRequest` carrying Salesforce's error list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from handoff_hub.sandboxes.salesforce.org import OrgSchema
from handoff_hub.sandboxes.salesforce.query import attributes
from handoff_hub.sandboxes.salesforce.rules import SaveError
from handoff_hub.sandboxes.salesforce.schema import ObjectDef
from handoff_hub.sandboxes.salesforce.store import RecordStore, SaveOutcome

__all__ = [
    "BadRequest",
    "object_or_404",
    "project",
    "retrieve",
    "save_collection",
    "upsert_collection",
    "versions",
]

MAX_COLLECTION = 200
MAX_RETRIEVE = 2000
_ROLLED_BACK = SaveError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone"
    " header",
)


class BadRequest(Exception):
    """The whole request is refused with ``status`` and a Salesforce error list."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.body = [{"message": message, "errorCode": code}]
        super().__init__(f"{code}: {message}")


def versions(latest: int) -> list[dict[str, str]]:
    """``GET /services/data``: every API version with its release label."""
    seasons = ("Winter", "Spring", "Summer")
    out = []
    for number in range(20, latest + 1):
        step = number - 59
        out.append(
            {
                "label": f"{seasons[step % 3]} '{24 + step // 3:02d}",
                "url": f"/services/data/v{number}.0",
                "version": f"{number}.0",
            }
        )
    return out


def object_or_404(schema: OrgSchema, name: str) -> ObjectDef:
    """The sObject of a URL, or the NOT_FOUND Salesforce answers for an unknown one."""
    obj = schema.find(name)
    if obj is None:
        raise BadRequest(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def _records(body: Any) -> list[Any]:
    records = body.get("records") if isinstance(body, Mapping) else None
    if not isinstance(records, list):
        raise BadRequest(400, "JSON_PARSER_ERROR", "records: a list of sObjects is required")
    if len(records) > MAX_COLLECTION:
        raise BadRequest(
            400,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    return records


def _result(outcome: SaveOutcome, *, upsert: bool) -> dict[str, Any]:
    if not outcome.ok:
        return {"success": False, "errors": [e.as_collection() for e in outcome.errors]}
    body: dict[str, Any] = {"id": outcome.id, "success": True, "errors": []}
    return {**body, "created": outcome.created} if upsert else body


def _typed(
    schema: OrgSchema, record: Any, expected: ObjectDef | None = None
) -> ObjectDef | SaveError:
    kind = record.get("attributes", {}).get("type") if isinstance(record, Mapping) else None
    obj = schema.find(str(kind)) if kind else None
    if obj is None or (expected is not None and obj is not expected):
        return SaveError("INVALID_TYPE", f"sObject type '{kind}' is not supported.")
    return obj


def _all_or_none(
    store: RecordStore, body: Any, outcomes: Callable[[], list[SaveOutcome]]
) -> list[SaveOutcome]:
    atomic = isinstance(body, Mapping) and body.get("allOrNone") is True
    snapshot = store.snapshot() if atomic else None
    results = outcomes()
    if snapshot is None or all(o.ok for o in results):
        return results
    store.restore(snapshot)
    return [o if not o.ok else SaveOutcome(errors=[_ROLLED_BACK]) for o in results]


def save_collection(store: RecordStore, body: Any, *, creating: bool) -> list[dict[str, Any]]:
    """``POST`` (create) or ``PATCH`` (update) ``/composite/sobjects``."""
    records = _records(body)

    def save_all() -> list[SaveOutcome]:
        outcomes = []
        for record in records:
            obj = _typed(store.schema, record)
            if isinstance(obj, SaveError):
                outcomes.append(SaveOutcome(errors=[obj]))
            elif creating:
                outcomes.append(store.insert(obj, record))
            else:
                outcomes.append(store.modify(obj, record.get("Id"), record))
        return outcomes

    return [_result(o, upsert=False) for o in _all_or_none(store, body, save_all)]


def upsert_collection(
    store: RecordStore, obj: ObjectDef, field_name: str, body: Any
) -> list[dict[str, Any]]:
    """``PATCH /composite/sobjects/{type}/{externalIdField}``."""
    field = obj.field(field_name)
    if field is None or not (field.external_id or field.name == "Id"):
        raise BadRequest(
            400,
            "INVALID_FIELD",
            f"Field name provided, {field_name} is not an External ID or indexed field for"
            f" {obj.name}",
        )
    records = _records(body)
    keys = [r.get(field.name) if isinstance(r, Mapping) else None for r in records]
    repeated = {k for k in keys if isinstance(k, str) and keys.count(k) > 1}

    def save_all() -> list[SaveOutcome]:
        outcomes = []
        for record, key in zip(records, keys, strict=True):
            typed = _typed(store.schema, record, obj)
            if isinstance(typed, SaveError):
                outcomes.append(SaveOutcome(errors=[typed]))
            elif key in repeated:
                outcomes.append(
                    SaveOutcome(
                        errors=[
                            SaveError(
                                "DUPLICATE_EXTERNAL_ID",
                                f"Duplicate external id specified: {key}",
                                (field.name,),
                            )
                        ]
                    )
                )
            else:
                outcomes.append(store.upsert(obj, field.name, record))
        return outcomes

    return [_result(o, upsert=True) for o in _all_or_none(store, body, save_all)]


def _checked_fields(obj: ObjectDef, names: Sequence[str]) -> list[str]:
    canonical = []
    for name in names:
        field = obj.field(name.strip())
        if field is None:
            raise BadRequest(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}"
            )
        canonical.append(field.name)
    return canonical


def project(
    obj: ObjectDef, record: Mapping[str, Any], fields: Sequence[str] | None, version: str
) -> dict[str, Any]:
    """A record as the REST API returns it: ``attributes`` then the fields."""
    names = _checked_fields(obj, fields) if fields else [f.name for f in obj.fields]
    return {
        "attributes": attributes(obj.name, record["Id"], version),
        **{n: record.get(n) for n in names},
    }


def retrieve(
    store: RecordStore, obj: ObjectDef, ids: Any, fields: Any, version: str
) -> list[dict[str, Any] | None]:
    """Answer an sObject Collections retrieve: one record or null per id, in order."""
    if not isinstance(ids, list) or not ids:
        raise BadRequest(400, "MISSING_ARGUMENT", "ids: at least one record id is required")
    if not isinstance(fields, list) or not fields:
        raise BadRequest(400, "MISSING_ARGUMENT", "fields: at least one field is required")
    if len(ids) > MAX_RETRIEVE:
        raise BadRequest(400, "EXCEEDED_ID_LIMIT", "ids: no more than 2000 ids per request")
    names = _checked_fields(obj, [str(f) for f in fields])
    found = []
    for record_id in ids:
        hit = store.readable(record_id)
        ok = hit is not None and hit[0] == obj.name
        found.append(project(obj, hit[1], names, version) if hit and ok else None)
    return found
