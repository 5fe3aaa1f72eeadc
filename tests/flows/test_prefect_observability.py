"""What a Prefect user sees of a hub run, read back through the Prefect API.

One flow run with a dead-lettered deal (Failed, its batch lines in the run's
logs, readable run and task names, events), then one skipped because another
run holds the lease (Cancelled, named Skipped). One server for the session.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.config.loading import load_config
from handoff_hub.hub.handoffs.won_to_project import HANDOFF
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

pytestmark = pytest.mark.prefect

NAME = re.compile(r"^won-to-project · salesforce→jira · \d{4}-\d\d-\d\d \d\d:\d\d$")
BATCH_LINE = re.compile(
    r"^won-to-project batch 1: read \d+, created \d+, updated 0, skipped \d+, dead-lettered 1"
)


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=11, records=12)),
        "jira": serve_in_thread(make_sandbox("jira", seed=11, records=3)),
    }
    yield running
    for item in running.values():
        item.stop()


def _config(tmp_path: Path, served: dict[str, RunningSandbox]) -> Path:
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    example = example_for("salesforce", "jira")
    return write_sandbox_config(example, tmp_path, targets, env_prefix="HUB_OBSERVE")


def _break_one_deal(served: dict[str, RunningSandbox]) -> str:
    """A won deal whose Amount is text: mapping fails, the deal is dead-lettered."""
    sf = served["salesforce"].sandbox
    bad: str = sf.state.add_opportunity("Broken deal", stage="Closed Won")  # type: ignore[attr-defined]
    with sf.store.lock:  # type: ignore[attr-defined]
        sf.store.lookup(bad)[1]["Amount"] = "n/a"  # type: ignore[attr-defined]
    return bad


async def _read_back(flow_run_id: UUID) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import LogSort, TaskRunSort

    async with get_client() as client:
        run = await client.read_flow_run(flow_run_id)
        logs = await client.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
            limit=200,
            offset=0,
            sort=LogSort.TIMESTAMP_ASC,
        )
        tasks = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=50,
            offset=0,
        )
    return {"run": run, "logs": [log.message for log in logs], "tasks": [t.name for t in tasks]}


async def _events(resource_id: str) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client

    body = {
        "filter": {
            "any_resource": {"id": [resource_id]},
            "event": {"prefix": ["handoff-hub."]},
            "occurred": {"since": "2000-01-01T00:00:00Z"},
        },
        "limit": 50,
    }
    async with get_client() as client:
        response = await client._client.post("/events/filter", json=body)
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json()["events"]
    return events


def _wait_for_events(resource_id: str, wanted: set[str]) -> list[dict[str, Any]]:
    """The server stores events a moment after they arrive: ask until they are there."""
    found: list[dict[str, Any]] = []
    for _ in range(60):
        found = asyncio.run(_events(resource_id))
        if wanted <= {e["event"] for e in found}:
            break
        time.sleep(0.5)
    return found


def test_a_failed_record_and_a_held_lease_show_in_prefect(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    from prefect.logging.handlers import APILogHandler

    from handoff_hub.flows.won_to_project import won_to_project

    config = _config(tmp_path, served)
    _break_one_deal(served)

    state = won_to_project(str(config), batch_retry_delay_seconds=0, return_state=True)

    summary = state.result(raise_on_failure=False)
    assert summary["status"] == "completed_with_failures"
    assert summary["counts"]["failed"] == 1
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    APILogHandler().flush()
    seen = asyncio.run(_read_back(flow_run_id))
    run = seen["run"]
    assert NAME.match(run.name), run.name
    assert run.state.type.value == "FAILED"
    assert run.state.message.startswith(f"1 record(s) dead-lettered; hub run {summary['run_id']}")
    assert any(BATCH_LINE.match(line) for line in seen["logs"]), seen["logs"]
    assert any("Broken deal" in line or "n/a" in line for line in seen["logs"]), seen["logs"]
    assert re.fullmatch(r"batch 1 · \d+ deals", seen["tasks"][0]), seen["tasks"]
    store = StateStore(f"sqlite:///{config.parent / 'state.db'}")
    assert store.run(summary["run_id"]).flow_run_id == str(flow_run_id)
    history = CliRunner().invoke(
        app, ["history", "-c", str(config), "--run", summary["run_id"], "--json"]
    )
    assert json.loads(history.stdout)["run"]["flow_run_id"] == str(flow_run_id)

    resource = f"handoff-hub.run.{summary['run_id']}"
    events = _wait_for_events(
        resource, {"handoff-hub.dead-letters.created", "handoff-hub.run.completed_with_failures"}
    )
    by_name = {e["event"]: e for e in events}
    assert by_name["handoff-hub.dead-letters.created"]["payload"]["count"] == 1
    outcome = by_name["handoff-hub.run.completed_with_failures"]
    assert outcome["payload"]["counts"]["failed"] == 1
    assert outcome["resource"]["handoff-hub.handoff"] == HANDOFF
    related = {r["prefect.resource.id"] for r in outcome["related"]}
    assert f"prefect.flow-run.{flow_run_id}" in related

    crm = load_config(config).config.handoffs.won_to_project
    assert crm is not None
    lease = store.lease(f"{HANDOFF}:{crm.crm}")
    lease.acquire()
    try:
        skipped = won_to_project(str(config), batch_retry_delay_seconds=0, return_state=True)
    finally:
        lease.release()
    assert skipped.type.value == "CANCELLED"
    assert skipped.name == "Skipped"
    assert skipped.result(raise_on_failure=False)["status"] == "skipped"
    again = asyncio.run(_read_back(skipped.state_details.flow_run_id))["run"]
    assert (again.state.type.value, again.state.name) == ("CANCELLED", "Skipped")
    assert "another run" in again.state.message


def test_reconcile_fails_on_a_kind_it_is_told_to_and_announces_discrepancies(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    """Nothing has run yet, so every won deal is a won deal without a project."""
    from handoff_hub.flows.reconcile import reconcile_flow

    config = _config(tmp_path, served)
    state = reconcile_flow(str(config), fail_on=["won_without_project"], return_state=True)

    assert state.type.value == "FAILED"
    assert state.message.startswith("found won_without_project (fail_on); ")
    summary = state.result(raise_on_failure=False)
    assert summary["counts"]["won_without_project"] > 0
    run = asyncio.run(_read_back(state.state_details.flow_run_id))["run"]
    assert run.name.startswith(f"reconcile · {config.stem} · "), run.name
    resource = f"handoff-hub.reconcile.{config.name}"
    events = _wait_for_events(resource, {"handoff-hub.reconcile.discrepancies"})
    [event] = events
    assert (
        event["payload"]["counts"]["won_without_project"]
        == summary["counts"]["won_without_project"]
    )

    calm = reconcile_flow(str(config), fail_on=["more_projects_than_rules"], return_state=True)
    assert calm.type.value == "COMPLETED"


def test_hub_run_prints_the_summary_of_a_failed_flow_run_and_exits_1(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    """The flow run ends Failed; ``hub run`` still shows its counts, not a traceback."""
    config = _config(tmp_path, served)
    _break_one_deal(served)

    result = CliRunner().invoke(app, ["run", HANDOFF, "-c", str(config)])

    assert result.exit_code == 1, result.output
    assert "completed_with_failures" in result.output
    assert "Traceback" not in result.output
    [run] = StateStore(f"sqlite:///{config.parent / 'state.db'}").runs(HANDOFF)
    assert run.status == "completed_with_failures" and run.flow_run_id
