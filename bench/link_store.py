"""Figure 4 (store part): link writes and look-ups per second as the links table grows to 1M rows.

On SQLite (a file in a temporary folder) and PostgreSQL (a database of its
own, created and dropped here, on the server of ``HUB_BENCH_DATABASE_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), the store's
own calls: ``record_links`` of new links in pages of 500 (a handoff's batch),
then ``links_for`` of 500 stored source ids at a time, picked at random over
the whole table. Each step adds :data:`STEP` links; the rates are per step,
so a rate that falls as the table grows shows in the row. Nothing else runs
on the store; no ANALYZE is run here but the store's own (after migrations
and as the links table grows).

``python -m bench.link_store [ROWS]`` runs it alone (default 1M rows); in
``python -m bench`` it runs once (``--only store``), to :data:`ROWS`.
``python -m bench.link_store ROWS --as-before`` measures the store as it was
before issue 22: the links index as migration 0009 left it, and no ANALYZE
as the table grows.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.report import Figure, print_table
from handoff_hub.hub.store.repo import Link, StateStore
from handoff_hub.hub.store.schema import alembic_config
from handoff_hub.hub.store.statistics import GrowthWatch

TARGET = 20_000.0
ROWS = 1_000_000
STEP = 100_000
PAGE = 500
LOOKUPS = 20_000
"""Source ids looked up after each step (in calls of 500)."""
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A new SQLite store file, removed after."""
    with tempfile.TemporaryDirectory(prefix="hub-bench-links-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'state.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A new database on the bench's PostgreSQL server, dropped after."""
    server = make_url(os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_SERVER))
    name = f"hub_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _links(start: int, count: int) -> list[Link]:
    return [
        Link("won-to-project", "crm", "Opportunity", f"006{n:09d}", "pm", "Project", f"P-{n}")
        for n in range(start, start + count)
    ]


def _write_step(store: StateStore, start: int) -> float:
    """Seconds to record links ``start`` .. ``start + STEP`` in pages of :data:`PAGE`."""
    pages = [_links(n, PAGE) for n in range(start, start + STEP, PAGE)]
    began = time.perf_counter()
    for page in pages:
        store.record_links(page)
    return time.perf_counter() - began


def _lookup_step(store: StateStore, stored: int, rng: random.Random) -> float:
    """Seconds to look up :data:`LOOKUPS` stored source ids, 500 per call."""
    ids = [f"006{n:09d}" for n in rng.sample(range(stored), LOOKUPS)]
    began = time.perf_counter()
    for start in range(0, LOOKUPS, PAGE):
        found = store.links_for(
            "won-to-project", "crm", ids[start : start + PAGE], target_system="pm"
        )
        assert len(found) == PAGE
    return time.perf_counter() - began


def _as_before(store: StateStore) -> None:
    """The links index of revision 0009, and no ANALYZE as the links table grows."""
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0009")
    store.link_statistics = GrowthWatch("links", min_rows=2**62)


def measure_backend(
    backend: str, url: str, rows: int = ROWS, *, as_before: bool = False
) -> list[Figure]:
    """Writes/s and look-ups/s of each step of :data:`STEP` links on the store at ``url``."""
    store = StateStore(url)
    if as_before:
        _as_before(store)
        backend += " (as before)"
    rng = random.Random(7)
    figures: list[Figure] = []
    try:
        for start in range(0, rows, STEP):
            write = _write_step(store, start)
            look = _lookup_step(store, start + STEP, rng)
            details = {
                "rows_before": start,
                "rows_after": start + STEP,
                "write_seconds": round(write, 3),
                "lookup_seconds": round(look, 3),
                "analyzed_so_far": store.link_statistics.analyzed,
                "load_average": os.getloadavg()[0],
            }
            size = start + STEP
            figures.append(
                Figure(
                    "link writes/s (per 100k step)",
                    backend,
                    size,
                    round(STEP / write),
                    TARGET,
                    "min",
                    details,
                )
            )
            figures.append(
                Figure(
                    "link look-ups/s (per 100k step)",
                    backend,
                    size,
                    round(LOOKUPS / look),
                    TARGET,
                    "min",
                    details,
                )
            )
            print(
                f"{backend} {size}: {STEP / write:.0f} writes/s, {LOOKUPS / look:.0f} look-ups/s",
                flush=True,
            )
    finally:
        store.close()
    return figures


def measure(size: int, rows: int = ROWS, *, as_before: bool = False) -> list[Figure]:
    """Both backends to ``rows`` links (``size`` is not used: the figure has its own steps)."""
    figures: list[Figure] = []
    with sqlite_url() as url:
        figures += measure_backend("sqlite", url, rows, as_before=as_before)
    with postgres_url() as url:
        figures += measure_backend("postgresql", url, rows, as_before=as_before)
    return figures


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    print_table(
        measure(0, int(arguments[0]) if arguments else ROWS, as_before="--as-before" in sys.argv)
    )
