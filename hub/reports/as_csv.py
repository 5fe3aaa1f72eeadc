"""The CSV report: a header, then one row per discrepancy, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from typing import TextIO

from hub.reconcile.model import ReconcileResult
from hub.reports.figures import COLUMNS, cells

__all__ = ["neutralise", "write_csv"]

# Spreadsheets read a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix ``'`` to a value a spreadsheet would otherwise run as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def write_csv(result: ReconcileResult, out: TextIO) -> None:
    """Write the header and every discrepancy; open ``out`` with ``newline=""``."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for item in result.discrepancies():
        writer.writerow([neutralise(value) for value in cells(item)])
