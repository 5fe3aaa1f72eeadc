"""Fresh planner statistics: ``ANALYZE`` after migrations and after the links table grows.

PostgreSQL plans a query from the statistics ``ANALYZE`` last gathered. A
table that was never analyzed (autovacuum off, or not yet run) looks tiny and
uniform to the planner: it picked an index on ``target_system`` alone for the
links look-up and filtered every row of it, 648 link writes/s over the first
100k links against 30k/s after ``ANALYZE``. Nothing in the hub may depend on
autovacuum, so the store analyzes its own tables: every table after a
migration ran, and the links table whenever its inserted rows since the last
analysis pass a share of its size (:class:`GrowthWatch`). On SQLite,
``ANALYZE`` is bounded by ``analysis_limit`` (a sample of each index), so it
stays a few milliseconds at a million rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, Integer, column, func, inspect, select, table, text

__all__ = ["GrowthWatch", "analyze"]

SQLITE_ANALYSIS_LIMIT = 1000
"""Rows of each index SQLite's ANALYZE samples (its documented choice for large databases)."""


def analyze(connection: Connection, tables: Iterable[str]) -> list[str]:
    """``ANALYZE`` each of ``tables`` that exists; return the ones analyzed."""
    present = [name for name in tables if inspect(connection).has_table(name)]
    if not present:
        return []
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(name) for name in present)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        for name in present:
            connection.exec_driver_sql(f"ANALYZE {preparer.quote(name)}")
    else:
        connection.execute(text(f"ANALYZE {names}"))
    return present


class GrowthWatch:
    """Re-analyzes one table once the rows inserted since its last analysis are many.

    Due when the rows added since reach ``fraction`` of the table's size then,
    and at least ``min_rows`` (so small tables are not analyzed on every batch).
    The size is read once, from the largest id (an upper bound that costs one
    index probe); each process counts its own inserts, so with several workers
    each analyzes for the growth it saw.
    """

    def __init__(
        self, table: str, *, min_rows: int = 5000, fraction: float = 0.25, id_column: str = "id"
    ) -> None:
        self.table = table
        self.min_rows = min_rows
        self.fraction = fraction
        self._id_column = id_column
        self._size: int | None = None
        self._added = 0
        self._lock = threading.Lock()
        self.analyzed = 0
        """How many times this watch ran ANALYZE (tests, benchmarks)."""

    def added(self, engine: Engine, rows: int) -> bool:
        """Count ``rows`` just inserted (committed); analyze when due. True when it did."""
        if rows <= 0:
            return False
        with self._lock:
            if self._size is None:
                self._size = max(0, self._largest_id(engine) - rows)
            self._added += rows
            if self._added < max(self.min_rows, self.fraction * self._size):
                return False
            with engine.begin() as connection:
                analyze(connection, [self.table])
            self._size += self._added
            self._added = 0
            self.analyzed += 1
            return True

    def _largest_id(self, engine: Engine) -> int:
        largest = func.max(column(self._id_column, Integer))
        query = select(largest).select_from(table(self.table))
        with engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)
