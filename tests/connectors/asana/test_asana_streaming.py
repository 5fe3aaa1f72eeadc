"""Reads stream: listings read ahead on threads, a spill buffer, and search for increments."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pytest
from asana_support import API, PROJECT, RecordingTransport

from handoff_hub.hub.http.spill import SpillQueue
from handoff_hub.sandboxes.asana.app import AsanaSandbox
from handoff_hub.sandboxes.asana.seed import DELIVERY_PROJECTS

WAIT = 10.0
"""Seconds a test waits on the read's thread before it fails (never reached when it works)."""
NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)
SEARCH = f"{API}/workspaces/1209000000000001/tasks/search"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


class Gate(httpx.BaseTransport):
    """Holds every listing request after the first ``free`` until the test opens the gate."""

    def __init__(self, inner: httpx.BaseTransport, free: int) -> None:
        self.inner, self.free = inner, free
        self.open = threading.Event()
        self.served = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.served += 1
            held = self.served > self.free
        if held:
            assert self.open.wait(WAIT), "the read waited for the whole listing"
        return self.inner.handle_request(request)


class LastPageSignal(httpx.BaseTransport):
    """Sets ``done`` once ``pages`` listing requests were answered."""

    def __init__(self, inner: httpx.BaseTransport, pages: int) -> None:
        self.inner, self.pages = inner, pages
        self.done = threading.Event()
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        with self.lock:
            self.statuses.append(response.status_code)
            if sum(1 for s in self.statuses if s == 200) >= self.pages:
                self.done.set()
        return response


def ids(pages):
    return [r.id for p in pages for r in p.records]


def test_the_first_page_comes_before_the_listing_ends(sandbox, connect, sandbox_transport):
    gate = Gate(sandbox_transport(sandbox), free=1)
    connector = connect(sandbox, transport=gate, settings={"page_size": 5})
    pages = connector.read_changes("tasks", since=None, where={"project": PROJECT}, page_size=5)
    first = next(pages)
    assert len(first.records) == 5 and first.cursor is None
    gate.open.set()
    rest = list(pages)
    assert sorted(ids([first, *rest])) == sorted(sandbox.state.tasks(PROJECT))


