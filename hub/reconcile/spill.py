"""Pages read before they can be used, kept on disk until they can.

The reconcile reads the project tool while it works through the CRM's deals,
but a project can only be compared once every deal is in. When the project
tool answers faster than the deals pass moves (its limits are the looser,
or the CRM's are the tighter: HubSpot's search allows 4-5 a second), the
pages it gets ahead by wait here, in a temporary file, so memory stays flat
however far ahead the read gets.

The file holds pickles this process wrote and only this process reads back.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Generic, TypeVar

__all__ = ["PageSpill"]

_Page = TypeVar("_Page")


class PageSpill(Generic[_Page]):
    """Pages appended to a temporary file, taken back once, in the order they came.

    Not for two threads at once: one adds, then (once it is done) one takes.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="hub-reconcile-pages-")  # noqa: SIM115
        self._count = 0

    def add(self, page: _Page) -> None:
        """Append ``page``."""
        pickle.dump(page, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def take(self) -> Iterator[_Page]:
        """Every page added so far, in order, each read back as it is asked for; then empty."""
        count, self._count = self._count, 0
        self._file.flush()
        self._file.seek(0)
        for _ in range(count):
            yield pickle.load(self._file)  # noqa: S301 - only what add() wrote, in this process
        self._file.seek(0)
        self._file.truncate()

    def close(self) -> None:
        """Delete the file."""
        self._file.close()

    def __enter__(self) -> PageSpill[_Page]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
