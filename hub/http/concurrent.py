"""A few requests in flight at once, so latency does not leave a rate limit unused.

One request at a time moves at most 1 / latency requests a second: at 150 ms,
under 7/s, a third of what HubSpot (19/s) or Asana (25/s) allow. Bulk writes
whose requests do not depend on each other run on a small thread pool
instead; every request still takes its turn at the client's token bucket, so
the rate stays under the product's limit whatever the pool's size.
"""

from __future__ import annotations

import collections
import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from handoff_hub.hub.errors import HubError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "InOrder",
    "Prefetch",
    "fetch_missing",
    "in_levels",
    "in_parallel",
    "read_ahead",
    "waves",
]

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def in_parallel(work: Callable[[_In], _Out], items: Iterable[_In], *, workers: int) -> list[_Out]:
    """``[work(item) for item in items]``, up to ``workers`` at a time, in the items' order.

    As with the loop it replaces, a failure stops the work: items not yet
    started are dropped, those in flight finish, and the first failure in
    item order is raised.
    """
    todo: Sequence[_In] = list(items)
    if workers <= 1 or len(todo) <= 1:
        return [work(item) for item in todo]
    with ThreadPoolExecutor(
        max_workers=min(workers, len(todo)), thread_name_prefix="hub-http"
    ) as pool:
        futures = [pool.submit(work, item) for item in todo]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            future.cancel()
    for future in futures:
        if not future.cancelled() and (error := future.exception()) is not None:
            raise error
    return [future.result() for future in futures]


def fetch_missing(
    cache: MutableMapping[str, _Out],
    keys: Iterable[str],
    fetch: Callable[[str], _Out],
    *,
    workers: int,
) -> dict[str, HubError]:
    """Put ``fetch(key)`` into ``cache`` for each key it lacks, up to ``workers`` at a time.

    For look-ups a run would otherwise make one after another as it needs
    them (an org's object descriptions): asked together, they wait one round
    trip per ``workers`` instead of one each. The first goes alone, as it may
    sign in for the others; if it fails, the others are not asked.

    Returns:
        The failure of each key that failed, for the caller's own look-up to
        raise where it always did (instead of asking a second time).
    """
    todo = [key for key in dict.fromkeys(keys) if key not in cache]
    failed: dict[str, HubError] = {}

    def attempt(key: str) -> None:
        try:
            cache[key] = fetch(key)
        except HubError as exc:
            failed[key] = exc

    if todo:
        attempt(todo[0])
        if not failed:
            in_parallel(attempt, todo[1:], workers=workers)
    return failed


class InOrder(Generic[_In, _Out]):
    """``(item, work(item))`` in the items' order, up to ``workers`` calls at a time.

    The calls go out from the moment this is made (``2 * workers`` items taken
    ahead), so the caller can do other work while the first answers come, and
    the pool does not wait for the caller either: while it handles one answer,
    the next items' calls are already out. A paced read so keeps its rate
    through the caller's work instead of losing it at every group's end.
    A failure is raised where its item would be yielded; leaving the ``with``
    block (or :meth:`close`) drops the items not yet started, and those in
    flight finish. With one worker, each call runs in the caller's thread as
    it iterates.
    """

    def __init__(self, work: Callable[[_In], _Out], items: Iterable[_In], *, workers: int) -> None:
        self._work = work
        self._source = iter(items)
        self._pool = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hub-http")
            if workers > 1
            else None
        )
        self._pending: collections.deque[tuple[_In, Future[_Out]]] = collections.deque()
        if self._pool is not None:
            for item in itertools.islice(self._source, 2 * workers):
                self._pending.append((item, self._pool.submit(work, item)))

    def __iter__(self) -> Iterator[tuple[_In, _Out]]:
        if self._pool is None:
            for item in self._source:
                yield item, self._work(item)
            return
        while self._pending:
            item, future = self._pending.popleft()
            answer = future.result()
            following = next(self._source, _END)
            if following is not _END:
                nxt = cast("_In", following)
                self._pending.append((nxt, self._pool.submit(self._work, nxt)))
            yield item, answer

    def close(self) -> None:
        """Drop the items not started; wait for those in flight."""
        for _, left in self._pending:
            left.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> InOrder[_In, _Out]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_END = object()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def read_ahead(
    pages: Iterator[_Out],
    *,
    enabled: bool = True,
    depth: int = 1,
    more: Callable[[], bool] | None = None,
) -> Iterator[_Out]:
    """Yield ``pages`` while the next ones are already being fetched, on a thread.

    A cursor read cannot ask for page n+1 before page n names it, but it need
    not wait for the caller to finish with page n: the next request goes out
    as soon as this page is handed over, so the caller's work on a page (or
    its own calls, such as a page's enrichment) and the server's work on the
    next overlap. Up to ``depth`` pages are fetched ahead. Pages still come one
    after another and in order, a failure surfaces where the plain loop would
    raise it, and a caller who stops early leaves at most ``depth`` pages
    fetched and not taken.

    ``more``, when the source can tell, says after the first page whether
    another follows: a one-page read (most lookups) then starts no thread.
    """
    if not enabled:
        yield from pages
        return
    source = pages
    if more is not None:
        first = next(source, _END)  # a failure here is the plain loop's
        if first is _END:
            return
        if not more():
            try:
                yield cast("_Out", first)
                yield from source
            finally:
                _close(source)
            return
        pages = itertools.chain([cast("_Out", first)], source)
    fetched = Prefetch(pages, depth=depth, closes=source)
    try:
        yield from fetched
    finally:
        fetched.close()


