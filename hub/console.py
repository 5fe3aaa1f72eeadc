"""Terminal output: run summaries as Rich tables, progress bars from ``hub.progress``."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from hub.errors import ConfigError
from hub.http.redact import redact

__all__ = ["console", "print_config_error", "print_summary", "progress_bar"]

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)

_ORDER = (
    "seen",
    "created",
    "recovered",
    "finished",
    "skipped",
    "not_won",
    "failed",
    "written_back",
    "write_back_failed",
    "notified",
    "notify_failed",
)


def print_summary(title: str, summary: Mapping[str, Any]) -> None:
    """One table of a run's counts, in a stable order."""
    counts: Mapping[str, int] = summary.get("counts", {})
    table = Table(title=title, show_header=True, header_style="bold", min_width=44)
    table.add_column("", min_width=20)
    table.add_column("records", justify="right")
    keys = [k for k in _ORDER if k in counts] + sorted(k for k in counts if k not in _ORDER)
    for key in keys:
        style = "red" if "fail" in key and counts[key] else ""
        table.add_row(key.replace("_", " "), str(counts[key]), style=style)
    console.print(table)
    run_id = str(summary.get("run_id", "?"))
    status = str(summary.get("status", "?"))
    colour = "green" if status == "succeeded" else "yellow"
    console.print(
        f"  run {run_id[:8]} · [{colour}]{status}[/] · {float(summary.get('seconds', 0.0)):.1f} s",
        highlight=False,
    )
    if summary.get("error"):
        console.print(f"  [red]error:[/] {escape(redact(str(summary['error'])))}", markup=True)


def print_rows(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain table."""
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(v) if v is not None else "" for v in row])
    console.print(table)


def print_config_error(error: ConfigError) -> None:
    """Every issue on its own line: file:line: field: message (hint)."""
    err_console.print(f"[bold red]{len(error.issues)} problem(s) found:[/]")
    for issue in error.issues:
        err_console.print(f"  {issue}", markup=False, soft_wrap=True)


class _ProgressHandler(logging.Handler):
    def __init__(self, progress: Progress, task_id: Any) -> None:
        super().__init__(logging.INFO)
        self.progress = progress
        self.task_id = task_id

    def emit(self, record: logging.LogRecord) -> None:
        data = getattr(record, "hub_progress", None)
        if not isinstance(data, dict):
            return
        counts = data.get("counts", {})
        self.progress.update(
            self.task_id,
            completed=data.get("done", 0),
            total=data.get("total"),
            description=f"created {counts.get('created', 0)} · skipped {counts.get('skipped', 0)}"
            f" · failed {counts.get('failed', 0)}",
        )


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[None]:
    """Show a progress bar fed by ``hub.progress`` log records while the block runs."""
    if not enabled:
        yield
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn(f"[bold]{label}[/] {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    )
    task_id = progress.add_task("starting", total=None)
    handler = _ProgressHandler(progress, task_id)
    logger = logging.getLogger("hub.progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with progress:
            yield
    finally:
        logger.removeHandler(handler)
