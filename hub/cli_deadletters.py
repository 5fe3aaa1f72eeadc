"""``hub deadletters list|show|replay|discard`` (being written)."""

from __future__ import annotations

import typer

__all__ = ["deadletters_app"]

deadletters_app = typer.Typer(help="Records the hub could not handle, with the reason of each.")
