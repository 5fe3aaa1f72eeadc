"""What every ``hub`` command shares: the config option, loading it, failing clearly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from handoff_hub.hub.cli.console import err_console, print_config_error
from handoff_hub.hub.errors import ConfigError, HubError, StoreError
from handoff_hub.hub.http.redact import redact

__all__ = ["CONFIG_EXIT", "ERROR_EXIT", "ConfigOption", "admin_errors", "fail", "load"]

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Hub config YAML")]
CONFIG_EXIT = 2
"""A config (or the command line) is wrong: the admin fixes it and runs again."""
ERROR_EXIT = 1
"""The run met an error: a product, the network or the state store."""


def fail(message: str, code: int = ERROR_EXIT) -> typer.Exit:
    """Print ``message`` (secrets redacted, shown literally) and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(redact(message))}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def load(path: Path, *, check_env: bool = True, warn_env: bool = False) -> Any:
    """The validated hub config (a ConfigError lists every problem).

    ``warn_env``: an unset credential variable is a warning, not a problem (``hub validate``).
    """
    from handoff_hub.hub.config.loading import load_config
    from handoff_hub.hub.registry import known_connectors

    return load_config(
        path, known_connectors=known_connectors(), check_env=check_env, warn_env=warn_env
    )


@contextmanager
def admin_errors() -> Iterator[None]:
    """A config problem exits 2 with every issue listed; a hub error exits 1; no traceback.

    A store URL the hub cannot use is a config problem; a store that fails
    (unreachable, read-only, not a database) is an error. A database error the
    store did not name (the store failed while in use) is reported as a store error.
    """
    try:
        yield
    except ConfigError as exc:
        print_config_error(exc)
        raise typer.Exit(CONFIG_EXIT) from None
    except StoreError as exc:
        raise fail(str(exc), CONFIG_EXIT if exc.config else ERROR_EXIT) from None
    except HubError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        from handoff_hub.hub.store.opening import store_error

        raise fail(str(store_error(None, exc))) from None
