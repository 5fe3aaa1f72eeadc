"""Three workers with one host name on one PostgreSQL store, under faults: every deal once.

The pods of one Kubernetes Deployment, or containers started with the same
``--hostname``, share a host name but not a PID namespace: a worker's PID
means nothing to the others. Each worker here runs in its own process with
the same host name, a PID that no process of this machine has (as in a
container), and its own host identity, and runs won-to-project on a schedule
of its own until a run finds nothing left to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from faults_support import add_won_deals, switch_faults_on

from handoff_hub.connectors.jira.records import stamp_label
from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

DEALS = 1000
WORKERS = 3

WORKER = """
import os, socket, sys, time
import handoff_hub.hub.store.leases as leases

number = int(sys.argv[2])
socket.gethostname = lambda: "handoff-hub-worker-7d9f8c6b5d-x4k2p"
os.getpid = lambda: 4_000_000 + number  # its PID in its own namespace: no process here
leases.host_identity = lambda: f"container{number:03d}"

from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.errors import HubError
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import open_runtime

runtime = open_runtime(load_config(sys.argv[1], known_connectors=known_connectors()))
for attempt in range(400):
    try:
        summary = run_handoff(
            "won-to-project", build_handoff(runtime, "won-to-project"), runtime.store,
            lease_seconds=120,
        )
    except HubError as exc:
        print("failed", type(exc).__name__, flush=True)
        time.sleep(0.05)
        continue
    print(summary.status, summary.counts.get("created", 0), flush=True)
    if summary.status == "succeeded" and not summary.counts.get("created"):
        break
    time.sleep(0.05)
"""


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=31, records=8)),
        "jira": serve_in_thread(make_sandbox("jira", seed=31, records=4)),
    }
    yield running
    for item in running.values():
        item.stop()


def _config(tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str) -> Path:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    path = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_WORKERS"
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["store"] = {"url": postgres_url}
    for system in data["systems"].values():
        system.update(max_retries=11, retry_wait_seconds=0.01, timeout_seconds=5)
    data["systems"]["pm"]["settings"]["verify_delay_seconds"] = 0.01
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _workers(tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str, deals: int):
    crm, pm = served["salesforce"].sandbox, served["jira"].sandbox
    won = set(add_won_deals(crm, deals))
    config = _config(tmp_path, served, postgres_url)
    switch_faults_on(crm, rate=0.2, seed=41)
    switch_faults_on(pm, rate=0.2, seed=42)
    root = Path(__file__).resolve().parents[2]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(config), str(n)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    outputs = [w.communicate(timeout=1800) for w in workers]
    assert [w.returncode for w in workers] == [0] * WORKERS, [e[-2000:] for _, e in outputs]
    state = pm.state  # type: ignore[attr-defined]
    epics = set(state.epics())
    made = {d: len(epics & set(state.by_label(stamp_label(f"crm:{d}")))) for d in won}
    store = StateStore(postgres_url)
    try:
        runs = store.runs("won-to-project", limit=10_000)
        linked = {lk.source_id for lk in store.links("won-to-project")}
    finally:
        store.close()
    return won, made, runs, linked, [o for o, _ in outputs]


def _check(tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str, deals: int):
    won, made, runs, linked, outputs = _workers(tmp_path, served, postgres_url, deals)
    duplicated = {d: n for d, n in made.items() if n > 1}
    assert duplicated == {}, f"{len(duplicated)} deals got more than one project"
    assert {d for d, n in made.items() if n == 1} == won, "every won deal has its project"
    assert won <= linked
    assert "running" not in {r.status for r in runs}
    assert sum(o.count("skipped") for o in outputs) >= 1, "the workers met at the lease"


@pytest.mark.reliability
def test_three_workers_with_one_host_name_make_each_of_1000_projects_once(
    tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str
) -> None:
    _check(tmp_path, served, postgres_url, DEALS)


def test_three_workers_with_one_host_name_make_each_project_once(
    tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str
) -> None:
    """The same at a fiftieth of the size, in every test run (the full size: make reliability)."""
    _check(tmp_path, served, postgres_url, DEALS // 50)
