"""Two processes running the same handoff on one PostgreSQL store: no duplicate, no lost cursor."""

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
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit import Faults
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

RUN_ONCE = """
import sys
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.catalogue import build_handoff
from handoff_hub.hub.handoffs.runner import run_handoff
from handoff_hub.hub.registry import known_connectors
from handoff_hub.hub.runtime import open_runtime

runtime = open_runtime(load_config(sys.argv[1], known_connectors=known_connectors()))
summary = run_handoff(
    "won-to-project",
    build_handoff(runtime, "won-to-project"),
    runtime.store,
    lease_seconds=float(sys.argv[2]),
)
print(summary.status, summary.counts.get("created", 0), flush=True)
"""


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=21, records=40)),
        # Slow creates make the two runs overlap for seconds, as two workers would.
        "jira": serve_in_thread(
            make_sandbox("jira", seed=21, records=4, faults=Faults(latency=0.04))
        ),
    }
    yield running
    for item in running.values():
        item.stop()


def _config(tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str) -> Path:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    path = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_CONCURRENT"
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["store"] = {"url": postgres_url}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _start(config: Path, lease_seconds: float) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", RUN_ONCE, str(config), str(lease_seconds)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _won(served: dict[str, RunningSandbox]) -> list[str]:
    salesforce = served["salesforce"].sandbox
    return [o["Id"] for o in salesforce.state.find("Opportunity", IsWon=True)]  # type: ignore[attr-defined]


def _epics_per_deal(served: dict[str, RunningSandbox], deals: list[str]) -> dict[str, int]:
    state = served["jira"].sandbox.state  # type: ignore[attr-defined]
    epics = set(state.epics())
    return {d: len(epics & set(state.by_label(stamp_label(f"crm:{d}")))) for d in deals}


def test_two_runs_at_once_make_each_project_once(
    tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str
) -> None:
    config = _config(tmp_path, served, postgres_url)
    won = _won(served)
    assert len(won) >= 5

    first, second = _start(config, 300), _start(config, 300)
    outputs = [p.communicate(timeout=240) for p in (first, second)]

    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    results = sorted(out.split() for out, _ in outputs)
    assert [r[0] for r in results] == ["skipped", "succeeded"], outputs
    assert sum(int(r[1]) for r in results) == len(won)
    assert set(_epics_per_deal(served, won).values()) == {1}
    store = StateStore(postgres_url)
    assert {lk.source_id for lk in store.links("won-to-project")} == set(won)
    assert store.get_cursor("won-to-project:crm:Opportunity")
    store.close()


def test_a_killed_run_does_not_block_the_next_and_nothing_is_made_twice(
    tmp_path: Path, served: dict[str, RunningSandbox], postgres_url: str
) -> None:
    config = _config(tmp_path, served, postgres_url)
    won = _won(served)
    store = StateStore(postgres_url)
    killed = _start(config, 600)
    deadline = time.monotonic() + 120
    while len(store.links("won-to-project")) < 2:
        assert time.monotonic() < deadline, killed.stderr.read() if killed.stderr else ""
        assert killed.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()

    # Its lease runs for ten more minutes, but its holder is a dead process on this machine.
    finished = _start(config, 600).communicate(timeout=240)[0]

    assert finished.split()[0] == "succeeded", finished
    assert set(_epics_per_deal(served, won).values()) == {1}
    assert {lk.source_id for lk in store.links("won-to-project")} == set(won)
    statuses = [r.status for r in store.runs("won-to-project")]
    assert statuses.count("crashed") == 1 and "running" not in statuses  # the killed run's row
    store.close()
