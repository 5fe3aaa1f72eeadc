"""Opening the store's database, and the errors an admin can act on when that fails.

A store URL names SQLite or PostgreSQL. A URL the hub cannot use (another
database, a driver that is not installed, no URL at all) is a config problem;
a store that cannot be reached, refuses the role, is read-only or is not a
database is a problem of the store. Either way the admin gets one
:class:`~hub.errors.StoreError` line with the URL (password masked) and what to
do, never a driver's traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from handoff_hub.hub.errors import StoreError

__all__ = ["make_engine", "masked_url", "store_error", "store_errors"]

USABLE = "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
_USERINFO = re.compile(r"(?<=//)([^/@:]*):[^/@]*@")
# What to do, by the words of the database's own message: the first entry with an
# alternative whose words all appear in it.
_HINTS: tuple[tuple[tuple[tuple[str, ...], ...], str], ...] = (
    (
        (("role",), ("password authentication",), ("no password supplied",)),
        "check the user and password in store.url, or create that role on the server",
    ),
    (
        (("database", "does not exist"),),
        "create the database on the server, or name an existing one in store.url",
    ),
    (
        (("readonly",), ("read-only",), ("read only",)),
        "the hub writes to its store: make the file and its folder writable, "
        "or point store.url at a writable path",
    ),
    (
        (("unable to open database file",),),
        "check that the folder exists and that the hub may create and write files in it",
    ),
    (
        (("not a database",), ("malformed",)),
        "the file is not a SQLite database the hub wrote: point store.url at the hub's "
        "state file or at a new path",
    ),
    (
        (("permission denied",),),
        "grant the role the right to create and write tables in its schema",
    ),
    (
        (("connection refused",), ("could not connect",), ("timeout",), ("timed out",)),
        "check that the database server is running and reachable from here",
    ),
)


def masked_url(url: str | URL) -> str:
    """``url`` with its password replaced by ``***``, even when it does not parse."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return _USERINFO.sub(r"\1:***@", str(url))
    return parsed.render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    """The database's own message on one line (without SQLAlchemy's background link)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return " ".join(str(cause).split()) or type(cause).__name__


def _hint(reason: str) -> str:
    lowered = reason.lower()
    for alternatives, hint in _HINTS:
        if any(all(word in lowered for word in words) for words in alternatives):
            return hint
    return "check store.url and that the database is reachable and writable"


def store_error(url: str | URL | None, exc: BaseException) -> StoreError:
    """The StoreError an admin reads for ``exc``, met while opening or using the store at ``url``.

    ``url`` None: the store is not known where the error is caught.
    """
    where = f" {masked_url(url)}" if url is not None else ""
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return StoreError(
            f"store.url{where}: not a database the hub can use; {USABLE}", config=True
        )
    if isinstance(exc, ImportError):
        return StoreError(
            f"store.url{where}: its database driver ({exc.name or exc}) is not installed; {USABLE}",
            config=True,
        )
    if isinstance(exc, OSError):
        return StoreError(
            f"state store{where}: {exc.strerror or exc} ({exc.filename}); "
            "check that its folder exists or can be created, and that the hub may write in it"
        )
    reason = _reason(exc)
    return StoreError(f"state store{where}: {reason}; {_hint(reason)}")


@contextmanager
def store_errors(url: str | URL) -> Iterator[None]:
    """Turn a database error inside the block into a StoreError naming the store at ``url``."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise store_error(url, exc) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for the store at ``url`` (a SQLite file's folder is created).

    Raises:
        StoreError: The URL is not one the hub can use, or its folder cannot be made.
    """
    try:
        return _engine(url)
    except (SQLAlchemyError, ImportError, OSError) as exc:
        raise store_error(url, exc) from exc


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine
