"""The sandbox org's records: ids, audit fields, derived fields and saves.

Records are plain dicts holding JSON-ready values exactly as the REST API
returns them (datetimes as ``2026-11-20T10:15:00.000+0000``, dates as
``2026-11-20``, money as numbers). Every save sets ``LastModifiedDate`` and
``SystemModstamp``; stamps never go backwards.
"""

from __future__ import annotations

import copy
import datetime as dt
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.salesforce.sandbox_rules import (
    ID_PATTERN,
    SaveError,
    check_values,
    duplicates,
    format_datetime,
    missing_required,
    normalise_text,
)
from connectors.salesforce.sandbox_schema import OBJECTS, STAGES, ObjectDef

__all__ = ["RecordStore", "SaveOutcome", "make_id"]

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_CHECKSUM = string.ascii_uppercase + "012345"


def make_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, counter and case-safe checksum."""
    digits = ""
    while number or not digits:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    body = (prefix + "Hb00000" + digits.rjust(5, "0"))[:15]
    suffix = "".join(
        _CHECKSUM[sum(1 << i for i, c in enumerate(body[n : n + 5]) if c.isupper())]
        for n in (0, 5, 10)
    )
    return body + suffix


@dataclass
class SaveOutcome:
    """Result of saving one record."""

    id: str | None = None
    errors: list[SaveError] = field(default_factory=list)
    created: bool = False

    @property
    def ok(self) -> bool:
        """True when the record was saved."""
        return not self.errors


class RecordStore:
    """Thread-safe in-memory tables, one per sObject type."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in OBJECTS}
        self._index: dict[str, tuple[str, str]] = {}
        self._counter = 0
        self._clock = clock
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.acting_user: str | None = None
        self.lock = threading.RLock()

    def now(self) -> dt.datetime:
        """The next audit stamp (millisecond precision, never earlier than the last)."""
        now = self._clock().astimezone(dt.UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last = max(self._last, now)
        return self._last

    def lookup(self, record_id: Any) -> tuple[str, dict[str, Any]] | None:
        """``(object name, record)`` for a 15- or 18-character id, or None."""
        if not isinstance(record_id, str) or not ID_PATTERN.match(record_id):
            return None
        hit = self._index.get(record_id[:15])
        return (hit[0], self.tables[hit[0]][hit[1]]) if hit else None

    def records(self, object_name: str) -> list[dict[str, Any]]:
        """Every record of one type, in creation order."""
        return list(self.tables[object_name].values())

    def insert(self, obj: ObjectDef, values: Mapping[str, Any]) -> SaveOutcome:
        """Validate and create one record."""
        clean, errors = check_values(obj, values, creating=True, lookup=self.lookup)
        if errors:
            return SaveOutcome(errors=errors)
        record = {**self._blank(obj), **clean}
        _derive(obj, record, clean)
        errors = [e for e in (missing_required(obj, record),) if e] + duplicates(
            obj, record, self.tables[obj.name].values()
        )
        if errors:
            return SaveOutcome(errors=errors)
        self._add(obj, record)
        return SaveOutcome(id=record["Id"], created=True)

    def modify(self, obj: ObjectDef, record_id: Any, values: Mapping[str, Any]) -> SaveOutcome:
        """Validate and update one record."""
        found = self.lookup(record_id)
        if found is None or found[0] != obj.name:
            if ID_PATTERN.match(str(record_id)):
                error = SaveError("ENTITY_IS_DELETED", "entity is deleted", ("Id",))
            else:
                error = SaveError("MALFORMED_ID", f"malformed id {record_id}", ("Id",))
            return SaveOutcome(errors=[error])
        current = found[1]
        clean, errors = check_values(obj, values, creating=False, lookup=self.lookup)
        candidate = {**current, **clean}
        _derive(obj, candidate, clean)
        errors += duplicates(obj, candidate, self.tables[obj.name].values())
        if errors:
            return SaveOutcome(errors=errors)
        current.update(candidate)
        self._touch(current)
        return SaveOutcome(id=current["Id"])

    def upsert(self, obj: ObjectDef, key_field: str, values: Mapping[str, Any]) -> SaveOutcome:
        """Update the record whose external id matches, else create one."""
        spec = obj.field(key_field)
        key = next((v for k, v in values.items() if k.casefold() == key_field.casefold()), None)
        if spec is None or not isinstance(key, str) or not key:
            return SaveOutcome(
                errors=[SaveError("MISSING_ARGUMENT", f"{key_field} not specified", (key_field,))]
            )
        matches = [
            r["Id"]
            for r in self.tables[obj.name].values()
            if isinstance(r.get(spec.name), str)
            and normalise_text(spec, r[spec.name]) == normalise_text(spec, key)
        ]
        if len(matches) > 1:
            return SaveOutcome(
                errors=[
                    SaveError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{spec.name}: more than one record found for external id field: {matches}",
                        (spec.name,),
                    )
                ]
            )
        if matches:
            return self.modify(obj, matches[0], values)
        return self.insert(obj, values)

    def put(self, obj: ObjectDef, values: Mapping[str, Any], stamp: dt.datetime) -> str:
        """Store a record as given, with its audit stamps at ``stamp`` (seeding only)."""
        record = {**self._blank(obj), **values}
        _derive(obj, record, values)
        when = format_datetime(stamp)
        record |= {"CreatedDate": when, "LastModifiedDate": when, "SystemModstamp": when}
        self._add(obj, record)
        return str(record["Id"])

    def snapshot(self) -> tuple[Any, ...]:
        """A copy of everything, for allOrNone rollbacks."""
        return copy.deepcopy((self.tables, self._index, self._counter))

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        """Go back to a snapshot."""
        self.tables, self._index, self._counter = snapshot

    def _blank(self, obj: ObjectDef) -> dict[str, Any]:
        self._counter += 1
        when = format_datetime(self.now())
        record: dict[str, Any] = {f.name: f.default for f in obj.fields}
        record |= {f.name: False for f in obj.fields if f.type == "boolean"}
        record |= {
            "Id": make_id(obj.key_prefix, self._counter),
            "CreatedDate": when,
            "LastModifiedDate": when,
            "SystemModstamp": when,
            "CreatedById": self.acting_user,
            "LastModifiedById": self.acting_user,
        }
        if obj.field("OwnerId") is not None:
            record["OwnerId"] = self.acting_user
        if obj.name == "User":
            record["IsActive"] = True
        return record

    def delete(self, object_name: str, record_id: str) -> None:
        """Remove a record; its id no longer resolves."""
        record = self.tables[object_name].pop(record_id, None)
        if record is None:
            raise KeyError(f"no {object_name} {record_id!r}")
        self._index.pop(record_id[:15], None)

    def _add(self, obj: ObjectDef, record: dict[str, Any]) -> None:
        self.tables[obj.name][record["Id"]] = record
        self._index[record["Id"][:15]] = (obj.name, record["Id"])

    def _touch(self, record: dict[str, Any]) -> None:
        when = format_datetime(self.now())
        record |= {
            "LastModifiedDate": when,
            "SystemModstamp": when,
            "LastModifiedById": self.acting_user,
        }


def _derive(obj: ObjectDef, record: dict[str, Any], written: Mapping[str, Any]) -> None:
    name = obj.field("Name")
    if name is not None and not name.createable:
        parts = (record.get("FirstName"), record.get("LastName"))
        record["Name"] = " ".join(p for p in parts if p) or None
    if obj.name == "Opportunity" and record.get("StageName") in STAGES:
        probability, category, closed, won = STAGES[record["StageName"]]
        record |= {"IsClosed": closed, "IsWon": won}
        if "StageName" in written:
            if "Probability" not in written:
                record["Probability"] = float(probability)
            if "ForecastCategoryName" not in written:
                record["ForecastCategoryName"] = category
    if obj.name == "Task":
        record["IsClosed"] = record.get("Status") == "Completed"
