"""The handoffs against Salesforce orgs that are not the demo's: single currency, late commits,
hidden accounts, missing custom fields."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.cli.demo import example_for, stage_delivery_events, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import ConfigError
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.mapping.engine import to_unified_many
from handoff_hub.hub.model import Opportunity
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.kit.server import make_sandbox


def _runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str) -> Runtime:
    crm = make_sandbox("salesforce", seed=5, records=24, profile=profile)
    pm = make_sandbox("jira", seed=5, records=12)
    prefix = f"HUB_ORG_{profile.replace('-', '_')}".upper()
    targets = {"salesforce": ("http://sf.sandbox", crm), "jira": ("http://jira.sandbox", pm)}
    path = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix=prefix
    )
    for name, value in list(os.environ.items()):
        if name.startswith(prefix):
            monkeypatch.setenv(name, value)
    loaded = load_config(path, known_connectors=known_connectors())
    rt = open_runtime(loaded, transports={"crm": crm.transport(), "pm": pm.transport()})
    rt.sandboxes = {"crm": crm, "pm": pm}  # type: ignore[attr-defined]
    return rt


@pytest.fixture
def single_currency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    rt = _runtime(tmp_path, monkeypatch, "single-currency")
    yield rt
    rt.close()


def _run(rt: Runtime, name: str) -> dict[str, int]:
    summary = run_handoff(name, build_handoff(rt, name), rt.store)
    assert summary.status == "succeeded", summary
    return summary.counts


def _deals(rt: Runtime) -> list[Opportunity]:
    entity = rt.mapping("crm").entities["Opportunity"]
    raws = [
        r.raw
        for page in rt.connector("crm").read_changes(
            entity.object, since=None, fields=entity.source_fields()
        )
        for r in page.records
    ]
    deals, failures = to_unified_many(rt.mapping("crm"), "Opportunity", raws)
    assert failures == []
    return [d for d in deals if isinstance(d, Opportunity)]


def test_an_org_without_multi_currency_runs_every_handoff_and_reconciles_clean(
    single_currency: Runtime,
) -> None:
    rt = single_currency
    amounts = [d.amount for d in _deals(rt) if d.amount is not None]
    assert amounts and {a.currency for a in amounts} == {"EUR"}  # the org's, not the mapping's USD
    created = _run(rt, WON)["created"]
    assert created >= 2
    projects = [lk.target_key or lk.target_id for lk in rt.store.links(WON)]
    stage_delivery_events(rt.sandboxes["pm"], projects)  # type: ignore[attr-defined]
    assert _run(rt, "risk-to-account-manager").get("created", 0) >= 1
    assert _run(rt, "feedback-to-lead").get("created", 0) >= 1
    _run(rt, "sync")
    result, _kpis = reconcile(rt)
    try:
        assert result.total == 0, result.counts
    finally:
        result.spool.close()
    assert rt.store.dead_letters() == []
    assert _run(rt, WON).get("created", 0) == 0


def test_a_deal_won_in_a_long_transaction_gets_its_project_on_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime(tmp_path, monkeypatch, "single-currency")
    try:
        crm: Any = rt.sandboxes["crm"]  # type: ignore[attr-defined]
        _run(rt, WON)
        open_deals = [d.refs["crm"] for d in _deals(rt) if d.stage.value == "open"]
        late, other = open_deals[:2]
        crm.state.modify_late("Opportunity", late, StageName="Closed Won")
        crm.state.modify_opportunity(other, StageName="Closed Won")  # stamped after the late one
        assert _run(rt, WON)["created"] == 1  # the late save is not visible yet
        crm.state.commit_late(late)
        again = _run(rt, WON)
        assert again["created"] == 1
        assert late in {lk.source_id for lk in rt.store.links(WON)}
        assert _run(rt, WON).get("created", 0) == 0
    finally:
        rt.close()


def test_an_org_without_the_hubs_custom_fields_is_told_which_before_any_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime(tmp_path, monkeypatch, "hard")
    try:
        writes_before = len(rt.sandboxes["crm"].journal.writes())  # type: ignore[attr-defined]
        with pytest.raises(ConfigError) as caught:
            build_handoff(rt, WON)
        text = str(caught.value)
        assert "no field Opportunity.Delivery_Project__c" in text
        assert "write_back: false" in text
        assert len(rt.sandboxes["crm"].journal.writes()) == writes_before  # type: ignore[attr-defined]
        assert len(rt.sandboxes["pm"].journal.writes()) == 0  # type: ignore[attr-defined]
    finally:
        rt.close()
