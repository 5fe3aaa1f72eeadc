"""Terminal output: run summaries as Rich tables, progress bars from ``hub.progress``.

Everything the hub prints goes through :class:`TerminalConsole` (or, for logs,
:class:`VisibleFormatter`; for JSON, :func:`echo_json`), so no record value can
act on the admin's terminal: control and bidi characters are shown as escapes
(:mod:`handoff_hub.hub.visible`) and table cells are never read as Rich markup.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import copy
from dataclasses import replace
from typing import Any

import typer
from rich.console import Console, ConsoleOptions, RenderableType, RenderHook, RenderResult
from rich.control import Control
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.segment import Segment
from rich.table import Table
from rich.text import Span, Text

from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.http.redact import redact
from handoff_hub.hub.visible import HIDDEN, json_visible, visible

__all__ = [
    "TerminalConsole",
    "VisibleFormatter",
    "console",
    "echo_json",
    "err_console",
    "print_config_error",
    "print_rows",
    "print_summary",
    "print_warnings",
    "progress_bar",
]


def _visible_text(text: Text) -> Text:
    """A copy of ``text`` with its hidden characters as escapes, styles kept in place."""
    plain = text.plain
    if not HIDDEN.search(plain):
        return text
    cuts = sorted({i for found in HIDDEN.finditer(plain) for i in found.span()})
    shown = text.blank_copy()
    for piece in text.divide(cuts):
        if HIDDEN.fullmatch(piece.plain):
            escaped = visible(piece.plain)
            spans = [Span(0, len(escaped), span.style) for span in piece.spans]
            piece = Text(escaped, style=piece.style, spans=spans, end="")
        shown.append_text(piece)
    return shown


def _visible_cell(cell: RenderableType) -> RenderableType:
    """A table cell or title as literal text: markup escaped, hidden characters shown."""
    if isinstance(cell, str):
        return escape(visible(cell))
    return _visible_renderable(cell)


def _visible_title(title: str | Text | None) -> str | Text | None:
    if isinstance(title, str):
        return escape(visible(title))
    return None if title is None else _visible_text(title)


def _visible_table(table: Table) -> Table:
    shown = copy(table)
    shown.title = _visible_title(table.title)
    shown.caption = _visible_title(table.caption)
    shown.columns = [
        replace(
            column,
            header=_visible_cell(column.header),
            footer=_visible_cell(column.footer),
            _cells=[_visible_cell(cell) for cell in column.cells],
        )
        for column in table.columns
    ]
    return shown


class _VisibleSegments:
    """Any other renderable: its hidden characters shown once it is laid out."""

    def __init__(self, inner: RenderableType) -> None:
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.inner, options):
            if segment.control or not HIDDEN.search(segment.text):
                yield segment
            else:
                yield Segment(visible(segment.text), segment.style)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.inner)


def _visible_renderable(renderable: RenderableType) -> RenderableType:
    if isinstance(renderable, str):
        return visible(renderable)
    if isinstance(renderable, Text):
        return _visible_text(renderable)
    if isinstance(renderable, Table):
        return _visible_table(renderable)
    if isinstance(renderable, Control | _VisibleSegments):
        return renderable
    return _VisibleSegments(renderable)


class _ShowHidden(RenderHook):
    def process_renderables(self, renderables: list[Any]) -> list[Any]:
        return [_visible_renderable(r) for r in renderables]


class TerminalConsole(Console):
    """A Rich console that shows every control and bidi character it prints as an escape.

    Table cells, headers and titles given as ``str`` are shown literally, never
    read as markup: record values reach tables that way.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.push_render_hook(_ShowHidden())
        if "width" not in kwargs and not self.is_terminal and "COLUMNS" not in os.environ:
            self.width = PIPED_WIDTH  # cron mail, CI logs: no 80-column wrapping of tables


PIPED_WIDTH = 200
"""Columns of output that is not a terminal (a pipe, a file, cron mail), unless COLUMNS says."""


class VisibleFormatter(logging.Formatter):
    """A log formatter whose lines (tracebacks included) show hidden characters as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        """The line as the base formatter writes it, hidden characters as escapes."""
        return visible(super().format(record))


def echo_json(data: Any, **kwargs: Any) -> None:
    """Print ``data`` as JSON: text as itself, but control and bidi characters escaped."""
    typer.echo(json_visible(json.dumps(data, ensure_ascii=False, **kwargs)))


# No emoji codes: a line number like ``:100:`` is printed as such, never as a picture.
console = TerminalConsole(stderr=False, highlight=False, emoji=False)
err_console = TerminalConsole(stderr=True, highlight=False, emoji=False)

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
    """A plain table; values are shown as text, never as markup."""
    table = Table(title=title, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[Text(str(v)) if v is not None else "" for v in row])
    console.print(table)


def print_config_error(error: ConfigError) -> None:
    """Every issue on its own line: file:line: field: message (hint); then any warnings."""
    err_console.print(f"[bold red]{len(error.issues)} problem(s) found:[/]")
    for issue in error.issues:
        err_console.print(f"  {issue}", markup=False, soft_wrap=True)
    print_warnings(error.warnings)


def print_warnings(warnings: Sequence[Issue]) -> None:
    """Each warning on its own line, as ``warning: file:line: field: message (hint)``."""
    for issue in warnings:
        err_console.print(Text.assemble(("warning: ", "yellow"), str(issue)), soft_wrap=True)


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
