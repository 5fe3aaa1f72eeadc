"""The feedback-to-lead Prefect flow against sandboxes served on localhost ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

pytestmark = pytest.mark.prefect


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=6, records=20)),
        "jira": serve_in_thread(make_sandbox("jira", seed=6, records=12)),
    }
    yield running
    for item in running.values():
        item.stop()


def test_feedback_becomes_leads_once(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    from handoff_hub.flows.feedback_to_lead import feedback_to_lead
    from handoff_hub.flows.won_to_project import won_to_project

    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_FBFLOW"
    )
    assert won_to_project(str(config), batch_retry_delay_seconds=0)["status"] == "succeeded"
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    epic = store.links("won-to-project")[0].target_key
    jira, salesforce = served["jira"].sandbox, served["salesforce"].sandbox
    jira.state.add_issue("Needs a second data centre", parent=epic, labels=("new-need",))  # type: ignore[attr-defined]
    flagged = set(jira.state.by_label("customer-feedback")) | set(jira.state.by_label("new-need"))  # type: ignore[attr-defined]

    first = feedback_to_lead(str(config), batch_retry_delay_seconds=0)
    second = feedback_to_lead(str(config), batch_retry_delay_seconds=0)

    assert first["status"] == "succeeded", first
    assert first["counts"]["created"] == len(flagged)
    assert second["counts"].get("created", 0) == 0
    assert {lk.source_id for lk in store.links(HANDOFF)} == flagged
    assert salesforce.state.count("Lead", LeadSource="Customer Feedback") >= len(flagged)  # type: ignore[attr-defined]


def test_risk_and_sync_flows_run_and_rerun_cleanly(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    from handoff_hub.flows.risk_to_account_manager import risk_to_account_manager
    from handoff_hub.flows.sync import sync
    from handoff_hub.flows.won_to_project import won_to_project

    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_RSFLOW"
    )
    assert won_to_project(str(config), batch_retry_delay_seconds=0)["status"] == "succeeded"
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    first, second = store.links("won-to-project")[:2]
    jira = served["jira"].sandbox
    jira.state.add_risk(first.target_key, "Go-live date at risk", "critical")  # type: ignore[attr-defined]
    jira.state.set_health(second.target_key, "red")  # type: ignore[attr-defined]

    risk = risk_to_account_manager(str(config), batch_retry_delay_seconds=0)
    assert risk["status"] == "succeeded" and risk["counts"]["created"] == 2, risk
    again = risk_to_account_manager(str(config), batch_retry_delay_seconds=0)
    assert again["counts"].get("created", 0) == 0

    synced = sync(str(config), batch_retry_delay_seconds=0)
    assert synced["status"] == "succeeded" and synced["counts"]["updated"] >= 1, synced
    resynced = sync(str(config), batch_retry_delay_seconds=0)
    assert resynced["counts"].get("updated", 0) == 0
    assert resynced["counts"].get("conflicts", 0) == 0
