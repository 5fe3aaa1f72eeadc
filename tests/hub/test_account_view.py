"""hub account: the 360° view of one customer, on every pairing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.account_view import AccountNotFound, account_view
from handoff_hub.hub.cli.account import print_account
from handoff_hub.hub.cli.demo import CRMS, PMS
from handoff_hub.hub.customers import read_customers
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.model import Opportunity
from handoff_hub.hub.runtime import Runtime

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _deals(rt: Runtime) -> list[Opportunity]:
    entity = rt.mapping("crm").entities["Opportunity"]
    raws = [
        r.raw
        for page in rt.connector("crm").read_changes(
            entity.object, since=None, fields=entity.source_fields()
        )
        for r in page.records
    ]
    return [
        o
        for o in to_unified_many(rt.mapping("crm"), "Opportunity", raws)[0]
        if isinstance(o, Opportunity)
    ]


def test_the_view_gathers_deals_projects_delivery_leads_and_audit(rt: Runtime) -> None:
    run_handoff("won-to-project", build_handoff(rt, "won-to-project"), rt.store)
    link = rt.store.links("won-to-project")[0]
    pm = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    risk = pm.add_risk(link.target_key, "Data centre move slips", "critical")
    upsell = pm.add_feedback(link.target_key, "Wants the reporting add-on", "upsell")
    milestone = pm.add_milestone(link.target_key, "Go-live", dt.date(2027, 3, 1))
    for handoff in ("risk-to-account-manager", "feedback-to-lead"):
        run_handoff(handoff, build_handoff(rt, handoff), rt.store)
    deals = _deals(rt)
    deal = next(o for o in deals if o.refs["crm"] == link.source_id)
    assert deal.account is not None
    account_id = deal.account.refs["crm"]

    view = account_view(rt, account_id)

    assert view.account.refs["crm"] == account_id
    accounts = {account_id, *(a.refs["crm"] for a in view.departments)}
    expected = {o.refs["crm"] for o in deals if o.account and o.account.refs["crm"] in accounts}
    assert {d.opportunity.refs["crm"] for d in view.deals} == expected
    [linked] = [d for d in view.deals if d.opportunity.refs["crm"] == link.source_id]
    assert linked.project is not None and linked.project.refs["pm"] == link.target_key
    assert [r.refs["pm"] for r in linked.risks] == [risk]
    assert [m.refs["pm"] for m in linked.milestones] == [milestone]
    [(_, lead)] = [(f, lk) for f, lk in linked.feedback if f.refs["pm"] == upsell]
    assert lead is not None and lead.target_id
    actions = {(e.handoff, e.action) for e in view.audit}
    assert ("won-to-project", "create_project") in actions
    assert ("risk-to-account-manager", "task_created") in actions
    assert ("feedback-to-lead", "create_lead") in actions
    data = view.as_dict()
    assert data["account"]["name"] == view.account.name and len(data["deals"]) == len(expected)


def test_accounts_are_found_by_name_or_part_of_it(rt: Runtime) -> None:
    deal = next(o for o in _deals(rt) if o.account and o.account.name)
    assert deal.account is not None
    name = deal.account.name
    assert account_view(rt, name.upper()).account.name == name
    assert account_view(rt, name[1:].lower()).account.name == name
    with pytest.raises(AccountNotFound, match=r"accounts match 'a'.*give the id"):
        account_view(rt, "a")
    with pytest.raises(AccountNotFound, match="no account named"):
        account_view(rt, "Nobody Of That Name Ltd")


def test_a_company_shows_its_departments_deals_and_projects_with_roll_ups(rt: Runtime) -> None:
    from decimal import Decimal

    from handoff_hub.hub.cli.account import print_account
    from handoff_hub.hub.cli.console import console

    run_handoff("won-to-project", build_handoff(rt, "won-to-project"), rt.store)
    tree = read_customers(rt.connector("crm"), rt.mapping("crm"), "crm")
    group = next(ref for ref in tree.accounts if len(tree.departments(ref)) >= 2)
    departments = set(tree.departments(group))
    deals = [o for o in _deals(rt) if o.account and o.account.refs["crm"] in departments | {group}]
    assert any(o.account and o.account.refs["crm"] in departments for o in deals)

    view = account_view(rt, group)

    assert {a.refs["crm"] for a in view.departments} == departments
    assert {d.opportunity.refs["crm"] for d in view.deals} == {o.refs["crm"] for o in deals}
    linked = {lk.source_id for lk in rt.store.links("won-to-project")}
    *rows, total = view.rollups()
    assert rows[0].name == view.account.name and total.name == "total"
    assert total.deals == len(deals) == sum(r.deals for r in rows)
    assert total.projects == sum(1 for o in deals if o.refs["crm"] in linked) >= 1
    won: dict[str, Decimal] = {}
    for o in deals:
        if o.stage.value == "won" and o.amount is not None:
            key = o.amount.currency or "unknown"
            won[key] = won.get(key, Decimal(0)) + o.amount.amount
    assert total.won_amount == won
    data = view.as_dict()
    assert data["rollups"][-1]["won_by_currency"] == {k: str(v) for k, v in sorted(won.items())}
    assert {d["account"] for d in data["deals"]} <= departments | {group}
    department = account_view(rt, next(iter(departments)))
    assert department.parent is not None and department.parent.refs["crm"] == group
    width = console.width
    console.width = 200  # wide enough for whole names, whatever the terminal
    try:
        with console.capture() as captured:
            print_account(view)
    finally:
        console.width = width
    shown = captured.get()
    assert "Roll-up: 2 departments" in shown and str(view.departments[0].name) in shown


def test_the_view_shows_each_deals_custom_fields_beside_its_projects(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    run_handoff("won-to-project", build_handoff(rt, "won-to-project"), rt.store)
    links = {lk.source_id: lk for lk in rt.store.links("won-to-project")}
    deal = next(
        o for o in _deals(rt) if o.refs["crm"] in links and o.custom.get("region") and o.account
    )
    assert deal.account is not None
    view = account_view(rt, deal.account.refs["crm"])
    [shown] = [d for d in view.deals if d.opportunity.refs["crm"] == deal.refs["crm"]]
    rows = {name: (on_deal, on_project) for name, on_deal, on_project in shown.custom_fields()}
    region = str(deal.custom["region"])
    assert rows["region"] == (region, region)
    start = deal.custom["delivery_start"].isoformat()
    assert rows["delivery_start"] == (start, start)
    data = view.as_dict()
    [dumped] = [d for d in data["deals"] if d["opportunity"]["refs"]["crm"] == deal.refs["crm"]]
    assert dumped["project"]["custom"]["region"] == region
    print_account(view)
    printed = capsys.readouterr().out
    assert "Custom fields" in printed and "delivery_start" in printed