def test_a_slow_caller_loses_nothing_when_offsets_expire_meanwhile(
    sandbox, connect, sandbox_transport
):
    """The listings are read to their end while the caller holds its first page.

    The caller then takes as long as it likes (the tokens expire here, as
    Asana's do "after some time"): nothing it is handed afterwards needed one.
    """
    tasks = {t for p in DELIVERY_PROJECTS for t in sandbox.state.tasks(p)}
    listings = sum(-(-len(sandbox.state.tasks(p)) // 5) for p in DELIVERY_PROJECTS)
    signal = LastPageSignal(sandbox_transport(sandbox), pages=listings + 1)  # + the projects
    connector = connect(sandbox, transport=signal, settings={"page_size": 5})
    queues: list[SpillQueue] = []
    connector.changes.buffer = lambda: queues.append(SpillQueue(depth=2)) or queues[-1]
    pages = connector.read_changes("tasks", since=None, page_size=3)
    first = next(pages)
    assert signal.done.wait(WAIT)
    sandbox.state.expire_offsets()
    got = ids([first, *pages])
    assert sorted(got) == sorted(tasks)  # every task, each once
    assert 400 not in signal.statuses
    [queue] = queues
    assert queue.peak_in_memory <= 2 and queue.spilled > 0  # the rest waited on disk


class Together(httpx.BaseTransport):
    """The first ``n`` task listings are answered only once all ``n`` are in flight."""

    def __init__(self, inner: httpx.BaseTransport, n: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(n, timeout=WAIT)
        self.waiting = n
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            wait = request.url.path == f"{API}/tasks" and self.waiting > 0
            self.waiting -= wait
        if wait:
            self.barrier.wait()  # BrokenBarrierError: the listings were read one by one
        return self.inner.handle_request(request)


def test_listings_of_several_projects_are_read_at_once(sandbox, connect, sandbox_transport):
    together = Together(sandbox_transport(sandbox), 3)
    connector = connect(sandbox, transport=together, settings={"listings_at_once": 3})
    got = ids(connector.read_changes("tasks", since=None))
    assert sorted(got) == sorted({t for p in DELIVERY_PROJECTS for t in sandbox.state.tasks(p)})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(clock: Clock) -> AsanaSandbox:
    return AsanaSandbox(seed=11, records=80, clock=clock)


def reads_twice(sandbox, connect, sandbox_transport, clock) -> tuple[list[str], list[str]]:
    """The paths of two no-change reads from a cursor by one connector."""
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    connector.clock = clock
    since = (NOW - dt.timedelta(minutes=1)).isoformat()
    paths = []
    for _ in range(2):
        recorder.exchanges.clear()
        assert ids(connector.read_changes("tasks", since=since)) == []
        paths.append(recorder.paths())
    return paths[0], paths[1]


def test_a_no_change_increment_is_one_search(clock, connect, sandbox_transport):
    premium = AsanaSandbox(seed=11, records=80, clock=clock)
    assert reads_twice(premium, connect, sandbox_transport, clock) == ([SEARCH], [SEARCH])


def test_a_free_plan_answers_402_once_and_the_connector_lists_from_then_on(
    clock, connect, sandbox_transport
):
    free = AsanaSandbox(seed=11, records=80, clock=clock, profile={"free_plan": True})
    first, again = reads_twice(free, connect, sandbox_transport, clock)
    listings = [f"{API}/projects"] + [f"{API}/tasks"] * len(DELIVERY_PROJECTS)
    assert first == [SEARCH, *listings]
    assert again == listings


def test_search_pages_by_moving_modified_at(clock, connect, sandbox_transport):
    sandbox = AsanaSandbox(seed=3, records=250, clock=clock)
    recorder = RecordingTransport(sandbox_transport(sandbox))
    connector = connect(sandbox, transport=recorder)
    connector.clock = clock
    members = {t for p in DELIVERY_PROJECTS for t in sandbox.state.tasks(p)}
    since = min(sandbox.store.tasks[t].modified_at for t in members)
    got = ids(connector.read_changes("tasks", since=since.isoformat(), page_size=50))
    assert sorted(got) == sorted(members) and len(members) > 100
    assert recorder.paths() == [SEARCH] * len(recorder.exchanges) and len(recorder.exchanges) > 1
    afters = [r.url.params["modified_at.after"] for r, _ in recorder.exchanges]
    assert afters == sorted(afters) and all(
        r.url.params["teams.any"] for r, _ in recorder.exchanges
    )


def test_the_overlap_keeps_a_task_the_search_index_saw_late(timed, clock, connect):
    """Task ``late`` changed before ``early`` but was indexed after it: still read next time."""
    connector = connect(timed, settings={"project_gid": PROJECT})
    connector.clock = clock
    since = (NOW - dt.timedelta(minutes=5)).isoformat()
    late, early = timed.state.tasks(PROJECT)[:2]
    clock.now = NOW - dt.timedelta(seconds=40)
    timed.store.search_lag = 50.0
    timed.state.modify(late, name="Indexed late")
    clock.now = NOW - dt.timedelta(seconds=30)
    timed.store.search_lag = 0.0
    timed.state.modify(early, name="Indexed at once")
    clock.now = NOW
    first = list(connector.read_changes("tasks", since=since))
    assert ids(first) == [early]
    cursor = first[-1].cursor
    assert dt.datetime.fromisoformat(cursor) == NOW - dt.timedelta(seconds=60)
    clock.now = NOW + dt.timedelta(seconds=20)
    again = ids(connector.read_changes("tasks", since=cursor))
    assert late in again
