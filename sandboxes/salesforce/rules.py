"""Field-level validation of sandbox writes, with Salesforce's error codes.

Each check returns :class:`SaveError` values shaped like the errors of a real
org: ``REQUIRED_FIELD_MISSING``, ``INVALID_FIELD``, ``STRING_TOO_LONG``,
``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``, ``DUPLICATE_VALUE`` and friends.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from handoff_hub.sandboxes.salesforce.schema import FieldDef, ObjectDef, kind_of
from handoff_hub.sandboxes.salesforce.soql import parse_datetime

__all__ = [
    "ID_PATTERN",
    "SaveError",
    "check_values",
    "duplicates",
    "format_datetime",
    "missing_required",
    "normalise_text",
]

ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
Lookup = Callable[[str], tuple[str, Mapping[str, Any]] | None]


@dataclass(frozen=True)
class SaveError:
    """One error on one record."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def as_collection(self) -> dict[str, Any]:
        """The shape inside an sObject Collections result (``statusCode``)."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}

    def as_rest(self) -> dict[str, Any]:
        """The shape of a plain REST error body entry (``errorCode``)."""
        return {"errorCode": self.code, "message": self.message, "fields": list(self.fields)}


def format_datetime(value: dt.datetime) -> str:
    """Salesforce's JSON datetime: ``2026-11-20T10:15:00.000+0000``."""
    value = value.astimezone(dt.UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"


def normalise_text(field: FieldDef, value: str) -> str:
    """Comparison form of a text value: ids by their 15-character key, text case-folded."""
    if field.type in {"id", "reference"}:
        return value[:15]
    return value.casefold()


def check_values(
    obj: ObjectDef, values: Mapping[str, Any], *, creating: bool, lookup: Lookup
) -> tuple[dict[str, Any], list[SaveError]]:
    """Validate and normalise the written fields; unknown or read-only ones are errors."""
    clean: dict[str, Any] = {}
    errors: list[SaveError] = []
    for key, value in values.items():
        if key == "attributes" or (key == "Id" and not creating):
            continue
        field = obj.field(key)
        problem = _field_problem(obj, key, field, creating)
        if problem is None and field is not None:
            problem = _value_problem(field, value, lookup)
        if problem is not None:
            errors.append(problem)
        elif field is not None:
            clean[field.name] = _normalise(field, value)
    return clean, errors


def _field_problem(
    obj: ObjectDef, key: str, field: FieldDef | None, creating: bool
) -> SaveError | None:
    if field is None:
        return SaveError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
    if creating and field.name == "Id":
        return SaveError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",))
    if not (field.createable if creating else field.updateable):
        return SaveError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {field.name}. Please check the security settings"
            " of this field and verify that it is read/write for your profile or permission set.",
            (field.name,),
        )
    return None


def _value_problem(field: FieldDef, value: Any, lookup: Lookup) -> SaveError | None:
    if value is None:
        if field.nillable:
            return None
        return SaveError(
            "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{field.name}]", (field.name,)
        )
    kind = kind_of(field)
    checks: dict[str, Callable[[FieldDef, Any, Lookup], SaveError | None]] = {
        "string": _text_problem,
        "number": _number_problem,
        "boolean": _bool_problem,
        "date": _date_problem,
        "datetime": _datetime_problem,
    }
    return checks[kind](field, value, lookup)


def _wrong_type(field: FieldDef, value: Any) -> SaveError:
    return SaveError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.label}: value not of required type: {value}",
        (field.name,),
    )


def _text_problem(field: FieldDef, value: Any, lookup: Lookup) -> SaveError | None:
    if not isinstance(value, str):
        return _wrong_type(field, value)
    if field.type == "reference":
        return _reference_problem(field, value, lookup)
    if field.length and len(value) > field.length:
        return SaveError(
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {value[:80]} (max length={field.length})",
            (field.name,),
        )
    chosen = value.split(";") if field.type == "multipicklist" else [value]
    if field.restricted and any(v not in field.values for v in chosen if v or len(chosen) > 1):
        return SaveError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {value}",
            (field.name,),
        )
    if field.type == "email" and value and not _EMAIL.match(value):
        return SaveError(
            "INVALID_EMAIL_ADDRESS",
            f"{field.label}: invalid email address: {value}",
            (field.name,),
        )
    return None


def _reference_problem(field: FieldDef, value: str, lookup: Lookup) -> SaveError | None:
    if not ID_PATTERN.match(value):
        return SaveError(
            "MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", (field.name,)
        )
    found = lookup(value)
    if found is None or found[0] not in field.reference_to:
        return SaveError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"{field.label}: id value of incorrect type: {value}",
            (field.name,),
        )
    return None


def _number_problem(field: FieldDef, value: Any, _lookup: Lookup) -> SaveError | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _wrong_type(field, value)
    if field.type == "int" and value != int(value):
        return _wrong_type(field, value)
    return None


def _bool_problem(field: FieldDef, value: Any, _lookup: Lookup) -> SaveError | None:
    return None if isinstance(value, bool) else _wrong_type(field, value)


def _date_problem(field: FieldDef, value: Any, _lookup: Lookup) -> SaveError | None:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return _wrong_type(field, value)
    return None if isinstance(value, str) else _wrong_type(field, value)


def _datetime_problem(field: FieldDef, value: Any, _lookup: Lookup) -> SaveError | None:
    try:
        parse_datetime(str(value))
    except ValueError:
        return _wrong_type(field, value)
    return None if isinstance(value, str) else _wrong_type(field, value)


def _normalise(field: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if field.type in {"currency", "double", "percent"}:
        return float(round(Decimal(str(value)), field.scale or 2))
    if field.type == "int":
        return int(value)
    if field.type == "datetime":
        return format_datetime(parse_datetime(value))
    return value


def missing_required(obj: ObjectDef, record: Mapping[str, Any]) -> SaveError | None:
    """REQUIRED_FIELD_MISSING for every required field without a value."""
    missing = [f.name for f in obj.fields if f.required and record.get(f.name) is None]
    if not missing:
        return None
    return SaveError(
        "REQUIRED_FIELD_MISSING",
        f"Required fields are missing: [{', '.join(missing)}]",
        tuple(missing),
    )


def duplicates(
    obj: ObjectDef, record: Mapping[str, Any], others: Collection[Mapping[str, Any]]
) -> list[SaveError]:
    """DUPLICATE_VALUE for each unique field whose value another record already holds.

    The other records are scanned only for a unique field the record holds a
    value in (each save used to copy the whole table first: quadratic in a
    write-back of 100k deals).
    """
    errors = []
    for field in (f for f in obj.fields if f.unique):
        value = record.get(field.name)
        if not isinstance(value, str):
            continue
        clash = next(
            (
                o
                for o in others
                if o["Id"] != record.get("Id")
                and isinstance(o.get(field.name), str)
                and normalise_text(field, o[field.name]) == normalise_text(field, value)
            ),
            None,
        )
        if clash is not None:
            errors.append(
                SaveError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field.name} duplicates value on record with id:"
                    f" {clash['Id']}",
                )
            )
    return errors
