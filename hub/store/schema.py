"""The state store's schema, kept current by the Alembic migrations in hub/store/migrations.

Opening a store upgrades its database to the newest revision (``hub db
upgrade`` does the same on its own). A database made before migrations
existed (every table, no ``alembic_version``) is stamped with the first
revision, which is that schema, then upgraded. On PostgreSQL an advisory lock
keeps two processes from migrating at once. A migration that ran is followed
by ``ANALYZE`` of the store's tables (:mod:`handoff_hub.hub.store.statistics`):
a rebuilt index or table must not be planned from missing statistics. A
database that cannot be reached or written raises :class:`~hub.errors.StoreError`
naming the store.

A database already at the newest revision, as on every run but the first
after an upgrade, is recognised with one query and without Alembic, whose
import and reading of the migration scripts cost more than a run with
nothing to do (:func:`at_head`).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from handoff_hub.hub.store.opening import store_errors
from handoff_hub.hub.store.statistics import analyze
from handoff_hub.hub.store.tables import Base

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "BASELINE",
    "alembic_config",
    "at_head",
    "current_revision",
    "head_revision",
    "script_head",
    "upgrade",
    "upgrade_sql",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"
"""The first revision: the schema as it was before migrations."""
_LOCK_KEY = 0x48554253  # "HUBS": PostgreSQL advisory lock id of schema changes


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """Alembic settings for our migrations, on ``connection`` (or, offline, ``url``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


@cache
def head_revision() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with store_errors(engine.url), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


_REVISION = re.compile(r"^(down_)?revision = (?:[\"']([\w-]+)[\"']|None)$", re.MULTILINE)


@cache
def script_head() -> str | None:
    """The newest revision, read from the scripts' ``revision =`` lines without Alembic.

    None (Alembic then decides) unless every script names its revision and
    parent in that plain form and together they end in one head.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        if script.name == "__init__.py":
            continue
        found = {bool(m[1]): m[2] for m in _REVISION.finditer(script.read_text(encoding="utf-8"))}
        revision = found.get(False)
        if revision is None or True not in found:
            return None
        revisions.add(revision)
        if found[True]:
            parents.add(found[True])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """True when the database is at the newest revision (one query, no Alembic)."""
    head = script_head()
    if head is None:
        return False
    with store_errors(engine.url), engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return [row[0] for row in rows] == [head]


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision``; return the revision it was at before."""
    if revision == "head" and at_head(engine):
        return script_head()
    with store_errors(engine.url):
        return _upgrade(engine, revision)


def _upgrade(engine: Engine, revision: str) -> str | None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        before = MigrationContext.configure(connection).get_current_revision()
        if before == head_revision() and revision == "head":
            return before
        config = alembic_config(connection)
        if before is None and inspect(connection).has_table("links"):
            command.stamp(config, BASELINE)
            before = BASELINE
        command.upgrade(config, revision)
        if before is not None:  # a new database has no rows to plan from yet
            analyze(connection, Base.metadata.tables)
    return before


def upgrade_sql(url: str, revision: str = "head") -> None:
    """Print the SQL of the upgrade for ``url``'s dialect (offline; nothing is run)."""
    from alembic import command

    with store_errors(url):
        command.upgrade(alembic_config(url=url), revision, sql=True)
