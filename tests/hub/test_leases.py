"""Leases: one run per handoff and system; a crashed run's lease expires; a lost one stops."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from handoff_hub.hub.connector import ChangePage, RecordEnvelope
from handoff_hub.hub.handoffs.engine import BatchReport
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.store import StateStore
from handoff_hub.hub.store.leases import Lease, LeaseHeld, LeaseLost, host_identity, new_holder


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    opened = StateStore(url)
    yield opened
    opened.close()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def _lease(store: StateStore, holder: str, clock: Clock, seconds: float = 60) -> Lease:
    return Lease(store._sessions, "won-to-project:crm", holder=holder, seconds=seconds, clock=clock)


def test_one_holder_at_a_time_until_it_releases(store: StateStore) -> None:
    clock = Clock()
    first, second = _lease(store, "a", clock), _lease(store, "b", clock)
    first.acquire()
    with pytest.raises(
        LeaseHeld, match=r"another run \(a\) holds the lease until 2026-11-30T09:01"
    ):
        second.acquire()
    first.acquire()  # taking one's own lease again extends it
    first.release()
    second.acquire()
    assert second.held() and not first.held()


def test_a_crashed_runs_lease_expires_and_is_taken_over(store: StateStore) -> None:
    clock = Clock()
    crashed, next_run = _lease(store, "crashed", clock), _lease(store, "next", clock)
    crashed.acquire()
    clock.advance(59)
    with pytest.raises(LeaseHeld):
        next_run.acquire()
    clock.advance(2)
    next_run.acquire()
    with pytest.raises(LeaseLost):
        crashed.renew()
    next_run.renew()


def test_a_run_that_lost_its_lease_cannot_move_the_cursor(store: StateStore) -> None:
    clock = Clock()
    slow, other = _lease(store, "slow", clock), _lease(store, "other", clock)
    with store.holding(slow):
        store.set_cursor("won-to-project:crm:Opportunity", "2026-11-30T08:00:00Z")
        clock.advance(120)
        other.acquire()
        with pytest.raises(LeaseLost):
            store.set_cursor("won-to-project:crm:Opportunity", "2026-11-30T08:30:00Z")
    assert store.get_cursor("won-to-project:crm:Opportunity") == "2026-11-30T08:00:00Z"
    assert other.held()


class _Handoff:
    lease_name = "won-to-project:crm"

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.processed = 0

    def pages(self) -> Iterator[ChangePage]:
        yield ChangePage([RecordEnvelope("crm", "Opportunity", "1", {})], "c1")

    def process(self, records: Sequence[RecordEnvelope], *, dry_run: bool = False) -> BatchReport:
        self.processed += len(records)
        return BatchReport()

    def advance(self, page: ChangePage) -> None:
        pass


def test_a_run_while_another_holds_the_lease_is_recorded_as_skipped(store: StateStore) -> None:
    busy = store.lease("won-to-project:crm")
    busy.acquire()
    handoff = _Handoff()
    summary = run_handoff("won-to-project", handoff, store)
    assert summary.status == "skipped" and handoff.processed == 0
    assert "holds the lease" in str(summary.error)
    assert store.runs("won-to-project")[0].status == "skipped"
    busy.release()
    assert run_handoff("won-to-project", handoff, store).status == "succeeded"
    assert handoff.processed == 1
    assert not store.lease("won-to-project:crm").held()


def _ended_pid() -> str:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return ended.stdout.strip()


def test_the_lease_of_a_dead_process_here_is_taken_at_once(store: StateStore) -> None:
    here, me = socket.gethostname()[:20], host_identity()
    assert me is not None, "Linux tells its boot id and PID namespace"
    clock = Clock()
    _lease(store, f"{here}:{me}:{_ended_pid()}:deadbeef", clock, seconds=3600).acquire()
    taker = _lease(store, new_holder(), clock)
    taker.acquire()
    assert taker.held()
    with pytest.raises(LeaseHeld):  # the holder now is this process: alive
        _lease(store, f"{here}:{me}:1:other", clock).acquire()


def test_a_holder_with_this_host_name_in_another_pid_namespace_is_waited_for(
    store: StateStore,
) -> None:
    """Pods of one Deployment, containers of one --hostname: the name proves nothing."""
    clock = Clock()
    twin = f"{socket.gethostname()[:20]}:0123456789ab:{_ended_pid()}:deadbeef"
    _lease(store, twin, clock, seconds=3600).acquire()
    with pytest.raises(LeaseHeld):
        _lease(store, new_holder(), clock).acquire()
    older_release = f"{socket.gethostname()[:24]}:{_ended_pid()}:deadbeef"
    _lease(store, older_release, clock).release()
    clock.advance(3601)
    _lease(store, older_release, clock, seconds=3600).acquire()
    with pytest.raises(LeaseHeld):  # an older release's holder names no namespace
        _lease(store, new_holder(), clock).acquire()


def test_the_identity_is_of_the_boot_and_pid_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    mine = host_identity()
    monkeypatch.setattr("handoff_hub.hub.store.leases._PID_NAMESPACE", "/proc/1/ns/net")
    assert host_identity() != mine
    monkeypatch.setattr("handoff_hub.hub.store.leases._PID_NAMESPACE", "/nonexistent/ns/pid")
    assert host_identity() is None
    assert new_holder().split(":")[1] == "-"


def test_a_run_whose_lease_is_taken_over_is_shown_crashed(store: StateStore) -> None:
    clock = Clock()
    dead = _lease(store, f"far.example:0123456789ab:{_ended_pid()}:deadbeef", clock)
    dead.acquire()
    crashed = store.start_run("won-to-project", holder=dead.holder)
    other = store.start_run("won-to-project", holder="far.example:0123456789ab:7:cafe")
    clock.advance(61)
    _lease(store, new_holder(), clock).acquire()
    row = store.run(crashed)
    assert row is not None and row.status == "crashed" and "took its lease over" in str(row.error)
    untouched = store.run(other)
    assert untouched is not None and untouched.status == "running"


def test_a_holder_on_another_machine_is_waited_for(store: StateStore) -> None:
    clock = Clock()
    _lease(store, "elsewhere.example:4242:abcd", clock).acquire()
    with pytest.raises(LeaseHeld):
        _lease(store, f"{socket.gethostname()[:24]}:{os.getpid()}:x", clock).acquire()
