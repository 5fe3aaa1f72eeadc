"""KPIs grouped by top-level customer: departments count under their company."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.customers import read_customers
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.reconcile.by_customer import kpis_by_customer
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.runtime import Runtime

WINDOW = 3650


@pytest.fixture(params=[("salesforce", "jira"), ("hubspot", "asana")], ids=lambda p: "+".join(p))
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    run_handoff("won-to-project", build_handoff(runtime, "won-to-project"), runtime.store)
    yield runtime
    runtime.close()


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date() + dt.timedelta(days=WINDOW // 2)


def test_the_customers_add_up_to_the_whole_pair(rt: Runtime) -> None:
    today = _today()
    rows = kpis_by_customer(rt, window_days=WINDOW, today=today)
    result, whole = reconcile(rt, today=today, window_days=WINDOW)
    result.spool.close()
    assert whole.won_deals >= 3 and len(rows) >= 2
    assert sum(r.kpis.won_deals for r in rows) == whole.won_deals
    assert sum(r.kpis.won_with_project for r in rows) == whole.won_with_project
    assert sum(r.kpis.projects for r in rows) == whole.projects
    amounts: dict[str, Decimal] = {}
    for row in rows:
        for currency, amount in row.kpis.amount.items():
            amounts[currency] = amounts.get(currency, Decimal(0)) + amount
    assert amounts == whole.amount
    assert [r.kpis.won_deals for r in rows] == sorted(
        (r.kpis.won_deals for r in rows), reverse=True
    )


def test_a_departments_deals_count_under_its_company(rt: Runtime) -> None:
    tree = read_customers(rt.connector("crm"), rt.mapping("crm"), "crm")
    rows = kpis_by_customer(rt, window_days=WINDOW, today=_today())
    refs = {r.ref for r in rows}
    departments = {ref for ref, account in tree.accounts.items() if account.parent}
    assert departments and not refs & departments
    group = next(ref for ref in tree.accounts if len(tree.departments(ref)) >= 2)
    [row] = [r for r in rows if r.ref == group]
    assert row.name == tree.name(group)
    data = row.as_dict()
    assert data["customer"] == tree.name(group) and data["won_deals"] == row.kpis.won_deals >= 1
