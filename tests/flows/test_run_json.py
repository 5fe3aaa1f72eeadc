"""``hub run --json``: the run's id, status and counts per outcome, as one JSON object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

pytestmark = pytest.mark.prefect


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=6, records=15)),
        "jira": serve_in_thread(make_sandbox("jira", seed=6, records=3)),
    }
    yield running
    for item in running.values():
        item.stop()


@pytest.mark.usefixtures("prefect_harness")
def test_run_prints_its_result_as_json(tmp_path: Path, served: dict[str, RunningSandbox]) -> None:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_RUNJSON"
    )

    result = CliRunner().invoke(app, ["run", "won-to-project", "-c", str(config), "--json"])

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["handoff"] == "won-to-project" and data["status"] == "succeeded"
    assert data["config"] == str(config) and data["error"] is None
    assert data["counts"]["created"] >= 1 and not data["counts"].get("failed")
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        [run] = store.runs("won-to-project")
        assert run.id == data["run_id"] and run.flow_run_id  # work: the Prefect flow ran it
        assert len(store.links("won-to-project")) == data["counts"]["created"]
    finally:
        store.close()


@pytest.mark.usefixtures("prefect_harness")
def test_run_goes_through_the_flow_only_when_there_is_work(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_RUNJSON"
    )
    command = ["run", "won-to-project", "-c", str(config), "--json"]
    results = [CliRunner().invoke(app, command + extra) for extra in (["--local"], [], [])]

    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    created, echo, idle = (json.loads(r.stdout) for r in results)
    assert created["counts"]["created"] >= 1
    assert echo["counts"]["seen"] == created["counts"]["created"]  # the ids written back
    assert idle["status"] == "succeeded" and idle["counts"] == {}
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        flow_runs = {run.id: run.flow_run_id for run in store.runs("won-to-project")}
    finally:
        store.close()
    assert flow_runs[created["run_id"]] is None  # --local
    assert flow_runs[echo["run_id"]] is not None
    assert flow_runs[idle["run_id"]] is None
