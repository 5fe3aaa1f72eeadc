"""A hub config on in-process sandboxes of one pairing, and ``hub check`` run on it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff_hub.hub.cli.common import load
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.connector import CheckResult, CheckStatus
from handoff_hub.hub.preflight import run_checks
from handoff_hub.sandboxes.kit import Sandbox
from handoff_hub.sandboxes.kit.server import make_sandbox


@dataclass
class Pair:
    """The config and the sandboxes it points at (by system name)."""

    config: Path
    sandboxes: dict[str, Sandbox]
    prefix: str

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change the config's YAML data in place."""
        data = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        change(data)
        self.config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def check(self) -> list[CheckResult]:
        """``hub check`` on the config, through in-process transports."""
        transports = {name: sb.transport() for name, sb in self.sandboxes.items()}
        return run_checks(load(self.config), transports=transports)


def open_pair(
    crm: str,
    pm: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    profiles: dict[str, str] | None = None,
) -> Pair:
    """Seeded sandboxes of ``crm`` and ``pm`` (each in its profile) and their config."""
    profiles = profiles or {}
    made = {
        name: make_sandbox(name, seed=4, records=16, profile=profiles.get(name))
        for name in (crm, pm)
    }
    prefix = f"HUB_CHECK_{crm}_{pm}".upper()
    targets = {name: (f"http://{name}.sandbox", sb) for name, sb in made.items()}
    config = write_sandbox_config(example_for(crm, pm), folder, targets, env_prefix=prefix)
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.setenv(name, os.environ[name])
    return Pair(config, {"crm": made[crm], "pm": made[pm]}, prefix)


def findings(results: list[CheckResult], status: CheckStatus, system: str) -> list[str]:
    """``check: detail`` of the findings of one status about one system."""
    return [f"{r.check}: {r.detail}" for r in results if r.status is status and r.system == system]
