"""Several paged listings read at once, their pages handed out as one stream.

Each source is read on a thread of a small pool, every request still taking
its turn at the client's token bucket, so latency does not leave the rate
limit unused. Pages go into a :class:`~handoff_hub.hub.http.spill.SpillQueue`
as they arrive: the fetching never waits for the caller (a listing's offset
token cannot expire while the caller works on a page), the caller gets the
first page as soon as it is read, and pages fetched far ahead wait on disk,
so memory stays flat in the number of records. Pages of one source keep
their order; pages of different sources interleave.

:class:`ReadAhead` is one such listing started at once, before its pages are
wanted: a reconcile reads the project tool while it works through the CRM's
deals, and its risks and feedback beside the long progress read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from handoff_hub.hub.http.spill import SpillQueue

__all__ = ["ReadAhead", "fan_in"]

_Page = TypeVar("_Page")

Source = Callable[[], Iterable[_Page]]


def fan_in(
    sources: Sequence[Source[_Page]],
    *,
    workers: int,
    depth: int,
    queue: SpillQueue[_Page] | None = None,
) -> Generator[_Page, None, None]:
    """The pages of every source, up to ``workers`` sources read at a time.

    A failure reaches the caller after the pages put before it, and stops the
    other sources at their next page. Closing the iterator early stops the
    fetching (a page in flight finishes) and deletes what was read ahead.
    ``queue``: the buffer to use (tests look at what it held).
    """
    buffer = queue if queue is not None else SpillQueue[_Page](depth=depth)
    stop = threading.Event()
    fetcher = threading.Thread(
        target=_fetch_all,
        args=(sources, buffer, stop, max(1, workers)),
        name="hub-fan-in",
        daemon=True,
    )
    fetcher.start()
    try:
        yield from buffer
    finally:
        stop.set()
        buffer.close()
        fetcher.join()


def _fetch_all(
    sources: Sequence[Source[_Page]], buffer: SpillQueue[_Page], stop: threading.Event, workers: int
) -> None:
    try:
        _fetch_each(sources, buffer, stop, workers)
    except BaseException as exc:  # the reader must never wait for an end that cannot come
        buffer.fail(exc)


def _fetch_each(
    sources: Sequence[Source[_Page]], buffer: SpillQueue[_Page], stop: threading.Event, workers: int
) -> None:
    if not sources:
        buffer.finish()
        return
    with ThreadPoolExecutor(
        max_workers=min(workers, len(sources)), thread_name_prefix="hub-listing"
    ) as pool:
        futures = [pool.submit(_fetch_one, source, buffer, stop) for source in sources]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in futures if f in done and f.exception()), None)
        if failed is not None:
            stop.set()
            for future in futures:
                future.cancel()
            buffer.fail(failed)
            return
    buffer.finish()


def _fetch_one(source: Source[_Page], buffer: SpillQueue[_Page], stop: threading.Event) -> None:
    if stop.is_set():
        return
    pages = iter(source())
    try:
        for page in pages:
            buffer.put(page)
            if stop.is_set():
                return
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


class ReadAhead(Generic[_Page]):
    """``pages`` read on a thread from now on; :meth:`pages` hands them over in order.

    The read never waits for its caller: a read that did would leave the
    product's rate unused whenever the caller is busy (a reconcile's deals
    pass, the backlog of pages read meanwhile) and add that time to the pass.
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
            _fetch_one(lambda: pages, self._queue, self._stop)
            self._queue.finish()
        except BaseException as exc:  # handed to the caller after the pages before it
            self._failure = exc
            self._queue.fail(exc)

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
