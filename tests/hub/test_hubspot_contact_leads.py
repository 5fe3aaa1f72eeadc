"""feedback-to-lead into HubSpot contacts in lifecycle stage lead (hubspot-contact-leads.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.cli.demo import PMS
from handoff_hub.hub.config.handoffs import FeedbackToLeadConfig
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF, FeedbackToLead
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime

CONTACT_LEADS = Path(__file__).parents[2] / "mappings" / "hubspot-contact-leads.yaml"


@pytest.fixture(params=PMS)
def runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    rt = open_pair_runtime(
        "hubspot", request.param, tmp_path, monkeypatch, mappings={"crm": CONTACT_LEADS}
    )
    won = rt.loaded.config.handoffs.won_to_project
    assert won is not None
    run_handoff(WON, WonToProject(rt, won), rt.store)
    yield rt
    rt.close()


def _settings(rt: Runtime) -> FeedbackToLeadConfig:
    settings = rt.loaded.config.handoffs.feedback_to_lead
    assert settings is not None
    return settings


def test_the_lead_entity_is_replaced_and_the_rest_inherited(runtime: Runtime) -> None:
    spec = runtime.mapping("crm")
    assert spec.entities["Lead"].object == "contacts"
    assert spec.entities["Opportunity"].object == "deals"
    assert spec.entities["Note"].object == "tasks"


def test_feedback_becomes_a_contact_in_stage_lead_on_the_deals_company(runtime: Runtime) -> None:
    hubspot = runtime.sandboxes["crm"]  # type: ignore[attr-defined]
    pm = runtime.sandboxes["pm"]  # type: ignore[attr-defined]
    link = runtime.store.links(WON)[0]
    company = hubspot.state.associations("deals", link.source_id, "companies")[0]
    upsell = pm.state.add_feedback(link.target_key, "Customer wants the analytics add-on", "upsell")
    leads_before = hubspot.state.count("leads")

    first = run_handoff(HANDOFF, FeedbackToLead(runtime, _settings(runtime)), runtime.store)

    assert first.status == "succeeded", first
    # Feedback outside a linked project has no company: a contact needs none.
    assert runtime.store.dead_letters() == []
    assert first.counts["created"] == first.counts["commented"] >= 2
    assert hubspot.state.count("leads") == leads_before
    [contact] = hubspot.state.find("contacts", handoff_hub_id=f"pm:{upsell}")
    assert contact["lifecyclestage"] == "lead"
    assert "analytics add-on" in contact["message"]
    assert contact["company"] == hubspot.state.get("companies", company)["name"]
    assert hubspot.state.associations("contacts", contact["id"], "companies") == [company]
    assert {lk.target_id for lk in runtime.store.links(HANDOFF)} >= {contact["id"]}

    second = run_handoff(HANDOFF, FeedbackToLead(runtime, _settings(runtime)), runtime.store)
    assert second.counts.get("created", 0) == 0
    assert len(hubspot.state.find("contacts", handoff_hub_id=f"pm:{upsell}")) == 1
