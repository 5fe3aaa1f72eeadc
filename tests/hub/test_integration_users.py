"""integration_users end to end: HubSpot + Asana, the setting read from the hub config file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pair_support import open_pair_runtime

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime

ROBOT = "integration@acme-sales.example"


def _with_setting(rt: Runtime, robots: list[str]) -> Runtime:
    """The runtime's config file with risk-to-account-manager's integration_users set."""
    path = rt.loaded.path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["handoffs"]["risk_to_account_manager"]["integration_users"] = robots
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    loaded = load_config(path, known_connectors=known_connectors())
    sandboxes = rt.sandboxes  # type: ignore[attr-defined]
    transports = {name: box.transport() for name, box in sandboxes.items()}
    fresh = open_runtime(loaded, transports=transports, store=rt.store)
    fresh.sandboxes = sandboxes  # type: ignore[attr-defined]
    return fresh


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    runtime = open_pair_runtime("hubspot", "asana", tmp_path, monkeypatch)
    run_handoff("won-to-project", build_handoff(runtime, "won-to-project"), runtime.store)
    yield runtime
    runtime.close()


def _risk_task_owner(rt: Runtime, title: str) -> str:
    crm: Any = rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    pm: Any = rt.sandboxes["pm"].state  # type: ignore[attr-defined]
    link = rt.store.links("won-to-project")[0]
    risk = pm.add_risk(link.target_id, title, "high")
    handoff = build_handoff(rt, "risk-to-account-manager")
    handoff.today = dt.date(2026, 11, 30)
    counts = run_handoff("risk-to-account-manager", handoff, rt.store).counts
    assert counts["created"] == 1, counts
    [task] = [t for t in crm.find("tasks") if str(t.get("handoff_hub_id", "")).endswith(risk)]
    return str(task["hubspot_owner_id"])


def test_an_integration_user_owning_the_company_passes_the_task_to_the_deal_owner(
    rt: Runtime,
) -> None:
    crm: Any = rt.sandboxes["crm"].state  # type: ignore[attr-defined]
    link = rt.store.links("won-to-project")[0]
    deal_owner = crm.get("deals", link.source_id)["hubspot_owner_id"]
    company = crm.associations("deals", link.source_id, "companies")[0]
    robot = crm.add_owner(ROBOT, "Integration", "User")
    crm.modify_record("companies", company, hubspot_owner_id=robot)
    unnamed = _with_setting(rt, [])  # fresh connectors: HubSpot's owners are read per run
    baseline = build_handoff(unnamed, "risk-to-account-manager")
    run_handoff("risk-to-account-manager", baseline, rt.store)
    assert _risk_task_owner(unnamed, "Budget overrun") == robot != deal_owner
    named = _with_setting(rt, [ROBOT.upper()])
    assert _risk_task_owner(named, "Key user on leave") == deal_owner
