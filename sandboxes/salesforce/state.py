"""Test helpers on the sandbox org: change records as a user would, count, look.

Helpers go through the same validation as API writes, so a helper cannot
create a record the real org would refuse; a refusal raises ``ValueError``
with Salesforce's error text.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from handoff_hub.sandboxes.salesforce.auth import TokenIssuer
from handoff_hub.sandboxes.salesforce.schema import ObjectDef
from handoff_hub.sandboxes.salesforce.store import RecordStore, SaveOutcome

__all__ = ["ApiAllocation", "SandboxState"]


class ApiAllocation:
    """The org's daily API request allocation (``Sforce-Limit-Info: api-usage=N/M``)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Count one request; False once the allocation is used up."""
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    @property
    def header(self) -> str:
        """The ``Sforce-Limit-Info`` value."""
        return f"api-usage={self.used}/{self.limit}"


class SandboxState:
    """What tests and demos do to the org behind the API's back."""

    def __init__(self, store: RecordStore, issuer: TokenIssuer, allocation: ApiAllocation) -> None:
        self.store = store
        self.issuer = issuer
        self.allocation = allocation

    def add_record(self, object_name: str, **fields: Any) -> str:
        """Create a record of any type; return its id."""
        with self.store.lock:
            outcome = self.store.insert(self._object(object_name), fields)
        return _checked(outcome, object_name)

    def modify_record(self, object_name: str, record_id: str, **fields: Any) -> None:
        """Change fields of a record (bumps SystemModstamp)."""
        with self.store.lock:
            outcome = self.store.modify(self._object(object_name), record_id, fields)
        _checked(outcome, object_name)

    def add_opportunity(
        self,
        name: str,
        *,
        stage: str = "Prospecting",
        amount: float | None = 25000.0,
        close_date: dt.date | None = None,
        **fields: Any,
    ) -> str:
        """Create an opportunity (on the first account unless ``AccountId`` is given)."""
        values = {
            "Name": name,
            "StageName": stage,
            "Amount": amount,
            "CloseDate": (close_date or dt.date.today() + dt.timedelta(days=30)).isoformat(),
            "AccountId": self.ids("Account")[0],
            **fields,
        }
        return self.add_record("Opportunity", **values)

    def add_late(self, object_name: str, **fields: Any) -> str:
        """Create a record in a long transaction: stamped now, seen by nobody until committed.

        Records saved meanwhile get newer stamps, so once :meth:`commit_late`
        runs this one is visible with a ``SystemModstamp`` older than theirs.
        """
        with self.store.lock:
            outcome = self.store.insert(self._object(object_name), fields, late=True)
        return _checked(outcome, object_name)

    def modify_late(self, object_name: str, record_id: str, **fields: Any) -> None:
        """Change a record in a long transaction; readers see the old values until committed."""
        with self.store.lock:
            outcome = self.store.modify(self._object(object_name), record_id, fields, late=True)
        _checked(outcome, object_name)

    def commit_late(self, record_id: str | None = None) -> list[str]:
        """Commit one held save, or all of them; their stamps stay as they were made."""
        with self.store.lock:
            return self.store.commit(record_id)

    @property
    def held(self) -> list[str]:
        """Ids of saves not committed yet, oldest first."""
        with self.store.lock:
            return list(self.store.held)

    def hide(self, record_id: str) -> None:
        """Take a record out of the integration user's sharing (it still exists)."""
        with self.store.lock:
            self.store.hidden.add(record_id[:15])

    def hidden(self, object_name: str) -> list[str]:
        """Ids of the records of a type the integration user cannot see."""
        with self.store.lock:
            rows = self.store.records(self._object(object_name).name)
            return [r["Id"] for r in rows if r["Id"][:15] in self.store.hidden]

    def modify_opportunity(self, record_id: str, **fields: Any) -> None:
        """Change fields of an opportunity."""
        self.modify_record("Opportunity", record_id, **fields)

    def delete(self, object_name: str, record_id: str) -> None:
        """Delete a record (to the recycle bin, out of every query), as a user would."""
        with self.store.lock:
            self.store.delete(self._object(object_name).name, record_id)

    def mark_won(self, record_id: str) -> None:
        """Move an opportunity to Closed Won (IsWon becomes true)."""
        self.modify_opportunity(record_id, StageName="Closed Won")

    def count(self, object_name: str, **equals: Any) -> int:
        """Number of records of a type whose fields equal the given values."""
        with self.store.lock:
            rows = self.store.records(self._object(object_name).name)
        return sum(1 for r in rows if all(r.get(k) == v for k, v in equals.items()))

    def get(self, object_name: str, record_id: str) -> dict[str, Any] | None:
        """A copy of one record, or None."""
        with self.store.lock:
            found = self.store.lookup(record_id)
        if found is None or found[0] != self._object(object_name).name:
            return None
        return dict(found[1])

    def ids(self, object_name: str) -> list[str]:
        """Ids of every record of a type, oldest first."""
        with self.store.lock:
            return [r["Id"] for r in self.store.records(self._object(object_name).name)]

    def find(self, object_name: str, **equals: Any) -> list[dict[str, Any]]:
        """Copies of the records whose fields equal the given values."""
        with self.store.lock:
            rows = self.store.records(self._object(object_name).name)
        return [dict(r) for r in rows if all(r.get(k) == v for k, v in equals.items())]

    def expire_tokens(self) -> None:
        """Expire every access token; the next API call answers INVALID_SESSION_ID."""
        self.issuer.expire_all()

    @property
    def api_usage(self) -> int:
        """API requests counted against the daily allocation so far."""
        return self.allocation.used

    def _object(self, name: str) -> ObjectDef:
        return self.store.schema.object(name)


def _checked(outcome: SaveOutcome, object_name: str) -> str:
    if not outcome.ok or outcome.id is None:
        text = "; ".join(f"{e.code}: {e.message}" for e in outcome.errors)
        raise ValueError(f"{object_name} refused: {text}")
    return outcome.id
