"""``hub reconcile`` and ``hub kpis``: does the CRM agree with the project tool, and how fast?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, fail, load
from handoff_hub.hub.cli.console import console
from handoff_hub.hub.cli.options import KpiFormat, ReportFormat
from handoff_hub.hub.reconcile.model import Kind, fail_on_kinds

__all__ = ["FAIL_ON_EXIT", "kpis_command", "reconcile_command"]

FAIL_ON_EXIT = 3
"""Exit code when a kind named by ``--fail-on`` was found (1: error, 2: bad config)."""

FormatOption = Annotated[
    ReportFormat | None,
    typer.Option("--format", "-f", help="Report format (default: from -o, else a table)"),
]
KpiFormatOption = Annotated[
    KpiFormat | None,
    typer.Option("--format", "-f", help="Report format (default: from -o, else a table)"),
]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here")]
WindowOption = Annotated[int, typer.Option("--days", min=1, help="KPI window: the last N days")]


def reconcile_command(
    config: ConfigOption,
    fmt: FormatOption = None,
    output: OutputOption = None,
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what the handoffs can (idempotent)")
    ] = False,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 3 if any of these kinds (comma-separated, or 'any') is found"
        ),
    ] = None,
    days: WindowOption = 90,
    limit: Annotated[int, typer.Option(help="Detail rows shown in the terminal")] = 200,
) -> None:
    """List every discrepancy between CRM and project tool, with both values and a fix."""
    from handoff_hub.hub.reconcile.fix import reconcile
    from handoff_hub.hub.reports import FORMATS, print_table, write_report
    from handoff_hub.hub.runtime import open_runtime

    kinds = _kinds(fail_on)
    fmt = _format(fmt, output, FORMATS)
    with admin_errors():
        runtime = open_runtime(load(config))
        try:
            result, kpis = reconcile(runtime, fix=fix, window_days=days)
        finally:
            runtime.close()
    try:
        if fmt is not None and output is None:
            write_report(result, fmt, typer.get_text_stream("stdout"), kpis=kpis)
        else:
            print_table(result, console=console, limit=limit, kpis=kpis)
            if fix:
                _print_fixes(result.fixes)
            if fmt is not None and output is not None:
                with output.open("w", encoding="utf-8", newline="") as out:
                    write_report(result, fmt, out, kpis=kpis)
                console.print(f"report written to {output}", markup=False)
        found = [k for k in kinds if result.spool.counts.get(k)]
    finally:
        result.spool.close()
    if found:
        names = ", ".join(k.value for k in found)
        raise fail(f"found {names} (--fail-on)", FAIL_ON_EXIT)


def kpis_command(
    config: ConfigOption,
    fmt: KpiFormatOption = None,
    output: OutputOption = None,
    days: WindowOption = 90,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="customer: one row per top-level customer (departments count under it)"
        ),
    ] = None,
) -> None:
    """Handoff KPIs over the last N days: won-to-project time, coverage, on time, budget."""
    from handoff_hub.hub.reconcile.fix import reconcile
    from handoff_hub.hub.reports import KPI_FORMATS, print_kpis, write_kpis
    from handoff_hub.hub.runtime import open_runtime

    if by is not None:
        _kpis_by_customer(config, by, _format(fmt, output, ("json",)), output, days)
        return
    fmt = _format(fmt, output, KPI_FORMATS)
    with admin_errors():
        runtime = open_runtime(load(config))
        try:
            result, kpis = reconcile(runtime, window_days=days)
            result.spool.close()
        finally:
            runtime.close()
    if fmt is None:
        print_kpis(kpis, console=console)
    elif output is None:
        write_kpis(kpis, fmt, typer.get_text_stream("stdout"))
    else:
        with output.open("w", encoding="utf-8") as out:
            write_kpis(kpis, fmt, out)
        console.print(f"KPIs written to {output}", markup=False)


def _kpis_by_customer(
    config: Path, by: str, fmt: str | None, output: Path | None, days: int
) -> None:
    """``hub kpis --by customer``: a table, or JSON (``-f json`` or ``-o file.json``)."""
    from handoff_hub.hub.reconcile.by_customer import kpis_by_customer
    from handoff_hub.hub.reports.terminal import print_customer_kpis
    from handoff_hub.hub.runtime import open_runtime

    if by != "customer":
        raise fail(f"--by: unknown grouping {by!r}; known: customer", 2)
    with admin_errors():
        runtime = open_runtime(load(config))
        try:
            rows = kpis_by_customer(runtime, window_days=days)
        finally:
            runtime.close()
    if fmt is None:
        print_customer_kpis(rows, console=console)
        return
    text = json.dumps({"by": "customer", "customers": [r.as_dict() for r in rows]}, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"KPIs written to {output}", markup=False)


def _kinds(text: str | None) -> list[Kind]:
    try:
        return fail_on_kinds(text)
    except ValueError as exc:
        raise fail(f"--fail-on: {exc}", 2) from None


def _format(fmt: str | None, output: Path | None, allowed: tuple[str, ...]) -> str | None:
    if fmt is None and output is not None:
        fmt = output.suffix.lstrip(".").lower()
        fmt = "md" if fmt == "markdown" else "html" if fmt == "htm" else fmt
    if fmt is not None and fmt not in allowed:
        raise fail(f"unknown format {fmt!r}; use one of {', '.join(allowed)}", 2)
    return fmt


def _print_fixes(fixes: dict[str, int]) -> None:
    if not fixes:
        console.print("--fix: nothing to repair", markup=False)
        return
    console.print("--fix applied:", markup=False)
    for key, value in sorted(fixes.items()):
        console.print(f"  {key}: {value}", markup=False)
