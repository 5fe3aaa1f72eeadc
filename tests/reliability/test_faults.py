"""Faults at 20 %: every won deal gets exactly one project, every pairing; reconcile is clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults_support import add_won_deals, open_faulty_runtime, switch_faults_on

from handoff_hub.hub.cli.demo import CRMS, PMS
from handoff_hub.hub.errors import TransientError
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Kind
from handoff_hub.hub.runtime import Runtime

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]
DEALS = 1000
RUNS = 40
"""Runs allowed to converge, as the schedule (and Prefect's batch retries) would: a page
with a create whose answer was lost is done again from its checkpoint, where the stamp tells."""


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_faulty_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _until_clean(rt: Runtime, name: str) -> list[str]:
    """Run as the schedule would until a run succeeds with nothing left to do.

    A run can succeed and still leave work to the next: a record that a
    product's paging moved (the hub's own write-back reorders a search sorted
    by modified date) is read by the next run, from the held-back cursor.
    """
    outcomes = []
    for _ in range(RUNS):
        try:
            summary = run_handoff(name, build_handoff(rt, name), rt.store)
        except TransientError as exc:
            outcomes.append(f"failed: {exc}")
            continue
        outcomes.append(f"{summary.status} {summary.counts}")
        work = sum(summary.counts.get(k, 0) for k in _WORK)
        if summary.status == "succeeded" and work == 0:
            break
    return outcomes


_WORK = ("created", "recovered", "finished", "updated", "closed", "commented", "failed")


@pytest.mark.reliability
def test_a_thousand_won_deals_make_a_thousand_projects(rt: Runtime) -> None:
    _won_deals_under_faults(rt, DEALS)


def test_won_deals_under_faults_make_one_project_each(rt: Runtime) -> None:
    """The same at a tenth of the size, in every test run (the full size: make reliability)."""
    _won_deals_under_faults(rt, DEALS // 10)


def _won_deals_under_faults(rt: Runtime, count: int) -> None:
    crm, pm = rt.sandboxes["crm"], rt.sandboxes["pm"]  # type: ignore[attr-defined]
    deals = set(add_won_deals(crm, count))
    switch_faults_on(crm, rate=0.2, seed=11)
    switch_faults_on(pm, rate=0.2, seed=12)

    runs = _until_clean(rt, "won-to-project")

    assert runs[-1].startswith("succeeded"), runs
    assert crm.faults.injected + pm.faults.injected > count // 10
    links = rt.store.links("won-to-project")
    assert deals <= {lk.source_id for lk in links}
    assert len({lk.target_id for lk in links}) == len(links), "two deals share a project"
    assert all(lk.state == "complete" for lk in links)
    result, _ = reconcile(rt)
    try:
        found = list(result.discrepancies())
    finally:
        result.spool.close()
    wrong = [
        d
        for d in found
        if d.kind is not Kind.FIELD_DRIFT or str(d.detail).startswith("won-to-project")
    ]
    wrong = [d for d in wrong if d.kind is not Kind.FEEDBACK_WITHOUT_LEAD]
    assert wrong == [], wrong[:5]
    assert result.scanned["projects"] >= count


ITEMS = 300


@pytest.mark.reliability
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
@pytest.mark.parametrize("handoff", ["risk-to-account-manager", "feedback-to-lead"])
def test_hundreds_of_risks_and_feedback_items_under_faults(
    pair: tuple[str, str], handoff: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _items_under_faults(pair, handoff, ITEMS, tmp_path, monkeypatch)


@pytest.mark.parametrize("pair", [("salesforce", "jira"), ("hubspot", "asana")], ids="+".join)
@pytest.mark.parametrize("handoff", ["risk-to-account-manager", "feedback-to-lead"])
def test_risks_and_feedback_items_under_faults(
    pair: tuple[str, str], handoff: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same at a tenth of the size, in every test run (the full size: make reliability)."""
    _items_under_faults(pair, handoff, ITEMS // 10, tmp_path, monkeypatch)


def _items_under_faults(
    pair: tuple[str, str],
    handoff: str,
    count: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt = open_faulty_runtime(*pair, tmp_path, monkeypatch)
    try:
        crm, pm = rt.sandboxes["crm"], rt.sandboxes["pm"]  # type: ignore[attr-defined]
        add_won_deals(crm, 10)
        _until_clean(rt, "won-to-project")
        projects = [lk.target_key or lk.target_id for lk in rt.store.links("won-to-project")]
        assert len(projects) >= 10
        if handoff == "risk-to-account-manager":
            items = [
                pm.state.add_risk(projects[n % len(projects)], f"Risk {n}", "high")
                for n in range(count)
            ]
        else:
            items = [
                pm.state.add_feedback(projects[n % len(projects)], f"Customer idea {n}", "upsell")
                for n in range(count)
            ]
        switch_faults_on(crm, rate=0.2, seed=21)
        switch_faults_on(pm, rate=0.2, seed=22)

        runs = _until_clean(rt, handoff)

        assert runs[-1].startswith("succeeded"), runs
        # Batched writes make few requests, and a rerun re-reads nothing it handled:
        # what matters is that both products' faults were met on the way.
        assert crm.faults.injected >= 1 and pm.faults.injected >= 1
        assert rt.store.dead_letters() == [], [d.reason for d in rt.store.dead_letters()][:3]
        links = {lk.source_id: lk for lk in rt.store.links(handoff)}
        keys = [f"risk:{i}" for i in items] if handoff.startswith("risk") else items
        assert set(keys) <= set(links)
        for key in keys:
            found = _crm_records(crm, handoff, f"pm:{key}")
            assert len(found) == 1, (key, found)
            assert found[0] == links[key].target_id
        if handoff == "feedback-to-lead":
            for item in items:
                naming = [c for c in _comments(pm, item) if links[item].target_id in c]
                assert len(naming) == 1, (item, _comments(pm, item))
        result, _ = reconcile(rt)
        try:
            kinds = {Kind.RISK_WITHOUT_TASK, Kind.FEEDBACK_WITHOUT_LEAD}
            left = [d for d in result.discrepancies() if d.kind in kinds and d.pm_ref in items]
        finally:
            result.spool.close()
        assert left == [], left[:3]
    finally:
        rt.close()


def _crm_records(crm: Any, handoff: str, stamp: str) -> list[str]:
    risk = handoff.startswith("risk")
    if crm.name == "salesforce":
        rows = crm.state.find("Task" if risk else "Lead", Handoff_Hub_Id__c=stamp)
        return [str(r["Id"]) for r in rows]
    rows = crm.state.find("tasks" if risk else "leads", handoff_hub_id=stamp)
    return [str(r["id"]) for r in rows]


def _comments(pm: Any, item: str) -> list[str]:
    if pm.name == "jira":
        return [str(c) for c in pm.state.comments(item)]
    return [str(s) for s in pm.state.stories(item)]
