"""The links look-up uses its index for the source ids, and the store keeps statistics fresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from handoff_hub.hub.store import Link, StateStore
from handoff_hub.hub.store.schema import alembic_config, upgrade
from handoff_hub.hub.store.statistics import GrowthWatch

_LOOKUP = (
    "SELECT id, source_id, slot FROM links WHERE handoff = 'won-to-project' "
    "AND source_system = 'crm' AND target_system = 'pm' AND source_id IN ('006A', '006B')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


def _links(count: int, *, start: int = 0) -> list[Link]:
    return [
        Link("won-to-project", "crm", "Opportunity", f"006{n:06d}", "pm", "issue", f"P-{n}")
        for n in range(start, start + count)
    ]


def _plan(engine: Engine) -> str:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + _LOOKUP)).all()
    return "\n".join(str(row[-1]) for row in rows)


def _analyzed(engine: Engine) -> bool:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            if not connection.dialect.has_table(connection, "sqlite_stat1"):
                return False
            query = "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'links'"
        else:
            query = (
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'links' "
                "AND schemaname = current_schema() AND last_analyze IS NOT NULL"
            )
        return bool(connection.execute(text(query)).scalar())


def test_a_growing_links_table_is_analyzed_and_looked_up_by_source_id(url: str) -> None:
    store = StateStore(url)
    store.link_statistics = GrowthWatch("links", min_rows=300, fraction=0.5)
    try:
        store.record_links(_links(200))
        assert store.link_statistics.analyzed == 0
        assert not _analyzed(store.engine)
        store.record_links(_links(200, start=200))  # 400 added >= 300
        store.record_links(_links(100, start=400))  # 100 < half of 400
        assert store.link_statistics.analyzed == 1
        assert _analyzed(store.engine)
        plan = _plan(store.engine)
        if store.engine.dialect.name == "sqlite":
            assert "USING COVERING INDEX" in plan and "(source_id=? AND handoff=?" in plan
        else:
            assert "Filter" not in plan, plan
            assert "Index Cond: (((source_id)::text = ANY" in plan, plan
    finally:
        store.close()


def test_a_migration_that_ran_analyzes_the_tables(url: str) -> None:
    store = StateStore(url)
    try:
        store.record_links(_links(10))
        assert not _analyzed(store.engine)
        with store.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0009")
        assert upgrade(store.engine) == "0009"
        assert _analyzed(store.engine)
        assert len(store.links()) == 10
    finally:
        store.close()


def test_reopening_a_current_store_does_not_analyze(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore(url).close()
    store = StateStore(url)
    try:
        assert not _analyzed(store.engine)
    finally:
        store.close()
