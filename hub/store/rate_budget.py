"""The store's side of a shared rate budget: one row per budget, drawn from atomically.

Each reservation is one ``UPDATE ... RETURNING`` that refills the row for the
time since its last update and takes the tokens: PostgreSQL holds the row's
lock until the commit and SQLite the database's, so two processes never both
spend one token. The refill is timed by PostgreSQL's clock (workers on several
machines agree on it); on SQLite, whose processes share one machine, by its
clock. A ``clock`` given replaces both (tests count grants on a simulated clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, Float, cast, extract, func, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoff_hub.hub.store.opening import store_errors
from handoff_hub.hub.store.tables import RateBudgetRow

__all__ = ["StoreRateLedger"]


class StoreRateLedger:
    """A :class:`~handoff_hub.hub.http.shared_ratelimit.RateLedger` in the ``rate_budget`` table."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] | None = None) -> None:
        self.engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"

    def reserve(self, name: str, tokens: float, *, rate: float, capacity: float) -> float:
        """Take ``tokens`` from budget ``name``; return its balance just before the take."""
        with store_errors(self.engine.url), self.engine.begin() as connection:
            now = self._now()
            after = self._draw(connection, name, tokens, rate, capacity, now)
            if after is None:
                self._create(connection, name, capacity, now)
                after = self._draw(connection, name, tokens, rate, capacity, now)
            assert after is not None
        return float(after) + tokens

    def lower(self, name: str, tokens: float, *, rate: float, capacity: float) -> None:
        """Lower budget ``name`` to at most ``tokens`` (refilled to now first)."""
        with store_errors(self.engine.url), self.engine.begin() as connection:
            now = self._now()
            if self._draw(connection, name, 0.0, rate, capacity, now, ceiling=tokens) is None:
                self._create(connection, name, min(capacity, tokens), now)

    def _now(self) -> Any:
        if self._clock is not None:
            return literal(self._clock())
        if self._postgres:
            return cast(extract("epoch", func.clock_timestamp()), Float)
        return literal(time.time())

    def _draw(
        self,
        connection: Connection,
        name: str,
        tokens: float,
        rate: float,
        capacity: float,
        now: Any,
        *,
        ceiling: float | None = None,
    ) -> float | None:
        least, greatest = (func.least, func.greatest) if self._postgres else (func.min, func.max)
        row = RateBudgetRow
        elapsed = greatest(0.0, now - row.updated_at)
        refilled = least(capacity, row.tokens + elapsed * rate)
        if ceiling is not None:
            refilled = least(refilled, ceiling)
        statement = (
            update(row)
            .where(row.name == name)
            .values(tokens=refilled - tokens, updated_at=greatest(row.updated_at, now))
            .returning(row.tokens)
        )
        return connection.execute(statement).scalar_one_or_none()

    def _create(self, connection: Connection, name: str, tokens: float, now: Any) -> None:
        """A full budget, unless another process made it first."""
        insert = pg_insert if self._postgres else sqlite_insert
        statement = insert(RateBudgetRow).values(name=name, tokens=tokens, updated_at=now)
        connection.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
