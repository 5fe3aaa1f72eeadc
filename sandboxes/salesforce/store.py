"""The sandbox org's records: ids, audit fields, derived fields and saves.

Records are plain dicts holding JSON-ready values exactly as the REST API
returns them (datetimes as ``2026-11-20T10:15:00.000+0000``, dates as
``2026-11-20``, money as numbers). Every save sets ``LastModifiedDate`` and
``SystemModstamp``; stamps never go backwards.

Two things real orgs do that the store plays: a save inside a long
transaction (:meth:`RecordStore.insert` / :meth:`RecordStore.modify` with
``late=True``) is stamped when it is made but seen by nobody until
:meth:`RecordStore.commit`, so it turns up with a stamp older than records
read meanwhile; and sharing can hide a record from the integration user
(:attr:`RecordStore.hidden`): the API's reads (:meth:`RecordStore.readable`)
leave it out, and relationships to it read as null.
"""

from __future__ import annotations

import copy
import datetime as dt
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.salesforce.org import OrgSchema, org_schema
from handoff_hub.sandboxes.salesforce.rules import (
    ID_PATTERN,
    SaveError,
    check_values,
    duplicates,
    format_datetime,
    missing_required,
    normalise_text,
)
from handoff_hub.sandboxes.salesforce.schema import STAGES, ObjectDef

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
    """Thread-safe in-memory tables, one per sObject type of the org's schema."""

    def __init__(
        self, clock: Callable[[], dt.datetime], *, schema: OrgSchema | None = None
    ) -> None:
        self.schema = schema or org_schema()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in self.schema.objects}
        self.held: dict[str, tuple[str, dict[str, Any]]] = {}
        """Saves of long transactions not committed yet: id -> (object, record as saved)."""
        self.hidden: set[str] = set()
        """15-character ids of records sharing hides from the integration user."""
        self.bin: dict[str, tuple[str, dict[str, Any], str]] = {}
        """The recycle bin: 15-character id -> (object, record as deleted, deletedDate)."""
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

    def readable(self, record_id: Any) -> tuple[str, dict[str, Any]] | None:
        """:meth:`lookup` as the integration user sees it: a hidden record is not there."""
        found = self.lookup(record_id)
        return None if found is None or found[1]["Id"][:15] in self.hidden else found

    def records(self, object_name: str) -> list[dict[str, Any]]:
        """Every committed record of one type, in creation order."""
        return list(self.tables[object_name].values())

    def visible(self, object_name: str) -> list[dict[str, Any]]:
        """The committed records of one type the integration user can see."""
        return [r for r in self.tables[object_name].values() if r["Id"][:15] not in self.hidden]

    def insert(
        self, obj: ObjectDef, values: Mapping[str, Any], *, late: bool = False
    ) -> SaveOutcome:
        """Validate and create one record; ``late``: in a transaction not committed yet."""
        if not obj.createable:
            return SaveOutcome(errors=[_not_for(obj, "inserted")])
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
        if late:
            self.held[record["Id"]] = (obj.name, record)
        else:
            self._add(obj, record)
        return SaveOutcome(id=record["Id"], created=True)

    def modify(
        self, obj: ObjectDef, record_id: Any, values: Mapping[str, Any], *, late: bool = False
    ) -> SaveOutcome:
        """Validate and update one record; ``late``: in a transaction not committed yet."""
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
        if late:
            self._touch(candidate)
            self.held[current["Id"]] = (obj.name, candidate)
            return SaveOutcome(id=current["Id"])
        current.update(candidate)
        self._touch(current)
        return SaveOutcome(id=current["Id"])

    def commit(self, record_id: str | None = None) -> list[str]:
        """Commit held saves (one, or all in the order made); their stamps stay as they were."""
        ids = [record_id] if record_id is not None else list(self.held)
        for held in ids:
            name, record = self.held.pop(held)
            if held in self.tables[name]:
                self.tables[name][held].update(record)
            else:
                self._add(self.schema.object(name), record)
        return ids

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
        """Store a record as given, with its audit stamps at ``stamp`` (seeding only).

        Values of fields the org lacks (``CurrencyIsoCode`` in a single-currency
        org) are left out, so one seed fills every kind of org.
        """
        known = {k: v for k, v in values.items() if obj.field(k) is not None}
        record = {**self._blank(obj), **known}
        _derive(obj, record, known)
        when = format_datetime(stamp)
        record |= {"CreatedDate": when, "LastModifiedDate": when, "SystemModstamp": when}
        self._add(obj, record)
        return str(record["Id"])

    def hold_back(self, record_id: str, stamp: str) -> None:
        """Seeding: make a stored record a save, made at ``stamp``, not committed yet."""
        found = self.lookup(record_id)
        if found is None:
            raise KeyError(f"no record {record_id!r}")
        name, record = found
        del self.tables[name][record["Id"]]
        self._index.pop(record["Id"][:15], None)
        record |= {"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp}
        self.held[record["Id"]] = (name, record)

    def snapshot(self) -> tuple[Any, ...]:
        """A copy of everything, for allOrNone rollbacks."""
        return copy.deepcopy((self.tables, self._index, self._counter, self.held, self.bin))

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        """Go back to a snapshot."""
        self.tables, self._index, self._counter, self.held, self.bin = snapshot

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
        """Move a record to the recycle bin: its id no longer resolves, queryAll still sees it."""
        found = self.lookup(record_id)
        if found is None or found[0] != object_name:
            raise KeyError(f"no {object_name} {record_id!r}")
        record = self.tables[object_name].pop(found[1]["Id"])
        self._index.pop(record_id[:15], None)
        when = format_datetime(self.now())
        record |= {"IsDeleted": True, "LastModifiedDate": when, "SystemModstamp": when}
        self.bin[record_id[:15]] = (object_name, record, when)

    def recycled(self, object_name: str) -> list[dict[str, Any]]:
        """The records of one type in the recycle bin, in the order deleted."""
        return [r for name, r, _ in self.bin.values() if name == object_name]

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


def _not_for(obj: ObjectDef, verb: str) -> SaveError:
    return SaveError("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj.label}")


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
