"""The catalogue is the one list of handoffs: everything that names them reads it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from handoff_hub.hub.config.handoffs import HandoffsConfig
from handoff_hub.hub.deploy_plan import FLOWS
from handoff_hub.hub.handoffs.catalogue import HANDOFFS, RECONCILE_FLOW, by_config_key
from handoff_hub.hub.model import ENTITY_TYPES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(HANDOFFS))
def test_each_entry_names_real_code(name: str) -> None:
    kind = HANDOFFS[name]
    module, _, cls = kind.builder.partition(":")
    built = getattr(importlib.import_module(module), cls)
    assert all(callable(getattr(built, m, None)) for m in ("pages", "process", "advance"))
    assert name == importlib.import_module(module).HANDOFF
    assert kind.config_key in HandoffsConfig.model_fields
    assert by_config_key(kind.config_key) is kind
    for entities in kind.entities.values():
        assert set(entities) <= set(ENTITY_TYPES)
    path, _, function = kind.flow.partition(":")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    declared = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
    assert function in declared, f"{path} declares no {function}"


def test_every_configurable_handoff_is_in_the_catalogue() -> None:
    keys = {k.config_key for k in HANDOFFS.values()} | {RECONCILE_FLOW[0]}
    assert set(HandoffsConfig.model_fields) <= keys | {"defaults"}


def test_the_deploy_plan_deploys_every_handoff_and_reconcile() -> None:
    assert [f.flow_name for f in FLOWS] == [*HANDOFFS, "reconcile"]


def test_no_other_module_lists_the_handoffs() -> None:
    """A second list would drift from this one: no module spells out all four names."""
    names = set(HANDOFFS)
    for path in sorted((ROOT / "hub").rglob("*.py")):
        if path.name == "catalogue.py":
            continue
        found = {n for n in names if f'"{n}"' in path.read_text(encoding="utf-8")}
        assert len(found) < len(names), f"{path.relative_to(ROOT)} lists every handoff"
