"""A queue between fetching threads and one reader that never makes the fetchers wait.

A listing read ahead of its consumer must not stall on it: Asana's offset
tokens expire, so a listing paused while the caller works through a page
(creating projects, say) can lose its place. The fetchers put pages here and
go on at once; the first ``depth`` pages wait in memory, later ones in a
temporary file, so memory stays flat however far ahead the fetching gets (the
reconcile's reads ahead, :class:`~handoff_hub.hub.http.fanin.ReadAhead`, wait here
too). The reader takes pages in the order they were put.

The file holds pickles this process wrote and only this process reads back.
"""

from __future__ import annotations

import collections
import os
import pickle
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any, Generic, TypeVar

__all__ = ["SpillQueue"]

_Item = TypeVar("_Item")
_END = object()
"""The end of the stream (never written to the file: an unpickled copy would be another object)."""


class SpillQueue(Generic[_Item]):
    """First in, first out; ``put`` never blocks; at most ``depth`` items held in memory.

    Any number of threads may :meth:`put`; one reader iterates. A fetcher ends
    the stream with :meth:`finish` (or :meth:`fail`, whose error the reader
    raises after the items put before it).
    """

    def __init__(self, *, depth: int) -> None:
        self._depth = max(1, depth)
        self._memory: collections.deque[Any] = collections.deque()
        self._file: IO[bytes] | None = None
        self._written = 0
        self._read = 0
        self._on_disk = 0
        self._ready = threading.Condition()
        self._closed = False
        self._ending: object | None = None
        self.spilled = 0
        """Items that went through the file (a figure for tests and the bench)."""
        self.peak_in_memory = 0

    def put(self, item: _Item) -> None:
        """Append ``item``: in memory while there is room and none waits on disk, else on disk."""
        self._add(item)

    def finish(self) -> None:
        """No more items: the reader stops after the last one."""
        self._end(_END)

    def fail(self, error: BaseException) -> None:
        """The reader raises ``error`` once it has taken the items put before it."""
        self._end(_Failed(error))

    def _end(self, marker: object) -> None:
        # Kept beside the items, never pickled: it comes once every item is taken.
        with self._ready:
            if self._ending is None:
                self._ending = marker
            self._ready.notify()

    def _add(self, item: Any) -> None:
        with self._ready:
            if self._closed:
                return
            if self._on_disk == 0 and len(self._memory) < self._depth:
                self._memory.append(item)
                self.peak_in_memory = max(self.peak_in_memory, len(self._memory))
            else:
                self._spill(item)
            self._ready.notify()

    def _spill(self, item: Any) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="hub-read-ahead-")  # noqa: SIM115
        self._file.seek(self._written)
        pickle.dump(item, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._written = self._file.tell()
        self._on_disk += 1
        self.spilled += 1

    def _take(self) -> Any:
        with self._ready:
            while not self._memory and self._on_disk == 0 and self._ending is None:
                self._ready.wait()
            if self._memory:
                return self._memory.popleft()
            if self._on_disk:
                return self._unspill()
            return self._ending

    def _unspill(self) -> Any:
        assert self._file is not None
        self._file.seek(self._read)
        item = pickle.load(self._file)  # noqa: S301 - only what _spill wrote, in this process
        self._read = self._file.tell()
        self._on_disk -= 1
        if self._on_disk == 0:
            self._file.seek(0)
            self._file.truncate()
            self._written = self._read = 0
        return item

    def __iter__(self) -> Iterator[_Item]:
        """The items in the order they were put, waiting for each; ends at :meth:`finish`."""
        while (item := self._take()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item

    def disk_bytes(self) -> int:
        """Bytes the file holds now (0 without one)."""
        return 0 if self._file is None else os.fstat(self._file.fileno()).st_size

    def close(self) -> None:
        """Delete the file; items not taken (and any put later) are dropped."""
        with self._ready:
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None
            self._memory.clear()
            self._on_disk = 0

    def __enter__(self) -> SpillQueue[_Item]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
