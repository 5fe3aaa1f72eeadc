"""risk-to-account-manager through the engine (no Prefect): Salesforce + Jira in-process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from handoff_hub.hub.config.handoffs import RiskToAccountManagerConfig
from handoff_hub.hub.connector import WriteResult
from handoff_hub.hub.errors import TransientError
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF, RiskToAccountManager
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link
from handoff_hub.sandboxes.kit import Sandbox

TODAY = dt.date(2026, 11, 30)


def _run(runtime: Runtime, *, dry_run: bool = False, **settings: object) -> dict[str, int]:
    config = RiskToAccountManagerConfig(pm="pm", crm="crm", **settings)  # type: ignore[arg-type]
    handoff = RiskToAccountManager(runtime, config, today=TODAY)
    return run_handoff(HANDOFF, handoff, runtime.store, dry_run=dry_run).counts


@pytest.fixture
def linked(runtime: Runtime) -> Runtime:
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(runtime, settings), runtime.store)
    _run(runtime)  # the seeded state is the baseline
    return runtime


def _deal_link(runtime: Runtime, n: int = 0) -> Link:
    return runtime.store.links(WON)[n]


def _tasks(sf: Sandbox, stamp: str) -> list[dict[str, object]]:
    return sf.state.find("Task", Handoff_Hub_Id__c=f"pm:{stamp}")  # type: ignore[attr-defined,no-any-return]


def test_a_severe_risk_gives_the_account_manager_one_task(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _deal_link(linked)
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    risk = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Vendor API not ready for go-live", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(risk, priority="High")  # type: ignore[attr-defined]
    minor = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Meeting room booking", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(minor, priority="Low")  # type: ignore[attr-defined]

    counts = _run(linked)

    assert counts["created"] == 1
    tasks = _tasks(sf_sandbox, f"risk:{risk}")
    assert len(tasks) == 1
    task = tasks[0]
    account = sf_sandbox.state.get("Account", deal["AccountId"])  # type: ignore[attr-defined]
    assert task["WhatId"] == link.source_id
    assert task["OwnerId"] == account["OwnerId"], "the account manager owns the account"
    assert task["Status"] == "Not Started"
    assert "Vendor API not ready" in str(task["Subject"]) and "high" in str(task["Subject"])
    assert task["ActivityDate"] == (TODAY + dt.timedelta(days=2)).isoformat()
    assert _tasks(sf_sandbox, f"risk:{minor}") == []
    assert _run(linked).get("created", 0) == 0


def test_a_changed_risk_updates_and_a_resolved_one_closes_the_same_task(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _deal_link(linked)
    risk = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Data migration slipping", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(risk, priority="High")  # type: ignore[attr-defined]
    _run(linked)
    jira_sandbox.state.modify(risk, priority="Highest", summary="Data migration 3 weeks late")  # type: ignore[attr-defined]
    assert _run(linked)["updated"] == 1
    jira_sandbox.state.modify(risk, status="Done")  # type: ignore[attr-defined]
    assert _run(linked)["closed"] == 1

    tasks = _tasks(sf_sandbox, f"risk:{risk}")
    assert len(tasks) == 1
    assert tasks[0]["Status"] == "Completed"
    assert "3 weeks late" in str(tasks[0]["Subject"]) and "critical" in str(tasks[0]["Subject"])
    again = _run(linked)
    assert again.get("closed", 0) == 0 and again.get("created", 0) == 0


def test_red_health_raises_a_task_and_is_written_onto_the_deal(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _deal_link(linked, 1)
    jira_sandbox.state.modify(link.target_key, customfield_10052={"value": "Red"})  # type: ignore[attr-defined]
    counts = _run(linked)
    assert counts["created"] == 1 and counts["health_written"] == 1
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    assert deal["Delivery_Health__c"] == "Red"
    tasks = _tasks(sf_sandbox, f"health:{link.target_key}")
    assert len(tasks) == 1 and "red" in str(tasks[0]["Subject"]).lower()

    jira_sandbox.state.modify(link.target_key, customfield_10052={"value": "Green"})  # type: ignore[attr-defined]
    counts = _run(linked)
    assert counts["closed"] == 1 and counts["health_written"] == 1
    assert sf_sandbox.state.get("Opportunity", link.source_id)["Delivery_Health__c"] == "Green"  # type: ignore[attr-defined]
    assert _tasks(sf_sandbox, f"health:{link.target_key}")[0]["Status"] == "Completed"


def test_crash_after_create_never_gives_a_second_task(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = _deal_link(linked)
    risk = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Key engineer leaving", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(risk, priority="Highest")  # type: ignore[attr-defined]

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("hub process killed")

    monkeypatch.setattr(linked.store, "record_link", crash)
    with pytest.raises(RuntimeError, match="killed"):
        _run(linked)
    monkeypatch.undo()
    counts = _run(linked)
    assert counts.get("created", 0) == 0 and counts["recovered"] == 1
    assert len(_tasks(sf_sandbox, f"risk:{risk}")) == 1


def test_plan_writes_nothing(linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox) -> None:
    link = _deal_link(linked)
    risk = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Scope creep", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(risk, priority="High")  # type: ignore[attr-defined]
    reads = ("/services/oauth2/token", "/rest/api/3/search/jql")
    before = [len(s.journal.writes(read_paths=reads)) for s in (sf_sandbox, jira_sandbox)]
    assert _run(linked, dry_run=True)["seen"] >= 1
    after = [len(s.journal.writes(read_paths=reads)) for s in (sf_sandbox, jira_sandbox)]
    assert after == before
    assert _tasks(sf_sandbox, f"risk:{risk}") == []


def test_a_failed_notification_is_recorded_and_the_task_still_made(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    from handoff_hub.hub.config.handoffs import NotifyConfig

    link = _deal_link(linked)
    risk = jira_sandbox.state.add_risk(link.target_key, "Integration partner unresponsive")  # type: ignore[attr-defined]
    # Each deal owner's own address goes into the URL; the port refuses connections.
    notify = NotifyConfig(urls=["json://127.0.0.1:9/{{ owner.email }}"])
    counts = _run(linked, notify=notify)
    assert counts["created"] == 1 and counts["notify_failed"] == 1
    assert len(_tasks(sf_sandbox, f"risk:{risk}")) == 1
    events = [
        e for e in linked.store.audit_events() if e.action == "notify" and e.handoff == HANDOFF
    ]
    assert [e.outcome for e in events] == ["failed"]
    runs = linked.store.runs(HANDOFF)
    assert runs[-1].status == "succeeded"


def test_health_from_overdue_tasks(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _deal_link(linked)
    tasks = jira_sandbox.state.children(link.target_key)  # type: ignore[attr-defined]
    assert len(tasks) >= 5
    for key in tasks:
        jira_sandbox.state.modify(key, duedate=TODAY + dt.timedelta(days=10), status="To Do")  # type: ignore[attr-defined]
    for key in tasks[: len(tasks) // 2]:
        jira_sandbox.state.modify(key, duedate=TODAY - dt.timedelta(days=3))  # type: ignore[attr-defined]

    counts = _run(linked, health_from="overdue_tasks")

    assert counts["created"] == 1, counts
    found = _tasks(sf_sandbox, f"health:{link.target_key}")
    assert len(found) == 1 and "red" in str(found[0]["Subject"]).lower()
    assert f"{len(tasks) // 2} of {len(tasks)} dated tasks are overdue" in str(
        found[0]["Description"]
    )
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    assert deal["Delivery_Health__c"] == "Red"
    for key in tasks[: len(tasks) // 2]:
        jira_sandbox.state.modify(key, status="Done")  # type: ignore[attr-defined]
    assert _run(linked, health_from="overdue_tasks")["closed"] == 1


def test_tasks_can_go_to_the_deal_owner_instead(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _deal_link(linked)
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    users = sf_sandbox.state.ids("User")  # type: ignore[attr-defined]
    other = next(u for u in users if u != deal["OwnerId"])
    sf_sandbox.state.modify_record("Account", deal["AccountId"], OwnerId=other)  # type: ignore[attr-defined]
    risk = jira_sandbox.state.add_risk(link.target_key, "Budget overrun", "high")  # type: ignore[attr-defined]
    assert _run(linked, assign_to="deal_owner")["created"] == 1
    assert _tasks(sf_sandbox, f"risk:{risk}")[0]["OwnerId"] == deal["OwnerId"]
    second = jira_sandbox.state.add_risk(link.target_key, "Key user on leave", "high")  # type: ignore[attr-defined]
    assert _run(linked)["created"] == 1
    assert _tasks(sf_sandbox, f"risk:{second}")[0]["OwnerId"] == other


def test_an_account_owned_by_an_integration_user_gives_the_task_to_the_deal_owner(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _deal_link(linked)
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    users = sf_sandbox.state.ids("User")  # type: ignore[attr-defined]
    robot = next(u for u in users if u != deal["OwnerId"])
    email = sf_sandbox.state.get("User", robot)["Email"]  # type: ignore[attr-defined]
    sf_sandbox.state.modify_record("Account", deal["AccountId"], OwnerId=robot)  # type: ignore[attr-defined]
    risk = jira_sandbox.state.add_risk(link.target_key, "Budget overrun", "high")  # type: ignore[attr-defined]
    assert _run(linked, integration_users=[f" {email.upper()} "])["created"] == 1
    assert _tasks(sf_sandbox, f"risk:{risk}")[0]["OwnerId"] == deal["OwnerId"]


def test_an_unsure_task_create_is_found_by_its_stamp_not_dead_lettered(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRM made the task but its answer did not say which input it was."""
    link = _deal_link(linked)
    risk = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Budget overrun expected", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(risk, priority="Highest")  # type: ignore[attr-defined]
    crm = linked.connector("crm")
    create = crm.create

    def answer_unsure(object_name: str, records: Any) -> list[WriteResult]:
        return [
            WriteResult(index=r.index, ok=False, error="no result matched", unsure=True)
            for r in create(object_name, records)
        ]

    monkeypatch.setattr(crm, "create", answer_unsure)
    with pytest.raises(TransientError, match="CRM tasks may or may not have gone through"):
        _run(linked)
    monkeypatch.undo()
    assert linked.store.dead_letters(handoff=HANDOFF) == []
    counts = _run(linked)
    assert counts.get("created", 0) == 0 and counts["recovered"] == 1
    assert len(_tasks(sf_sandbox, f"risk:{risk}")) == 1


def test_a_risk_whose_deal_cannot_be_read_is_dead_lettered_with_the_reason(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    """A salesperson typed 33.5 into an integer field: the risk must not vanish as unlinked."""
    link = _deal_link(linked)
    sf_sandbox.state.modify_opportunity(link.source_id, Delivery_Percent__c=33.5)  # type: ignore[attr-defined]
    risk = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Go-live slips a month", parent=link.target_key, labels=("risk",)
    )
    jira_sandbox.state.modify(risk, priority="Highest")  # type: ignore[attr-defined]

    planned = _run(linked, dry_run=True)
    assert planned["failed"] == 1

    counts = _run(linked)
    assert counts["failed"] == 1 and counts.get("created", 0) == 0
    [letter] = [d for d in linked.store.dead_letters(handoff=HANDOFF) if risk in d.record_id]
    assert "linked to a deal, but its deal cannot be read" in letter.reason
    assert "delivery_percent" in letter.reason
    assert _tasks(sf_sandbox, f"risk:{risk}") == []
