"""won-to-project for every CRM + PM pairing, chosen only by the hub config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.cli.demo import CRMS, PMS
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.model import Lead, Opportunity, Stage
from handoff_hub.hub.runtime import Runtime

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def pair_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    rt = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield rt
    rt.close()


def _handoff(rt: Runtime) -> WonToProject:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    return WonToProject(rt, settings)


def _won(rt: Runtime) -> set[str]:
    """Won deals, read the way an admin would check: every deal, mapped, stage won."""
    crm = rt.connector("crm")
    spec = rt.mapping("crm")
    entity = spec.entities["Opportunity"]
    raws = [
        r.raw
        for page in crm.read_changes(entity.object, since=None, fields=entity.source_fields())
        for r in page.records
    ]
    opps, failures = to_unified_many(spec, "Opportunity", raws)
    assert not failures
    return {o.refs["crm"] for o in opps if isinstance(o, Opportunity) and o.stage is Stage.WON}


def test_one_project_per_won_deal_then_nothing(pair_runtime: Runtime) -> None:
    rt = pair_runtime
    won = _won(rt)
    assert len(won) >= 2, "the seed must contain won deals"
    first = run_handoff(HANDOFF, _handoff(rt), rt.store)
    assert first.status == "succeeded", first
    assert first.counts["created"] == len(won)
    assert first.counts.get("written_back") == len(won)
    links = rt.store.links(HANDOFF)
    assert {lk.source_id for lk in links} == won
    pm = rt.pm("pm")
    for link in links:
        found = pm.find_project(f"crm:{link.source_id}")
        assert found is not None and found.id == link.target_id, link
    second = run_handoff(HANDOFF, _handoff(rt), rt.store)
    assert second.counts.get("created", 0) == 0
    assert second.counts.get("failed", 0) == 0
    assert len(rt.store.links(HANDOFF)) == len(won)


def test_feedback_becomes_one_lead_each_for_every_pairing(pair_runtime: Runtime) -> None:
    from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK
    from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead

    rt = pair_runtime
    run_handoff(HANDOFF, _handoff(rt), rt.store)
    project = rt.store.links(HANDOFF)[0].target_key
    upsell = rt.sandboxes["pm"].state.add_feedback(  # type: ignore[attr-defined]
        project, "Customer wants the analytics add-on", "upsell"
    )
    settings = rt.loaded.config.handoffs.feedback_to_lead
    assert settings is not None
    first = run_handoff(FEEDBACK, FeedbackToLead(rt, settings), rt.store)
    leads = rt.store.links(FEEDBACK)
    assert upsell in {lk.source_id for lk in leads}, first
    assert first.counts["commented"] == first.counts["created"] == len(leads)
    # Feedback outside any linked project has no account; a CRM that refuses a
    # lead without one (HubSpot wants a contact) dead-letters it with the reason.
    for letter in rt.store.dead_letters():
        assert letter.handoff == FEEDBACK and "create lead" in letter.reason
    found = rt.connector("crm").read_by_ids(
        rt.mapping("crm").entities["Lead"].object, [lk.target_id for lk in leads]
    )
    assert len(found) == len(leads)
    upsell_lead = next(lk.target_id for lk in leads if lk.source_id == upsell)
    lead_map = rt.mapping("crm").entities["Lead"]
    [raw] = rt.connector("crm").read_by_ids(
        lead_map.object, [upsell_lead], fields=lead_map.source_fields()
    )
    [lead], _ = to_unified_many(rt.mapping("crm"), "Lead", [raw.raw])
    assert isinstance(lead, Lead) and lead.description is not None
    assert "analytics add-on" in lead.description and upsell in lead.description
    second = run_handoff(FEEDBACK, FeedbackToLead(rt, settings), rt.store)
    assert second.counts.get("created", 0) == 0
    assert len(rt.store.links(FEEDBACK)) == len(leads)


def test_risks_and_health_reach_the_deal_owner_for_every_pairing(pair_runtime: Runtime) -> None:
    from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK
    from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager

    rt = pair_runtime
    pm_state = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    run_handoff(HANDOFF, _handoff(rt), rt.store)
    settings = rt.loaded.config.handoffs.risk_to_account_manager
    assert settings is not None

    def run() -> dict[str, int]:
        summary = run_handoff(RISK, RiskToAccountManager(rt, settings), rt.store)
        assert summary.status == "succeeded", summary
        return summary.counts

    run()  # baseline: whatever the seed holds
    first, second = rt.store.links(HANDOFF)[:2]
    risk = pm_state.add_risk(first.target_key, "Vendor API not ready for go-live", "critical")
    pm_state.add_risk(first.target_key, "Meeting rooms scarce", "low")
    pm_state.set_health(second.target_key, "red")

    opened = run()
    assert opened["created"] == 2 and opened["health_written"] == 1, opened
    tasks = [lk for lk in rt.store.links(RISK) if lk.state == "open"]
    assert {lk.source_id for lk in tasks} >= {f"risk:{risk}", f"health:{second.target_key}"}
    found = rt.connector("crm").read_by_ids(
        rt.mapping("crm").entities["Note"].object, [lk.target_id for lk in tasks]
    )
    assert len(found) == len(tasks)
    assert run().get("created", 0) == 0

    pm_state.resolve(risk)
    pm_state.set_health(second.target_key, "green")
    cleared = run()
    assert cleared["closed"] == 2 and cleared.get("created", 0) == 0, cleared


def test_sync_settles_every_pair_and_then_writes_nothing(pair_runtime: Runtime) -> None:
    from handoff_hub.hub.handoffs.sync import HANDOFF as SYNC
    from handoff_hub.hub.handoffs.sync import Sync

    rt = pair_runtime
    settings = rt.loaded.config.handoffs.sync
    assert settings is not None
    run_handoff(HANDOFF, _handoff(rt), rt.store)
    first = run_handoff(SYNC, Sync(rt, settings), rt.store)
    assert first.status == "succeeded", first
    assert first.counts.get("conflicts", 0) == 0
    assert first.counts["updated"] >= 1, "the first sync fills the deals' delivery fields"
    second = run_handoff(SYNC, Sync(rt, settings), rt.store)
    assert second.counts.get("updated", 0) == 0 and second.counts.get("conflicts", 0) == 0


def test_overdue_milestones_make_a_project_red_for_every_pairing(pair_runtime: Runtime) -> None:
    import datetime as dt

    from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK
    from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager

    rt = pair_runtime
    pm_state = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    run_handoff(HANDOFF, _handoff(rt), rt.store)
    example = rt.loaded.config.handoffs.risk_to_account_manager
    assert example is not None
    settings = example.model_copy(update={"health_from": "overdue_milestones"})
    today = dt.datetime.now(dt.UTC).date()
    project = rt.store.links(HANDOFF)[0]
    pm_state.add_milestone(project.target_key, "Design sign-off", today - dt.timedelta(days=5))
    pm_state.add_milestone(project.target_key, "Go-live", today + dt.timedelta(days=30))

    summary = run_handoff(RISK, RiskToAccountManager(rt, settings), rt.store)

    assert summary.status == "succeeded", summary
    assert summary.counts["created"] == 1, summary.counts
    (alert,) = [lk for lk in rt.store.links(RISK) if lk.source_id.startswith("health:")]
    assert alert.source_id == f"health:{project.target_key}"
    again = run_handoff(RISK, RiskToAccountManager(rt, settings), rt.store)
    assert again.counts.get("created", 0) == 0
