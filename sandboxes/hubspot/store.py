"""The sandbox portal's records, owners and associations.

Records hold their property values as HubSpot stores them (text). Every write
sets the object's last-modified property and ``updatedAt``; stamps strictly
increase, one millisecond at least, so a sort by modified date is total.
Unique properties (``handoff_hub_id``, a contact's ``email``) are enforced
here; value checks live in :mod:`handoff_hub.sandboxes.hubspot.values`.
"""

from __future__ import annotations

import datetime as dt
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff_hub.sandboxes.hubspot.errors import ApiError, PropertyProblem, invalid_properties
from handoff_hub.sandboxes.hubspot.schema import OBJECTS, PIPELINES, ObjectDef
from handoff_hub.sandboxes.hubspot.values import check_values, format_datetime

__all__ = ["ASSOCIATION_TYPES", "Record", "RecordStore", "Watcher", "association_label"]

# (from, to) -> (default type id, primary type id or None); the inverse pair mirrors it.
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1),
    ("companies", "contacts"): (280, 2),
    ("deals", "companies"): (341, 5),
    ("companies", "deals"): (342, 6),
    ("deals", "contacts"): (3, None),
    ("contacts", "deals"): (4, None),
    ("notes", "companies"): (190, None),
    ("companies", "notes"): (189, None),
    ("notes", "deals"): (214, None),
    ("deals", "notes"): (213, None),
    ("notes", "contacts"): (202, None),
    ("contacts", "notes"): (201, None),
    ("tasks", "companies"): (192, None),
    ("companies", "tasks"): (191, None),
    ("tasks", "deals"): (216, None),
    ("deals", "tasks"): (215, None),
    ("tasks", "contacts"): (204, None),
    ("contacts", "tasks"): (203, None),
    ("leads", "contacts"): (578, None),
    ("contacts", "leads"): (579, None),
    ("leads", "companies"): (610, None),
    ("companies", "leads"): (611, None),
}
PARENT_TO_CHILD, CHILD_TO_PARENT = 13, 14
"""HubSpot-defined company-to-company types: parent to child company, child to parent company.

HubSpot keeps the child's read-only ``hs_parent_company_id`` (and the parent's
``hs_num_child_companies``) in step with them; the sandbox does the same.
"""
_COMPANY_LABELS = {PARENT_TO_CHILD: "Child Company", CHILD_TO_PARENT: "Parent Company"}
UNIQUE_CONTACT_PROPERTY = "email"
_MS = dt.timedelta(milliseconds=1)


def association_label(type_id: int) -> str | None:
    """``Primary`` (primary types), the parent/child company labels, else None (unlabeled)."""
    if type_id in _COMPANY_LABELS:
        return _COMPANY_LABELS[type_id]
    primaries = {p for _, p in ASSOCIATION_TYPES.values() if p is not None}
    return "Primary" if type_id in primaries else None


@dataclass
class Record:
    """One CRM record."""

    id: str
    props: dict[str, str | None]
    created: dt.datetime
    updated: dt.datetime
    archived: bool = False
    archived_at: dt.datetime | None = None


Watcher = Callable[[ObjectDef, Record], None]
"""Told of every written record: its type and the record as it now is."""


