r"""The JSON report: summary, KPIs and every discrepancy in one object.

Text is written as itself, but for control and bidi characters, which are
written as ``\uXXXX`` escapes: the values read back the same, and the file is
safe to show on a terminal.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import ReconcileResult
from handoff_hub.hub.visible import json_visible

__all__ = ["write_json", "write_kpis_json"]


def _dumps(value: Any, *, indent: int | None = None) -> str:
    return json_visible(json.dumps(value, ensure_ascii=False, indent=indent))


def write_json(result: ReconcileResult, out: TextIO, *, kpis: KpiReport | None = None) -> None:
    """Write ``{"summary", "kpis", "discrepancies"}``, one row at a time from the spool."""
    summary = _dumps(result.summary())
    figures = _dumps(kpis.as_dict() if kpis else None)
    out.write(f'{{"summary": {summary},\n "kpis": {figures},\n "discrepancies": [')
    separator = "\n  "
    for item in result.discrepancies():
        out.write(separator + _dumps(item.as_dict()))
        separator = ",\n  "
    out.write("\n]}\n")


def write_kpis_json(kpis: KpiReport, out: TextIO) -> None:
    """Write the KPI figures as one JSON object."""
    out.write(_dumps(kpis.as_dict(), indent=2) + "\n")
