"""won-to-project for every CRM + PM pairing, chosen only by the hub config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import load_config
from hub.demo import CRMS, PMS, example_for, write_sandbox_config
from hub.handoffs.runner import run_handoff
from hub.handoffs.won_to_project import HANDOFF, WonToProject
from hub.mapping.engine import to_unified_many
from hub.model import Opportunity, Stage
from hub.registry import known_connectors
from hub.runtime import Runtime, open_runtime
from hub.sandbox_server import make_sandbox

PAIRS = [(crm, pm) for crm in CRMS for pm in PMS]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}+{p[1]}")
def pair_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    crm_name, pm_name = request.param
    crm, pm = make_sandbox(crm_name, seed=4, records=24), make_sandbox(pm_name, seed=4, records=8)
    prefix = f"HUB_PAIR_{crm_name}_{pm_name}".upper()
    targets = {
        crm_name: (f"http://{crm_name}.sandbox", crm),
        pm_name: (f"http://{pm_name}.sandbox", pm),
    }
    config = write_sandbox_config(
        example_for(crm_name, pm_name), tmp_path, targets, env_prefix=prefix
    )
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.setenv(name, os.environ[name])
    loaded = load_config(config, known_connectors=known_connectors())
    rt = open_runtime(loaded, transports={"crm": crm.transport(), "pm": pm.transport()})
    rt.sandboxes = {"crm": crm, "pm": pm}  # type: ignore[attr-defined]
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
