"""feedback-to-lead through the engine (no Prefect): Salesforce + Jira sandboxes in-process."""

from __future__ import annotations

from typing import Any

import pytest

from handoff_hub.hub.config.handoffs import FeedbackToLeadConfig
from handoff_hub.hub.connector import WriteResult
from handoff_hub.hub.errors import TransientError
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF, FeedbackToLead
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.sandboxes.kit import Sandbox

CONFIG = FeedbackToLeadConfig(pm="pm", crm="crm")


def _feedback(runtime: Runtime) -> FeedbackToLead:
    return FeedbackToLead(runtime, CONFIG)


def _run(runtime: Runtime, *, dry_run: bool = False) -> dict[str, int]:
    return run_handoff(HANDOFF, _feedback(runtime), runtime.store, dry_run=dry_run).counts


@pytest.fixture
def linked(runtime: Runtime) -> Runtime:
    """Won deals already have their epics (won-to-project ran)."""
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(runtime, settings), runtime.store)
    return runtime


def _seeded_feedback(jira: Sandbox) -> set[str]:
    return set(jira.state.by_label("customer-feedback"))  # type: ignore[attr-defined]


def test_each_flagged_item_becomes_one_lead_with_account_and_comment(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = linked.store.links(WON)[0]
    opp = sf_sandbox.state.get("Opportunity", link.source_id)  # type: ignore[attr-defined]
    account = sf_sandbox.state.get("Account", opp["AccountId"])  # type: ignore[attr-defined]
    upsell = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Customer wants the analytics add-on", parent=link.target_key, labels=("upsell",)
    )
    seeded = _seeded_feedback(jira_sandbox)
    leads_before = sf_sandbox.state.count("Lead")  # type: ignore[attr-defined]

    counts = _run(linked)

    assert counts["created"] == len(seeded) + 1
    assert counts["commented"] == counts["created"]
    assert sf_sandbox.state.count("Lead") == leads_before + counts["created"]  # type: ignore[attr-defined]
    leads = sf_sandbox.state.find("Lead", Handoff_Hub_Id__c=f"pm:{upsell}")  # type: ignore[attr-defined]
    assert len(leads) == 1
    lead = leads[0]
    assert lead["Company"] == account["Name"]
    assert lead["LeadSource"] == "Customer Feedback"
    assert "analytics add-on" in lead["Description"] and upsell in lead["Description"]
    assert lead["LastName"] == f"{account['Name']} - upsell"
    comments = jira_sandbox.state.comments(upsell)  # type: ignore[attr-defined]
    assert len(comments) == 1 and lead["Id"] in str(comments[0])


def test_rerun_creates_no_second_lead(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    first = _run(linked)
    leads = sf_sandbox.state.count("Lead")  # type: ignore[attr-defined]
    key = next(iter(_seeded_feedback(jira_sandbox)))
    jira_sandbox.state.modify(key, summary="Customer asks for SSO with Okta and Entra")  # type: ignore[attr-defined]
    second = _run(linked)
    assert first["created"] >= 1
    assert second.get("created", 0) == 0
    assert second["skipped"] >= 1
    assert sf_sandbox.state.count("Lead") == leads  # type: ignore[attr-defined]
    assert len(jira_sandbox.state.comments(key)) == 1  # type: ignore[attr-defined]


def test_crash_after_create_finds_the_stamped_lead(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("hub process killed")

    monkeypatch.setattr(linked.store, "record_link", crash)
    monkeypatch.setattr(linked.store, "record_links", crash)
    with pytest.raises(RuntimeError, match="killed"):
        _run(linked)
    monkeypatch.undo()
    leads = sf_sandbox.state.count("Lead")  # type: ignore[attr-defined]
    counts = _run(linked)
    assert counts.get("created", 0) == 0
    assert counts["recovered"] == len(_seeded_feedback(jira_sandbox))
    assert sf_sandbox.state.count("Lead") == leads  # type: ignore[attr-defined]
    for key in _seeded_feedback(jira_sandbox):
        assert len(jira_sandbox.state.comments(key)) == 1  # type: ignore[attr-defined]


def test_plan_writes_nothing(linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox) -> None:
    reads = ("/services/oauth2/token", "/rest/api/3/search/jql")
    before = [len(s.journal.writes(read_paths=reads)) for s in (sf_sandbox, jira_sandbox)]
    counts = _run(linked, dry_run=True)
    assert counts["seen"] >= 1
    after = [len(s.journal.writes(read_paths=reads)) for s in (sf_sandbox, jira_sandbox)]
    assert after == before
    assert linked.store.links(HANDOFF) == []


def _unsure_creates(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CRM makes every lead but its answer cannot say which input each one is."""
    crm = runtime.connector("crm")
    create = crm.create

    def answer_unsure(object_name: str, records: Any) -> list[WriteResult]:
        made = create(object_name, records)
        return [
            WriteResult(index=r.index, ok=False, error="no result matched", unsure=True)
            for r in made
        ]

    monkeypatch.setattr(crm, "create", answer_unsure)


def test_an_unsure_create_is_looked_up_by_its_stamp_never_dead_lettered(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    leads = sf_sandbox.state.count("Lead")  # type: ignore[attr-defined]
    seeded = _seeded_feedback(jira_sandbox)
    _unsure_creates(linked, monkeypatch)
    with pytest.raises(TransientError, match=r"leads may or may not have gone through"):
        _run(linked)
    monkeypatch.undo()
    assert linked.store.dead_letters(handoff=HANDOFF) == []
    assert sf_sandbox.state.count("Lead") == leads + len(seeded)  # type: ignore[attr-defined]
    counts = _run(linked)
    assert counts.get("created", 0) == 0
    assert counts["recovered"] == len(seeded)
    assert sf_sandbox.state.count("Lead") == leads + len(seeded)  # type: ignore[attr-defined]


def test_feedback_whose_deal_cannot_be_read_is_dead_lettered_not_made_without_its_account(
    linked: Runtime, sf_sandbox: Sandbox, jira_sandbox: Sandbox
) -> None:
    link = linked.store.links(WON)[0]
    sf_sandbox.state.modify_opportunity(link.source_id, Delivery_Percent__c=33.5)  # type: ignore[attr-defined]
    item = jira_sandbox.state.add_issue(  # type: ignore[attr-defined]
        "Customer wants a second region", parent=link.target_key, labels=("new-need",)
    )
    assert _run(linked, dry_run=True)["failed"] >= 1
    counts = _run(linked)
    assert counts["failed"] >= 1
    [letter] = [d for d in linked.store.dead_letters(handoff=HANDOFF) if d.record_id == item]
    assert "linked to a deal, but its deal cannot be read" in letter.reason
    assert sf_sandbox.state.find("Lead", Handoff_Hub_Id__c=f"pm:{item}") == []  # type: ignore[attr-defined]
