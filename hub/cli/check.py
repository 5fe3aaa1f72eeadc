"""``hub check``: a live, read-only pre-flight of every configured system."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, load
from handoff_hub.hub.cli.console import console, echo_json
from handoff_hub.hub.connector import CheckResult, CheckStatus

if TYPE_CHECKING:
    import httpx

__all__ = ["brief_check", "check_command", "print_checks", "run_check"]

_STYLE = {
    CheckStatus.OK: "green",
    CheckStatus.WARNING: "yellow",
    CheckStatus.PROBLEM: "bold red",
    CheckStatus.SKIPPED: "dim",
}


def check_command(
    config: ConfigOption,
    as_json_output: Annotated[
        bool, typer.Option("--json", help="Print the findings as JSON")
    ] = False,
    problems_only: Annotated[
        bool, typer.Option("--problems", help="Show only warnings and problems")
    ] = False,
) -> None:
    """Check each configured product live, read-only: what would fail before it does.

    Credentials and scopes, permissions, the mappings' fields, stages, templates,
    owners and rate-limit headroom. Exit 0 all clear (warnings allowed),
    1 problems, 2 bad config.
    """
    from handoff_hub.hub.preflight.report import as_json, exit_code

    results = run_check(config)
    if as_json_output:
        echo_json(as_json(results), indent=2)
    else:
        print_checks(results, problems_only=problems_only)
    raise typer.Exit(exit_code(results))


def run_check(
    config: Path, *, transports: Mapping[str, httpx.BaseTransport] | None = None
) -> list[CheckResult]:
    """Load ``config`` (a bad one exits 2, as ``hub validate`` reports it) and check it live."""
    from handoff_hub.hub.preflight.run import run_checks

    with admin_errors():
        return run_checks(load(config), transports=transports)


def print_checks(results: Sequence[CheckResult], *, problems_only: bool = False) -> None:
    """A table of the findings (system, check, result, detail) and a one-line verdict."""
    from handoff_hub.hub.preflight.report import problems

    shown = [r for r in results if not problems_only or r.status is not CheckStatus.OK]
    if shown:
        table = Table(title="hub check", header_style="bold")
        for column in ("system", "check", "result", "detail"):
            table.add_column(column, overflow="fold")
        for r in shown:
            check = f"{r.check} ({r.handoff})" if r.handoff else r.check
            result = Text(r.status.value, style=_STYLE[r.status])
            table.add_row(Text(r.system), Text(check), result, Text(r.detail))
        console.print(table)
    bad = problems(results)
    warned = sum(r.status is CheckStatus.WARNING for r in results)
    if bad:
        console.print(f"[bold red]{len(bad)} problem(s)[/], {warned} warning(s)")
    else:
        console.print(f"[green]all clear[/]: {len(results)} check(s), {warned} warning(s)")


def brief_check(config: Path) -> None:
    """``hub check`` in a line when all is clear, else its warnings and problems (the demo)."""
    results = run_check(config)
    if any(r.status in (CheckStatus.WARNING, CheckStatus.PROBLEM) for r in results):
        print_checks(results, problems_only=True)
    else:
        console.print(f"hub check: [green]all clear[/] ({len(results)} checks)")
