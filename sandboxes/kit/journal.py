"""The calls a sandbox received, which tests and benchmarks read ("plan made zero write calls")."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Call",
    "CallJournal",
]


@dataclass(frozen=True)
class Call:
    """One request the sandbox received."""

    method: str
    path: str
    status: int
    fault: str | None = None
    in_batch: bool = False
    """An action carried by a batch request (journaled on its own; not an HTTP request)."""


class CallJournal:
    """Thread-safe list of calls, with counts by kind."""

    _WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, read_only_posts: Sequence[str] = ()) -> None:
        """Start empty.

        Args:
            read_only_posts: Regular expressions of the paths the product POSTs
                to only read (searches, batch reads, tokens); :meth:`writes`
                leaves them out.
        """
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._reads = [re.compile(p) for p in read_only_posts]

    def add(self, call: Call) -> None:
        """Record a call."""
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        """A copy of every call so far."""
        with self._lock:
            return list(self._calls)

    def count(self, *, method: str | None = None, path_prefix: str = "") -> int:
        """Number of calls matching a method and path prefix."""
        return sum(
            1
            for c in self.calls
            if (method is None or c.method == method) and c.path.startswith(path_prefix)
        )

    def writes(self, *, read_paths: tuple[str, ...] = ()) -> list[Call]:
        """Calls that change data: write methods, less POSTs that only read.

        The sandbox's own ``read_only_posts`` are left out, and so are paths
        starting with one of ``read_paths``.
        """
        return [
            c
            for c in self.calls
            if c.method in self._WRITE_METHODS
            and not any(c.path.startswith(p) for p in read_paths)
            and not (c.method == "POST" and any(r.fullmatch(c.path) for r in self._reads))
        ]

    def requests(self) -> list[Call]:
        """The HTTP requests received (batch actions are inside one of them)."""
        return [c for c in self.calls if not c.in_batch]

    def clear(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()
