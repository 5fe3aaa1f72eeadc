"""No credential in what the flows leave behind: output, logs, store, reports, Prefect's API.

``hub run`` of every handoff (through CliRunner, on the session's Prefect test
server) and the reconcile flow with a report, against sandboxes that accept
only recognisable fake credentials; one of them comes from a Prefect Secret
block, the way a deployment reads it. Then the command output, every log
record, every row of the state store, the report and everything Prefect's API
holds about the runs (artifacts, run logs, flow and task runs, events) are
searched for every form of every credential (helpers: tests/test_secrets_scan.py).
The Secret block itself holds the credential on purpose and is not searched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_secrets_scan import SecretScan, capture_all_logs, log_text, open_world, store_rows
from typer.testing import CliRunner

from handoff_hub.hub.cli.main import app

pytestmark = pytest.mark.prefect
BLOCK = "hub-secrets-scan-crm-client-secret"
HANDOFFS = ("won-to-project", "risk-to-account-manager", "feedback-to-lead", "sync")
PAGE = 200
# What Prefect's API keeps about runs, by endpoint.
API_RECORDS = {
    "artifacts": "/artifacts/filter",
    "run logs": "/logs/filter",
    "flow runs": "/flow_runs/filter",
    "task runs": "/task_runs/filter",
}


def _read_client_secret_from_a_block(config: Path, value: str) -> None:
    from prefect.blocks.system import Secret

    Secret(value=value).save(BLOCK, overwrite=True)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["systems"]["crm"]["credentials"]["client_secret"] = {"prefect_secret": BLOCK}
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _prefect_records() -> dict[str, str]:
    """Everything the API returns for each kind of record (every page), as JSON text."""
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    found: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for name, endpoint in API_RECORDS.items():
            pages: list[Any] = []
            while len(pages) % PAGE == 0:
                body = {"limit": PAGE, "offset": len(pages)}
                page = client.request("POST", endpoint, json=body).json()
                pages += page
                if not page:
                    break
            found[f"Prefect {name}"] = json.dumps(pages)
        events: list[Any] = []
        page = client.request("POST", "/events/filter", json={"limit": 50}).json()
        while True:
            events += page["events"]
            if not page.get("next_page"):
                break
            page = client.request("GET", page["next_page"]).json()
        found["Prefect events"] = json.dumps(events)
    return found


def test_flow_runs_keep_no_credential_anywhere(
    prefect_harness: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from handoff_hub.flows.reconcile import reconcile_flow

    world = open_world("salesforce", "jira", tmp_path, monkeypatch)
    report = tmp_path / "reconcile.html"
    runner = CliRunner()
    outputs: dict[str, str] = {}
    try:
        _read_client_secret_from_a_block(world.config, world.secrets["crm.client_secret"])
        monkeypatch.delenv(world.env["crm.client_secret"])
        with capture_all_logs(caplog):
            for handoff in HANDOFFS:
                result = runner.invoke(app, ["run", handoff, "-c", str(world.config)])
                # won-to-project dead-letters the planted bad deal: exit 1, run completed.
                assert result.exit_code == (1 if handoff == "won-to-project" else 0), result.output
                assert "Traceback" not in result.output
                outputs[f"output of hub run {handoff}"] = result.output
            summary = reconcile_flow(str(world.config), report_path=str(report))
            prefect = _prefect_records()
        assert "completed_with_failures" in outputs["output of hub run won-to-project"]
        outputs["reconcile flow result"] = json.dumps(summary, default=str)
    finally:
        for running in world.sandboxes.values():
            running.stop()

    for name in ("artifacts", "run logs", "flow runs"):
        records: list[Any] = json.loads(prefect[f"Prefect {name}"])
        assert records, f"Prefect holds no {name}: the scan would prove nothing"
    rows = store_rows(world.store_url)
    assert rows["store table dead_letters"] and rows["store table sync_state"]
    SecretScan(world.secrets).check(
        {
            **outputs,
            "logs": log_text(caplog.records),
            **rows,
            "report": report.read_text(encoding="utf-8"),
            **prefect,
        }
    )
