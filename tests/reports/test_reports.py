"""Reports of a reconcile result: every format, hostile record values kept inert."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rich.console import Console

from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import KIND_TITLES, Discrepancy, Kind, ReconcileResult
from handoff_hub.hub.reports import (
    FORMATS,
    KPI_FORMATS,
    print_kpis,
    print_table,
    write_kpis,
    write_report,
)

ParsePage = Callable[[str], Any]  # conftest.parse_page

COLUMNS = [
    "kind",
    "name",
    "crm_ref",
    "pm_ref",
    "field",
    "crm_value",
    "pm_value",
    "fixable",
    "fix",
    "detail",
]


def render(result: ReconcileResult, fmt: str, kpis: KpiReport | None = None) -> str:
    out = io.StringIO(newline="")
    write_report(result, fmt, out, kpis=kpis)
    return out.getvalue()


# json


def test_json_round_trips_summary_kpis_and_rows(result: ReconcileResult, kpis: KpiReport) -> None:
    data = json.loads(render(result, "json", kpis))
    assert data["summary"] == json.loads(json.dumps(result.summary()))
    assert data["summary"]["counts"] == result.counts
    assert data["summary"]["total"] == 6
    assert data["kpis"] == json.loads(json.dumps(kpis.as_dict()))
    rows = [Discrepancy.from_dict(row) for row in data["discrepancies"]]
    assert rows == list(result.discrepancies())


def test_json_without_kpis_or_rows(empty_result: ReconcileResult) -> None:
    data = json.loads(render(empty_result, "json"))
    assert data["kpis"] is None
    assert data["discrepancies"] == []
    assert data["summary"]["total"] == 0
    assert set(data["summary"]["counts"].values()) == {0}


# csv


def test_csv_has_header_and_one_row_per_discrepancy(result: ReconcileResult) -> None:
    rows = list(csv.reader(io.StringIO(render(result, "csv"), newline="")))
    assert rows[0] == COLUMNS
    body = rows[1:]
    assert len(body) == result.total
    assert [r[0] for r in body] == [d.kind.value for d in result.discrepancies()]
    by_ref = {r[2]: dict(zip(COLUMNS, r, strict=True)) for r in body}
    assert by_ref["crm-003"]["pm_value"] == "a|b\nc"
    assert by_ref["crm-001"]["name"] == "<script>alert(1)</script>"
    assert by_ref["crm-001"]["fixable"] == "yes"
    assert by_ref["crm-002"]["name"] == "Café Ünïcode · 東京 🚀"


def test_csv_neutralises_formulas(result: ReconcileResult) -> None:
    rows = {r[2]: r for r in csv.reader(io.StringIO(render(result, "csv"), newline=""))}
    col = COLUMNS.index
    assert rows["crm-003"][col("crm_value")] == '\'=HYPERLINK("http://x")'
    assert rows["crm-004"][col("crm_value")] == "'-5"
    assert rows["crm-004"][col("pm_value")] == "'@SUM(1)"
    assert rows["crm-004"][col("name")] == "[bold red]boom[/]"
    for row in rows.values():
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# markdown


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_tables_escape_pipes_newlines_and_html(
    result: ReconcileResult, kpis: KpiReport
) -> None:
    text = render(result, "md", kpis)
    assert text.startswith("# Reconcile report: hub \\<prod\\> \\& co\n")
    summary = text.split("## Discrepancies by kind", 1)[1].split("##", 1)[0]
    for kind in Kind:
        assert f"| {KIND_TITLES[kind]} | {result.counts[kind.value]} |" in summary
    assert "| **Total** | **6** |" in summary
    assert "## KPIs, 2024-01-01 to 2024-03-31" in text
    assert "| Won deals | 10 |" in text
    assert "| Share of won deals with a project | 70.0 % |" in text

    detail = text.split("\n## Discrepancies\n", 1)[1].strip().splitlines()
    assert len(detail) == 2 + result.total
    for line in detail:
        assert _unescaped_pipes(line) == len(COLUMNS) + 1
    assert "a\\|b<br>c" in text
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert "<script>" not in text
    assert "\\[bold red\\]boom\\[/\\]" in text


def test_markdown_without_rows(empty_result: ReconcileResult) -> None:
    text = render(empty_result, "md")
    assert "No discrepancies." in text
    assert "KPIs" not in text


# html


def test_html_counts_chart_and_rows(
    result: ReconcileResult, kpis: KpiReport, parse_page: ParsePage
) -> None:
    page = parse_page(render(result, "html", kpis))
    assert page.counts == result.counts
    assert page.total == result.total == 6
    assert sorted(page.rows) == sorted(d.kind.value for d in result.discrepancies())
    nonzero = [k for k, n in result.counts.items() if n]
    assert [kind for kind, _width in page.rects] == nonzero
    widths = dict(page.rects)
    assert widths["won_without_project"] == pytest.approx(2 * widths["link_to_deleted"])
    assert set(page.kpis) == set(kpis.as_dict())
    assert page.kpis["won_deals"] == "10"
    assert page.kpis["budget_by_currency"] == "EUR 1,200.50"


def test_html_escapes_every_hostile_value(result: ReconcileResult, parse_page: ParsePage) -> None:
    source = render(result, "html")
    assert "<script>alert" not in source
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    assert "<img" not in source
    assert "hub &lt;prod&gt; &amp; co" in source
    page = parse_page(source)
    text = "".join(page.text)
    for value in ("<script>alert(1)</script>", "Café Ünïcode · 東京 🚀", "a|b\nc"):
        assert value in text
    assert [tag for tag, _ in page.tags].count("script") == 1


def test_html_is_self_contained(
    result: ReconcileResult, kpis: KpiReport, parse_page: ParsePage
) -> None:
    source = render(result, "html", kpis)
    data_urls = source.replace("=HYPERLINK(&quot;http://x&quot;)", "")
    assert not re.search(r"https?:|//[a-z]", data_urls, re.IGNORECASE)
    for needle in ("<link", "@import", "url(", "<iframe", "<object", "<embed"):
        assert needle not in source.lower()
    for tag, attrs in parse_page(source).tags:
        assert not {"src", "href", "srcset", "action"} & set(attrs), (tag, attrs)
    assert 'http-equiv="Content-Security-Policy"' in source
    assert "default-src &#x27;none&#x27;" in source


def test_html_without_rows(empty_result: ReconcileResult, parse_page: ParsePage) -> None:
    page = parse_page(render(empty_result, "html"))
    assert page.total == 0
    assert page.rows == []
    assert page.rects == []
    assert set(page.counts.values()) == {0}
    assert page.kpis == {}


# every format


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_are_written_while_they_are_read(
    result: ReconcileResult, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer writes each row before it asks the spool for the next."""
    items = list(result.discrepancies())
    refs = [item.crm_ref or "" for item in items]
    assert all(refs)
    out = io.StringIO(newline="")

    def spooled() -> Iterator[Discrepancy]:
        for i, item in enumerate(items):
            if i:
                assert refs[i - 1] in out.getvalue()
            yield item

    monkeypatch.setattr(result, "discrepancies", spooled)
    write_report(result, fmt, out)
    assert refs[-1] in out.getvalue()


