"""Pick the writer for a report format."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from handoff_hub.hub.reconcile.kpis import KpiReport
    from handoff_hub.hub.reconcile.model import ReconcileResult

__all__ = ["FORMATS", "KPI_FORMATS", "write_kpis", "write_report"]

FORMATS = ("json", "csv", "md", "html")
KPI_FORMATS = ("json", "md", "html")


def write_report(
    result: ReconcileResult, fmt: str, out: TextIO, *, kpis: KpiReport | None = None
) -> None:
    """Write ``result`` (and ``kpis`` where given) to ``out`` in format ``fmt``.

    For csv, open ``out`` with ``newline=""`` (the csv module writes its own line ends).
    """
    from handoff_hub.hub.reports.as_csv import write_csv
    from handoff_hub.hub.reports.as_html import write_html
    from handoff_hub.hub.reports.as_json import write_json
    from handoff_hub.hub.reports.as_markdown import write_markdown

    if fmt == "json":
        write_json(result, out, kpis=kpis)
    elif fmt == "csv":
        write_csv(result, out)
    elif fmt == "md":
        write_markdown(result, out, kpis=kpis)
    elif fmt == "html":
        write_html(result, out, kpis=kpis)
    else:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_kpis(kpis: KpiReport, fmt: str, out: TextIO) -> None:
    """Write the KPI figures alone in format ``fmt`` (json, md or html)."""
    from handoff_hub.hub.reports.as_html import write_kpis_html
    from handoff_hub.hub.reports.as_json import write_kpis_json
    from handoff_hub.hub.reports.as_markdown import write_kpis_markdown

    if fmt == "json":
        write_kpis_json(kpis, out)
    elif fmt == "md":
        write_kpis_markdown(kpis, out)
    elif fmt == "html":
        write_kpis_html(kpis, out)
    else:
        raise ValueError(f"unknown KPI format {fmt!r}; use one of {', '.join(KPI_FORMATS)}")
