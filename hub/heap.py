"""Keep the garbage collector off the objects a long pass only reads.

A full collection walks every tracked object, and a hub process holds several
hundred thousand of them before a pass begins (its imports: SQLAlchemy,
pydantic, httpx; the loaded config and mappings). A reconcile allocates enough
to trigger a full collection every few pages, so at 100k pairs those walks
were 40 % of its time (31 s, 18 s without). Freezing what exists when the pass
starts (``gc.freeze``) takes it out of the collector's sight; it is unfrozen
when the pass ends. Freezing is per process: in a process that runs other work
on other threads (a Prefect worker), cycles that work drops during the pass
are collected when the pass ends rather than as they go; objects without
cycles are freed as always, by their reference counts.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_heap"]


class _Freezer:
    """Counts the passes inside ``frozen_heap``: the first freezes, the last unfreezes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.depth = 0

    def enter(self) -> None:
        with self.lock:
            if self.depth == 0:
                gc.collect()
                gc.freeze()
            self.depth += 1

    def leave(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                gc.unfreeze()


_freezer = _Freezer()


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Run the block with the heap as it is now frozen (nested and threaded uses share one)."""
    _freezer.enter()
    try:
        yield
    finally:
        _freezer.leave()
