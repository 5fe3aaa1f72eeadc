"""A first (backfill) run killed midway resumes from its checkpoint: nothing twice, nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import open_runtime
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

BACKFILL = """
import sys
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import open_runtime

runtime = open_runtime(load_config(sys.argv[1], known_connectors=known_connectors()))
run_handoff("won-to-project", build_handoff(runtime, "won-to-project"), runtime.store)
"""
SALESFORCE_PAGE = 200
"""The smallest page Salesforce's query API returns (Sforce-Query-Options batchSize)."""
IN_FLIGHT = 50 * 4
"""Epics a kill can leave stamped but unlinked: Jira bulk creates of 50, 4 in flight."""


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=31, records=1000)),
        "jira": serve_in_thread(
            make_sandbox("jira", seed=31, records=4, faults=Faults(latency=0.01))
        ),
    }
    yield running
    for item in running.values():
        item.stop()


@pytest.mark.reliability  # ~25 s: 250 projects; runs with make reliability (CI runs both)
def test_a_killed_backfill_resumes_where_it_stopped(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_BACKFILL"
    )
    # Without the write-back of project keys, a resumed read sees no echo of
    # the first page: whatever it reads again, it read from the checkpoint.
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["handoffs"]["won_to_project"]["write_back"] = False
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    salesforce = served["salesforce"].sandbox
    won = [o["Id"] for o in salesforce.state.find("Opportunity", IsWon=True)]  # type: ignore[attr-defined]
    assert len(won) > SALESFORCE_PAGE, "the seed must give more than one page of won deals"
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")

    root = Path(__file__).resolve().parents[2]
    backfill = subprocess.Popen(
        [sys.executable, "-c", BACKFILL, str(config)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while store.get_cursor("won-to-project:crm:Opportunity") is None:  # the first page is done
        assert backfill.poll() is None, "the backfill ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first_page = len(store.links("won-to-project"))
    while len(store.links("won-to-project")) < first_page + 3:  # inside the second page
        assert backfill.poll() is None, "the backfill ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(backfill.pid, signal.SIGKILL)
    backfill.wait()
    done_before = {lk.source_id for lk in store.links("won-to-project")}

    runtime = open_runtime(load_config(config, known_connectors=known_connectors()))
    try:
        resumed = run_handoff(
            "won-to-project", build_handoff(runtime, "won-to-project"), runtime.store
        )
    finally:
        runtime.close()

    assert resumed.status == "succeeded", resumed
    assert resumed.counts["seen"] <= len(won) - first_page, "the checkpointed page was read again"
    counts = resumed.counts
    # Epics go in bulk calls of 50, `concurrency` (4) calls in flight: what a kill can cut
    assert counts.get("recovered", 0) <= IN_FLIGHT, "more than the creates in flight were cut"
    # Projects the killed run made on the unfinished page are finished, not made again.
    assert counts.get("finished", 0) + counts.get("recovered", 0) >= len(done_before) - first_page
    handled = counts.get("created", 0) + counts.get("finished", 0) + counts.get("recovered", 0)
    assert handled == len(won) - first_page
    assert {lk.source_id for lk in store.links("won-to-project")} == set(won)
    jira = served["jira"].sandbox.state  # type: ignore[attr-defined]
    epics = set(jira.epics())
    assert all(len(epics & set(jira.by_label(stamp_label(f"crm:{d}")))) == 1 for d in won)
    store.close()
