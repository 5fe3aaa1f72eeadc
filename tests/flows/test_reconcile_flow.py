"""The reconcile Prefect flow: a report file, and the report saved as a Prefect artifact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.sandboxes.kit.server import RunningSandbox, make_sandbox, serve_in_thread

pytestmark = pytest.mark.prefect


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=8, records=20)),
        "jira": serve_in_thread(make_sandbox("jira", seed=8, records=6)),
    }
    yield running
    for item in running.values():
        item.stop()


def test_reconcile_flow_saves_its_report_as_an_artifact(
    prefect_harness: None, tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    from handoff_hub.flows.reconcile import reconcile_flow

    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    config = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix="HUB_RECFLOW"
    )
    report = tmp_path / "report.json"

    summary = reconcile_flow(str(config), report_path=str(report), report_format="json")

    won_without = summary["counts"]["won_without_project"]
    assert won_without >= 2
    saved = json.loads(report.read_text(encoding="utf-8"))
    assert saved["summary"]["counts"] == summary["counts"]
    assert len(saved["discrepancies"]) == summary["total"]
    artifact = _artifact("reconcile-hub")
    assert artifact["type"] == "markdown"
    assert "Won deal without a project" in artifact["data"]
    assert f"| {won_without} |" in artifact["data"]

    fixed = reconcile_flow(str(config), fix=True)
    assert fixed["counts"]["won_without_project"] == 0
    assert fixed["fixes"]["won-to-project: created"] == won_without


def _artifact(key: str) -> dict[str, Any]:
    """The latest artifact of ``key``, over the API (no null filters: the server refuses them)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        response = client.request(
            "POST",
            "/artifacts/filter",
            json={
                "artifacts": {"key": {"any_": [key]}},
                "limit": 1,
                "offset": 0,
                "sort": "UPDATED_DESC",
            },
        )
    found: list[dict[str, Any]] = response.json()
    assert found, f"no artifact {key!r}"
    return found[0]
