"""Seeding many records and switching faults on, for the reliability suite."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import Runtime, open_runtime
from handoff_hub.sandboxes.hubspot.limits import RateLimits
from handoff_hub.sandboxes.kit import FAULT_KINDS, Sandbox
from handoff_hub.sandboxes.kit.server import make_sandbox

ALL_FAULTS = FAULT_KINDS
"""429 (Retry-After), 500, 502, 503, read timeouts, drops before and after the product acted."""


def add_won_deals(crm: Sandbox, count: int) -> list[str]:
    """``count`` won deals, as sales would close them."""
    state: Any = crm.state  # type: ignore[attr-defined]
    close = dt.date.today() - dt.timedelta(days=3)
    if crm.name == "salesforce":
        accounts = state.ids("Account")
        return [
            state.add_record(
                "Opportunity",
                Name=f"Fault-proof deal {n}",
                StageName="Closed Won",
                Amount=1000.0 + n,
                CloseDate=close.isoformat(),
                AccountId=accounts[n % len(accounts)],
            )
            for n in range(count)
        ]
    won = state.won_stage()
    companies = state.ids("companies")
    return [
        state.add_deal(
            f"Fault-proof deal {n}",
            stage=won,
            amount=1000.0 + n,
            closedate=close.isoformat(),
            company_id=companies[n % len(companies)],
        )
        for n in range(count)
    ]


def switch_faults_on(sandbox: Sandbox, *, rate: float, seed: int, latency: float = 0.0) -> None:
    """Every kind of fault on ``rate`` of the requests from now on (seeded: replayable)."""
    faults = sandbox.faults
    faults.kinds = ALL_FAULTS
    faults.rate = rate
    faults.seed = seed
    faults.retry_after = 0.01
    faults.latency = latency
    faults.__post_init__()


def _unlimited(name: str) -> dict[str, Any]:
    """Sandbox options that switch its product's rate limits off (faults still come)."""
    return {"rate_limit": RateLimits.generous()} if name == "hubspot" else {}


def open_faulty_runtime(
    crm_name: str, pm_name: str, folder: Path, monkeypatch: pytest.MonkeyPatch, **seed: int
) -> Runtime:
    """A runtime on fresh sandboxes, configured as an admin would for a flaky network.

    Retries start at 10 ms (the default 0.5 s would only make the test slow)
    and go up to 12 attempts, so that 20 % of faults never exhaust them.
    The injected faults include 429s; HubSpot's sandbox does not add its
    published limits on top (nor the client its search pacing): waiting out
    ten-second windows made HubSpot's pairings take 4-5 minutes each and
    tests nothing the faults and tests/connectors/hubspot do not.
    """
    crm = make_sandbox(crm_name, seed=seed.get("seed", 1), records=8, **_unlimited(crm_name))
    pm = make_sandbox(pm_name, seed=seed.get("seed", 1), records=4, **_unlimited(pm_name))
    prefix = f"HUB_FAULT_{crm_name}_{pm_name}".upper()
    targets = {
        crm_name: (f"http://{crm_name}.sandbox", crm),
        pm_name: (f"http://{pm_name}.sandbox", pm),
    }
    config = write_sandbox_config(
        example_for(crm_name, pm_name), folder, targets, env_prefix=prefix
    )
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for system in data["systems"].values():
        system.update(max_retries=11, retry_wait_seconds=0.01, timeout_seconds=5)
        if system["connector"] == "jira":
            system["settings"]["verify_delay_seconds"] = 0.01
        if system["connector"] == "asana":
            system["settings"]["job_poll_seconds"] = 0.01
        if system["connector"] == "hubspot":
            system["settings"]["search_requests_per_second"] = 10_000
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.setenv(name, os.environ[name])
    loaded = load_config(config, known_connectors=known_connectors())
    runtime = open_runtime(loaded, transports={"crm": crm.transport(), "pm": pm.transport()})
    runtime.sandboxes = {"crm": crm, "pm": pm}  # type: ignore[attr-defined]
    return runtime
