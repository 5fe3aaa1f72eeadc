"""The CSV report: a header, then one row per discrepancy, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import unicodedata
from typing import TextIO

from handoff_hub.hub.reconcile.model import ReconcileResult
from handoff_hub.hub.reports.figures import COLUMNS, cells
from handoff_hub.hub.visible import visible

__all__ = ["neutralise", "write_csv"]

# Spreadsheets read a cell starting with one of these as a formula (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# ... also after leading white space or invisible characters, and in their full-width and
# small forms (U+FF1D, U+FE66, ...), which spreadsheets fold to ASCII as NFKC does.
_SIGNS = frozenset("=+-@")
_MINUS = "\u2212"
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _reads_as_formula(value: str) -> bool:
    if value.startswith(_FORMULA_STARTS):
        return True
    for ch in value:
        if ch.isspace() or unicodedata.category(ch) in _INVISIBLE:
            continue
        return ch == _MINUS or unicodedata.normalize("NFKC", ch) in _SIGNS
    return False


def neutralise(value: str) -> str:
    """``value`` for one cell: hidden characters shown, ``'`` before what reads as a formula."""
    shown = visible(value.replace("\r\n", "\n"), keep="\n\t")
    return "'" + shown if _reads_as_formula(shown) else shown


def write_csv(result: ReconcileResult, out: TextIO) -> None:
    """Write the header and every discrepancy; open ``out`` with ``newline=""``."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for item in result.discrepancies():
        writer.writerow([neutralise(value) for value in cells(item)])
