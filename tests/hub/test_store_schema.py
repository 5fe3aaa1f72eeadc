"""The store's schema comes from Alembic migrations, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Column,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    create_engine,
    inspect,
    text,
)
from typer.testing import CliRunner

from handoff_hub.hub.cli.main import app
from handoff_hub.hub.store import Link, StateStore
from handoff_hub.hub.store.schema import (
    BASELINE,
    alembic_config,
    at_head,
    current_revision,
    head_revision,
    script_head,
    upgrade,
)
from handoff_hub.hub.store.tables import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_the_migrations_build_exactly_the_tables_the_code_uses(url: str) -> None:
    store = StateStore(url)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []
    finally:
        store.close()


def test_a_store_made_before_migrations_is_stamped_then_upgraded(url: str) -> None:
    engine = create_engine(url)
    # made by 0002, 0004, 0006, 0008, 0011
    later = {"leases", "handled", "seen_deliveries", "turns", "rate_budget"}
    baseline = [t for name, t in Base.metadata.tables.items() if name not in {*later, "links"}]
    Base.metadata.create_all(engine, tables=baseline)
    _links_at_baseline().create(engine)  # 0007 added its slot
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_links_target_key"))  # added by 0003
        connection.execute(text("DROP INDEX ix_runs_holder"))  # added by 0005
        connection.execute(text("ALTER TABLE runs DROP COLUMN holder"))
        connection.execute(text("ALTER TABLE runs DROP COLUMN flow_run_id"))  # added by 0009
        connection.execute(
            Base.metadata.tables["cursors"].insert().values(name="won-to-project:crm", value="x")
        )
    engine.dispose()

    store = StateStore(url)
    try:
        assert current_revision(store.engine) == head_revision()
        assert store.get_cursor("won-to-project:crm") == "x"
        assert inspect(store.engine).has_table("leases")
        assert inspect(store.engine).has_table("handled")
    finally:
        store.close()


def _links_at_baseline() -> Table:
    old = Base.metadata.tables["links"]
    columns = [Column(c.name, c.type, nullable=c.nullable) for c in old.columns if c.name != "slot"]
    return Table(
        "links",
        MetaData(),
        *columns,
        PrimaryKeyConstraint("id"),
        UniqueConstraint("handoff", "source_system", "source_id", "target_system", name="uq_link"),
        Index("ix_links_target", "target_system", "target_id"),
        Index("ix_links_target_key", "target_system", "target_key"),
    )


def test_downgrade_then_upgrade_keeps_the_data(url: str) -> None:
    store = StateStore(url)
    store.record_link(Link("won-to-project", "crm", "Opportunity", "006A", "pm", "issue", "1"))
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), BASELINE)
    assert not inspect(store.engine).has_table("leases")
    assert upgrade(store.engine) == BASELINE
    assert inspect(store.engine).has_table("leases")
    assert [lk.source_id for lk in store.links()] == ["006A"]
    store.close()


def test_hub_db_upgrade_and_current(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    examples = Path(__file__).resolve().parents[2] / "examples" / "salesforce-jira.yaml"
    data = yaml.safe_load(examples.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        system["mapping"] = str((examples.parent / system["mapping"]).resolve())
    data["store"] = {"url": f"sqlite:///{tmp_path / 'hub.db'}"}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "-c", str(config)])
    assert first.exit_code == 0, first.output
    assert f"upgraded from empty to {head_revision()}" in first.output
    again = runner.invoke(app, ["db", "upgrade", "-c", str(config)])
    assert f"already at revision {head_revision()}" in again.output
    current = runner.invoke(app, ["db", "current", "-c", str(config)])
    assert "up to date" in current.output
    sql = runner.invoke(app, ["db", "upgrade", "-c", str(config), "--sql"])
    assert sql.exit_code == 0 and "CREATE TABLE leases" in sql.output


def test_the_head_read_from_the_scripts_is_alembics(url: str) -> None:
    assert script_head() == head_revision()
    engine = create_engine(url)
    try:
        assert not at_head(engine)  # never migrated
        upgrade(engine)
        assert at_head(engine)
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), BASELINE)
        assert not at_head(engine)
    finally:
        engine.dispose()


def test_a_store_at_head_opens_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore(url).close()
    code = (
        "import sys; from handoff_hub.hub.store import StateStore; "
        f"StateStore({url!r}).close(); print(sorted(m for m in sys.modules if 'alembic' in m))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
