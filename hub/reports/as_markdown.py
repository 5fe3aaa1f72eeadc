"""The Markdown report: summary table, KPIs and a detail table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import KIND_TITLES, Kind, ReconcileResult
from handoff_hub.hub.reports.figures import COLUMN_TITLES, COLUMNS, cells, kpi_figures
from handoff_hub.hub.visible import visible

__all__ = ["md_escape", "write_kpis_markdown", "write_markdown"]

# Backslash-escape what Markdown would read as syntax (tables, emphasis, links, raw HTML,
# entities), so record values from the CRM and PM show as the text they are; control and
# bidi characters are written as visible escapes (hub.visible).
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~])")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def md_escape(value: str) -> str:
    """``value`` as the literal text of one table cell (newlines become ``<br>``)."""
    return _NEWLINES.sub("<br>", _SPECIAL.sub(r"\\\1", visible(value, keep="\r\n")))


def _row(values: Iterable[str]) -> str:
    return "| " + " | ".join(values) + " |\n"


def _table_head(out: TextIO, titles: list[str], aligns: list[str]) -> None:
    out.write(_row(titles))
    out.write(_row(aligns))


def _kpi_table(kpis: KpiReport, out: TextIO) -> None:
    _table_head(out, ["KPI", "Value"], ["---", "---:"])
    for _key, label, text in kpi_figures(kpis):
        out.write(_row([md_escape(label), md_escape(text)]))


def write_markdown(
    result: ReconcileResult,
    out: TextIO,
    *,
    kpis: KpiReport | None = None,
    limit: int | None = None,
) -> None:
    """Write the report, detail rows one at a time from the spool (the first ``limit``)."""
    out.write(f"# Reconcile report: {md_escape(result.config)}\n\n")
    out.write(f"- CRM: {md_escape(result.crm)}\n- PM: {md_escape(result.pm)}\n")
    out.write(f"- Started: {result.started_at.isoformat(sep=' ', timespec='seconds')}\n")
    out.write(f"- Took: {result.seconds:.1f} s\n\n")

    out.write("## Discrepancies by kind\n\n")
    _table_head(out, ["Kind", "Count"], ["---", "---:"])
    for kind in Kind:
        out.write(_row([md_escape(KIND_TITLES[kind]), str(result.counts[kind.value])]))
    out.write(_row(["**Total**", f"**{result.total}**"]))

    if kpis is not None:
        out.write(f"\n## KPIs, {kpis.start.isoformat()} to {kpis.end.isoformat()}\n\n")
        _kpi_table(kpis, out)

    out.write("\n## Discrepancies\n\n")
    if not result.total:
        out.write("No discrepancies.\n")
        return
    _table_head(out, [COLUMN_TITLES[c] for c in COLUMNS], ["---"] * len(COLUMNS))
    for n, item in enumerate(result.discrepancies()):
        if limit is not None and n >= limit:
            out.write(f"\n{result.total - limit} more rows: see the full report.\n")
            break
        out.write(_row(md_escape(value) for value in cells(item)))


def write_kpis_markdown(kpis: KpiReport, out: TextIO) -> None:
    """Write the KPI figures as a titled Markdown table."""
    out.write(f"# KPIs, {kpis.start.isoformat()} to {kpis.end.isoformat()}\n\n")
    _kpi_table(kpis, out)
