"""Checkpoints: never skip a change, never re-read the last handled instant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.handoffs.checkpoint import Checkpoint, advance_checkpoint, read_from_checkpoint
from handoff_hub.hub.store import StateStore

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
    assert set(store.handled_since("h", T0)) == {"a", "b", "c"}


def test_a_checkpoint_of_an_older_release_keeps_its_ids(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    store.set_cursor("h", Checkpoint(_cursor(T0), frozenset({"a"})).encode())
    page = ChangePage([_rec("a", T0), _rec("b", T0)], _cursor(T0))
    [kept] = read_from_checkpoint(store, "h", lambda since, seen: iter([page]))
    assert [r.id for r in kept.records] == ["b"]


WINDOW = dt.timedelta(minutes=10)


class _Product:
    """Records with modified times, some visible only from a later read on."""

    def __init__(self) -> None:
        self.records: dict[str, dt.datetime] = {}
        self.reads: list[str | None] = []

    def read(self, since: str | None, _seen: frozenset[str]):
        self.reads.append(since)
        at = dt.datetime.fromisoformat(since) if since else None
        found = sorted(
            (when, rid) for rid, when in self.records.items() if at is None or when >= at
        )
        cursor = _cursor(found[-1][0]) if found else since
        return iter([ChangePage([_rec(rid, when) for when, rid in found], cursor)])


def _run(store: StateStore, product: _Product, lookback: dt.timedelta = WINDOW) -> list[str]:
    handled: list[str] = []
    for page in read_from_checkpoint(store, "h", product.read, lookback=lookback):
        handled += [r.id for r in page.records]
        advance_checkpoint(store, "h", page, lookback=lookback)
    return handled


def test_a_record_committed_late_with_an_older_time_is_picked_up_once(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    product = _Product()
    product.records |= {"a": T0, "b": T0 + dt.timedelta(minutes=2)}
    assert _run(store, product) == ["a", "b"]
    product.records["late"] = T0 + dt.timedelta(minutes=1)  # committed after b was read
    assert _run(store, product) == ["late"]
    assert product.reads[-1] == _cursor(T0 + dt.timedelta(minutes=2) - WINDOW)
    assert _run(store, product) == []
    product.records["a"] = T0 + dt.timedelta(minutes=3)  # changed again: a new version
    assert _run(store, product) == ["a"]
    assert Checkpoint.decode(store.get_cursor("h")).cursor == _cursor(T0 + dt.timedelta(minutes=3))


def test_without_a_window_the_late_record_is_lost(tmp_path: Path) -> None:
    """What the window closes: reading from the cursor alone never sees it."""
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    product = _Product()
    product.records |= {"a": T0, "b": T0 + dt.timedelta(minutes=2)}
    _run(store, product, dt.timedelta(0))
    product.records["late"] = T0 + dt.timedelta(minutes=1)
    assert _run(store, product, dt.timedelta(0)) == []


def test_the_cursor_never_moves_back_and_the_window_forgets_old_records(tmp_path: Path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    product = _Product()
    product.records |= {"old": T0, "new": T0 + dt.timedelta(minutes=30)}
    _run(store, product)
    assert set(store.handled_since("h", T0 - dt.timedelta(days=1))) == {"new"}
    stale = ChangePage([], _cursor(T0))
    advance_checkpoint(store, "h", stale, lookback=WINDOW)
    assert Checkpoint.decode(store.get_cursor("h")).cursor == _cursor(T0 + dt.timedelta(minutes=30))


def test_records_older_than_the_cursor_are_handled() -> None:
    checkpoint = Checkpoint(_cursor(T0), frozenset({"a"}))
    assert checkpoint.handled(_rec("old", T0 - dt.timedelta(seconds=30)))
    assert not checkpoint.handled(_rec("new", T0 + dt.timedelta(seconds=30)))
    assert Checkpoint("2026-11-30T07:52:07.455+0100").handled(_rec("x", T0 - dt.timedelta(1)))