class Prefetch(Generic[_Out]):
    """``pages`` fetched on a thread from the moment this is made, up to ``depth`` ahead.

    The pages wait in memory, up to ``depth``, for the caller to iterate; the
    fetching waits when they are all taken up. :meth:`close` (or leaving the
    ``with`` block) stops the thread, whether or not every page was taken.
    ``closes``: the generator behind ``pages``, closed on the fetching thread.
    """

    def __init__(
        self,
        pages: Iterator[_Out],
        *,
        depth: int,
        closes: Iterator[Any] | None = None,
    ) -> None:
        self._pages = pages
        self._source = pages if closes is None else closes
        self._ready: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._room = threading.Semaphore(max(1, depth))
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._fetch, name="hub-read-ahead", daemon=True)
        self._worker.start()

    def _fetch(self) -> None:
        try:
            while self._room.acquire() and not self._stop.is_set():
                page = next(self._pages, _END)
                self._ready.put(page)
                if page is _END:
                    return
        except BaseException as exc:  # handed to the caller, in the pages' order
            self._ready.put(_Failed(exc))
        finally:
            _close(self._source)

    def __iter__(self) -> Iterator[_Out]:
        """The pages not yet taken, waiting for each."""
        while (page := self._ready.get()) is not _END:
            if isinstance(page, _Failed):
                raise page.error
            self._room.release()
            yield page

    def close(self) -> None:
        """Stop fetching and wait for the thread (a page in flight finishes first)."""
        self._stop.set()
        self._room.release()
        self._worker.join()

    def __enter__(self) -> Prefetch[_Out]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _close(pages: Iterator[Any]) -> None:
    close = getattr(pages, "close", None)
    if close is not None:
        close()


def waves(items: Iterable[_In], keys: Callable[[_In], Iterable[str]]) -> list[list[_In]]:
    """Consecutive runs of ``items`` in which no key repeats: each may go in parallel.

    Two writes to one record must land in order; an item naming a key its
    run already holds starts the next run, which goes after it.
    """
    runs: list[list[_In]] = []
    held: set[str] = set()
    for item in items:
        mine = set(keys(item))
        if not runs or held & mine:
            runs.append([])
            held = set()
        runs[-1].append(item)
        held |= mine
    return runs


def in_levels(
    send: Callable[[int, Sequence[_In]], _Out],
    take: Callable[[int, Sequence[_In], _Out], Iterable[_In]],
    first: Iterable[_In],
    *,
    levels: int,
    size: int,
    workers: int,
) -> None:
    """Items sent level by level in groups of ``size``, a level not waiting for the one above.

    ``send(level, group)`` makes one call (on a pool thread); ``take(level,
    group, answer)`` handles its answer on the caller's thread and returns the
    items that answer makes ready at the next level (an Epic's answer readies
    its tasks). A full group goes out as soon as it is ready, the deepest level
    first; a level's last, partial group once nothing more can come to it. So
    the calls are as few as waiting for each level would make them, while up
    to ``workers`` stay in flight across levels.

    A failure of ``send`` stops the work: groups in flight finish, and it is raised.
    """
    buffers: list[list[_In]] = [list(first)] + [[] for _ in range(levels - 1)]
    flying = [0] * levels

    def ready() -> tuple[int, list[_In]] | None:
        for level in reversed(range(levels)):
            pending = buffers[level]
            above_done = all(not buffers[n] and not flying[n] for n in range(level))
            if len(pending) >= size or (pending and above_done):
                buffers[level] = pending[size:]
                return level, pending[:size]
        return None

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hub-http") as pool:
        inflight: dict[Future[_Out], tuple[int, list[_In]]] = {}
        while True:
            while len(inflight) < max(1, workers) and (picked := ready()) is not None:
                flying[picked[0]] += 1
                inflight[pool.submit(send, *picked)] = picked
            if not inflight:
                return
            done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            for future in done:
                level, group = inflight.pop(future)
                flying[level] -= 1
                made = list(take(level, group, future.result()))
                if made and level + 1 < levels:
                    buffers[level + 1].extend(made)
