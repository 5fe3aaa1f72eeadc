"""frozen_heap: the heap is frozen inside the block, and only there."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from handoff_hub.hub.heap import frozen_heap


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_heap_is_frozen_inside_and_unfrozen_after() -> None:
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_nested_and_threaded_passes_unfreeze_with_the_last() -> None:
    entered, release = threading.Event(), threading.Event()

    def other_pass() -> None:
        with frozen_heap():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=other_pass)
    with frozen_heap():
        worker.start()
        entered.wait(5)
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() > 0  # the other thread's pass is still running
    release.set()
    worker.join(5)
    assert gc.get_freeze_count() == 0


def test_garbage_from_before_the_pass_is_collected_not_frozen() -> None:
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    del cycle
    with frozen_heap():
        assert alive() is None


def test_an_error_in_the_block_still_unfreezes() -> None:
    with pytest.raises(RuntimeError), frozen_heap():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0
