"""in_parallel: order kept, concurrency bounded, a failure stops what has not started."""

from __future__ import annotations

import threading
import time

import pytest

from hub.http.concurrent import in_parallel, waves


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
