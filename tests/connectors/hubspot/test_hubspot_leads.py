"""feedback-to-lead into a portal that refuses leads without a contact, end to end."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hubspot_support import BASE_URL

from handoff_hub.connectors.hubspot.config import HubSpotConfig
from handoff_hub.connectors.hubspot.lead_contacts import ContactNeed, Directory, resolve_contacts
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.connector import WriteResult
from handoff_hub.hub.handoffs.feedback_to_lead import HANDOFF, FeedbackToLead
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.hubspot.app import HubSpotSandbox
from handoff_hub.sandboxes.hubspot.batch import LEAD_WITHOUT_CONTACT
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.kit.server import make_sandbox

STRICT_LEADS = {"leads_require_contact": True, "shuffled_batches": True, "no_trace_ids": True}


def open_leads_runtime(
    pm_name: str, folder: Path, *, settings: dict[str, Any] | None = None
) -> Runtime:
    """HubSpot (leads need a contact) + a PM sandbox, won deals already projects."""
    crm = make_sandbox("hubspot", seed=4, records=24, profile=STRICT_LEADS)
    pm = make_sandbox(pm_name, seed=4, records=16)
    prefix = f"HUB_LEADS_{pm_name}".upper()
    targets = {"hubspot": ("http://hubspot.sandbox", crm), pm_name: (f"http://{pm_name}.sb", pm)}
    path = write_sandbox_config(example_for("hubspot", pm_name), folder, targets, env_prefix=prefix)
    if settings:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["systems"]["crm"]["settings"].update(settings)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    loaded = load_config(path, known_connectors=known_connectors())
    rt = open_runtime(loaded, transports={"crm": crm.transport(), "pm": pm.transport()})
    rt.sandboxes = {"crm": crm, "pm": pm}  # type: ignore[attr-defined]
    won = rt.loaded.config.handoffs.won_to_project
    assert won is not None
    run_handoff(WON, WonToProject(rt, won), rt.store)
    return rt


@pytest.fixture
def env() -> Iterator[None]:
    before = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(before)


def _run(rt: Runtime) -> Any:
    settings = rt.loaded.config.handoffs.feedback_to_lead
    assert settings is not None
    return run_handoff(HANDOFF, FeedbackToLead(rt, settings), rt.store)


def _lead(hubspot: Any, item: str) -> dict[str, Any]:
    [lead] = hubspot.state.find("leads", handoff_hub_id=f"pm:{item}")
    return lead


def test_the_portal_refuses_a_lead_without_a_contact(sandbox_transport):
    sandbox = HubSpotSandbox(seed=2, records=5, rate_limit=RateLimits.generous())
    assert sandbox.profile.leads_require_contact  # every HubSpot portal does
    with httpx.Client(
        transport=sandbox_transport(sandbox),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.credentials['access_token']}"},
    ) as client:
        refused = client.post(
            "/crm/v3/objects/leads/batch/create",
            json={"inputs": [{"properties": {"hs_lead_name": "Alone"}}]},
        )
    assert refused.status_code == 400
    assert refused.json()["category"] == "VALIDATION_ERROR"
    assert refused.json()["message"] == LEAD_WITHOUT_CONTACT


def test_each_item_hangs_from_its_reporters_contact_idempotently(tmp_path, env):
    rt = open_leads_runtime("jira", tmp_path)
    try:
        hubspot, jira = rt.sandboxes["crm"], rt.sandboxes["pm"]  # type: ignore[attr-defined]
        link = rt.store.links(WON)[0]
        linked = jira.state.add_feedback(link.target_key, "Customer wants SSO", "upsell")
        loose = jira.state.add_issue("Customer asks for an export", labels=("upsell",))
        contacts_before = hubspot.state.count("contacts")

        first = _run(rt)

        assert first.status == "succeeded", first
        assert rt.store.dead_letters() == []
        assert first.counts["created"] >= 2
        reporter = jira.state.store.me.email.casefold()
        [contact] = hubspot.state.find("contacts", email=reporter)
        assert contact["handoff_hub_id"] == f"pm:reporter:{reporter}"
        assert hubspot.state.count("contacts") == contacts_before + 1  # one per reporter
        for item in (linked, loose):
            lead = _lead(hubspot, item)
            assert hubspot.state.associations("leads", lead["id"], "contacts") == [contact["id"]]
        company = hubspot.state.associations("deals", link.source_id, "companies")[0]
        assert hubspot.state.associations("leads", _lead(hubspot, linked)["id"], "companies") == [
            company
        ]
        again = jira.state.add_issue("Customer asks for a second export", labels=("upsell",))
        second = _run(rt)
        assert second.counts["created"] == 1 and rt.store.dead_letters() == []
        assert hubspot.state.count("contacts") == contacts_before + 1  # found again by e-mail
        assert hubspot.state.associations("leads", _lead(hubspot, again)["id"], "contacts") == [
            contact["id"]
        ]
    finally:
        rt.close()


@pytest.mark.parametrize("fallback", ["company_contact", "lifecycle_lead"])
def test_items_without_a_reporter_email_hang_from_the_company_or_a_stamped_contact(
    tmp_path, env, fallback
):
    rt = open_leads_runtime("asana", tmp_path, settings={"lead_contact_fallback": fallback})
    try:
        hubspot, asana = rt.sandboxes["crm"], rt.sandboxes["pm"]  # type: ignore[attr-defined]
        link = rt.store.links(WON)[0]
        company = hubspot.state.associations("deals", link.source_id, "companies")[0]
        staff = hubspot.state.associations("companies", company, "contacts")
        linked = asana.state.add_feedback(link.target_key, "Customer wants SSO", "upsell")
        bare = hubspot.state.add_record("companies", name="Nobody Yet GmbH")
        deal = hubspot.state.add_deal("Nobody Yet - Rollout", company_id=bare)
        hubspot.state.mark_won(deal)
        _run_won(rt)
        [empty] = [lk for lk in rt.store.links(WON) if lk.source_id == deal]
        lonely = asana.state.add_feedback(empty.target_key, "They want a mobile app", "need")
        stopped = asana.state.add_feedback(empty.target_key, "They want dark mode", "need")
        # A run stopped after creating this item's contact, before its lead.
        made = hubspot.state.add_record(
            "contacts", lastname="Nobody Yet GmbH", handoff_hub_id=f"pm:{stopped}"
        )

        first = _run(rt)

        assert first.status == "succeeded", first
        assert rt.store.dead_letters() == []
        lead = _lead(hubspot, linked)
        assert hubspot.state.associations("leads", lead["id"], "contacts")[0] in staff
        orphan = _lead(hubspot, lonely)
        [stand_in] = hubspot.state.find("contacts", handoff_hub_id=f"pm:{lonely}")
        assert hubspot.state.associations("leads", orphan["id"], "contacts") == [stand_in["id"]]
        assert hubspot.state.associations("contacts", stand_in["id"], "companies") == [bare]
        assert stand_in["company"] == "Nobody Yet GmbH"
        if fallback == "lifecycle_lead":
            assert stand_in["lifecyclestage"] == "lead"
            assert stand_in["lastname"] == orphan["hs_lead_name"]
        else:
            assert stand_in["lastname"] == "Nobody Yet GmbH"
        resumed = _lead(hubspot, stopped)
        assert hubspot.state.associations("leads", resumed["id"], "contacts") == [made]
        assert len(hubspot.state.find("contacts", handoff_hub_id=f"pm:{stopped}")) == 1
        contacts = hubspot.state.count("contacts")
        second = _run(rt)
        assert second.counts.get("created", 0) == 0
        assert hubspot.state.count("contacts") == contacts
    finally:
        rt.close()


def _run_won(rt: Runtime) -> None:
    won = rt.loaded.config.handoffs.won_to_project
    assert won is not None
    run_handoff(WON, WonToProject(rt, won), rt.store)


# contact resolution, with HubSpot's answers the sandbox does not give ----------------------


def _directory(created: list[WriteResult], made: list[list[Mapping[str, Any]]]) -> Directory:
    def create(bodies: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        made.append(list(bodies))
        return [created.pop(0) for _ in bodies]

    return Directory(
        by_email=lambda _emails: {},
        by_stamp=lambda _stamps: {},
        company_contacts=lambda ids: {i: [f"member-of-{i}"] for i in ids},
        create=create,
    )


def _need(**values: Any) -> ContactNeed:
    base = {"email": None, "name": None, "company_id": None, "company_name": None}
    return ContactNeed(**{**base, "lead_name": "Lead", "stamp": "pm:X-1", **values})


def test_a_reporter_hubspot_refuses_falls_back_to_the_company():
    made: list[list[Mapping[str, Any]]] = []
    refused = WriteResult(index=0, ok=False, error="VALIDATION_ERROR: Email address x@y is invalid")
    found = resolve_contacts(
        [_need(email="x@y", company_id="77")], _directory([refused], made), HubSpotConfig()
    )
    assert found == {0: "member-of-77"}
    assert made[0][0]["email"] == "x@y" and made[0][0]["handoff_hub_id"] == "pm:reporter:x@y"


def test_a_contact_hubspot_already_has_is_taken_as_found():
    made: list[list[Mapping[str, Any]]] = []
    conflict = WriteResult(
        index=0, ok=False, error="CONFLICT: Contact already exists. Existing ID: 4242"
    )
    found = resolve_contacts(
        [_need(email="ann@example.com")], _directory([conflict], made), HubSpotConfig()
    )
    assert found == {0: "4242"}


def test_a_contact_that_may_exist_fails_the_lead_without_a_second_contact():
    made: list[list[Mapping[str, Any]]] = []
    unsure = WriteResult(index=0, ok=False, error="untold", unsure=True)
    found = resolve_contacts(
        [_need(email="ann@example.com", company_id="77")],
        _directory([unsure], made),
        HubSpotConfig(),
    )
    assert isinstance(found[0], WriteResult) and found[0].unsure is False
    assert "no contact to associate the lead with" in (found[0].error or "")
    assert len(made) == 1
