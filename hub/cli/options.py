"""Options whose values come from a fixed set, so ``--help`` lists them, and ``--version``."""

from __future__ import annotations

from typing import Annotated

import typer

import handoff_hub

__all__ = ["version_callback"]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hub {handoff_hub.__version__}")
        raise typer.Exit()


def version_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the installed version and exit",
        ),
    ] = False,
) -> None:
    """Handoff Hub: CRM <-> project tool handoffs."""
