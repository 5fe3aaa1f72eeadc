"""``hub db upgrade|current``: the state store's schema, through Alembic migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, load
from handoff_hub.hub.cli.console import console

__all__ = ["db_app"]

db_app = typer.Typer(help="The state store's schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(
    config: ConfigOption,
    revision: Annotated[str, typer.Option(help="Target revision")] = "head",
    sql: Annotated[bool, typer.Option("--sql", help="Print the SQL instead of running it")] = False,
) -> None:
    """Migrate the store named in the config to the newest schema (SQLite or PostgreSQL)."""
    from handoff_hub.hub.store.opening import make_engine
    from handoff_hub.hub.store.schema import head_revision, upgrade, upgrade_sql

    with admin_errors():
        url = load(config, check_env=False).config.store.url
        if sql:
            upgrade_sql(url, revision)
            return
        engine = make_engine(url)
        try:
            before = upgrade(engine, revision)
        finally:
            engine.dispose()
    target = head_revision() if revision == "head" else revision
    if before == target:
        console.print(f"store already at revision {target}", markup=False)
    else:
        console.print(f"store upgraded from {before or 'empty'} to {target}", markup=False)


@db_app.command("current")
def current_command(config: ConfigOption) -> None:
    """Show the store's schema revision and the newest one this version of the hub has."""
    from handoff_hub.hub.store.opening import make_engine
    from handoff_hub.hub.store.schema import current_revision, head_revision

    with admin_errors():
        url = load(config, check_env=False).config.store.url
        engine = make_engine(url)
        try:
            current = current_revision(engine)
        finally:
            engine.dispose()
    state = "up to date" if current == head_revision() else "run: hub db upgrade"
    console.print(
        f"store at {current or 'empty'}; newest {head_revision()} ({state})", markup=False
    )
