"""Values the commands take from a fixed set, so ``--help`` and shell completion list them.

Each is a ``Literal`` built from its source of truth (the handoff catalogue, the
report writers, the registered sandboxes); Typer turns it into a choice and
refuses anything else with exit 2. mypy sees plain ``str``. Also ``--version``.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Annotated, Literal

import typer

import handoff_hub
from handoff_hub.hub.handoffs.catalogue import HANDOFFS
from handoff_hub.hub.reports.formats import FORMATS, KPI_FORMATS

__all__ = [
    "CRMS",
    "DEAD_LETTER_STATUSES",
    "PMS",
    "CrmName",
    "DeadLetterStatus",
    "HandoffName",
    "KpiFormat",
    "PmName",
    "ReportFormat",
    "SandboxName",
    "version_callback",
]

CRMS = ("salesforce", "hubspot")
"""The CRMs the demo pairs (each with each project tool: examples/<crm>-<pm>.yaml)."""
PMS = ("jira", "asana")
DEAD_LETTER_STATUSES = ("open", "replayed", "discarded", "all")
SANDBOXES = tuple(sorted(ep.name for ep in entry_points(group="handoff_hub.sandboxes")))

if TYPE_CHECKING:
    HandoffName = str
    ReportFormat = str
    KpiFormat = str
    CrmName = str
    PmName = str
    SandboxName = str
    DeadLetterStatus = str
else:
    HandoffName = Literal[tuple(HANDOFFS)]
    ReportFormat = Literal[FORMATS]
    KpiFormat = Literal[KPI_FORMATS]
    CrmName = Literal[CRMS]
    PmName = Literal[PMS]
    SandboxName = Literal[SANDBOXES]
    DeadLetterStatus = Literal[DEAD_LETTER_STATUSES]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hub {handoff_hub.__version__}")
        raise typer.Exit()


def version_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the installed version and exit",
        ),
    ] = False,
) -> None:
    """Handoff Hub: CRM <-> project tool handoffs."""
