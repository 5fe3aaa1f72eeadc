"""Test helpers on the sandbox portal: change records as a user would, count, look.

Helpers go through the same checks as API writes (values, pipelines, unique
properties), so a helper cannot make a record HubSpot would refuse; a refusal
raises ``ValueError`` with HubSpot's error text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from handoff_hub.sandboxes.hubspot.auth import TokenIssuer
from handoff_hub.sandboxes.hubspot.errors import ApiError
from handoff_hub.sandboxes.hubspot.limits import Throttle
from handoff_hub.sandboxes.hubspot.schema import OBJECTS, PIPELINES, ObjectDef
from handoff_hub.sandboxes.hubspot.store import Record, RecordStore

__all__ = ["SandboxState"]


class SandboxState:
    """What tests and demos do to the portal behind the API's back."""

    def __init__(self, store: RecordStore, issuer: TokenIssuer, throttle: Throttle) -> None:
        self.store = store
        self.issuer = issuer
        self.throttle = throttle

    def add_record(self, object_name: str, **properties: Any) -> str:
        """Create a record of any type; return its id."""
        return self.add_records(object_name, [properties])[0]

    def add_records(self, object_name: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
        """Create many records at once (checked like a batch create); return their ids."""
        obj = _object(object_name)
        with self.store.lock:
            try:
                checked = [self.store.validate(obj, row, None) for row in rows]
                self.store.check_unique(obj, [(None, c) for c in checked])
            except ApiError as exc:
                raise ValueError(f"{object_name} refused: {exc.message}") from None
            return [self.store.insert(obj, clean).id for clean in checked]

    def modify_record(self, object_name: str, record_id: str, **properties: Any) -> None:
        """Change properties of a record (moves its last-modified date on)."""
        obj = _object(object_name)
        with self.store.lock:
            record = self._record(obj, record_id)
            try:
                clean = self.store.validate(obj, properties, record)
                self.store.check_unique(obj, [(record, clean)])
            except ApiError as exc:
                raise ValueError(f"{object_name} refused: {exc.message}") from None
            self.store.modify(obj, record, clean)

    def archive(self, object_name: str, record_id: str) -> None:
        """Archive (delete) a record, as deleting it in HubSpot does."""
        obj = _object(object_name)
        with self.store.lock:
            self.store.archive(obj, self._record(obj, record_id))

    def add_deal(
        self,
        name: str,
        *,
        stage: str = "appointmentscheduled",
        pipeline: str = "default",
        amount: float | None = 25000.0,
        company_id: str | None = None,
        **properties: Any,
    ) -> str:
        """Create a deal associated (as primary) with a company (default: the first one)."""
        deal_id = self.add_record(
            "deals", dealname=name, dealstage=stage, pipeline=pipeline, amount=amount, **properties
        )
        company = company_id or self.ids("companies")[0]
        self.associate("deals", deal_id, "companies", company, primary=True)
        return deal_id

    def won_stage(self, pipeline: str = "default") -> str:
        """Id of a pipeline's closed-won stage (closed, probability 1.0)."""
        found = next(p for p in PIPELINES["deals"] if p.id == pipeline)
        return next(s.id for s in found.stages if s.closed and s.probability == "1.0")

    def mark_won(self, deal_id: str) -> None:
        """Move a deal to the won stage of its own pipeline."""
        deal = self.get("deals", deal_id)
        assert deal is not None, f"no deal {deal_id}"
        self.modify_record("deals", deal_id, dealstage=self.won_stage(deal["pipeline"]))

    def associate(
        self, from_object: str, from_id: str, to_object: str, to_id: str, *, primary: bool = False
    ) -> None:
        """Associate two records (both ways)."""
        with self.store.lock:
            self.store.associate(from_object, from_id, to_object, to_id, primary=primary)

    def associations(self, from_object: str, from_id: str, to_object: str) -> list[str]:
        """Ids of the records of ``to_object`` associated with a record."""
        with self.store.lock:
            return sorted(self.store.associations(from_object, from_id, to_object), key=int)

    def set_modified(self, object_name: str, ids: Iterable[str], when: dt.datetime) -> None:
        """Give records one last-modified date (ties, as bulk imports make them)."""
        obj = _object(object_name)
        with self.store.lock:
            for record_id in ids:
                self.store.restamp(obj, self._record(obj, record_id), when)

    def get(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        """A copy of a record's properties (plus ``id``), or None."""
        obj = _object(object_name)
        with self.store.lock:
            record = self.store.get(obj, record_id)
            return None if record is None else {**record.props, "id": record.id}

    def ids(self, object_name: str) -> list[str]:
        """Ids of every record of a type, oldest first."""
        with self.store.lock:
            return [r.id for r in self.store.records(_object(object_name))]

    def find(self, object_name: str, **equals: Any) -> list[dict[str, Any]]:
        """Copies of the records whose properties equal the given values (as text)."""
        with self.store.lock:
            rows = self.store.records(_object(object_name))
        return [{**r.props, "id": r.id} for r in rows if _matches(r, equals)]

    def count(self, object_name: str, **equals: Any) -> int:
        """Number of records whose properties equal the given values (as text)."""
        return len(self.find(object_name, **equals))

    def add_owner(self, email: str, first_name: str, last_name: str) -> str:
        """Add an owner (a HubSpot user who can own records); return its id."""
        with self.store.lock:
            owner_id = str(50_000_000 + len(self.store.owners))
            stamp = self.store.moment()
            self.store.owners[owner_id] = {
                "id": owner_id,
                "email": email,
                "type": "PERSON",
                "firstName": first_name,
                "lastName": last_name,
                "userId": 7_000_000 + len(self.store.owners),
                "userIdIncludingInactive": 7_000_000 + len(self.store.owners),
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "teams": [],
            }
            return owner_id

    def owners(self) -> list[dict[str, Any]]:
        """Copies of the portal's owners."""
        with self.store.lock:
            return [dict(o) for o in self.store.owners.values()]

    def expire_tokens(self) -> None:
        """Expire every OAuth access token; the next API call answers 401."""
        self.issuer.expire_all()

    @property
    def api_usage(self) -> int:
        """API requests counted against the daily allowance so far."""
        return self.throttle.used_today

    def _record(self, obj: ObjectDef, record_id: str) -> Record:
        record = self.store.get(obj, record_id)
        if record is None:
            raise KeyError(f"no {obj.singular} {record_id}")
        return record


def _object(name: str) -> ObjectDef:
    if name not in OBJECTS:
        raise KeyError(f"the sandbox has no {name!r} object; it has {sorted(OBJECTS)}")
    return OBJECTS[name]


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _matches(record: Record, equals: Mapping[str, Any]) -> bool:
    return all(record.props.get(k) == _text(v) for k, v in equals.items())
