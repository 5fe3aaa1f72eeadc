"""CSV cells a spreadsheet would run as a formula, or that act on a terminal, are neutralised.

Spreadsheets skip leading white space before ``=``, ``+``, ``-`` and ``@`` and fold the
full-width and small forms (U+FF1D FULLWIDTH EQUALS SIGN, U+FE66, ...) to ASCII; the report may
also be printed to a terminal (``hub reconcile --format csv``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from handoff_hub.hub.reconcile.model import Discrepancy, Kind, ReconcileResult, Spool
from handoff_hub.hub.reports import write_report

FORMULAS = [
    " =1+1",
    "  +1",
    "\u00a0-2",
    "\u3000@SUM(A1)",
    "\u200b=1",
    "\n=1",
    '\uff1dHYPERLINK("http://x")',
    "\ufe66cmd|' /C calc'!A0",
    "\uff0b1",
    "\uff0d1",
    "\ufe63 1",
    "\uff20SUM(1)",
    "\u22121",
]
PLAIN = ["Acme = best", "a-b", "x@y.example", "", "100 %", "Café 東京"]


def _cells(values: list[str]) -> list[str]:
    """The name cell of each value, as the CSV report writes it and a reader reads it back."""
    spool = Spool()
    for i, value in enumerate(values):
        spool.add(Discrepancy(Kind.FIELD_DRIFT, value, crm_ref=f"crm-{i}"))
    result = ReconcileResult(
        config="hub.yaml",
        crm="salesforce",
        pm="jira",
        started_at=dt.datetime(2024, 5, 6, tzinfo=dt.UTC),
        seconds=1.0,
        spool=spool,
    )
    out = io.StringIO(newline="")
    try:
        write_report(result, "csv", out)
    finally:
        spool.close()
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    return [row[1] for row in rows[1:]]


@pytest.mark.parametrize("value", FORMULAS, ids=[f"{v!r}" for v in FORMULAS])
def test_a_formula_after_white_space_or_in_full_width_is_quoted(value: str) -> None:
    assert _cells([value]) == ["'" + value]


def test_plain_text_is_left_as_it_is() -> None:
    assert _cells(PLAIN) == PLAIN


def test_control_and_bidi_characters_are_written_as_escapes() -> None:
    [cell] = _cells(["Deal\x1b[2J\x00 \u202eevil\u202c\r\nnext\tcolumn"])
    assert cell == "Deal\\x1b[2J\\x00 \\u202eevil\\u202c\nnext\tcolumn"
