"""Read positions that never skip a change and never hand the same version on twice.

A connector's cursor is the newest modified-date seen, and reads are ``>=`` it,
so nothing is skipped when several records share that instant. But a record
can become visible after newer ones: a long transaction commits it with the
modified time it started at, or it is shared with the integration user later.
Reading from the cursor alone would skip it forever. Each read therefore
starts a *look-back window* before the cursor (``systems.<name>.lookback_seconds``),
and the store keeps, per read, the records handled within that window with the
modified time handled (:meth:`~hub.store.StateStore.handled_since`): a record
read again at a version already handled is dropped; one changed again (a newer
time) or seen for the first time (committed late) goes through.

Checkpoints of older releases kept the ids handled at the cursor's instant in
the cursor row; they are still honoured.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from handoff_hub.hub.connector import ChangePage, Connector, FilterValue, RecordEnvelope
from handoff_hub.hub.http import cursor_text
from handoff_hub.hub.mapping.spec import EntityMap
from handoff_hub.hub.store import StateStore

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
    *,
    lookback: dt.timedelta = dt.timedelta(0),
    first_since: dt.datetime | None = None,
) -> Iterator[ChangePage]:
    """Pages read from ``lookback`` before the stored checkpoint, less the records handled.

    ``read`` gets the cursor to read from and the ids handled at its very
    instant, which a connector may leave out of its read. Without a stored
    checkpoint the read starts at ``first_since`` (a go-live bound), else at
    the beginning.
    """
    checkpoint = Checkpoint.decode(store.get_cursor(name))
    if checkpoint.cursor is None and first_since is not None:
        checkpoint = Checkpoint(cursor_text(first_since))
        lookback = dt.timedelta(0)
    at = _instant(checkpoint.cursor)
    if at is None:
        yield from _plain_read(checkpoint, read)
        return
    start = at - lookback
    handled = store.handled_since(name, start)
    for record_id in checkpoint.ids:
        handled[record_id] = max(handled.get(record_id, at), at)
    since = cursor_text(start)
    at_start = frozenset(i for i, when in handled.items() if when == start)
    for page in read(since, at_start):
        kept = [r for r in page.records if not _handled(r, start, handled)]
        yield ChangePage(kept, page.cursor, page.total)


def _plain_read(
    checkpoint: Checkpoint, read: Callable[[str | None, frozenset[str]], Iterator[ChangePage]]
) -> Iterator[ChangePage]:
    """A read whose cursor is no instant (the first read, or a product's own token)."""
    for page in read(checkpoint.cursor, checkpoint.ids):
        kept = [r for r in page.records if not checkpoint.handled(r)]
        yield ChangePage(kept, page.cursor, page.total)


def _handled(record: RecordEnvelope, start: dt.datetime, handled: dict[str, dt.datetime]) -> bool:
    """True for a record older than the window, or read again at a version already handled."""
    when = record.modified_at
    if when is None or when.tzinfo is None:
        return False
    if when < start:
        return True
    before = handled.get(record.id)
    return before is not None and when <= before


def advance_checkpoint(
    store: StateStore,
    name: str,
    page: ChangePage,
    *,
    lookback: dt.timedelta = dt.timedelta(0),
) -> None:
    """Store the checkpoint after ``page``, whose every write is recorded.

    The cursor never moves back (a read from the window's start may end
    before the stored cursor); the page's records are remembered as handled
    at their modified time until they fall out of the window.
    """
    if page.cursor is None:
        return
    stored = Checkpoint.decode(store.get_cursor(name))
    cursor = page.cursor
    stored_at, page_at = _instant(stored.cursor), _instant(page.cursor)
    if page_at is None:
        store.set_cursor(name, stored.after(page).encode())
        return
    if stored_at is not None and stored_at > page_at:
        cursor = stored.cursor or cursor
    at = max(page_at, stored_at or page_at)
    handled = {
        r.id: r.modified_at.astimezone(dt.UTC)
        for r in page.records
        if r.modified_at is not None and r.modified_at.tzinfo is not None
    }
    store.set_cursor(
        name, Checkpoint(cursor).encode(), handled=handled, forget_before=at - lookback
    )


def read_entity_changes(
    store: StateStore,
    name: str,
    connector: Connector,
    entity: EntityMap,
    *,
    page_size: int,
    where: Mapping[str, FilterValue] | None = None,
    lookback: dt.timedelta = dt.timedelta(0),
    first_since: dt.datetime | None = None,
) -> Iterator[ChangePage]:
    """A mapped entity's changes since the checkpoint ``name``: its object, fields and filters.

    ``first_since`` bounds a first read (no checkpoint yet); None reads everything.
    """
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
        lookback=lookback,
        first_since=first_since,
    )
