"""The JSON report: summary, KPIs and every discrepancy in one object."""

from __future__ import annotations

import json
from typing import TextIO

from hub.reconcile.kpis import KpiReport
from hub.reconcile.model import ReconcileResult

__all__ = ["write_json", "write_kpis_json"]


def write_json(result: ReconcileResult, out: TextIO, *, kpis: KpiReport | None = None) -> None:
    """Write ``{"summary", "kpis", "discrepancies"}``, one row at a time from the spool."""
    summary = json.dumps(result.summary(), ensure_ascii=False)
    figures = json.dumps(kpis.as_dict() if kpis else None, ensure_ascii=False)
    out.write(f'{{"summary": {summary},\n "kpis": {figures},\n "discrepancies": [')
    separator = "\n  "
    for item in result.discrepancies():
        out.write(separator + json.dumps(item.as_dict(), ensure_ascii=False))
        separator = ",\n  "
    out.write("\n]}\n")


def write_kpis_json(kpis: KpiReport, out: TextIO) -> None:
    """Write the KPI figures as one JSON object."""
    json.dump(kpis.as_dict(), out, ensure_ascii=False, indent=2)
    out.write("\n")
