"""Admins' own fields in every sandbox, seen by the connectors as the real APIs show them.

Salesforce describe, HubSpot's properties API, Jira's GET /field and Asana's
workspace custom fields list the fields an admin made (region, delivery start);
the hub fits its mappings to them, and leaves a rule out where the org lacks one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF, WonToProject
from handoff_hub.hub.mapping.engine import map_records
from handoff_hub.hub.model import Opportunity
from handoff_hub.hub.runtime import Runtime

PAIRS = [("salesforce", "jira"), ("hubspot", "asana")]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _described(rt: Runtime, system: str, object_name: str) -> dict[str, dict[str, Any]]:
    """Field name -> its description, as the connector's describe gives it."""
    found = rt.connector(system).describe(object_name)  # type: ignore[attr-defined]
    items = found["fields"] if isinstance(found, dict) else found
    return {str(f.get("name")): f for f in items} | {str(f.get("id")): f for f in items}


def test_the_products_describe_the_admins_own_fields(rt: Runtime) -> None:
    crm, pm = rt.connector("crm").name, rt.connector("pm").name
    if crm == "salesforce":
        region = _described(rt, "crm", "Opportunity")["Region__c"]
        assert region["type"] == "picklist" and region["custom"] is True
        assert [v["value"] for v in region["picklistValues"]] == [
            "Europe",
            "North America",
            "Asia Pacific",
        ]
        assert _described(rt, "crm", "Opportunity")["Delivery_Start__c"]["type"] == "date"
    else:
        region = _described(rt, "crm", "deals")["region"]
        assert region["type"] == "enumeration" and region["hubspotDefined"] is False
        assert [o["value"] for o in region["options"]] == ["emea", "americas", "apac"]
        assert _described(rt, "crm", "deals")["delivery_start"]["type"] == "date"
    if pm == "jira":
        region = _described(rt, "pm", "issue")["customfield_10060"]
        assert region["schema"]["custom"].endswith(":select") and region["custom"] is True
        assert _described(rt, "pm", "issue")["customfield_10061"]["schema"]["type"] == "date"
    else:
        region = _described(rt, "pm", "projects")["Region"]
        assert region["type"] == "enum" and set(region["options"]) == {"EMEA", "Americas", "APAC"}
        assert _described(rt, "pm", "projects")["Delivery start"]["type"] == "date"


def test_the_fitted_mappings_keep_the_fields_the_org_has(rt: Runtime) -> None:
    deal = rt.mapping("crm").entities["Opportunity"].custom_rules()
    project = rt.mapping("pm").entities["Project"].custom_rules()
    assert {"region", "delivery_start"} <= deal.keys() & project.keys()


def test_connectors_name_the_custom_fields_a_site_lacks(rt: Runtime) -> None:
    pm = rt.connector("pm")
    if pm.name == "jira":
        asked = ["fields.customfield_10060.value", "customfield_10061", "fields.customfield_19999"]
        assert pm.missing_fields("issue", [*asked, "summary"]) == ["fields.customfield_19999"]  # type: ignore[attr-defined]
    else:
        asked = ["custom_fields.region", "custom_fields.delivery_start", "custom_fields.nope"]
        assert pm.missing_fields("projects", [*asked, "name"]) == ["custom_fields.nope"]  # type: ignore[attr-defined]


def test_an_org_without_the_field_leaves_it_out_and_the_handoff_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = {"crm": {"absent_fields": ["Opportunity.Region__c"]}}
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch, profiles=absent)
    try:
        emap = runtime.mapping("crm").entities["Opportunity"]
        assert "region" not in emap.custom_rules() and "delivery_start" in emap.custom_rules()
        records = [
            r
            for page in runtime.connector("crm").read_changes(
                emap.object, since=None, fields=emap.source_fields()
            )
            for r in page.records
        ]
        deals, failures = map_records(runtime.mapping("crm"), "Opportunity", records)
        assert not failures
        assert all("region" not in d.custom for d in deals if isinstance(d, Opportunity))
        settings = runtime.loaded.config.handoffs.won_to_project
        assert settings is not None
        report = run_handoff(HANDOFF, WonToProject(runtime, settings), runtime.store)
        assert report.counts.get("created", 0) >= 1 and not report.counts.get("failed")
    finally:
        runtime.close()


def test_a_value_the_map_does_not_know_is_a_dead_letter_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin added a picklist value the mapping does not map yet: that deal waits."""
    shipped = Path(__file__).resolve().parents[2] / "mappings" / "salesforce.yaml"
    folder = tmp_path / "mapping"
    folder.mkdir()
    mapping = folder / "salesforce.yaml"
    text = shipped.read_text(encoding="utf-8")
    mapping.write_text(text.replace(", Asia Pacific: APAC}", "}"), encoding="utf-8")
    (folder / "mapping.schema.json").write_text(
        (shipped.parent / "mapping.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    runtime = open_pair_runtime(
        "salesforce", "jira", tmp_path, monkeypatch, mappings={"crm": mapping}
    )
    try:
        settings = runtime.loaded.config.handoffs.won_to_project
        assert settings is not None
        plan = run_handoff(HANDOFF, WonToProject(runtime, settings), runtime.store, dry_run=True)
        won = [d.source_id for d in plan.decisions if d.verdict.value == "create"]
        assert len(won) >= 2
        state = runtime.sandboxes["crm"].state  # type: ignore[attr-defined]
        state.modify_opportunity(won[0], Region__c="Asia Pacific")
        for other in won[1:]:
            state.modify_opportunity(other, Region__c="Europe")
        report = run_handoff(HANDOFF, WonToProject(runtime, settings), runtime.store)
        assert report.status == "completed_with_failures", "a run that goes on past the record"
        assert report.counts.get("created") == len(won) - 1
        letters = {d.record_id: d for d in runtime.store.dead_letters(handoff=HANDOFF)}
        assert set(won) & set(letters) == {won[0]}
        reason = letters[won[0]].reason
        assert "custom.region" in reason and "'Asia Pacific'" in reason
    finally:
        runtime.close()
