"""Reconcile reports: JSON, CSV, Markdown and HTML files, and Rich tables for the terminal."""

from handoff_hub.hub.reports.formats import FORMATS, KPI_FORMATS, write_kpis, write_report
from handoff_hub.hub.reports.terminal import print_kpis, print_table

__all__ = ["FORMATS", "KPI_FORMATS", "print_kpis", "print_table", "write_kpis", "write_report"]
