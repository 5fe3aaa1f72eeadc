"""Reconcile reports: JSON, CSV, Markdown and HTML files, and Rich tables for the terminal.

The writers are imported when first used: the CLI names the formats on every
start, and a ``hub run`` should not pay for the report code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff_hub.hub.reports.formats import FORMATS, KPI_FORMATS, write_kpis, write_report

if TYPE_CHECKING:
    from handoff_hub.hub.reports.terminal import print_kpis, print_table

__all__ = ["FORMATS", "KPI_FORMATS", "print_kpis", "print_table", "write_kpis", "write_report"]


def __getattr__(name: str) -> Any:
    if name in {"print_kpis", "print_table"}:
        from handoff_hub.hub.reports import terminal

        return getattr(terminal, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
