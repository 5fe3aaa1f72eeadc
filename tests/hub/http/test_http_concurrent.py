"""in_parallel: order kept, concurrency bounded, a failure stops what has not started."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pytest

from handoff_hub.hub.errors import ConnectorError
from handoff_hub.hub.http.concurrent import (
    InOrder,
    Prefetch,
    fetch_missing,
    in_levels,
    in_parallel,
    read_ahead,
    waves,
)


def test_results_come_back_in_the_items_order() -> None:
    def slow_square(n: int) -> int:
        time.sleep(0.001 * (10 - n))
        return n * n

    assert in_parallel(slow_square, range(10), workers=4) == [n * n for n in range(10)]


def test_no_more_than_workers_run_at_once() -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work(_n: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.005)
        with lock:
            running -= 1

    in_parallel(work, range(20), workers=3)
    assert 1 < most <= 3


def test_one_worker_runs_in_the_callers_thread() -> None:
    threads = in_parallel(lambda _n: threading.get_ident(), range(3), workers=1)
    assert set(threads) == {threading.get_ident()}


def test_a_failure_stops_the_items_not_started_and_is_raised() -> None:
    started: list[int] = []
    gate = threading.Event()

    def work(n: int) -> int:
        started.append(n)
        if n == 1:
            raise ValueError("item 1 refused")
        gate.wait(0.05)
        return n

    with pytest.raises(ValueError, match="item 1 refused"):
        in_parallel(work, range(50), workers=2)
    assert len(started) < 50


def test_the_first_failure_in_item_order_wins() -> None:
    def work(n: int) -> int:
        time.sleep(0.02 if n == 0 else 0.0)
        raise RuntimeError(f"failed {n}")

    with pytest.raises(RuntimeError, match="failed 0"):
        in_parallel(work, range(2), workers=2)


def test_waves_cut_where_a_key_repeats() -> None:
    items = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("b", 6)]
    runs = waves(items, lambda item: [item[0]])
    assert runs == [[("a", 1), ("b", 2)], [("a", 3), ("c", 4), ("b", 5)], [("b", 6)]]
    assert waves([], lambda item: [item]) == []
    assert waves([1, 2, 3], lambda _item: []) == [[1, 2, 3]]


def test_read_ahead_fetches_the_next_page_while_the_caller_holds_this_one() -> None:
    fetched: list[int] = []
    next_fetched = threading.Event()

    def pages() -> Iterator[int]:
        for n in range(3):
            fetched.append(n)
            if n == 1:
                next_fetched.set()
            yield n

    reader = read_ahead(pages())
    assert next(reader) == 0
    assert next_fetched.wait(5), "page 1 was not fetched while page 0 was out"
    assert list(reader) == [1, 2]
    assert fetched == [0, 1, 2]


def test_read_ahead_raises_a_failure_after_the_pages_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 0
        yield 1
        raise RuntimeError("page 2 failed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="page 2 failed"):
        for page in read_ahead(pages()):
            got.append(page)
    assert got == [0, 1]


@pytest.mark.parametrize("depth", [1, 3])
def test_read_ahead_fetches_at_most_depth_pages_a_caller_does_not_take(depth: int) -> None:
    fetched: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for n in range(10):
                fetched.append(n)
                yield n
        finally:
            closed.set()

    reader = read_ahead(pages(), depth=depth)
    assert next(reader) == 0
    deadline = time.monotonic() + 5
    while len(fetched) < 1 + depth and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.01)  # room for a fetch beyond depth, which must not happen
    reader.close()
    assert fetched == list(range(1 + depth))
    assert closed.is_set(), "the page source was not closed"


def test_read_ahead_keeps_up_to_depth_pages_ready() -> None:
    ahead = threading.Semaphore(0)

    def pages() -> Iterator[int]:
        for n in range(6):
            ahead.release()
            yield n

    reader = read_ahead(pages(), depth=3)
    assert next(reader) == 0
    for _ in range(4):  # page 0 and the three behind it
        assert ahead.acquire(timeout=5)
    assert list(reader) == [1, 2, 3, 4, 5]


def test_read_ahead_disabled_reads_in_the_callers_thread() -> None:
    def pages() -> Iterator[int]:
        yield threading.get_ident()

    assert list(read_ahead(pages(), enabled=False)) == [threading.get_ident()]


def test_read_ahead_starts_no_thread_for_a_read_its_source_says_is_one_page() -> None:
    started: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            started.append(threading.get_ident())
            yield 0
        finally:
            closed.set()

    original = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(-1)
        original(self)

    threading.Thread.start = counting_start  # type: ignore[method-assign]
    try:
        assert list(read_ahead(pages(), more=lambda: False)) == [0]
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
    assert started == [threading.get_ident()], "a thread was started for one page"
    assert closed.is_set()


def test_read_ahead_with_more_pages_still_fetches_ahead_and_closes_the_source() -> None:
    fetched: list[int] = []
    next_fetched = threading.Event()
    closed = threading.Event()
    left = [True, True, False]

    def pages() -> Iterator[int]:
        try:
            for n in range(3):
                fetched.append(n)
                if n == 1:
                    next_fetched.set()
                yield n
        finally:
            closed.set()

    reader = read_ahead(pages(), more=lambda: left.pop(0))
    assert next(reader) == 0
    assert next_fetched.wait(5), "page 1 was not fetched while page 0 was out"
    reader.close()
    assert closed.wait(5), "the page source was not closed"


def test_read_ahead_one_page_read_closed_early_closes_its_source() -> None:
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            yield 0
            yield 1
        finally:
            closed.set()

    reader = read_ahead(pages(), more=lambda: False)
    assert next(reader) == 0
    reader.close()
    assert closed.is_set()


def test_prefetch_starts_fetching_before_the_first_page_is_asked_for() -> None:
    fetched = threading.Semaphore(0)

    def pages() -> Iterator[int]:
        for n in range(5):
            fetched.release()
            yield n

    with Prefetch(pages(), depth=3) as ahead:
        for _ in range(3):  # up to depth pages, with nobody asking yet
            assert fetched.acquire(timeout=5)
        assert not fetched.acquire(timeout=0.02), "fetched beyond depth"
        assert list(ahead) == [0, 1, 2, 3, 4]


def test_prefetch_left_early_stops_its_thread_and_closes_the_source() -> None:
    closed = threading.Event()
    first = threading.Event()
    fetching: list[threading.Thread] = []

    def pages() -> Iterator[int]:
        fetching.append(threading.current_thread())
        try:
            for n in range(100):
                first.set()
                yield n
        finally:
            closed.set()

    with pytest.raises(KeyError), Prefetch(pages(), depth=2):
        assert first.wait(5)
        raise KeyError("the caller's own work failed")  # before taking any page
    assert closed.is_set(), "the page source was not closed"
    assert fetching[0] is not threading.current_thread()
    assert not fetching[0].is_alive(), "the fetching thread still runs"


def test_prefetch_raises_a_failure_in_the_pages_order() -> None:
    def pages() -> Iterator[int]:
        yield 0
        raise RuntimeError("page 1 failed")

    got: list[int] = []
    with Prefetch(pages(), depth=4) as ahead, pytest.raises(RuntimeError, match="page 1 failed"):
        for page in ahead:
            got.append(page)
    assert got == [0]


def test_in_levels_sends_full_groups_as_they_come_and_each_level_s_rest_last() -> None:
    sent: list[tuple[int, list[str]]] = []
    lock = threading.Lock()

    def send(level: int, group: Sequence[str]) -> int:
        with lock:
            sent.append((level, list(group)))
        return len(group)

    def take(level: int, group: Sequence[str], answer: int) -> list[str]:
        assert answer == len(group)
        return [f"{item}/{n}" for item in group for n in range(3)] if level == 0 else []

    epics = [f"e{n}" for n in range(7)]
    in_levels(send, take, epics, levels=2, size=4, workers=3)
    by_level = {level: sorted(x for lv, g in sent if lv == level for x in g) for level in (0, 1)}
    assert by_level[0] == sorted(epics)
    assert len(by_level[1]) == 21 and len(set(by_level[1])) == 21
    sizes = sorted(len(g) for lv, g in sent if lv == 1)
    assert sizes == [1, 4, 4, 4, 4, 4]  # ceil(21 / 4) calls: one partial group, the last


def test_in_levels_raises_a_failed_send_and_sends_nothing_it_would_ready() -> None:
    sent: list[int] = []

    def send(level: int, group: Sequence[int]) -> None:
        sent.append(level)
        if level == 0:
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        in_levels(send, lambda lv, g, a: list(g), [1, 2], levels=2, size=1, workers=1)
    assert 1 not in sent


def _in_order(work: Callable[[int], Any], items: Iterable[int], workers: int) -> list[Any]:
    with InOrder(work, items, workers=workers) as answers:
        return list(answers)


def test_in_order_yields_each_item_with_its_answer_in_the_items_order() -> None:
    def slow_for_small(n: int) -> int:
        time.sleep(0.002 * (10 - n))
        return n * n

    assert _in_order(slow_for_small, range(10), 3) == [(n, n * n) for n in range(10)]


def test_in_order_calls_go_out_before_the_caller_iterates() -> None:
    started = threading.Event()

    def call(n: int) -> int:
        started.set()
        return n

    with InOrder(call, range(3), workers=2) as answers:
        assert started.wait(5)  # the caller has not asked for an answer yet
        assert [n for n, _ in answers] == [0, 1, 2]


def test_in_order_keeps_calls_going_while_the_caller_handles_an_answer() -> None:
    started: list[int] = []
    lock = threading.Lock()
    all_out = threading.Event()

    def call(n: int) -> int:
        with lock:
            started.append(n)
            if len(started) == 5:
                all_out.set()
        return n

    with InOrder(call, range(5), workers=2) as in_order:
        answers = iter(in_order)
        assert next(answers) == (0, 0)
        # the caller still holds the first answer; the pool goes on with the next four
        assert all_out.wait(5)
        assert sorted(started) == list(range(5))
        assert [n for n, _ in answers] == [1, 2, 3, 4]


def test_in_order_takes_at_most_twice_the_workers_ahead() -> None:
    taken: list[int] = []

    def items() -> Iterator[int]:
        for n in range(100):
            taken.append(n)
            yield n

    with InOrder(lambda n: n, items(), workers=3) as answers:
        next(iter(answers))
        assert len(taken) <= 2 * 3 + 1


def test_in_order_raises_a_failure_where_its_item_would_come() -> None:
    def call(n: int) -> int:
        if n == 3:
            raise ValueError("item 3")
        return n

    got: list[int] = []
    with pytest.raises(ValueError, match="item 3"), InOrder(call, range(20), workers=4) as answers:
        for n, _ in answers:
            got.append(n)
    assert got == [0, 1, 2]


def test_in_order_with_one_worker_runs_in_the_callers_thread() -> None:
    seen = _in_order(lambda n: threading.current_thread(), range(3), 1)
    assert all(thread is threading.current_thread() for _, thread in seen)


class _Describes:
    """A fetch that records when each key started and ended, and who ran at once."""

    def __init__(self, failing: Sequence[str] = (), pause: float = 0.02) -> None:
        self.failing = set(failing)
        self.pause = pause
        self.asked: list[str] = []
        self.running = 0
        self.most = 0
        self.first_done_before_others = True
        self._lock = threading.Lock()

    def __call__(self, key: str) -> str:
        with self._lock:
            if self.asked and self.running and len(self.asked) == 1:
                self.first_done_before_others = False
            self.asked.append(key)
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.pause)
        with self._lock:
            self.running -= 1
        if key in self.failing:
            raise ConnectorError(f"cannot describe {key}", system="crm", status=404)
        return f"fields of {key}"


def test_fetch_missing_fills_what_the_cache_lacks_several_at_a_time() -> None:
    cache = {"Account": "known"}
    fetch = _Describes()
    failed = fetch_missing(
        cache, ["Opportunity", "Account", "User", "Task", "Lead", "User"], fetch, workers=4
    )
    assert failed == {}
    assert sorted(fetch.asked) == ["Lead", "Opportunity", "Task", "User"]  # each once
    assert fetch.asked[0] == "Opportunity" and fetch.first_done_before_others
    assert fetch.most == 3  # the three after the first went together
    assert cache == {
        "Account": "known",
        "Opportunity": "fields of Opportunity",
        "User": "fields of User",
        "Task": "fields of Task",
        "Lead": "fields of Lead",
    }


def test_fetch_missing_gives_failures_back_instead_of_raising() -> None:
    cache: dict[str, str] = {}
    fetch = _Describes(failing=["Secret__c"])
    failed = fetch_missing(cache, ["Opportunity", "Secret__c", "User"], fetch, workers=2)
    assert list(failed) == ["Secret__c"] and "cannot describe Secret__c" in str(failed["Secret__c"])
    assert set(cache) == {"Opportunity", "User"}


def test_fetch_missing_stops_when_the_first_fails() -> None:
    """The first may be the sign-in: refused credentials are not tried once per key."""
    fetch = _Describes(failing=["Opportunity"])
    failed = fetch_missing({}, ["Opportunity", "User", "Task"], fetch, workers=4)
    assert list(failed) == ["Opportunity"] and fetch.asked == ["Opportunity"]


def test_fetch_missing_lets_a_programming_error_through() -> None:
    def broken(_key: str) -> str:
        raise KeyError("fields")

    with pytest.raises(KeyError):
        fetch_missing({}, ["Opportunity"], broken, workers=4)
