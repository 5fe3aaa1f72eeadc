"""Apply a mapping: product records <-> unified entities, as pure functions.

:func:`to_unified` reads one raw product record (as the connector returned it)
into a validated unified entity; :func:`to_unified_many` does a batch and keeps
going past bad records; :func:`from_unified` turns an entity (or a plain dict
of unified fields) into the nested product payload. A value that does not fit
is never dropped silently: it raises :class:`RecordMappingError`, naming the
record, the unified field, the product path and the value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from handoff_hub.hub.errors import MappingError
from handoff_hub.hub.mapping.field_reader import MAX_TEXT_LENGTH, MISSING, check_text, run_transform
from handoff_hub.hub.mapping.paths import compile_path
from handoff_hub.hub.mapping.transforms import render_template
from handoff_hub.hub.mapping.values import (
    ValueProblem,
    map_key,
    money_parts,
    parse_datetime,
    product_value,
)
from handoff_hub.hub.model import ENTITY_TYPES, Entity

if TYPE_CHECKING:
    from handoff_hub.hub.connector import RecordEnvelope
    from handoff_hub.hub.mapping.spec import EntityMap, FieldRule, MappingSpec

__all__ = [
    "MAX_TEXT_LENGTH",
    "FieldProblem",
    "RecordMappingError",
    "from_unified",
    "map_records",
    "to_unified",
    "to_unified_many",
]


@dataclass(frozen=True)
class FieldProblem:
    """One unified field that could not be mapped."""

    field: str
    source: str
    reason: str
    value: Any = None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (value {_short(self.value)})"
        return f"{self.field} <-> {self.source}: {self.reason}{shown}"


class RecordMappingError(MappingError):
    """A record does not fit its mapping; ``problems`` lists every bad field."""

    def __init__(self, entity: str, record_id: str, problems: list[FieldProblem]) -> None:
        self.entity = entity
        self.record_id = record_id
        self.problems = problems
        super().__init__(f"{entity} {record_id}: " + "; ".join(str(p) for p in problems))


def to_unified(
    spec: MappingSpec, entity_name: str, raw: Mapping[str, Any], *, system: str | None = None
) -> Entity:
    """Read one product record into a unified entity.

    Args:
        spec: The product's mapping.
        entity_name: Unified entity, e.g. ``"Opportunity"``.
        raw: The record as the product's API returned it.
        system: Key for ``refs`` (default: the spec's bound system name).

    Returns:
        The validated entity, with ``refs[system]`` set to the record id.

    Raises:
        RecordMappingError: A field does not fit (every bad field is listed).
        MappingError: The mapping has no such entity.
    """
    return _read_entity(spec.entity(entity_name), entity_name, raw, system or spec.ref_key)


def to_unified_many(
    spec: MappingSpec,
    entity_name: str,
    raws: Iterable[Mapping[str, Any]],
    *,
    system: str | None = None,
) -> tuple[list[Entity], list[tuple[Mapping[str, Any], MappingError]]]:
    """Read a batch; a bad record is returned with its error, never stops the rest.

    Returns:
        The entities, and ``(raw, error)`` for every record that failed.
    """
    emap = spec.entity(entity_name)
    ref_key = system or spec.ref_key
    entities: list[Entity] = []
    failures: list[tuple[Mapping[str, Any], MappingError]] = []
    for raw in raws:
        try:
            entities.append(_read_entity(emap, entity_name, raw, ref_key))
        except MappingError as exc:
            failures.append((raw, exc))
    return entities, failures


def map_records(
    spec: MappingSpec,
    entity_name: str,
    records: Iterable[RecordEnvelope],
    *,
    system: str | None = None,
) -> tuple[list[Entity], list[tuple[RecordEnvelope, MappingError]]]:
    """Read a batch of envelopes; a failure keeps its envelope, and so the record's own id."""
    emap = spec.entity(entity_name)
    ref_key = system or spec.ref_key
    entities: list[Entity] = []
    failures: list[tuple[RecordEnvelope, MappingError]] = []
    for record in records:
        try:
            entities.append(_read_entity(emap, entity_name, record.raw, ref_key))
        except MappingError as exc:
            failures.append((record, exc))
    return entities, failures


def from_unified(
    spec: MappingSpec,
    entity_name: str,
    entity: Entity | Mapping[str, Any],
    *,
    only: Collection[str] | None = None,
    system: str | None = None,
    people: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Write a unified entity into a nested, JSON-safe product payload.

    Args:
        spec: The product's mapping.
        entity_name: Unified entity, e.g. ``"Project"``.
        entity: The entity, or a dict of unified fields (``{"project_ref": "DEL-7"}``).
        only: Restrict to these unified fields; they are written even when empty (null).
            Without it the entity's ``constants`` are written too.
        system: Key for ``refs`` (default: the spec's bound system name).
        people: E-mail address (lower case) -> the product's user id, for ``user``
            fields: one whose address is not here is left out of the payload
            (never written as an address, never guessed).

    Returns:
        The nested product payload, e.g. ``{"fields": {"summary": "...",
        "customfield_10050": 1200.5}}``; with ``write_root: fields`` in the entity
        map, what is under it (``{"summary": ..., ...}``, the form connectors take).

    Raises:
        RecordMappingError: A value cannot be written (every bad field is listed).
        MappingError: ``only`` names a field the mapping does not write.
    """
    emap = spec.entity(entity_name)
    ref_key = system or spec.ref_key
    data = entity.model_dump() if isinstance(entity, BaseModel) else dict(entity)
    rules = _write_rules(emap, entity_name, only)
    payload: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, rule in rules.items():
        try:
            _write_field(
                payload, name, rule, data, ref_key, explicit=only is not None, people=people
            )
        except ValueProblem as exc:
            problems.append(FieldProblem(name, str(rule.target), exc.reason, exc.value))
    if only is None:
        for path, value in emap.constants.items():
            _put(payload, path, value)
    if problems:
        label = str(data.get("refs", {}).get(ref_key) or data.get("key") or "(new)")
        raise RecordMappingError(entity_name, label, problems)
    return _below(payload, emap.write_root)


# Reading ---------------------------------------------------------------------------


def _read_entity(emap: EntityMap, entity_name: str, raw: Mapping[str, Any], ref_key: str) -> Entity:
    record_id = _record_id(emap, raw, entity_name)
    data: dict[str, Any] = {"refs": {ref_key: record_id}}
    problems = _read_fields(emap, raw, data, ref_key)
    if problems:
        raise RecordMappingError(entity_name, record_id, problems)
    try:
        return ENTITY_TYPES[entity_name].model_validate(data)
    except ValidationError as exc:
        raise RecordMappingError(entity_name, record_id, _model_problems(exc, emap)) from None


def _record_id(emap: EntityMap, raw: Mapping[str, Any], entity_name: str) -> str:
    value = _search(emap.id_path, raw)
    if value is None or value == "" or isinstance(value, (Mapping, list)):
        problem = FieldProblem("refs", emap.id_path, "the record has no usable id", value)
        raise RecordMappingError(entity_name, "(no id)", [problem])
    record_id = str(value)
    try:
        check_text(record_id)
    except ValueProblem as exc:
        problem = FieldProblem("refs", emap.id_path, f"the record's id: {exc.reason}", value)
        raise RecordMappingError(entity_name, "(no id)", [problem]) from None
    return record_id


def _read_fields(
    emap: EntityMap, raw: Mapping[str, Any], data: dict[str, Any], ref_key: str
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if emap.modified_path:
        stamp = _search(emap.modified_path, raw)
        try:
            data["modified_at"] = None if stamp is None else parse_datetime(stamp)
        except ValueProblem as exc:
            problems.append(FieldProblem("modified_at", emap.modified_path, exc.reason, stamp))
    for name, rule, read, where in emap.read_rules:
        try:
            value = read(raw)
            if value is MISSING:
                continue
            if where is None:
                _put(data, _ref_path(name, ref_key), str(value))
            elif len(where) == 1:
                data[where[0]] = value
            else:
                _put_at(data, where, value, name)
        except ValueProblem as exc:
            problems.append(FieldProblem(name, _source(rule), exc.reason, exc.value))
    return problems


@lru_cache(maxsize=1024)
def _ref_path(name: str, ref_key: str) -> str:
    return f"{name[:-3]}refs.{ref_key}".lstrip(".")


def _model_problems(exc: ValidationError, emap: EntityMap) -> list[FieldProblem]:
    problems = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "(entity)"
        top = loc.split(".")[0]
        rule = next((r for n, r in emap.fields.items() if n.split(".")[0] == top), None)
        source = _source(rule) if rule else "(unmapped)"
        value = error.get("input") if error["type"] != "missing" else None
        problems.append(FieldProblem(loc, source, error["msg"], value))
    return problems


# Writing ---------------------------------------------------------------------------


def _write_rules(
    emap: EntityMap, entity_name: str, only: Collection[str] | None
) -> dict[str, FieldRule]:
    rules = emap.write_rules()
    if only is None:
        return rules
    unknown = sorted(set(only) - set(rules))
    if unknown:
        raise MappingError(
            f"{entity_name}: no write rule for {', '.join(unknown)}; "
            f"writable fields: {', '.join(sorted(rules)) or 'none'}"
        )
    return {name: rule for name, rule in rules.items() if name in only}


def _write_field(
    payload: dict[str, Any],
    name: str,
    rule: FieldRule,
    data: Mapping[str, Any],
    ref_key: str,
    *,
    explicit: bool,
    people: Mapping[str, str] | None = None,
) -> None:
    target = rule.target
    assert target is not None
    if rule.template is not None:
        try:
            value: Any = render_template(rule.template, data)
        except MappingError as exc:
            raise ValueProblem(str(exc)) from None
    else:
        value = _get_unified(data, name, ref_key)
    if value is None:
        value = rule.default
    if value is None:
        if explicit:
            _put(payload, target, None)
        return
    if rule.type == "user":
        value = (people or {}).get(str(value).strip().lower())
        if value is None:
            return
    elif rule.type == "money":
        _put_currency(payload, rule, money_parts(value)[1])
    if rule.type == "enum" and rule.values is not None and map_key(value) not in rule.values:
        raise ValueProblem(f"not one of the enum's values ({', '.join(rule.values)})", value)
    if rule.map is not None:
        many = rule.type == "list" and isinstance(value, (list, tuple))
        value = [_map_write(rule, v) for v in value] if many else _map_write(rule, value)
    if rule.type != "user":
        value = product_value(rule.type, value)
    if rule.separator and isinstance(value, list):
        value = rule.separator.join(str(v) for v in value)
    if rule.transform:
        value = run_transform(rule.transform, value, "write")
    _put(payload, target, value)


def _put_currency(payload: dict[str, Any], rule: FieldRule, currency: str | None) -> None:
    """Write the amount's currency where the rule keeps it.

    A field of one fixed currency refuses an amount in another (or of unknown currency).
    """
    if rule.currency_path:
        _put(payload, rule.currency_path, currency)
    elif rule.currency and (currency or "").upper() != rule.currency.upper():
        held = currency or "of unknown currency"
        raise ValueProblem(
            f"the amount is {held}, but this field holds {rule.currency.upper()} amounts only"
            " (map its currency with currency_path to write other currencies)"
        )


def _below(payload: dict[str, Any], root: str | None) -> dict[str, Any]:
    """What sits under ``root``, plus the connector directives (``_`` keys) beside it."""
    directives = {k: v for k, v in payload.items() if k.startswith("_")} if root else {}
    for part in root.split(".") if root else ():
        payload = payload.get(part) or {}
    return {**payload, **directives}


def _get_unified(data: Mapping[str, Any], name: str, ref_key: str) -> Any:
    current: Any = data
    for part in name.split("."):
        if isinstance(current, BaseModel):
            current = current.model_dump()
        if not isinstance(current, Mapping):
            return None
        current = (current.get("refs") or {}).get(ref_key) if part == "ref" else current.get(part)
    return current


def _map_write(rule: FieldRule, value: Any) -> Any:
    assert rule.map is not None
    key = map_key(value)
    for product, unified in rule.map.items():
        if unified is not None and map_key(unified) == key:
            return product
    mapped = ", ".join(sorted({map_key(v) for v in rule.map.values() if v is not None}))
    raise ValueProblem(f"no product value maps to it (the map covers: {mapped})", value)


def _put(payload: dict[str, Any], path: str, value: Any) -> None:
    _put_at(payload, _parts(path), value, path)


def _put_at(payload: dict[str, Any], parts: tuple[str, ...], value: Any, path: str) -> None:
    *parents, last = parts
    target = payload
    for part in parents:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise ValueProblem(f"{path!r} collides with a plain value at {part!r}", child)
        target = child
    target[last] = value


# Helpers ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _search(path: str | None, raw: Mapping[str, Any]) -> Any:
    if not path:
        return None
    return compile_path(path)(raw)


def _source(rule: FieldRule) -> str:
    if rule.template is not None:
        return f"template {_short(rule.template)}"
    return rule.path or "(default)"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
