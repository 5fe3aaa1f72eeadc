"""A template that fails (a misspelt variable, a hostile loop) fails its record, never the run."""

from __future__ import annotations

import datetime as dt

import pytest

from handoff_hub.hub.config.handoffs import (
    FeedbackToLeadConfig,
    NotifyConfig,
    RiskToAccountManagerConfig,
)
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK
from handoff_hub.hub.handoffs.feedback_to_lead import FeedbackToLead
from handoff_hub.hub.handoffs.risk_to_account_manager import HANDOFF as RISK
from handoff_hub.hub.handoffs.risk_to_account_manager import RiskToAccountManager
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime
from handoff_hub.sandboxes.kit import Sandbox

BAD = "{{ acount.name }} - {{ opportunity.name }}"


def _won(runtime: Runtime, **changes: object) -> dict[str, int]:
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    handoff = WonToProject(runtime, settings.model_copy(update=changes))
    summary = run_handoff(WON, handoff, runtime.store)
    assert summary.status in {"succeeded", "completed_with_failures"}, summary
    return summary.counts


def test_a_project_name_template_that_fails_dead_letters_each_deal(runtime: Runtime) -> None:
    template = runtime.loaded.config.templates["standard-delivery"]
    runtime.loaded.config.templates["standard-delivery"] = template.model_copy(update={"name": BAD})
    counts = _won(runtime)
    assert counts.get("created", 0) == 0 and counts["failed"] >= 1
    letters = runtime.store.dead_letters(handoff=WON)
    assert len(letters) == counts["failed"]
    assert all("acount" in d.reason for d in letters)


def test_a_notification_template_that_fails_is_recorded_and_the_project_still_made(
    runtime: Runtime,
) -> None:
    counts = _won(runtime, notify=NotifyConfig(body="{{ opportunity.amount.value | oops }}"))
    assert counts["created"] >= 1
    assert counts["notify_failed"] == counts["created"]
    assert runtime.store.dead_letters(handoff=WON) == []


@pytest.fixture
def linked(runtime: Runtime) -> Runtime:
    _won(runtime)
    return runtime


def test_a_risk_subject_template_that_fails_dead_letters_each_risk(
    linked: Runtime, jira_sandbox: Sandbox
) -> None:
    link = linked.store.links(WON)[0]
    risk = jira_sandbox.state.add_risk(link.target_key, "Vendor late", "high")  # type: ignore[attr-defined]
    config = RiskToAccountManagerConfig(pm="pm", crm="crm", risk_subject="{{ rsk.title }}")
    handoff = RiskToAccountManager(linked, config, today=dt.date(2026, 11, 30))
    summary = run_handoff(RISK, handoff, linked.store)
    assert summary.status == "completed_with_failures", summary
    assert summary.counts["failed"] >= 1
    assert any(risk in d.record_id for d in linked.store.dead_letters(handoff=RISK))


def test_a_lead_name_template_that_fails_dead_letters_each_item(
    linked: Runtime, jira_sandbox: Sandbox
) -> None:
    link = linked.store.links(WON)[0]
    item = jira_sandbox.state.add_feedback(link.target_key, "Wants SSO", "need")  # type: ignore[attr-defined]
    config = FeedbackToLeadConfig(pm="pm", crm="crm", lead_name="{{ acount.name }}")
    summary = run_handoff(FEEDBACK, FeedbackToLead(linked, config), linked.store)
    assert summary.status == "completed_with_failures", summary
    assert summary.counts["failed"] >= 1
    [letter] = [d for d in linked.store.dead_letters(handoff=FEEDBACK) if d.record_id == item]
    assert "acount" in letter.reason
