"""A reconcile result with hostile record values, its KPIs, and a parser for the HTML report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from handoff_hub.hub.reconcile.kpis import KpiReport
from handoff_hub.hub.reconcile.model import Discrepancy, Kind, ReconcileResult, Spool

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="document.body.dataset.pwned = 1">'
FORMULA = '=HYPERLINK("http://x")'
PIPE = "a|b\nc"
UNICODE = "Café Ünïcode · 東京 🚀"
MARKUP = "[bold red]boom[/]"

ITEMS = [
    Discrepancy(
        Kind.WON_WITHOUT_PROJECT,
        SCRIPT,
        crm_ref="crm-001",
        fix="create the project",
        fixable=True,
    ),
    Discrepancy(Kind.WON_WITHOUT_PROJECT, UNICODE, crm_ref="crm-002", fix="create the project"),
    Discrepancy(
        Kind.FIELD_DRIFT,
        "Acme renewal",
        crm_ref="crm-003",
        pm_ref="PRJ-3",
        field="budget",
        crm_value=FORMULA,
        pm_value=PIPE,
        fix="copy the CRM value",
        fixable=True,
    ),
    Discrepancy(
        Kind.FIELD_DRIFT,
        MARKUP,
        crm_ref="crm-004",
        pm_ref="PRJ-4",
        field="owner",
        crm_value="-5",
        pm_value="@SUM(1)",
        fix="copy the CRM value",
        fixable=True,
    ),
    Discrepancy(Kind.LINK_TO_DELETED, IMG, crm_ref="crm-005", pm_ref="PRJ-5", fix="unlink"),
    Discrepancy(
        Kind.UNREADABLE,
        "Broken deal",
        crm_ref="crm-006",
        fix="fix the mapping",
        detail="amount: not a number\n\ttab",
    ),
]


def make_result(items: list[Discrepancy]) -> ReconcileResult:
    spool = Spool()
    for item in items:
        spool.add(item)
    return ReconcileResult(
        config="hub <prod> & co",
        crm="salesforce",
        pm="jira",
        started_at=dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
        seconds=12.3456,
        spool=spool,
        scanned={"deals": 120, "projects": 80},
        fixes={"created": 1},
    )


@pytest.fixture
def result() -> Iterator[ReconcileResult]:
    made = make_result(ITEMS)
    yield made
    made.spool.close()


@pytest.fixture
def empty_result() -> Iterator[ReconcileResult]:
    made = make_result([])
    yield made
    made.spool.close()


@pytest.fixture
def kpis() -> KpiReport:
    return KpiReport(
        start=dt.date(2024, 1, 1),
        end=dt.date(2024, 3, 31),
        won_deals=10,
        won_with_project=7,
        days_to_project=[1.0, 2.0, 3.5, 10.0],
        projects=7,
        projects_done=3,
        projects_on_time=2,
        projects_late=1,
        budget={"EUR": Decimal("1200.50")},
        amount={"EUR": Decimal("5000"), "USD": Decimal("10")},
        budget_differs=1,
        feedback_leads=2,
    )


@dataclass
class Page:
    """What the tests check in an HTML report."""

    counts: dict[str, int] = field(default_factory=dict)
    total: int | None = None
    rects: list[tuple[str, float]] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    kpis: dict[str, str] = field(default_factory=dict)
    body: dict[str, str | None] = field(default_factory=dict)
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._kpi: str | None = None
        self._raw = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.page.tags.append((tag, a))
        self._raw = tag in {"script", "style"}
        if tag == "body":
            self.page.body = a
        if a.get("id") == "total":
            self.page.total = int(a["data-count"] or "")
        elif tag == "rect":
            self.page.rects.append((a["data-kind"] or "", float(a["width"] or "")))
        elif tag == "tr" and "row" in (a.get("class") or "").split():
            self.page.rows.append(a["data-kind"] or "")
        elif "data-kind" in a and "data-count" in a:
            self.page.counts[a["data-kind"] or ""] = int(a["data-count"] or "")
        if "data-kpi" in a:
            self._kpi = a["data-kpi"]
            self.page.kpis[self._kpi or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        self._raw = False
        self._kpi = None

    def handle_data(self, data: str) -> None:
        if self._raw:
            return
        self.page.text.append(data)
        if self._kpi is not None:
            self.page.kpis[self._kpi] += data


@pytest.fixture
def parse_page() -> Callable[[str], Page]:
    def parse(source: str) -> Page:
        parser = _Parser()
        parser.feed(source)
        parser.close()
        return parser.page

    return parse
