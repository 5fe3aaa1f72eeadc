"""Query cursors of the sandbox: ``nextRecordsUrl`` paging of query and queryAll.

A result longer than its batch is kept under a locator (``01g...``); each
page names the next one as ``{endpoint}/{locator}-{offset}``. Like a real org
the sandbox keeps a limited number of cursors open; the oldest go first.
"""

from __future__ import annotations

import random
import string
import threading
from dataclasses import dataclass
from typing import Any

from handoff_hub.sandboxes.salesforce.api import BadRequest

__all__ = ["MAX_OPEN_CURSORS", "QueryCursors"]

MAX_OPEN_CURSORS = 10


@dataclass
class _Cursor:
    rows: list[dict[str, Any]]
    batch: int
    total: int
    endpoint: str


class QueryCursors:
    """The open cursors of one org."""

    def __init__(self, seed: int) -> None:
        self._cursors: dict[str, _Cursor] = {}
        self._rng = random.Random(f"salesforce-cursor-{seed}")
        self._lock = threading.Lock()

    def first_page(
        self, rows: list[dict[str, Any]], total: int, batch: int, version: str, endpoint: str
    ) -> dict[str, Any]:
        """The whole result, or its first batch with a ``nextRecordsUrl``."""
        if len(rows) <= batch:
            return {"totalSize": total, "done": True, "records": rows}
        with self._lock:
            locator = "01g" + "".join(self._rng.choices(string.ascii_letters + string.digits, k=15))
            self._cursors[locator] = _Cursor(rows, batch, total, endpoint)
            while len(self._cursors) > MAX_OPEN_CURSORS:
                self._cursors.pop(next(iter(self._cursors)))
        return self._page(locator, 0, version)

    def next_page(self, locator_text: str, version: str) -> dict[str, Any]:
        """The page a ``nextRecordsUrl`` names.

        Raises:
            BadRequest: INVALID_QUERY_LOCATOR for an unknown or closed cursor.
        """
        locator, _, offset = locator_text.rpartition("-")
        cursor = self._cursors.get(locator)
        if cursor is None or not offset.isdigit() or int(offset) >= len(cursor.rows):
            raise BadRequest(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(locator, int(offset), version)

    def _page(self, locator: str, offset: int, version: str) -> dict[str, Any]:
        cursor = self._cursors[locator]
        end = offset + cursor.batch
        page: dict[str, Any] = {"totalSize": cursor.total, "done": end >= len(cursor.rows)}
        if end < len(cursor.rows):
            root = f"/services/data/v{version}/{cursor.endpoint}"
            page["nextRecordsUrl"] = f"{root}/{locator}-{end}"
        return {**page, "records": cursor.rows[offset:end]}
