"""A shard's reconcile (deals read through a ``where``) reports only its own pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.handoffs.won_to_project import HANDOFF as WON
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.reconcile.fix import reconcile
from handoff_hub.hub.reconcile.model import Discrepancy, Kind
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime

SHARD = "Europe"


def _shard_runtime(rt: Runtime, folder: Path) -> Runtime:
    """The same config, store and sandboxes, its deals read with ``where: {Region__c: Europe}``."""
    crm = rt.loaded.config.systems["crm"]
    mapping = yaml.safe_load((rt.loaded.base_dir / crm.mapping).read_text(encoding="utf-8"))
    mapping["entities"]["Opportunity"]["where"] = {"Region__c": SHARD}
    shard_mapping = folder / "salesforce-emea.yaml"
    shard_mapping.write_text(yaml.safe_dump(mapping, sort_keys=False), encoding="utf-8")
    config = yaml.safe_load(rt.loaded.path.read_text(encoding="utf-8"))
    config["systems"]["crm"]["mapping"] = str(shard_mapping)
    path = rt.loaded.path.with_name("hub-emea.yaml")
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    sandboxes = rt.sandboxes  # type: ignore[attr-defined]
    transports = {name: sandbox.transport() for name, sandbox in sandboxes.items()}
    loaded = load_config(path, known_connectors=known_connectors())
    shard = open_runtime(loaded, transports=transports)
    shard.sandboxes = sandboxes  # type: ignore[attr-defined]
    return shard


def _found(rt: Runtime) -> tuple[list[Discrepancy], dict[str, int]]:
    result, _ = reconcile(rt, fix=False)
    try:
        return list(result.discrepancies()), dict(result.scanned)
    finally:
        result.spool.close()


def _of(found: list[Discrepancy], kind: Kind) -> list[Discrepancy]:
    return [d for d in found if d.kind is kind]


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    runtime = open_pair_runtime("salesforce", "jira", tmp_path, monkeypatch)
    settings = runtime.loaded.config.handoffs.won_to_project
    assert settings is not None
    run_handoff(WON, WonToProject(runtime, settings), runtime.store)
    yield runtime
    runtime.close()


def test_a_shard_leaves_other_shards_projects_alone_and_reports_its_own_gone_deals(
    rt: Runtime, tmp_path: Path
) -> None:
    crm, pm = rt.sandboxes["crm"].state, rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    links = rt.store.links(WON)
    region = {lk.source_id: crm.get("Opportunity", lk.source_id).get("Region__c") for lk in links}
    ours = [lk for lk in links if region[lk.source_id] == SHARD]
    theirs = [lk for lk in links if region[lk.source_id] != SHARD]
    assert len(ours) >= 2 and len(theirs) >= 3, region
    gone_ours, gone_theirs, lost_project = ours[0], theirs[0], theirs[1]
    crm.delete("Opportunity", gone_ours.source_id)
    crm.delete("Opportunity", gone_theirs.source_id)
    pm.delete(lost_project.target_key)

    everything, scanned = _found(rt)
    assert {d.crm_ref for d in _of(everything, Kind.PROJECT_DEAL_GONE)} == {
        gone_ours.source_id,
        gone_theirs.source_id,
    }
    assert [d.pm_ref for d in _of(everything, Kind.LINK_TO_DELETED)] == [lost_project.target_key]
    assert "out_of_scope" not in scanned

    shard = _shard_runtime(rt, tmp_path)
    try:
        found, scanned = _found(shard)
    finally:
        shard.close()
    # the other shard's gone deal is not in this shard's where either: the deal
    # is gone, whoever read it, so every shard says so
    assert {d.crm_ref for d in _of(found, Kind.PROJECT_DEAL_GONE)} == {
        gone_ours.source_id,
        gone_theirs.source_id,
    }
    assert _of(found, Kind.LINK_TO_DELETED) == []  # the other shard reports its lost project
    assert _of(found, Kind.WON_WITHOUT_PROJECT) == []
    assert scanned["out_of_scope"] == len(theirs) - 1  # their projects, and their lost one's link
