"""SIGKILL at 32 points of the four handoffs, then a plain rerun: nothing twice, nothing lost.

Each case serves fresh Salesforce and Jira sandboxes on localhost ports, runs
one handoff in a child process, kills it at the chosen point (see
crash_support), checks that the kill happened, reruns the handoff normally
until it has nothing left to do, and checks the handoff's invariant: one
project per won deal, one task per open risk, one lead and one comment per
flagged item, deal and project in step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crash_support import KillPoint, Served, run_child

from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Kind
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

SF = r"/services/data/v[0-9.]+"
JIRA = "/rest/api/3"
WON, RISK, FEEDBACK, SYNC = (
    "won-to-project",
    "risk-to-account-manager",
    "feedback-to-lead",
    "sync",
)

KILL_POINTS = [
    # won-to-project: the product's side
    KillPoint(WON, f"http:after:1:GET {SF}/query", "after the first page was read"),
    # the Epics of a batch's deals go in one bulk create, then their Tasks, then the Sub-tasks
    KillPoint(WON, f"http:before:1:POST {JIRA}/issue/bulk", "before the epics are created"),
    KillPoint(WON, f"http:after:1:POST {JIRA}/issue/bulk", "after the epics, answer lost"),
    KillPoint(WON, f"http:before:2:POST {JIRA}/issue/bulk", "before the first tasks"),
    KillPoint(WON, f"http:after:2:POST {JIRA}/issue/bulk", "after the first tasks"),
    KillPoint(WON, f"http:after:3:POST {JIRA}/issue/bulk", "after the second tasks"),
    KillPoint(WON, f"http:before:4:POST {JIRA}/issue/bulk", "before the sub-tasks"),
    KillPoint(WON, f"http:after:4:POST {JIRA}/issue/bulk", "after the sub-tasks"),
    KillPoint(WON, f"http:before:1:PATCH {SF}/composite/sobjects", "before the write-back"),
    KillPoint(WON, f"http:after:1:PATCH {SF}/composite/sobjects", "after the write-back"),
    # won-to-project: the store's side
    KillPoint(WON, "sql:after:1:INSERT INTO runs", "after the run row"),
    KillPoint(WON, "sql:before:1:INSERT INTO links", "before the first link"),
    KillPoint(WON, "sql:after:1:INSERT INTO links", "after the first link"),
    KillPoint(WON, "sql:after:2:INSERT INTO links", "between two links"),
    KillPoint(WON, "sql:before:1:UPDATE links", "before a link is completed"),
    KillPoint(WON, "sql:after:1:UPDATE links", "after a link is completed"),
    KillPoint(WON, "sql:before:1:INSERT INTO audit_events", "before the first audit"),
    KillPoint(WON, "sql:before:1:(INSERT INTO|UPDATE) cursors", "before the cursor moves"),
    KillPoint(WON, "sql:after:1:(INSERT INTO|UPDATE) cursors", "after the cursor moved"),
    # feedback-to-lead
    KillPoint(FEEDBACK, f"http:before:1:POST {SF}/composite/sobjects", "before the leads"),
    KillPoint(FEEDBACK, f"http:after:1:POST {SF}/composite/sobjects", "after the leads"),
    KillPoint(FEEDBACK, f"http:before:1:POST {JIRA}/issue/[^/]+/comment", "before a comment"),
    KillPoint(FEEDBACK, f"http:after:1:POST {JIRA}/issue/[^/]+/comment", "after a comment"),
    KillPoint(FEEDBACK, "sql:after:1:INSERT INTO links", "after a lead's link"),
    KillPoint(FEEDBACK, "sql:before:1:UPDATE links", "before a link is completed"),
    # risk-to-account-manager
    KillPoint(RISK, f"http:before:1:POST {SF}/composite/sobjects", "before the tasks"),
    KillPoint(RISK, f"http:after:1:POST {SF}/composite/sobjects", "after the tasks"),
    KillPoint(RISK, f"http:after:1:PATCH {SF}/composite/sobjects", "after the health"),
    KillPoint(RISK, "sql:after:1:INSERT INTO links", "after a task's link"),
    KillPoint(RISK, "sql:before:1:(INSERT INTO|UPDATE) cursors", "before the cursor moves"),
    # sync
    KillPoint(SYNC, f"http:after:1:PATCH {SF}/composite/sobjects", "after the deal writes"),
    KillPoint(SYNC, "sql:before:1:(INSERT INTO|UPDATE) sync_state", "before the base is kept"),
    KillPoint(SYNC, "sql:after:1:(INSERT INTO|UPDATE) sync_state", "after the base is kept"),
]
QUICK = {0, 2, 12, 22, 26, 30}
"""The cases every test run has; the rest run with make reliability."""


def _cases() -> list[Any]:
    return [
        pytest.param(point, id=f"{point.handoff}: {point.label}")
        if n in QUICK
        else pytest.param(
            point, id=f"{point.handoff}: {point.label}", marks=pytest.mark.reliability
        )
        for n, point in enumerate(KILL_POINTS)
    ]


@pytest.fixture
def served() -> Iterator[dict[str, tuple[RunningSandbox, Served]]]:
    wrapped = {
        "salesforce": Served(make_sandbox("salesforce", seed=41, records=60)),
        "jira": Served(make_sandbox("jira", seed=41, records=6)),
    }
    running = {name: (serve_in_thread(w), w) for name, w in wrapped.items()}  # type: ignore[arg-type]
    yield running
    for run, _ in running.values():
        run.stop()


def test_the_kill_points_are_distinct() -> None:
    assert len(KILL_POINTS) >= 30
    assert len({(p.handoff, p.spec) for p in KILL_POINTS}) == len(KILL_POINTS)


@pytest.mark.parametrize("point", _cases())
def test_killed_then_rerun_nothing_twice_nothing_lost(
    point: KillPoint, tmp_path: Path, served: dict[str, tuple[RunningSandbox, Served]]
) -> None:
    targets = {name: (run.url, wrapped.sandbox) for name, (run, wrapped) in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_CRASH"
    )
    rt = open_runtime(load_config(config, known_connectors=known_connectors()))
    try:
        sf, jira = served["salesforce"][1].sandbox, served["jira"][1].sandbox
        _prepare(point.handoff, rt, jira)

        child = run_child(config, point.handoff, "none" if point.is_http else point.spec)
        if point.is_http:
            when, nth, method, path = point.http_parts()
            side = "salesforce" if path.startswith("/services") else "jira"
            served[side][1].switch.arm(child.pid, (when, nth, method, path))
        out, err = child.communicate(timeout=180)
        for _, wrapped in served.values():
            wrapped.switch.disarm()
        assert child.returncode == -9, f"the kill point was not reached: {out} {err[-2000:]}"

        _rerun_until_quiet(rt, point.handoff)
        _check(point.handoff, rt, sf.state, jira.state)  # type: ignore[attr-defined]
    finally:
        rt.close()


def _prepare(handoff: str, rt: Runtime, jira: Any) -> None:
    if handoff == WON:
        return
    run_handoff(WON, build_handoff(rt, WON), rt.store)
    epics = [lk.target_key for lk in rt.store.links(WON)]
    if handoff == FEEDBACK:
        for n, epic in enumerate(epics[:3]):
            jira.state.add_feedback(epic, f"Customer asks for option {n}", "upsell")
    elif handoff == RISK:
        jira.state.add_risk(epics[0], "Vendor API unstable", "critical")
        jira.state.add_risk(epics[1], "Key engineer leaving", "high")
        jira.state.set_health(epics[2], "red")
    elif handoff == SYNC:
        jira.state.modify(epics[0], duedate=dt.date.today() + dt.timedelta(days=40))


def _rerun_until_quiet(rt: Runtime, handoff: str) -> None:
    for _ in range(4):
        summary = run_handoff(handoff, build_handoff(rt, handoff), rt.store)
        assert summary.status in {"succeeded", "completed_with_failures"}, summary
        work = ("created", "recovered", "finished", "updated", "closed", "commented")
        if not any(summary.counts.get(k) for k in work):
            return
    raise AssertionError(f"{handoff} still had work after four reruns: {summary.counts}")


def _check(handoff: str, rt: Runtime, sf: Any, jira: Any) -> None:
    assert rt.store.dead_letters() == [], [d.reason for d in rt.store.dead_letters()]
    if handoff == WON:
        won = [o["Id"] for o in sf.find("Opportunity", IsWon=True)]
        epics = set(jira.epics())
        per_deal = {d: len(epics & set(jira.by_label(stamp_label(f"crm:{d}")))) for d in won}
        assert set(per_deal.values()) == {1}, per_deal
        links = {lk.source_id: lk.state for lk in rt.store.links(WON)}
        assert links == dict.fromkeys(won, "complete")
    elif handoff == FEEDBACK:
        items = {lk.source_id for lk in rt.store.links(FEEDBACK)}
        assert len(items) >= 3
        for item in items:
            leads = sf.find("Lead", Handoff_Hub_Id__c=f"pm:{item}")
            assert len(leads) == 1, (item, leads)
            naming = [c for c in jira.comments(item) if leads[0]["Id"] in str(c)]
            assert len(naming) == 1, (item, jira.comments(item))
    elif handoff == RISK:
        alerts = {lk.source_id for lk in rt.store.links(RISK)}
        assert len([a for a in alerts if a.startswith("risk:")]) == 2, alerts
        for alert in alerts:
            assert len(sf.find("Task", Handoff_Hub_Id__c=f"pm:{alert}")) == 1, alert
    else:
        result, _ = reconcile(rt)
        try:
            drift = [d for d in result.discrepancies() if d.kind is Kind.FIELD_DRIFT]
        finally:
            result.spool.close()
        assert drift == [], drift[:3]