@dataclass
class _Links:
    """Associations: (from type, from id, to type) -> to id -> type ids."""

    table: dict[tuple[str, str, str], dict[str, set[int]]] = field(default_factory=dict)

    def add(self, from_type: str, from_id: str, to_type: str, to_id: str, types: set[int]) -> None:
        self.table.setdefault((from_type, from_id, to_type), {}).setdefault(to_id, set()).update(
            types
        )

    def get(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        return self.table.get((from_type, from_id, to_type), {})


class RecordStore:
    """Thread-safe in-memory portal: one table per object type, owners, associations.

    Every record write (create, update, restamp, archive) goes through a method
    here, which tells the watchers (the search views) about the changed record.
    A record's properties changed behind the store's back (tests that plant bad
    values) are not re-indexed: its sort position and filter membership in a
    search view stay as they were.
    """

    def __init__(
        self, clock: Callable[[], dt.datetime], *, portal_id: int, keep_cleared: bool = False
    ) -> None:
        self.tables: dict[str, dict[str, Record]] = {name: {} for name in OBJECTS}
        self.owners: dict[str, dict[str, Any]] = {}
        self.links = _Links()
        self.portal_id = portal_id
        self.keep_cleared = keep_cleared
        """A cleared value stays as ``""`` (sent back so) instead of leaving the record."""
        self._clock = clock
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._next_id = 30_000_000_001
        self.version = 0
        """Bumped by every write, so cached search results know they are stale."""
        self.lock = threading.RLock()
        self._watchers: list[Watcher] = []
        self._order: dict[str, list[int]] = {name: [] for name in OBJECTS}
        """Record ids of each table as numbers, in creation (= increasing) order."""

    def now(self) -> dt.datetime:
        """The next write stamp: the clock in milliseconds, always after the last one."""
        self.version += 1
        now = self._clock().astimezone(dt.UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last = max(self._last + _MS, now)
        return self._last

    def moment(self) -> str:
        """The clock's time as HubSpot text, for batch ``startedAt`` / ``completedAt``."""
        return format_datetime(self._clock())

    def new_id(self) -> str:
        """The next record id (HubSpot ids are numbers, sent as text)."""
        self._next_id += 1
        return str(self._next_id)

    def get(self, obj: ObjectDef, record_id: Any) -> Record | None:
        """A live record of this type, or None."""
        record = self.tables[obj.name].get(str(record_id))
        return record if record is not None and not record.archived else None

    def archived(self, obj: ObjectDef, record_id: Any) -> Record | None:
        """An archived (deleted) record of this type, or None."""
        record = self.tables[obj.name].get(str(record_id))
        return record if record is not None and record.archived else None

    def by_unique(self, obj: ObjectDef, name: str, value: str) -> Record | None:
        """The record whose unique property ``name`` equals ``value``."""
        fold = name == UNIQUE_CONTACT_PROPERTY
        for record in self.tables[obj.name].values():
            current = record.props.get(name)
            if current is None or record.archived:
                continue
            if current == value or (fold and current.casefold() == value.casefold()):
                return record
        return None

    def records(self, obj: ObjectDef) -> list[Record]:
        """Live records of a type, in creation order."""
        return [r for r in self.tables[obj.name].values() if not r.archived]

    def records_after(
        self, obj: ObjectDef, after: int, count: int, *, archived: bool = False
    ) -> list[Record]:
        """Up to ``count`` live (or only archived) records with an id above ``after``, oldest first.

        Ids grow with creation, so this bisects instead of scanning the table.
        """
        table = self.tables[obj.name]
        ids = self._order[obj.name]
        if len(ids) != len(table):  # a record stored behind the store's back
            rows = [r for r in table.values() if r.archived == archived and int(r.id) > after]
            return sorted(rows, key=lambda r: int(r.id))[:count]
        found: list[Record] = []
        for position in range(bisect_right(ids, after), len(ids)):
            if len(found) >= count:
                break
            record = table[str(ids[position])]
            if record.archived == archived:
                found.append(record)
        return found

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(obj, record)`` after every write of a record."""
        self._watchers.append(watcher)

    def _touched(self, obj: ObjectDef, record: Record) -> None:
        for watcher in self._watchers:
            watcher(obj, record)

    def _add(self, obj: ObjectDef, record: Record) -> None:
        self.tables[obj.name][record.id] = record
        ids = self._order[obj.name]
        number = int(record.id)
        if ids and number <= ids[-1]:  # never: ids only grow; keep the order list exact anyway
            ids.insert(bisect_right(ids, number), number)
        else:
            ids.append(number)
        self._touched(obj, record)

    # writing ---------------------------------------------------------------

    def validate(
        self, obj: ObjectDef, values: Mapping[str, Any], current: Record | None
    ) -> dict[str, str | None]:
        """Checked, derived property values of one create (``current`` None) or update.

        Raises:
            ApiError: 400 VALIDATION_ERROR naming every refused value.
        """
        active = {k for k, o in self.owners.items() if not o.get("archived")}
        clean, problems = check_values(obj, values, owners=active)
        merged = {**(current.props if current else {}), **clean}
        if current is None:
            problems += [_required(name) for name in obj.required if merged.get(name) in (None, "")]
        problems += _pipeline_problems(obj, merged, clean)
        if problems:
            raise invalid_properties(problems)
        return clean

    def check_unique(
        self, obj: ObjectDef, writes: Iterable[tuple[Record | None, Mapping[str, str | None]]]
    ) -> None:
        """Refuse writes that would give two records one unique value (409 CONFLICT)."""
        claimed: dict[tuple[str, str], str] = {}
        for number, (current, values) in enumerate(writes):
            mine = current.id if current else f"input {number + 1}"
            for spec in obj.properties:
                value = values.get(spec.name)
                if not (spec.unique or _unique_email(obj, spec.name)) or not value:
                    continue
                owner = self.by_unique(obj, spec.name, value)
                key = (spec.name, value.casefold() if _unique_email(obj, spec.name) else value)
                if owner is not None and owner.id != mine:
                    raise _conflict(obj, spec.name, value, owner.id)
                if claimed.get(key, mine) != mine:
                    raise _conflict(obj, spec.name, value, None)
                claimed[key] = mine

    def insert(self, obj: ObjectDef, clean: Mapping[str, str | None]) -> Record:
        """Store a new record from checked values."""
        when = self.now()
        record = Record(self.new_id(), {}, when, when)
        record.props = {k: v for k, v in clean.items() if v is not None}
        _derive(obj, record.props)
        self._stamp(obj, record, created=True)
        self._add(obj, record)
        return record

    def modify(self, obj: ObjectDef, record: Record, clean: Mapping[str, str | None]) -> None:
        """Apply checked values to a record."""
        for name, value in clean.items():
            if value is not None:
                record.props[name] = value
            elif self.keep_cleared and record.props.get(name) is not None:
                record.props[name] = ""
            else:
                record.props.pop(name, None)
        _derive(obj, record.props)
        record.updated = self.now()
        self._stamp(obj, record, created=False)
        self._touched(obj, record)

    def put(self, obj: ObjectDef, props: Mapping[str, str], when: dt.datetime) -> Record:
        """Store a record as given, stamped ``when`` (seeding only)."""
        self.version += 1
        record = Record(self.new_id(), dict(props), when, when)
        _derive(obj, record.props)
        self._stamp(obj, record, created=True)
        self._last = max(self._last, when)
        self._add(obj, record)
        return record

    def restamp(self, obj: ObjectDef, record: Record, when: dt.datetime) -> None:
        """Set a record's modified date to ``when`` (tests that need equal stamps)."""
        self.version += 1
        record.updated = when
        self._last = max(self._last, when)
        self._stamp(obj, record, created=False)
        self._touched(obj, record)

    def archive(self, obj: ObjectDef, record: Record) -> None:
        """Archive (delete) a record: it leaves lists, searches and reads."""
        self.version += 1
        record.archived = True
        record.archived_at = self._clock().astimezone(dt.UTC)
        self._touched(obj, record)

    def _stamp(self, obj: ObjectDef, record: Record, *, created: bool) -> None:
        record.props["hs_object_id"] = record.id
        record.props[obj.modified] = format_datetime(record.updated)
        if created:
            record.props[obj.created] = format_datetime(record.created)

    # associations ----------------------------------------------------------

    def associate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, *, primary: bool = False
    ) -> int:
        """Associate two records both ways; return the from->to default type id."""
        default, primary_id = ASSOCIATION_TYPES[(from_type, to_type)]
        back_default, back_primary = ASSOCIATION_TYPES[(to_type, from_type)]
        types = {default} | ({primary_id} if primary and primary_id else set())
        back = {back_default} | ({back_primary} if primary and back_primary else set())
        self.links.add(from_type, from_id, to_type, to_id, types)
        self.links.add(to_type, to_id, from_type, from_id, back)
        return default

    def set_parent(self, child_id: str, parent_id: str, when: dt.datetime) -> None:
        """Make a company a child (a department) of another, as the parent association does."""
        obj = OBJECTS["companies"]
        child, parent = self.tables["companies"][child_id], self.tables["companies"][parent_id]
        self.links.add("companies", child_id, "companies", parent_id, {CHILD_TO_PARENT})
        self.links.add("companies", parent_id, "companies", child_id, {PARENT_TO_CHILD})
        child.props["hs_parent_company_id"] = parent_id
        children = self.associations("companies", parent_id, "companies")
        count = sum(1 for types in children.values() if PARENT_TO_CHILD in types)
        parent.props["hs_num_child_companies"] = str(count)
        for record in (child, parent):
            self.restamp(obj, record, max(when, record.updated))

    def dissociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Remove every association between two records, both ways."""
        self.links.table.get((from_type, from_id, to_type), {}).pop(to_id, None)
        self.links.table.get((to_type, to_id, from_type), {}).pop(from_id, None)

    def associations(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        """The records of ``to_type`` associated with one record, and the type ids."""
        live = self.tables.get(to_type, {})
        return {
            k: v
            for k, v in self.links.get(from_type, from_id, to_type).items()
            if k in live and not live[k].archived
        }


def _required(name: str) -> PropertyProblem:
    return PropertyProblem(name, "REQUIRED_PROPERTY", f"{name} is required")


def _unique_email(obj: ObjectDef, name: str) -> bool:
    return obj.name == "contacts" and name == UNIQUE_CONTACT_PROPERTY


def _conflict(obj: ObjectDef, name: str, value: str, existing: str | None) -> ApiError:
    """409 CONFLICT: an existing record has the value, or two inputs of one batch do."""
    if existing is None:
        return ApiError(
            409,
            "CONFLICT",
            f"Duplicate {name} value {value!r} in the batch input; it must be unique",
        )
    if _unique_email(obj, name):
        message = f"Contact already exists. Existing ID: {existing}"
    else:
        message = (
            f"A {obj.singular} with {name} {value!r} already exists; {name} values must be"
            f" unique. Existing ID: {existing}"
        )
    return ApiError(409, "CONFLICT", message, context={"id": [existing]})


def _pipeline_problems(
    obj: ObjectDef, merged: Mapping[str, str | None], written: Mapping[str, str | None]
) -> list[PropertyProblem]:
    """A stage must belong to the record's pipeline (default: the first pipeline)."""
    if obj.stage_property is None or obj.pipeline_property is None:
        return []
    if obj.stage_property not in written and obj.pipeline_property not in written:
        return []
    pipelines = PIPELINES[obj.name]
    pipeline_id = merged.get(obj.pipeline_property) or pipelines[0].id
    pipeline = next((p for p in pipelines if p.id == pipeline_id), None)
    stage = merged.get(obj.stage_property)
    if pipeline is None or stage is None or pipeline.stage(stage) is not None:
        return []
    return [
        PropertyProblem(
            obj.stage_property,
            "INVALID_OPTION",
            f'"{stage}" is not a valid stage of pipeline "{pipeline.label}" ({pipeline.id})',
        )
    ]


def _derive(obj: ObjectDef, props: dict[str, str | None]) -> None:
    """Default pipeline and stage; a deal's closed / won flags and probability."""
    if obj.pipeline_property is None or obj.stage_property is None:
        return
    pipelines = PIPELINES[obj.name]
    pipeline = next(
        (p for p in pipelines if p.id == props.get(obj.pipeline_property)), pipelines[0]
    )
    props[obj.pipeline_property] = pipeline.id
    props.setdefault(obj.stage_property, pipeline.stages[0].id)
    stage = pipeline.stage(str(props[obj.stage_property]))
    if obj.name == "deals" and stage is not None:
        props["hs_is_closed"] = "true" if stage.closed else "false"
        props["hs_is_closed_won"] = (
            "true" if stage.closed and stage.probability == "1.0" else "false"
        )
        props["hs_deal_stage_probability"] = stage.probability
