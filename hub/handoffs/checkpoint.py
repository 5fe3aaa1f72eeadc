"""Read positions that never skip a change and do not re-read the last one forever.

A connector's cursor is the newest modified-date seen, and reads are ``>=`` it,
so nothing is skipped when several records share that instant. The cost is
that those records come back on every run; a batch write-back (Salesforce
composite, 200 records in one millisecond) would then be re-read each time.
A checkpoint therefore also keeps the ids already handled at exactly the
cursor's instant and drops them, and anything older than the cursor, from the
next read. A record changed again gets a newer date and comes back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from hub.connector import ChangePage, Connector, FilterValue, RecordEnvelope
from hub.mapping.spec import EntityMap
from hub.store import StateStore

__all__ = ["Checkpoint", "advance_checkpoint", "read_entity_changes", "read_from_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    """A connector cursor plus the ids already handled at its instant."""

    cursor: str | None = None
    ids: frozenset[str] = field(default_factory=frozenset)

    def encode(self) -> str:
        """The stored form (JSON)."""
        return json.dumps({"cursor": self.cursor, "ids": sorted(self.ids)})

    @classmethod
    def decode(cls, value: str | None) -> Checkpoint:
        """Read a stored checkpoint; a bare cursor string (older runs) has no ids."""
        if not value:
            return cls()
        try:
            data = json.loads(value)
        except ValueError:
            return cls(value)
        if not isinstance(data, dict):
            return cls(value)
        ids = data.get("ids") or []
        cursor = data.get("cursor")
        return cls(cursor if isinstance(cursor, str) else None, frozenset(map(str, ids)))

    def handled(self, record: RecordEnvelope) -> bool:
        """True for a record the cursor already covers.

        That is one modified before the cursor's instant (a product whose query
        is coarser than its timestamps, like JQL's minutes, sends those again),
        or one of the ids handled at exactly that instant.
        """
        at = _instant(self.cursor)
        when = record.modified_at
        if at is None or when is None or when.tzinfo is None:
            return False
        return when < at or (when == at and record.id in self.ids)

    def after(self, page: ChangePage) -> Checkpoint:
        """The checkpoint once every record of ``page`` is handled."""
        if page.cursor is None:
            return self
        at_cursor = {r.id for r in page.records if _same_instant(r.modified_at, page.cursor)}
        if page.cursor == self.cursor:
            at_cursor |= self.ids
        return Checkpoint(page.cursor, frozenset(at_cursor))


def _instant(cursor: str | None) -> dt.datetime | None:
    """The cursor as an aware datetime, or None when it is not an ISO 8601 instant."""
    if not cursor:
        return None
    try:
        parsed = dt.datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _same_instant(when: dt.datetime | None, cursor: str | None) -> bool:
    at = _instant(cursor)
    return when is not None and at is not None and when.tzinfo is not None and when == at


def read_from_checkpoint(
    store: StateStore,
    name: str,
    read: Callable[[str | None, frozenset[str]], Iterator[ChangePage]],
) -> Iterator[ChangePage]:
    """Pages read from the stored checkpoint, less the records it says are handled.

    ``read`` gets the cursor and the ids handled at its instant, which a
    connector may leave out of its read.
    """
    checkpoint = Checkpoint.decode(store.get_cursor(name))
    for page in read(checkpoint.cursor, checkpoint.ids):
        kept = [r for r in page.records if not checkpoint.handled(r)]
        yield ChangePage(kept, page.cursor, page.total)


def advance_checkpoint(store: StateStore, name: str, page: ChangePage) -> None:
    """Store the checkpoint after ``page``, whose every write is recorded."""
    if page.cursor is None:
        return
    checkpoint = Checkpoint.decode(store.get_cursor(name)).after(page)
    store.set_cursor(name, checkpoint.encode())


def read_entity_changes(
    store: StateStore,
    name: str,
    connector: Connector,
    entity: EntityMap,
    *,
    page_size: int,
    where: Mapping[str, FilterValue] | None = None,
) -> Iterator[ChangePage]:
    """A mapped entity's changes since the checkpoint ``name``: its object, fields and filters."""
    filters = {**entity.where, **(where or {})} or None
    return read_from_checkpoint(
        store,
        name,
        lambda since, seen: connector.read_changes(
            entity.object,
            since=since,
            fields=entity.source_fields(),
            where=filters,
            page_size=page_size,
            seen=seen,
        ),
    )
