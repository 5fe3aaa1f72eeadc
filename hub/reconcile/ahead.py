"""A read started before its pages are wanted, that never waits for the one who wants them.

The reconcile reads the project tool while it works through the CRM's deals,
and its last checks (risks, feedback) beside the long progress read. A
project can only be compared once every deal is in, so the project tool's
pages may get far ahead: they wait in a
:class:`~handoff_hub.hub.http.spill.SpillQueue`, a few in memory and the rest
on disk, and the read goes on at the pace of the product's limits whatever
the caller is doing. A read that waited for the caller would leave its rate
unused whenever the caller is busy (the tail of the deals pass, the backlog
of pages read meanwhile) and add that time to the pass.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

from handoff_hub.hub.http.spill import SpillQueue

__all__ = ["ReadAhead"]

_Page = TypeVar("_Page")


class ReadAhead(Generic[_Page]):
    """``pages`` read on a thread from now on; :meth:`pages` hands them over in order.

    At most ``depth`` pages are held in memory, the rest in a temporary file.
    Leaving the ``with`` block (or :meth:`close`) stops the read, a page in
    flight finishing first, and deletes what was not taken.
    """

    def __init__(self, pages: Iterator[_Page], *, depth: int) -> None:
        self._queue = SpillQueue[_Page](depth=depth)
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(
            target=self._read, args=(pages,), name="hub-read-ahead", daemon=True
        )
        self._thread.start()

    def _read(self, pages: Iterator[_Page]) -> None:
        try:
            for page in pages:
                self._queue.put(page)
                if self._stop.is_set():
                    return
            self._queue.finish()
        except BaseException as exc:  # handed to the caller after the pages before it
            self._failure = exc
            self._queue.fail(exc)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def check(self) -> None:
        """Raise the read's failure now, if it failed (else it comes after its pages)."""
        if self._failure is not None:
            raise self._failure

    def pages(self) -> Iterator[_Page]:
        """Every page in order, waiting for each that is not read yet.

        Raises:
            BaseException: the read's failure, after the pages read before it.
        """
        yield from self._queue

    @property
    def spilled(self) -> int:
        """Pages that waited on disk so far."""
        return self._queue.spilled

    def close(self) -> None:
        """Stop the read (a page in flight finishes) and delete what it read ahead."""
        self._stop.set()
        self._queue.close()
        self._thread.join()

    def __enter__(self) -> ReadAhead[_Page]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
