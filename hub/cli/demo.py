"""``hub demo``: the whole product against seeded sandboxes on localhost.

The sandboxes are served on real localhost ports and the demo writes an
ordinary hub config pointing at them, so the demo goes through exactly the
code path a production run takes (config validation, connectors over HTTP,
Prefect flow, SQLite store); only the base URLs and credentials differ.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from handoff_hub.hub.bundled import examples_dir
from handoff_hub.hub.cli.options import CRMS, PMS
from handoff_hub.hub.config.schema import nearest_hint
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.model import money_text
from handoff_hub.sandboxes.kit import Sandbox
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

__all__ = [
    "DemoEnvironment",
    "demo_environment",
    "example_for",
    "examples_dir",
    "sandbox_profiles",
    "stage_budget_change",
    "stage_delivery_events",
    "write_sandbox_config",
]

_EXAMPLES = {(crm, pm): f"{crm}-{pm}.yaml" for crm in CRMS for pm in PMS}


@dataclass
class DemoEnvironment:
    """Running sandboxes plus the hub config written for them."""

    folder: Path
    config_path: Path
    sandboxes: dict[str, RunningSandbox]


def example_for(crm: str, pm: str) -> Path:
    """The example config of a CRM + PM pairing."""
    name = _EXAMPLES.get((crm, pm))
    if name is None:
        pairs = ", ".join(f"{c}+{p}" for c, p in sorted(_EXAMPLES))
        raise ValueError(f"no demo for {crm}+{pm}; available: {pairs}")
    return examples_dir() / name


def write_sandbox_config(
    example: Path,
    folder: Path,
    targets: Mapping[str, tuple[str, Sandbox]],
    *,
    env_prefix: str = "HUB_DEMO",
    requests_per_second: int | None = 1000,
) -> Path:
    """Copy an example config pointed at sandboxes, and set their credentials' variables.

    ``targets`` maps a connector name to the base URL its sandbox answers on and
    the sandbox itself (whose settings and credentials fit its seeded data).
    ``requests_per_second`` replaces the vendors' client-side pacing, which
    only slows a local sandbox down (None keeps the connector's own; the
    connectors' tests check that pacing against the sandboxes' limits).
    """
    data: dict[str, Any] = yaml.safe_load(example.read_text(encoding="utf-8"))
    for key, system in data["systems"].items():
        url, sandbox = targets[system["connector"]]
        system["base_url"] = url
        system["mapping"] = str((example.parent / system["mapping"]).resolve())
        system["settings"] = {**system.get("settings", {}), **sandbox.settings}
        if requests_per_second is not None:
            system["rate_limit"] = {"requests": requests_per_second, "per_seconds": 1}
        system["credentials"] = {}
        for setting, value in sandbox.credentials.items():
            var = f"{env_prefix}_{key}_{setting}".upper()
            os.environ[var] = value
            system["credentials"][setting] = {"env": var}
    data["store"] = {"url": f"sqlite:///{(folder / 'state.db').resolve()}"}
    path = folder / "hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def sandbox_profiles(choices: Sequence[str], names: Sequence[str]) -> dict[str, str]:
    """Which org profile each named sandbox plays, from ``--sandbox-profile`` values.

    ``PROFILE`` applies to every sandbox; ``NAME=PROFILE`` to one, and wins.

    Raises:
        ConfigError: A ``NAME=`` that is not one of ``names``.
    """
    every: dict[str, str] = {}
    chosen: dict[str, str] = {}
    for choice in choices:
        name, sep, profile = choice.partition("=")
        if not sep:
            every = dict.fromkeys(names, choice)
            continue
        if name not in names:
            raise ConfigError(
                [
                    Issue(
                        "--sandbox-profile",
                        None,
                        name,
                        f"no {name!r} sandbox in this demo",
                        nearest_hint(name, names),
                    )
                ]
            )
        chosen[name] = profile
    return {**every, **chosen}


@contextmanager
def demo_environment(
    folder: Path,
    *,
    crm: str = "salesforce",
    pm: str = "jira",
    seed: int = 7,
    records: int = 40,
    profiles: Mapping[str, str] | None = None,
) -> Iterator[DemoEnvironment]:
    """Serve seeded CRM and PM sandboxes and write a hub config for them.

    ``profiles`` names the org profile a sandbox plays (by sandbox name); the
    others play their default org.
    """
    folder.mkdir(parents=True, exist_ok=True)
    served: dict[str, RunningSandbox] = {}
    profiles = profiles or {}
    try:
        for name in (crm, pm):
            sandbox = make_sandbox(name, seed=seed, records=records, profile=profiles.get(name))
            served[name] = serve_in_thread(sandbox)
        targets = {name: (run.url, run.sandbox) for name, run in served.items()}
        config_path = write_sandbox_config(example_for(crm, pm), folder, targets)
        yield DemoEnvironment(folder, config_path, served)
    finally:
        for running in served.values():
            running.stop()


def stage_delivery_events(pm_sandbox: Sandbox, projects: Sequence[str]) -> list[str]:
    """Make some delivery projects late, risky or full of upsell ideas, as a team would.

    Uses the PM sandbox's ``state`` helpers (``add_risk``, ``set_health``,
    ``add_feedback``), which every PM sandbox shipped with the hub has.
    Returns one line per event, for the demo to print.
    """
    state: Any = getattr(pm_sandbox, "state", None)
    if state is None or not all(
        hasattr(state, name) for name in ("add_risk", "set_health", "add_feedback")
    ):
        return []
    events: list[str] = []
    for n, project in enumerate(projects[:6]):
        if n % 3 == 0:
            state.set_health(project, "red" if n == 0 else "amber")
            events.append(f"{project}: health {'red' if n == 0 else 'amber'} (behind schedule)")
        if n % 3 == 1:
            key = state.add_risk(project, "Customer data export not delivered yet", "high")
            events.append(f"{project}: risk {key} (high)")
        if n % 2 == 0:
            key = state.add_feedback(project, "Customer asks for the analytics add-on", "upsell")
            events.append(f"{project}: upsell idea {key}")
    return events


def stage_budget_change(pm_sandbox: Sandbox, projects: Sequence[str]) -> str | None:
    """Change one project's budget in the project tool, an EUR one where there is one.

    What a project manager might do by hand; the demo's reconcile then finds the
    budget no longer matches its deal. Returns the line to print, or None when
    the sandbox has no ``set_budget`` helper.
    """
    state: Any = getattr(pm_sandbox, "state", None)
    if state is None or not hasattr(state, "set_budget") or not projects:
        return None
    currencies = {project: state.budget_currency(project) for project in projects}
    chosen = next((p for p, c in currencies.items() if c == "EUR"), projects[0])
    state.set_budget(chosen, 1000.0)
    amount = money_text(Decimal(1000), currencies[chosen])
    return f"{chosen}: budget set to {amount} by hand (the deal says otherwise)"
