"""What every ``hub`` command shares: the config option, loading it, failing clearly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.console import err_console, print_config_error
from hub.errors import ConfigError, HubError
from hub.http.redact import redact

__all__ = ["ConfigOption", "admin_errors", "fail", "load"]

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Hub config YAML")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` (secrets redacted) and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {redact(message)}", markup=True)
    return typer.Exit(code)


def load(path: Path, *, check_env: bool = True) -> Any:
    """The validated hub config (a ConfigError lists every problem)."""
    from hub.config import load_config
    from hub.registry import known_connectors

    return load_config(path, known_connectors=known_connectors(), check_env=check_env)


@contextmanager
def admin_errors() -> Iterator[None]:
    """A config problem exits 2 with every issue listed; a hub error exits 1; no traceback."""
    try:
        yield
    except ConfigError as exc:
        print_config_error(exc)
        raise typer.Exit(2) from None
    except HubError as exc:
        raise fail(str(exc)) from None
