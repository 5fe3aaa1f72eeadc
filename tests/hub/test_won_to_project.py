"""won-to-project through the engine (no Prefect), against in-process sandboxes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from handoff_hub.hub.errors import TransientError
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import AuditEventRow
from handoff_hub.sandboxes.kit import Sandbox

TODAY = dt.date(2026, 11, 22)


def _handoff(runtime: Runtime) -> WonToProject:
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    return WonToProject(runtime, settings, today=TODAY)


def _run(runtime: Runtime, *, dry_run: bool = False) -> dict[str, int]:
    summary = run_handoff(HANDOFF, _handoff(runtime), runtime.store, dry_run=dry_run)
    return summary.counts


def _won_ids(runtime: Runtime) -> set[str]:
    crm = runtime.connector("crm")
    pages = crm.read_changes(
        "Opportunity", since=None, fields=["Id", "IsWon"], where={"IsWon": True}
    )
    return {r.id for page in pages for r in page.records}


def _epics(runtime: Runtime) -> list[Any]:
    pm = runtime.pm("pm")
    pages = pm.read_changes(
        "issue",
        since=None,
        fields=["summary", "labels", "customfield_10050"],
        where={"issuetype": "Epic"},
    )
    return [
        r
        for page in pages
        for r in page.records
        if any(str(label).startswith("hh-src-") for label in r.raw["fields"].get("labels", []))
    ]


def test_first_run_creates_one_project_per_won_deal(runtime: Runtime) -> None:
    won = _won_ids(runtime)
    assert len(won) >= 3, "the seed must contain won deals"
    counts = _run(runtime)
    assert counts["created"] == len(won)
    assert counts.get("failed", 0) == 0
    epics = _epics(runtime)
    assert len(epics) == len(won)
    links = runtime.store.links(HANDOFF)
    assert {lk.source_id for lk in links} == won
    assert all(lk.state == "complete" for lk in links)
    opps = runtime.connector("crm").read_by_ids(
        "Opportunity", sorted(won), fields=["Id", "Delivery_Project__c", "Amount"]
    )
    by_key = {lk.target_key: lk.source_id for lk in links}
    for opp in opps:
        assert opp.raw["Delivery_Project__c"] in by_key
    budgets = {e.raw["fields"].get("customfield_10050") for e in epics}
    amounts = {float(o.raw["Amount"]) for o in opps if o.raw.get("Amount") is not None}
    assert amounts <= budgets
    actions = Counter(e.action for e in runtime.store.audit_events())
    assert actions["create_project"] == len(won)
    assert actions["write_back"] == len(won)
    assert actions["notify"] == len(won)


def test_template_tasks_are_created_under_each_epic(runtime: Runtime) -> None:
    _run(runtime)
    template = runtime.loaded.config.templates["standard-delivery"]
    link = runtime.store.links(HANDOFF)[0]
    pm = runtime.pm("pm")
    pages = pm.read_changes(
        "issue",
        since=None,
        fields=["summary", "parent"],
        where={"labels": f"hh-src-crm-{link.source_id}".lower()},
    )
    summaries = Counter(r.raw["fields"]["summary"] for p in pages for r in p.records)
    for task in template.tasks:
        assert summaries[task.name] == 1, task.name


def test_rerun_creates_nothing_and_writes_nothing(runtime: Runtime, jira_sandbox: Sandbox) -> None:
    first = _run(runtime)
    jira_sandbox.journal.clear()
    second = _run(runtime)
    assert second.get("created", 0) == 0
    assert second.get("failed", 0) == 0
    assert len(_epics(runtime)) == first["created"]
    assert jira_sandbox.journal.writes(read_paths=("/rest/api/3/search",)) == []


class Crash(BaseException):
    """Stands in for the process dying: nothing catches it."""


def test_crash_between_bulk_create_and_links_never_duplicates(runtime: Runtime) -> None:
    won = _won_ids(runtime)
    handoff = _handoff(runtime)
    real_create = handoff.pm.create_projects  # type: ignore[attr-defined]

    def create_then_crash(projects: Any) -> Any:
        real_create(projects)
        raise Crash("killed right after the bulk create, before any link")

    handoff.pm.create_projects = create_then_crash  # type: ignore[attr-defined]
    with pytest.raises(Crash):
        run_handoff(HANDOFF, handoff, runtime.store)
    assert runtime.store.links(HANDOFF) == []
    made = len(_epics(runtime))
    assert made > 0
    counts = _run(runtime)
    assert counts["recovered"] == made
    assert counts.get("created", 0) == len(won) - made
    assert len(_epics(runtime)) == len(won)
    assert {lk.source_id for lk in runtime.store.links(HANDOFF)} == won
    assert all(lk.state == "complete" for lk in runtime.store.links(HANDOFF))


def test_dropped_connection_mid_create_heals_without_duplicate_tasks(
    runtime: Runtime, jira_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    won = _won_ids(runtime)
    # the sandbox's search sees a write at once: no need to wait for Jira's index
    monkeypatch.setattr(runtime.pm("pm").client, "pause", lambda seconds: None)
    jira_sandbox.faults.rate = 1.0
    jira_sandbox.faults.kinds = ("drop_after",)
    jira_sandbox.faults.only_paths = ("/rest/api/3/issue/bulk",)
    with pytest.raises(TransientError, match="may or may not have gone through"):
        _run(runtime)  # every bulk answer lost: the batch fails, nothing sent blindly again
    assert jira_sandbox.faults.injected >= len(won)
    assert len(_epics(runtime)) == len(won)
    jira_sandbox.faults.rate = 0.0
    counts = _run(runtime)  # the next run finds each stamped epic and completes it
    assert counts["recovered"] + counts.get("created", 0) == len(won)
    assert len(_epics(runtime)) == len(won)
    template = runtime.loaded.config.templates["standard-delivery"]
    pm = runtime.pm("pm")
    pages = pm.read_changes(
        "issue", since=None, fields=["summary", "labels"], where={"issuetype": "Task"}
    )
    per_epic = Counter(
        (tuple(sorted(r.raw["fields"].get("labels", []))), r.raw["fields"]["summary"])
        for p in pages
        for r in p.records
    )
    assert per_epic and max(per_epic.values()) == 1
    assert len({t.name for t in template.tasks}) == len(template.tasks)


def test_transient_faults_are_retried_to_the_same_result(
    runtime: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    won = _won_ids(runtime)
    for sandbox in (sf_sandbox, jira_sandbox):
        sandbox.faults.kinds = ("429", "500", "503")
        sandbox.faults.rate = 0.2
    counts = _run(runtime)
    assert counts["created"] == len(won)
    assert len(_epics(runtime)) == len(won)


def test_plan_writes_nothing(runtime: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox) -> None:
    won = _won_ids(runtime)
    summary = run_handoff(HANDOFF, _handoff(runtime), runtime.store, dry_run=True)
    assert Counter(d.verdict.value for d in summary.decisions)["create"] == len(won)
    assert sf_sandbox.journal.writes(read_paths=("/services/oauth2/token",)) == []
    assert jira_sandbox.journal.writes(read_paths=("/rest/api/3/search",)) == []
    assert runtime.store.links() == []
    assert runtime.store.runs() == []
    assert runtime.store.count(AuditEventRow) == 0


def test_planning_looks_up_a_batchs_stamps_in_one_search(
    runtime: Runtime, jira_sandbox: Sandbox
) -> None:
    won = _won_ids(runtime)
    assert len(won) >= 3
    before = jira_sandbox.journal.count(path_prefix="/rest/api/3/search")
    run_handoff(HANDOFF, _handoff(runtime), runtime.store, dry_run=True)
    # one batch of won deals without links: one labels IN (...) search, not one per deal
    assert jira_sandbox.journal.count(path_prefix="/rest/api/3/search") - before == 1


def test_malformed_opportunity_is_dead_lettered_and_the_rest_go_on(
    runtime: Runtime, sf_sandbox: Sandbox
) -> None:
    won = _won_ids(runtime)
    bad = sf_sandbox.state.add_opportunity("Broken deal", stage="Closed Won")  # type: ignore[attr-defined]
    # A response the API should never send: Amount as text. Set behind the API's back.
    with sf_sandbox.store.lock:  # type: ignore[attr-defined]
        sf_sandbox.store.lookup(bad)[1]["Amount"] = "n/a"  # type: ignore[attr-defined]
    counts = _run(runtime)
    assert counts["created"] == len(won)
    assert counts["failed"] == 1
    letters = runtime.store.dead_letters()
    assert [(d.record_id, d.object) for d in letters] == [(bad, "Opportunity")]
    assert "amount" in letters[0].reason.lower() and "n/a" in letters[0].reason
    assert letters[0].payload.get("Id") == bad

    sf_sandbox.state.modify_opportunity(bad, Amount=1200.0)  # type: ignore[attr-defined]
    again = _run(runtime)
    assert again["created"] == 1 and again.get("failed", 0) == 0
    assert runtime.store.dead_letters() == []
    assert [d.record_id for d in runtime.store.dead_letters(status="replayed")] == [bad]


def test_deal_won_after_a_run_gets_its_project_on_the_next(
    runtime: Runtime, sf_sandbox: Sandbox
) -> None:
    first = _run(runtime)
    epics = len(_epics(runtime))
    deal = sf_sandbox.state.add_opportunity("Late bloomer", stage="Negotiation/Review")  # type: ignore[attr-defined]
    assert _run(runtime).get("created", 0) == 0
    sf_sandbox.state.mark_won(deal)  # type: ignore[attr-defined]
    counts = _run(runtime)
    assert counts["created"] == 1
    assert counts["seen"] < first["seen"], "the cursor must keep old deals out of the read"
    assert len(_epics(runtime)) == epics + 1
    link = next(lk for lk in runtime.store.links(HANDOFF) if lk.source_id == deal)
    assert sf_sandbox.state.get("Opportunity", deal)["Delivery_Project__c"] == link.target_key  # type: ignore[attr-defined]


def test_runs_with_postgresql_as_the_store(
    loaded: Any, sf_sandbox: Sandbox, jira_sandbox: Sandbox, postgres_url: str
) -> None:
    from handoff_hub.hub.runtime import open_runtime
    from handoff_hub.hub.store import StateStore

    rt = open_runtime(
        loaded,
        transports={"crm": sf_sandbox.transport(), "pm": jira_sandbox.transport()},
        store=StateStore(postgres_url),
    )
    try:
        won = _won_ids(rt)
        assert _run(rt)["created"] == len(won)
        assert _run(rt).get("created", 0) == 0
        assert {lk.source_id for lk in rt.store.links(HANDOFF)} == won
        assert [r.status for r in rt.store.runs(HANDOFF)] == ["succeeded", "succeeded"]
    finally:
        rt.close()


def test_a_deal_won_at_the_orgs_own_won_stage_gets_its_project(
    runtime: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    deal = sf_sandbox.state.add_opportunity("Signed expansion", stage="Closed Won - Signed")  # type: ignore[attr-defined]
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(HANDOFF, WonToProject(runtime, settings), runtime.store)
    assert deal in {lk.source_id for lk in runtime.store.links(HANDOFF)}


def test_a_manager_the_project_tool_cannot_match_is_said_not_left_silent(
    runtime: Runtime, sf_sandbox: Sandbox
) -> None:
    won = sorted(_won_ids(runtime))
    owner = sf_sandbox.state.get("Opportunity", won[0])["OwnerId"]  # type: ignore[attr-defined]
    sf_sandbox.state.modify_record("User", owner, Email="left.the.company@acme-sales.example")  # type: ignore[attr-defined]
    counts = _run(runtime)
    assert counts["created"] == len(won) and counts["manager_unmatched"] >= 1
    warnings = [e for e in runtime.store.audit_events() if e.action == "manager_unmatched"]
    assert len(warnings) == counts["manager_unmatched"]
    assert "left.the.company@acme-sales.example" in str(warnings[0].detail)
    assert "has no manager" in str(warnings[0].detail)


def test_the_default_notification_carries_the_warning() -> None:
    from handoff_hub.hub.handoffs.won_to_project import NOTIFY_BODY
    from handoff_hub.hub.mapping.templating import render_template

    context = {"project": {"name": "P"}, "opportunity": {"name": "D", "amount": None}}
    plain = render_template(NOTIFY_BODY, {**context, "project_url": "u", "warning": None})
    warned = render_template(NOTIFY_BODY, {**context, "project_url": "u", "warning": "no manager"})
    assert "Note" not in plain and warned.endswith("Note: no manager")
