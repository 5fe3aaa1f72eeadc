"""Checkpoints: never skip a change, never re-read the last handled instant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hub.connector import ChangePage, RecordEnvelope
from hub.handoffs.checkpoint import Checkpoint, advance_checkpoint, read_from_checkpoint
from hub.store import StateStore

T0 = dt.datetime(2026, 11, 30, 6, 52, 7, 455000, tzinfo=dt.UTC)


def _rec(record_id: str, at: dt.datetime) -> RecordEnvelope:
    return RecordEnvelope("crm", "Opportunity", record_id, {}, modified_at=at)


def _cursor(at: dt.datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def test_ids_at_the_cursor_instant_are_kept_and_merged() -> None:
    later = T0 + dt.timedelta(seconds=1)
    first = Checkpoint().after(ChangePage([_rec("a", T0), _rec("b", T0)], _cursor(T0)))
    assert first == Checkpoint(_cursor(T0), frozenset({"a", "b"}))
    same = first.after(ChangePage([_rec("c", T0)], _cursor(T0)))
    assert same.ids == {"a", "b", "c"}
    moved = same.after(ChangePage([_rec("d", T0), _rec("e", later)], _cursor(later)))
    assert moved == Checkpoint(_cursor(later), frozenset({"e"}))


def test_handled_only_at_the_same_instant() -> None:
    checkpoint = Checkpoint("2026-11-30T06:52:07.455Z", frozenset({"a"}))
    assert checkpoint.handled(_rec("a", T0))
    assert not checkpoint.handled(_rec("a", T0 + dt.timedelta(milliseconds=1)))
    assert not checkpoint.handled(_rec("b", T0))
    assert not checkpoint.handled(RecordEnvelope("crm", "Opportunity", "a", {}))


def test_decode_accepts_bare_cursors_and_junk() -> None:
    assert Checkpoint.decode(None) == Checkpoint()
    assert Checkpoint.decode("2026-11-30T06:52:07Z") == Checkpoint("2026-11-30T06:52:07Z")
    assert Checkpoint.decode("[1, 2]") == Checkpoint("[1, 2]")
    round_trip = Checkpoint("c", frozenset({"x", "y"}))
    assert Checkpoint.decode(round_trip.encode()) == round_trip
    assert Checkpoint("not a date", frozenset({"a"})).handled(_rec("a", T0)) is False


def test_read_drops_handled_records_and_advance_stores(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    cursors: list[str | None] = []
    seen: list[frozenset[str]] = []
    pages = [ChangePage([_rec("a", T0), _rec("b", T0)], _cursor(T0))]

    def read(since: str | None, handled: frozenset[str]):
        cursors.append(since)
        seen.append(handled)
        return iter(pages)

    for page in read_from_checkpoint(store, "h", read):
        advance_checkpoint(store, "h", page)
    pages = [ChangePage([_rec("a", T0), _rec("b", T0), _rec("c", T0)], _cursor(T0))]
    again = list(read_from_checkpoint(store, "h", read))
    assert cursors == [None, _cursor(T0)]
    assert seen == [frozenset(), {"a", "b"}]
    assert [r.id for r in again[0].records] == ["c"]
    advance_checkpoint(store, "h", again[0])
    assert Checkpoint.decode(store.get_cursor("h")).ids == {"a", "b", "c"}


def test_records_older_than_the_cursor_are_handled() -> None:
    checkpoint = Checkpoint(_cursor(T0), frozenset({"a"}))
    assert checkpoint.handled(_rec("old", T0 - dt.timedelta(seconds=30)))
    assert not checkpoint.handled(_rec("new", T0 + dt.timedelta(seconds=30)))
    assert Checkpoint("2026-11-30T07:52:07.455+0100").handled(_rec("x", T0 - dt.timedelta(1)))
