"""Several paged listings read at once, their pages handed out as one stream.

Each source is read on a thread of a small pool, every request still taking
its turn at the client's token bucket, so latency does not leave the rate
limit unused. Pages go into a :class:`~handoff_hub.hub.http.spill.SpillQueue`
as they arrive: the fetching never waits for the caller (a listing's offset
token cannot expire while the caller works on a page), the caller gets the
first page as soon as it is read, and pages fetched far ahead wait on disk,
so memory stays flat in the number of records. Pages of one source keep
their order; pages of different sources interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

from handoff_hub.hub.http.spill import SpillQueue

__all__ = ["fan_in"]

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
