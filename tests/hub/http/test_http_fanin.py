"""Listings read ahead on threads into a queue that spills to disk: order, bounds, failures."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from handoff_hub.hub.http.fanin import fan_in
from handoff_hub.hub.http.spill import SpillQueue

WAIT = 10.0
"""Seconds a test waits for a thread before it fails (never reached when the code works)."""


def test_items_come_back_in_order_through_memory_and_disk() -> None:
    with SpillQueue[list[int]](depth=2) as queue:
        for n in range(5):
            queue.put([n])
        taken = iter(queue)
        assert next(taken) == [0]
        queue.put([5])  # the file still holds older items: this one goes after them
        queue.finish()
        assert list(taken) == [[1], [2], [3], [4], [5]]
        assert queue.peak_in_memory == 2 and queue.spilled == 4
        assert queue.disk_bytes() == 0  # emptied once read back


def test_a_failure_comes_after_the_items_put_before_it() -> None:
    queue = SpillQueue[int](depth=1)
    queue.put(1)
    queue.put(2)
    queue.fail(ValueError("listing refused"))
    taken = []
    with pytest.raises(ValueError, match="listing refused"):
        taken.extend(queue)
    assert taken == [1, 2]
    queue.close()


def test_the_first_page_is_handed_out_while_the_source_still_reads() -> None:
    first_taken = threading.Event()

    def listing() -> Iterator[list[str]]:
        yield ["a"]
        assert first_taken.wait(WAIT), "the caller never got the first page"
        yield ["b"]

    pages = fan_in([listing], workers=1, depth=4)
    assert next(pages) == ["a"]
    first_taken.set()
    assert list(pages) == [["b"]]


def test_fetching_never_waits_for_a_slow_caller_and_memory_stays_bounded() -> None:
    done = threading.Event()

    def listing(name: str) -> Iterator[list[str]]:
        for n in range(10):
            yield [f"{name}{n}"]

    def last() -> Iterator[list[str]]:
        yield from listing("c")
        done.set()

    queue = SpillQueue[list[str]](depth=3)
    pages = fan_in(
        [lambda: listing("a"), lambda: listing("b"), last], workers=3, depth=3, queue=queue
    )
    first = next(pages)
    assert done.wait(WAIT)  # every source read to its end while the caller held one page
    got = [first, *pages]
    names = [p[0] for p in got]
    assert sorted(names) == sorted(f"{x}{n}" for x in "abc" for n in range(10))
    for x in "abc":  # each source's pages keep their order
        assert [n for n in names if n[0] == x] == [f"{x}{n}" for n in range(10)]
    assert queue.peak_in_memory <= 3 and queue.spilled >= 20


def test_a_failing_source_stops_the_read_and_closing_early_stops_the_sources() -> None:
    def broken() -> Iterator[list[int]]:
        yield [1]
        raise RuntimeError("HTTP 500 after retries")

    with pytest.raises(RuntimeError, match="HTTP 500"):
        list(fan_in([broken], workers=2, depth=2))

    stopped = threading.Event()

    def endless() -> Iterator[list[int]]:
        try:
            n = 0
            while True:
                n += 1
                yield [n]
        finally:
            stopped.set()

    pages = fan_in([endless], workers=1, depth=2)
    assert next(pages) == [1]
    pages.close()
    assert stopped.is_set()
