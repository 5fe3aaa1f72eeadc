"""A runtime on the seeded sandboxes of any CRM + PM pairing, from its example config."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.kit.server import make_sandbox


def open_pair_runtime(
    crm_name: str,
    pm_name: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    mappings: dict[str, Path] | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    example: Path | None = None,
    profiles: dict[str, Any] | None = None,
) -> Runtime:
    """A runtime on freshly seeded sandboxes of one pairing, from its example config.

    ``mappings`` replaces the example's mapping file of a system (``{"crm": path}``);
    ``edit`` changes the config's data before it is loaded; ``example`` replaces
    the pairing's example config.
    ``profiles`` gives a system's sandbox an org profile (``{"crm": {"absent_fields": [...]}}``).
    The sandboxes are on ``runtime.sandboxes`` by system name.
    """
    chosen = profiles or {}
    crm = make_sandbox(crm_name, seed=4, records=24, profile=chosen.get("crm"))
    pm = make_sandbox(pm_name, seed=4, records=16, profile=chosen.get("pm"))
    prefix = f"HUB_PAIR_{crm_name}_{pm_name}".upper()
    targets = {
        crm_name: (f"http://{crm_name}.sandbox", crm),
        pm_name: (f"http://{pm_name}.sandbox", pm),
    }
    config = write_sandbox_config(
        example or example_for(crm_name, pm_name), folder, targets, env_prefix=prefix
    )
    if mappings or edit:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        for system, mapping in (mappings or {}).items():
            data["systems"][system]["mapping"] = str(mapping.resolve())
        if edit:
            edit(data)
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.setenv(name, os.environ[name])
    loaded = load_config(config, known_connectors=known_connectors())
    rt = open_runtime(loaded, transports={"crm": crm.transport(), "pm": pm.transport()})
    rt.sandboxes = {"crm": crm, "pm": pm}  # type: ignore[attr-defined]
    return rt
