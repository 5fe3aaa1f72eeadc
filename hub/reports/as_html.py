"""The HTML report: one self-contained page, readable offline and safe with hostile values.

Nothing is loaded from anywhere: styles and the one script are inline, the chart
is inline SVG, and a Content-Security-Policy admits only that style and script
(by hash), so even a value that escaped escaping could neither run nor fetch.
Every count is in the static HTML; the script only adds a filter box.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import TextIO

from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import KIND_TITLES, Kind, ReconcileResult
from handoff_hub.hub.reports.figures import COLUMN_TITLES, COLUMNS, cells, kpi_figures

__all__ = ["write_html", "write_kpis_html"]

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #59636e; margin: 0; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #d1d9e0; padding: .3rem .6rem; text-align: left;
         vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.nonzero td.num { color: #cf222e; font-weight: 600; }
tr#total th, tr#total td { font-weight: 700; border-top: 2px solid #1f2328; }
#detail { width: 100%; }
#detail td { white-space: pre-wrap; overflow-wrap: anywhere; }
#detail thead th { position: sticky; top: 0; background: #f6f8fa; }
svg text { font-size: 12px; fill: #1f2328; }
svg rect.bar { fill: #cf222e; }
#filter { margin: .5rem 0; padding: .3rem .5rem; width: 20rem; }
.empty { color: #1a7f37; }
"""

_SCRIPT = """
(() => {
  const rows = Array.from(document.querySelectorAll("#detail tr.row"));
  const box = document.getElementById("filter");
  if (box) {
    box.hidden = false;
    box.addEventListener("input", () => {
      const query = box.value.trim().toLowerCase();
      for (const row of rows) {
        row.hidden = query !== "" && !row.textContent.toLowerCase().includes(query);
      }
    });
  }
  document.body.dataset.ready = "1";
})();
"""

_BAR_X = 290
_BAR_MAX = 300
_BAR_ROW = 24


def _hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_CSP = (
    f"default-src 'none'; style-src {_hash(_STYLE)}; script-src {_hash(_SCRIPT)}; "
    "base-uri 'none'; form-action 'none'"
)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _open_page(out: TextIO, title: str) -> None:
    out.write(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
    )


def _close_page(out: TextIO) -> None:
    out.write(f"<script>{_SCRIPT}</script>\n</body>\n</html>\n")


def _counts(result: ReconcileResult, out: TextIO) -> None:
    out.write('<section id="summary">\n<h2>Discrepancies by kind</h2>\n<table class="counts">\n')
    out.write('<thead><tr><th>Kind</th><th class="num">Count</th></tr></thead>\n<tbody>\n')
    for kind in Kind:
        count = result.counts[kind.value]
        css = ' class="nonzero"' if count else ""
        out.write(
            f'<tr{css} data-kind="{_e(kind.value)}" data-count="{count}">'
            f'<td>{_e(KIND_TITLES[kind])}</td><td class="num">{count}</td></tr>\n'
        )
    out.write(
        f'<tr id="total" data-count="{result.total}"><th>Total</th>'
        f'<td class="num">{result.total}</td></tr>\n</tbody>\n</table>\n'
    )
    _chart(result, out)
    out.write("</section>\n")


def _chart(result: ReconcileResult, out: TextIO) -> None:
    """Horizontal bars, width proportional to the count (at least 1 px, to stay visible)."""
    shown = [(kind, result.counts[kind.value]) for kind in Kind if result.counts[kind.value]]
    if not shown:
        out.write('<p class="empty">No discrepancies.</p>\n')
        return
    largest = max(count for _kind, count in shown)
    height = _BAR_ROW * len(shown) + 8
    width = _BAR_X + _BAR_MAX + 80
    out.write(
        f'<svg id="chart" role="img" aria-label="Discrepancies by kind" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">\n'
    )
    for row, (kind, count) in enumerate(shown):
        y = 4 + row * _BAR_ROW
        bar = max(_BAR_MAX * count / largest, 1.0)
        title = _e(KIND_TITLES[kind])
        out.write(
            f'<text x="{_BAR_X - 8}" y="{y + 13}" text-anchor="end">{title}</text>'
            f'<rect class="bar" data-kind="{_e(kind.value)}" data-count="{count}" x="{_BAR_X}" '
            f'y="{y}" width="{bar:.2f}" height="{_BAR_ROW - 8}"><title>{title}: {count}</title>'
            f'</rect><text x="{_BAR_X + bar + 6:.2f}" y="{y + 13}">{count}</text>\n'
        )
    out.write("</svg>\n")


def _kpis(kpis: KpiReport, out: TextIO) -> None:
    out.write(
        f'<section id="kpis">\n<h2>KPIs, {_e(kpis.start.isoformat())} to '
        f"{_e(kpis.end.isoformat())}</h2>\n<table>\n<tbody>\n"
    )
    for key, label, text in kpi_figures(kpis):
        out.write(
            f'<tr><th>{_e(label)}</th><td class="num" data-kpi="{_e(key)}">{_e(text)}</td></tr>\n'
        )
    out.write("</tbody>\n</table>\n</section>\n")


def _figures(caption: str, figures: dict[str, int]) -> str:
    if not figures:
        return ""
    listed = ", ".join(f"{_e(k)} {_e(v)}" for k, v in figures.items())
    return f'<p class="meta">{_e(caption)}: {listed}</p>\n'


def _detail(result: ReconcileResult, out: TextIO) -> None:
    out.write('<section id="details">\n<h2>Discrepancies</h2>\n')
    out.write(
        '<input id="filter" type="search" placeholder="Filter rows" aria-label="Filter rows" '
        "hidden>\n"
    )
    out.write('<table id="detail">\n<thead><tr>')
    out.write("".join(f"<th>{_e(COLUMN_TITLES[c])}</th>" for c in COLUMNS))
    out.write("</tr></thead>\n<tbody>\n")
    for item in result.discrepancies():
        row = "".join(f"<td>{_e(value)}</td>" for value in cells(item))
        out.write(f'<tr class="row" data-kind="{_e(item.kind.value)}">{row}</tr>\n')
    out.write("</tbody>\n</table>\n</section>\n")


def write_html(result: ReconcileResult, out: TextIO, *, kpis: KpiReport | None = None) -> None:
    """Write the report page, detail rows one at a time from the spool."""
    _open_page(out, f"Reconcile report: {result.config}")
    started = result.started_at.isoformat(sep=" ", timespec="seconds")
    out.write(
        f"<header>\n<h1>Reconcile report: {_e(result.config)}</h1>\n"
        f'<p class="meta">CRM <strong>{_e(result.crm)}</strong> and PM '
        f"<strong>{_e(result.pm)}</strong>, started {_e(started)}, "
        f"took {result.seconds:.1f} s</p>\n"
    )
    out.write(_figures("Scanned", result.scanned))
    out.write(_figures("Fixed", result.fixes))
    out.write("</header>\n")
    _counts(result, out)
    if kpis is not None:
        _kpis(kpis, out)
    _detail(result, out)
    _close_page(out)


def write_kpis_html(kpis: KpiReport, out: TextIO) -> None:
    """Write a page of the KPI figures alone."""
    _open_page(out, f"KPIs {kpis.start.isoformat()} to {kpis.end.isoformat()}")
    _kpis(kpis, out)
    _close_page(out)
