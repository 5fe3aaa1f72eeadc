"""hub adopt: won deals are linked to the projects they already have, never duplicated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.handoffs.adopt import NAMED, SAME_NAME, adopt
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF
from handoff_hub.hub.runtime import Runtime
from handoff_hub.sandboxes.kit.server import make_sandbox, serve_in_thread


@pytest.fixture(params=[("salesforce", "jira"), ("hubspot", "asana")], ids="+".join)
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _crm(rt: Runtime) -> Any:
    return rt.sandboxes["crm"]  # type: ignore[attr-defined]


def _pm(rt: Runtime) -> Any:
    return rt.sandboxes["pm"]  # type: ignore[attr-defined]


def _name_project(rt: Runtime, project: str, name: str) -> None:
    if _pm(rt).name == "jira":
        _pm(rt).state.modify(project, summary=name)
    else:
        _pm(rt).state.modify_project(project, name=name)


def _existing_projects(rt: Runtime) -> list[str]:
    state = _pm(rt).state
    return state.epics() if _pm(rt).name == "jira" else state.projects()


def _name_the_project(rt: Runtime, deal: str, project: str) -> None:
    if _crm(rt).name == "salesforce":
        _crm(rt).state.modify_opportunity(deal, Delivery_Project__c=project)
    else:
        _crm(rt).state.modify_record("deals", deal, delivery_project=project)


def _setup(rt: Runtime) -> dict[str, str]:
    """Three won deals: one names an existing project, one shares a project's name, one
    names a project that does not exist."""
    plan = adopt(rt)
    deals = [(a.deal_id, a.deal_name) for a in plan.items]
    assert len(deals) >= 4
    projects = _existing_projects(rt)
    (named, _), (same, same_name), (missing, _) = deals[:3]
    _name_the_project(rt, named, projects[0])
    _name_project(rt, projects[1], same_name)
    _name_the_project(rt, missing, "DEL-99999" if _pm(rt).name == "jira" else "1209999999999999")
    return {"named": named, "same": same, "missing": missing, "project": projects[0]}


def test_the_plan_finds_each_kind_and_writes_nothing(rt: Runtime) -> None:
    deals = _setup(rt)
    for sandbox in (_crm(rt), _pm(rt)):
        sandbox.journal.clear()
    plan = {a.deal_id: a for a in adopt(rt).items}
    assert plan[deals["named"]].how == NAMED
    assert plan[deals["named"]].project is not None
    assert plan[deals["same"]].how == SAME_NAME
    assert "does not have" in str(plan[deals["missing"]].problem)
    assert rt.store.links(HANDOFF) == []
    assert [c for s in (_crm(rt), _pm(rt)) for c in s.journal.writes()] == []


def test_applied_links_stop_won_to_project_making_a_second_project(rt: Runtime) -> None:
    deals = _setup(rt)
    applied = {a.deal_id: a for a in adopt(rt, apply=True).items}
    assert applied[deals["named"]].linked and not applied[deals["same"]].linked
    links = {lk.source_id: lk for lk in rt.store.links(HANDOFF)}
    assert set(links) == {deals["named"]}
    assert [e.action for e in rt.store.audit_events() if e.action == "adopt"] == ["adopt"]
    adopt(rt, apply=True, accept_names=True)
    assert set(lk.source_id for lk in rt.store.links(HANDOFF)) == {deals["named"], deals["same"]}
    before = len(_existing_projects(rt))
    summary = run_handoff(HANDOFF, build_handoff(rt, HANDOFF), rt.store)
    linked = {lk.source_id for lk in rt.store.links(HANDOFF)}
    assert {deals["named"], deals["same"]} <= linked
    assert len(_existing_projects(rt)) - before == summary.counts["created"]
    assert summary.counts["created"] == len(linked) - 2


def test_the_command_plans_then_applies(tmp_path: Path) -> None:
    running = {
        name: serve_in_thread(make_sandbox(name, seed=4, records=16))
        for name in ("salesforce", "jira")
    }
    try:
        targets = {name: (run.url, run.sandbox) for name, run in running.items()}
        config = write_sandbox_config(
            example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_ADOPT"
        )
        deal = running["salesforce"].sandbox.state.find("Opportunity", IsWon=True)[0]["Id"]
        epic = running["jira"].sandbox.state.epics()[0]
        running["salesforce"].sandbox.state.modify_opportunity(deal, Delivery_Project__c=epic)
        runner = CliRunner()
        plan = runner.invoke(app, ["adopt", "-c", str(config)], env={"COLUMNS": "200"})
        assert plan.exit_code == 0, plan.output
        assert "nothing written" in plan.output and "to link (named by the deal)" in plan.output
        applied = runner.invoke(app, ["adopt", "-c", str(config), "--apply"])
        assert applied.exit_code == 0, applied.output
        assert "1 linked" in applied.output
        again = runner.invoke(app, ["adopt", "-c", str(config), "--apply"])
        assert "1 linked" not in again.output  # linked deals are no longer candidates
    finally:
        for run in running.values():
            run.stop()
