"""Prefect's log lines on the terminal during ``hub run`` and ``hub demo``: without tracebacks.

Prefect's engine logs every exception that ends a flow run, with its full
traceback, through ``prefect.flow_runs``; a task run that fails logs its own
(``prefect.task_runs``). The command then reports that exception itself in one
``error:`` line, so on the terminal the flow run's record is left out and the
others keep their message but lose the traceback. Nothing else changes: each
record still reaches Prefect's API log handler in full (the run's logs on the
Prefect server keep the traceback), and ``--debug`` shows it on the terminal too.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy

__all__ = ["brief_flow_logs"]

_FLOW_RUNS = "prefect.flow_runs"


def _is_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return stream is not None and stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


class _Brief(logging.Handler):
    """Hands ``inner`` every record, Prefect's without their traceback."""

    def __init__(self, inner: logging.Handler) -> None:
        super().__init__(inner.level)
        self.inner = inner

    def handle(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("prefect"):
            if record.name == _FLOW_RUNS:
                return False
            record = copy(record)
            record.exc_info, record.exc_text = None, None
        return bool(self.inner.handle(record))

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() delegates
        self.inner.emit(record)


@contextmanager
def brief_flow_logs(*, debug: bool = False) -> Iterator[None]:
    """While the block runs, the root logger's terminal handlers get Prefect's records briefly.

    With ``debug`` nothing changes: tracebacks are shown as Prefect logs them.
    """
    root = logging.getLogger()
    swapped = [] if debug else [(h, _Brief(h)) for h in root.handlers if _is_terminal(h)]
    for terminal, brief in swapped:
        root.removeHandler(terminal)
        root.addHandler(brief)
    try:
        yield
    finally:
        for terminal, brief in swapped:
            root.removeHandler(brief)
            root.addHandler(terminal)
