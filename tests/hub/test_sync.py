"""sync through the engine (no Prefect): Salesforce + Jira in-process."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from handoff_hub.hub.config.handoffs import SyncConfig, SyncFieldConfig
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.sync import HANDOFF, Sync
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link
from handoff_hub.sandboxes.kit import Sandbox

FIELDS = [
    SyncFieldConfig(crm="delivery_status", pm="status", direction="pm_to_crm"),
    SyncFieldConfig(crm="delivery_due", pm="due", direction="both"),
    SyncFieldConfig(crm="account.name", pm="account.name", direction="crm_to_pm"),
    SyncFieldConfig(crm="delivery_percent", pm="percent_complete", direction="pm_to_crm"),
]
READS = ("/services/oauth2/token", "/rest/api/3/search/jql")


def _run(runtime: Runtime, conflict: str = "report") -> dict[str, int]:
    config = SyncConfig(crm="crm", pm="pm", conflict=conflict, fields=FIELDS)  # type: ignore[arg-type]
    summary = run_handoff(HANDOFF, Sync(runtime, config), runtime.store)
    assert summary.status == "succeeded", summary
    return summary.counts


@pytest.fixture
def synced(runtime: Runtime) -> Runtime:
    """Deals have projects and a first sync has set the base."""
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(runtime, settings), runtime.store)
    _run(runtime)
    return runtime


def _pair(runtime: Runtime) -> Link:
    return runtime.store.links(WON)[0]


def _writes(*sandboxes: Sandbox) -> int:
    return sum(len(s.journal.writes(read_paths=READS)) for s in sandboxes)


def test_first_sync_fills_blanks_and_a_rerun_writes_nothing(
    synced: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _pair(synced)
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    epic = jira_sandbox.state.get(link.target_key)["fields"]  # type: ignore[attr-defined]
    assert deal["Delivery_Due__c"] == epic["duedate"]
    assert deal["Delivery_Status__c"] == "Not Started"
    before = _writes(sf_sandbox, jira_sandbox)
    counts = _run(synced)
    assert _writes(sf_sandbox, jira_sandbox) == before, "the hub's own writes came back"
    assert counts.get("updated", 0) == 0 and counts.get("conflicts", 0) == 0


def test_project_status_flows_onto_the_deal(
    synced: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _pair(synced)
    jira_sandbox.state.modify(link.target_key, status="In Progress")  # type: ignore[attr-defined]
    assert _run(synced)["updated"] == 1
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    assert deal["Delivery_Status__c"] == "In Progress"
    assert _run(synced).get("updated", 0) == 0


def test_a_one_sided_change_of_a_two_way_field_flows_the_other_way(
    synced: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _pair(synced)
    sf_sandbox.state.modify_opportunity(link.source_id, Delivery_Due__c="2027-03-31")  # type: ignore[attr-defined]
    assert _run(synced)["updated"] == 1
    assert jira_sandbox.state.get(link.target_key)["fields"]["duedate"] == "2027-03-31"  # type: ignore[attr-defined]
    jira_sandbox.state.modify(link.target_key, duedate=dt.date(2027, 4, 30))  # type: ignore[attr-defined]
    assert _run(synced)["updated"] == 1
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    assert deal["Delivery_Due__c"] == "2027-04-30"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("crm-wins", "2027-01-15"),
        ("pm-wins", "2027-02-15"),
        ("newest-wins", "2027-02-15"),  # Jira is changed last
        ("report", None),
    ],
)
def test_conflict_policies(
    synced: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox, policy: str, expected: str | None
) -> None:
    link = _pair(synced)
    before = sf_sandbox.state.get("Opportunity", link.source_id)["Delivery_Due__c"]  # type: ignore[attr-defined]
    sf_sandbox.state.modify_opportunity(link.source_id, Delivery_Due__c="2027-01-15")  # type: ignore[attr-defined]
    time.sleep(0.01)  # orders the two edits for newest-wins (timestamps have milliseconds)
    jira_sandbox.state.modify(link.target_key, duedate=dt.date(2027, 2, 15))  # type: ignore[attr-defined]
    counts = _run(synced, policy)
    deal_due = sf_sandbox.state.get("Opportunity", link.source_id)["Delivery_Due__c"]  # type: ignore[attr-defined]
    epic_due = jira_sandbox.state.get(link.target_key)["fields"]["duedate"]  # type: ignore[attr-defined]
    if expected is None:
        assert counts["conflicts"] == 1 and counts.get("updated", 0) == 0
        assert (deal_due, epic_due) == ("2027-01-15", "2027-02-15")
        events = [e for e in synced.store.audit_events() if e.action == "conflict"]
        assert len(events) == 1 and "2027-01-15" in str(events[0].detail)
        assert before != "2027-01-15"
    else:
        assert counts["updated"] == 1 and counts.get("conflicts", 0) == 0
        assert deal_due == epic_due == expected
        assert _run(synced, policy).get("updated", 0) == 0


def test_a_read_only_target_field_is_a_config_error(synced: Runtime) -> None:
    config = SyncConfig(
        crm="crm",
        pm="pm",
        fields=[SyncFieldConfig(crm="delivery_status", pm="status", direction="crm_to_pm")],
    )
    with pytest.raises(ConfigError, match=r"fields\[0\]\.pm: is not written"):
        Sync(synced, config)


def test_percent_complete_follows_the_tasks(
    synced: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = _pair(synced)
    assert sf_sandbox.state.get("Opportunity", link.source_id)["Delivery_Percent__c"] == 0  # type: ignore[attr-defined]
    tasks = jira_sandbox.state.children(link.target_key)  # type: ignore[attr-defined]
    done = tasks[: len(tasks) // 2]
    for key in done:
        jira_sandbox.state.modify(key, status="Done")  # type: ignore[attr-defined]
    assert _run(synced)["updated"] == 1
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    assert deal["Delivery_Percent__c"] == round(100 * len(done) / len(tasks))
    assert _run(synced).get("updated", 0) == 0


def test_a_new_deal_owner_becomes_the_project_manager(
    runtime: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(runtime, settings), runtime.store)
    owner_rule = [SyncFieldConfig(crm="owner", pm="manager", direction="crm_to_pm")]
    config = SyncConfig(crm="crm", pm="pm", fields=owner_rule)
    run_handoff(HANDOFF, Sync(runtime, config), runtime.store)
    link = _pair(runtime)
    deal = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    jira_people = jira_sandbox.state.user_ids()  # type: ignore[attr-defined]
    users = [
        u
        for u in sf_sandbox.state.find("User", IsActive=True)  # type: ignore[attr-defined]
        if u["Id"] != deal["OwnerId"] and str(u["Email"]).lower() in jira_people
    ]
    assert users, "the seeds share sales people between the CRM and Jira"
    sf_sandbox.state.modify_opportunity(link.source_id, OwnerId=users[0]["Id"])  # type: ignore[attr-defined]

    counts = run_handoff(HANDOFF, Sync(runtime, config), runtime.store).counts

    assert counts["updated"] == 1
    assignee = jira_sandbox.state.get(link.target_key)["fields"]["assignee"]  # type: ignore[attr-defined]
    assert assignee["accountId"] == jira_people[str(users[0]["Email"]).lower()]
    again = run_handoff(HANDOFF, Sync(runtime, config), runtime.store).counts
    assert again.get("updated", 0) == 0
