"""A deal's own custom fields travel CRM -> PM and reconcile reports their drift, every pairing.

The sandboxes hold admins' own fields (Salesforce Region__c and Delivery_Start__c,
HubSpot region and delivery_start properties, Jira customfield_10060/10061, Asana
Region and Delivery start), the shipped mappings map them as custom.region (enum)
and custom.delivery_start (date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pair_support import open_pair_runtime

from handoff_hub.hub.cli.demo import CRMS, PMS
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.mapping.engine import to_unified
from handoff_hub.hub.model import Opportunity, Project
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Discrepancy, Kind
from handoff_hub.hub.runtime import Runtime
from handoff_hub.hub.store import Link

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def rt(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    runtime = open_pair_runtime(*request.param, tmp_path, monkeypatch)
    yield runtime
    runtime.close()


def _sandbox(rt: Runtime, system: str) -> Any:
    return rt.sandboxes[system]  # type: ignore[attr-defined]


def _read(rt: Runtime, system: str, entity: str, record_id: str) -> Any:
    mapping = rt.mapping(system)
    spec = mapping.entities[entity]
    fields = spec.source_fields()
    [raw] = rt.connector(system).read_by_ids(spec.object, [record_id], fields=fields)
    return to_unified(mapping, entity, raw.raw)


def _deal(rt: Runtime, deal_id: str) -> Opportunity:
    found = _read(rt, "crm", "Opportunity", deal_id)
    assert isinstance(found, Opportunity)
    return found


def _project(rt: Runtime, link: Link) -> Project:
    found = _read(rt, "pm", "Project", link.target_id)
    assert isinstance(found, Project)
    return found


def _set_project_region(rt: Runtime, link: Link, option: str) -> None:
    state = _sandbox(rt, "pm").state
    if _sandbox(rt, "pm").name == "jira":
        state.modify(link.target_key, customfield_10060={"value": option})
    else:
        state.modify_project(link.target_id, fields={"Region": option})


def _drift(rt: Runtime, *, fix: bool = False) -> list[Discrepancy]:
    result, _ = reconcile(rt, fix=fix)
    try:
        return [
            d
            for d in result.discrepancies()
            if d.kind is Kind.FIELD_DRIFT and (d.field or "").startswith("custom.")
        ]
    finally:
        result.spool.close()


def test_a_custom_field_travels_to_the_project_and_its_drift_is_found_and_fixed(
    rt: Runtime,
) -> None:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    report = run_handoff(WON, WonToProject(rt, settings), rt.store)
    assert report.counts.get("created", 0) >= 2, report
    carried = []
    for link in rt.store.links(WON):
        deal, project = _deal(rt, link.source_id), _project(rt, link)
        assert project.custom.get("region") == deal.custom.get("region")
        assert project.custom.get("delivery_start") == deal.custom.get("delivery_start")
        if deal.custom.get("region"):
            carried.append((link, deal))
    assert carried, "the seed must hold won deals with a region"
    assert _drift(rt) == []

    link, deal = carried[0]
    other = "APAC" if deal.custom["region"] != "APAC" else "EMEA"
    option = {"APAC": "APAC", "EMEA": "Europe" if _sandbox(rt, "pm").name == "jira" else "EMEA"}
    _set_project_region(rt, link, option[other])
    [drift] = [d for d in _drift(rt) if d.field == "custom.region"]
    assert (drift.crm_ref, drift.crm_value, drift.pm_value) == (
        link.source_id,
        deal.custom["region"],
        other,
    )
    assert drift.fixable
    _drift(rt, fix=True)
    assert _project(rt, link).custom["region"] == deal.custom["region"]
    assert _drift(rt) == []


def test_the_seeded_dates_are_read_as_dates(rt: Runtime) -> None:
    settings = rt.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(rt, settings), rt.store)
    starts = [_project(rt, link).custom.get("delivery_start") for link in rt.store.links(WON)]
    assert any(isinstance(s, dt.date) for s in starts)
