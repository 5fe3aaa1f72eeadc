"""Alembic environment: the state store's schema, on the connection the hub hands over."""

from __future__ import annotations

from alembic import context

from handoff_hub.hub.store.tables import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate on ``config.attributes["connection"]`` (set by hub.store.schema)."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Print the SQL for ``config.attributes["url"]`` instead of running it."""
    context.configure(
        url=context.config.attributes["url"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