def test_unknown_formats_are_refused(result: ReconcileResult, kpis: KpiReport) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        write_report(result, "xlsx", io.StringIO())
    with pytest.raises(ValueError, match="csv"):
        write_kpis(kpis, "csv", io.StringIO())


# kpis alone


def test_kpis_alone(kpis: KpiReport, parse_page: ParsePage) -> None:
    assert KPI_FORMATS == ("json", "md", "html")
    out = io.StringIO()
    write_kpis(kpis, "json", out)
    assert json.loads(out.getvalue()) == json.loads(json.dumps(kpis.as_dict()))

    out = io.StringIO()
    write_kpis(kpis, "md", out)
    assert out.getvalue().startswith("# KPIs, 2024-01-01 to 2024-03-31\n")
    assert "| Days from won to project (median) | 2.75 |" in out.getvalue()

    out = io.StringIO()
    write_kpis(kpis, "html", out)
    page = parse_page(out.getvalue())
    assert set(page.kpis) == set(kpis.as_dict())
    assert page.kpis["share_with_project"] == "70.0 %"
    assert page.kpis["window"] == "2024-01-01 to 2024-03-31"


def test_missing_kpi_figures_read_not_available(parse_page: ParsePage) -> None:
    day = dt.date(2024, 1, 1)
    empty = KpiReport(start=day, end=day)
    out = io.StringIO()
    write_kpis(empty, "html", out)
    figures = parse_page(out.getvalue()).kpis
    assert figures["share_with_project"] == "n/a"
    assert figures["days_to_project_p90"] == "n/a"
    assert figures["budget_by_currency"] == "n/a"


# terminal


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=250, color_system=None, highlight=False), buffer


def test_print_table_shows_counts_rows_and_the_rest(
    result: ReconcileResult, kpis: KpiReport
) -> None:
    console, buffer = _console()
    print_table(result, console=console, limit=4, kpis=kpis)
    text = buffer.getvalue()
    for kind in Kind:
        assert KIND_TITLES[kind] in text
    assert "<script>alert(1)</script>" in text
    assert "[bold red]boom[/]" in text
    assert "crm-004" in text
    assert "crm-005" not in text
    assert "2 more not shown; use --format {json,csv,md,html} -o FILE" in text
    assert "Won deals with a project" in text


def test_print_table_without_rows(empty_result: ReconcileResult) -> None:
    console, buffer = _console()
    print_table(empty_result, console=console)
    assert "No discrepancies." in buffer.getvalue()
    assert "more not shown" not in buffer.getvalue()


def test_print_kpis(kpis: KpiReport) -> None:
    console, buffer = _console()
    print_kpis(kpis, console=console)
    text = buffer.getvalue()
    assert "KPIs 2024-01-01 to 2024-03-31" in text
    assert "EUR 5,000.00, USD 10.00" in text
    assert "70.0 %" in text
