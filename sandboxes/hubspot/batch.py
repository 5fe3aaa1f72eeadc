"""The sandbox's batch create, update and upsert, as the portal's :class:`Answers` say.

By default one invalid input refuses the whole batch (400, nothing written),
as HubSpot does without multi-status error handling; with ``partial`` the
valid inputs are written and each refused one is an entry of ``errors`` in a
207 answer, naming the input by ``context.objectWriteTraceId`` (and its id,
for updates and upserts). Results echo each input's trace id unless the
portal does not (``traces``), in the order the portal answers in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.hubspot.api import (
    STRICT,
    Answers,
    batch_inputs,
    envelope,
    locate,
    missing_error,
    render,
    requested,
    unique_property,
)
from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.schema import ObjectDef, find_object
from handoff_hub.sandboxes.hubspot.store import ASSOCIATION_TYPES, Record, RecordStore

__all__ = ["LEAD_WITHOUT_CONTACT", "batch_create", "batch_update", "batch_upsert"]

Reply = tuple[int, Any]
LEAD_WITHOUT_CONTACT = "A lead must be associated with an existing contact."


@dataclass
class _Planned:
    """One checked input: the record it writes (None: a new one) and its clean values."""

    item: Mapping[str, Any]
    record: Record | None
    clean: dict[str, str | None]
    links: list[tuple[str, str, bool]] = field(default_factory=list)
    key: str | None = None


Check = Callable[[Mapping[str, Any]], _Planned]
Apply = Callable[[_Planned], dict[str, Any]]


def batch_create(store: RecordStore, obj: ObjectDef, body: Any, answers: Answers = STRICT) -> Reply:
    """``POST .../batch/create``: results in the portal's order, 201 (207 with refusals)."""

    def check(item: Mapping[str, Any]) -> _Planned:
        clean = store.validate(obj, item.get("properties") or {}, None)
        links = _associations(store, obj, item.get("associations"))
        if (
            answers.leads_require_contact
            and obj.name == "leads"
            and not any(to == "contacts" for to, _, _ in links)
        ):
            raise ApiError(400, "VALIDATION_ERROR", LEAD_WITHOUT_CONTACT)
        return _Planned(item, None, clean, links)

    def apply(planned: _Planned) -> dict[str, Any]:
        record = store.insert(obj, planned.clean)
        for to_type, to_id, primary in planned.links:
            store.associate(obj.name, record.id, to_type, to_id, primary=primary)
        return _shown(obj, record, planned, answers)

    results, errors = _write(store, obj, batch_inputs(body), answers, check, apply)
    status, reply = envelope(store, answers.ordered(results, reverse=True), errors)
    return (201 if status == 200 else status), reply


def batch_update(store: RecordStore, obj: ObjectDef, body: Any, answers: Answers = STRICT) -> Reply:
    """``POST .../batch/update``: missing ids reported (207), bad values as ``answers`` say."""
    inputs = batch_inputs(body)
    _unique_ids([str(i.get("id")) for i in inputs])
    found, missing = [], []
    for item in inputs:
        id_property = item.get("idProperty")
        id_property = unique_property(obj, id_property) if id_property else None
        record = locate(store, obj, item.get("id"), id_property)
        if record is None:
            missing.append(str(item.get("id")))
        else:
            found.append((item, record))
    records = {id(item): record for item, record in found}

    def check(item: Mapping[str, Any]) -> _Planned:
        record = records[id(item)]
        clean = store.validate(obj, item.get("properties") or {}, record)
        return _Planned(item, record, clean, key=str(item.get("id")))

    def apply(planned: _Planned) -> dict[str, Any]:
        assert planned.record is not None
        store.modify(obj, planned.record, planned.clean)
        return _shown(obj, planned.record, planned, answers)

    results, errors = _write(store, obj, [i for i, _ in found], answers, check, apply)
    if missing:
        errors.insert(0, missing_error(obj, missing))
    return envelope(store, answers.ordered(results), errors)


def batch_upsert(store: RecordStore, obj: ObjectDef, body: Any, answers: Answers = STRICT) -> Reply:
    """``POST .../batch/upsert`` by a unique ``idProperty``; results say ``new``."""
    inputs = batch_inputs(body)
    _unique_ids([str(i.get("id")) for i in inputs])

    def check(item: Mapping[str, Any]) -> _Planned:
        key = str(item.get("id"))
        name = unique_property(obj, item.get("idProperty"))
        record = store.by_unique(obj, name, key)
        values = {**(item.get("properties") or {}), name: key}
        return _Planned(item, record, store.validate(obj, values, record), key=key)

    def apply(planned: _Planned) -> dict[str, Any]:
        new = planned.record is None
        if planned.record is None:
            planned.record = store.insert(obj, planned.clean)
        else:
            store.modify(obj, planned.record, planned.clean)
        return {**_shown(obj, planned.record, planned, answers), "new": new}

    results, errors = _write(store, obj, inputs, answers, check, apply)
    return envelope(store, answers.ordered(results), errors)


def _write(
    store: RecordStore,
    obj: ObjectDef,
    inputs: Sequence[Mapping[str, Any]],
    answers: Answers,
    check: Check,
    apply: Apply,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Results and 207 errors: all or nothing, or input by input when ``answers.partial``.

    Raises:
        ApiError: an input refused, when the portal refuses whole batches.
    """
    if not answers.partial:
        planned = [check(item) for item in inputs]
        store.check_unique(obj, [(p.record, p.clean) for p in planned])
        return [apply(p) for p in planned], []
    results, errors = [], []
    for item in inputs:
        try:
            one = check(item)
            store.check_unique(obj, [(one.record, one.clean)])
        except ApiError as exc:
            errors.append(_input_error(exc, item))
            continue
        results.append(apply(one))
    return results, errors


def _input_error(exc: ApiError, item: Mapping[str, Any]) -> dict[str, Any]:
    """A refused input as an entry of a 207's ``errors``."""
    context: dict[str, list[str]] = {
        k: [str(v) for v in vs] for k, vs in (exc.context or {}).items()
    }
    if item.get("objectWriteTraceId") is not None:
        context["objectWriteTraceId"] = [str(item["objectWriteTraceId"])]
    if item.get("id") is not None:
        context["ids"] = [str(item["id"])]
    entry: dict[str, Any] = {
        "status": "error",
        "category": exc.category,
        "message": exc.message,
        "context": context,
    }
    if exc.errors:
        entry["errors"] = exc.errors
    return entry


def _shown(obj: ObjectDef, record: Record, planned: _Planned, answers: Answers) -> dict[str, Any]:
    names = requested(obj, [*obj.defaults, *planned.clean])
    return render(record, names, trace=answers.trace(planned.item))


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


def _unique_ids(keys: Sequence[str]) -> None:
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Duplicate IDs found in batch input: {repeated}. IDs must be unique",
        )
