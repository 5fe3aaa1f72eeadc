"""Reconcile results and KPIs as Rich tables on the terminal.

Record values are hostile input, so they go in as :class:`rich.text.Text`, which
Rich never reads as markup.
"""

from __future__ import annotations

from itertools import islice

from rich.console import Console
from rich.table import Table
from rich.text import Text

from handoff_hub.hub.reconcile.by_customer import CustomerKpis
from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import KIND_TITLES, Discrepancy, Kind, ReconcileResult
from handoff_hub.hub.reports.figures import kpi_figures
from handoff_hub.hub.reports.formats import FORMATS

__all__ = ["print_customer_kpis", "print_kpis", "print_table"]

_CUSTOMER_COLUMNS = (
    ("won_deals", "won"),
    ("won_with_project", "with project"),
    ("days_to_project_p50", "days to project (median)"),
    ("projects", "projects"),
    ("projects_late", "late"),
    ("amount_by_currency", "won amount"),
    ("budget_by_currency", "budget"),
    ("projects_budget_differs", "budget differs"),
)


def _summary(result: ReconcileResult) -> Table:
    title = Text(f"Reconcile {result.config}: {result.crm} and {result.pm}")
    table = Table(title=title, header_style="bold", min_width=44)
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind in Kind:
        count = result.counts[kind.value]
        table.add_row(KIND_TITLES[kind], str(count), style="red" if count else "")
    table.add_row(Text("total", style="bold"), Text(str(result.total), style="bold"))
    return table


def _detail_row(item: Discrepancy) -> list[Text]:
    values = (
        item.kind.value,
        item.name,
        item.crm_ref,
        item.pm_ref,
        item.field,
        item.crm_value,
        item.pm_value,
    )
    fix = Text(item.fix, style="green" if item.fixable else "")
    return [Text(v or "") for v in values] + [fix]


def _detail(result: ReconcileResult, limit: int) -> Table:
    table = Table(title="Discrepancies", header_style="bold", show_lines=False)
    for column in ("kind", "name", "crm", "pm", "field", "crm value", "pm value", "fix"):
        table.add_column(column, overflow="fold")
    for item in islice(result.discrepancies(), limit):
        table.add_row(*_detail_row(item))
    return table


def print_table(
    result: ReconcileResult,
    *,
    console: Console,
    limit: int = 200,
    kpis: KpiReport | None = None,
) -> None:
    """Counts by kind, the first ``limit`` discrepancies, then the KPIs if given.

    Fixes ``--fix`` can apply are green.
    """
    console.print(_summary(result))
    if result.total:
        shown = min(max(limit, 0), result.total)
        if shown:
            console.print(_detail(result, shown))
        more = result.total - shown
        if more:
            console.print(
                Text(
                    f"{more} more not shown; use --format {{{','.join(FORMATS)}}} -o FILE "
                    "for all of them.",
                    style="yellow",
                )
            )
    else:
        console.print(Text("No discrepancies.", style="green"))
    if kpis is not None:
        print_kpis(kpis, console=console)


def print_kpis(kpis: KpiReport, *, console: Console) -> None:
    """The KPI figures as one table."""
    title = Text(f"KPIs {kpis.start.isoformat()} to {kpis.end.isoformat()}")
    table = Table(title=title, header_style="bold", min_width=44)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    for _key, label, text in kpi_figures(kpis):
        table.add_row(label, Text(text))
    console.print(table)


def print_customer_kpis(rows: list[CustomerKpis], *, console: Console) -> None:
    """One row per top-level customer (its departments counted under it)."""
    if not rows:
        console.print("no won deals in the window", markup=False)
        return
    first = rows[0].kpis
    title = Text(f"KPIs by customer {first.start.isoformat()} to {first.end.isoformat()}")
    table = Table(title=title, header_style="bold")
    table.add_column("customer")
    for _key, label in _CUSTOMER_COLUMNS:
        table.add_column(label, justify="right")
    for row in rows:
        figures = dict((key, text) for key, _label, text in kpi_figures(row.kpis))
        table.add_row(Text(row.name), *[Text(figures[key]) for key, _ in _CUSTOMER_COLUMNS])
    console.print(table)
