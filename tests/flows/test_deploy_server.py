"""The README's path, end to end: a Prefect server, ``hub deploy``, a process worker, a run.

Everything goes through real processes on localhost: ``prefect server start``,
``prefect worker start --type process`` and the flow run the worker spawns,
against Salesforce and Jira sandboxes served on ports of this process. One
Jira credential comes from a Prefect Secret block that only the server holds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from handoff_hub.hub.cli.demo import example_for, write_sandbox_config
from handoff_hub.hub.cli.main import app
from handoff_hub.hub.handoffs.won_to_project import HANDOFF
from handoff_hub.hub.store import StateStore
from handoff_hub.sandboxes.kit.server import (
    RunningSandbox,
    free_port,
    make_sandbox,
    serve_in_thread,
)

# A real Prefect server and worker: ~25 s, so it runs with make reliability (CI runs both).
pytestmark = [pytest.mark.prefect, pytest.mark.reliability]

PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "hub-e2e"
SCHEDULE = "0 3 1 1 *"
"""Once a year: the deployment is scheduled, but no scheduled run falls due during the test."""
BLOCK = "e2e-jira-api-token"
PREFIX = "HUB_DEPLOYTEST"


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, killed with all its children on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                    proc.wait(timeout=wait)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_healthy(api: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"prefect server exited:\n{_tail(log)}"
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"prefect server not healthy after {timeout} s:\n{_tail(log)}")


@pytest.fixture
def served() -> Iterator[dict[str, RunningSandbox]]:
    running = {
        "salesforce": serve_in_thread(make_sandbox("salesforce", seed=9, records=12)),
        "jira": serve_in_thread(make_sandbox("jira", seed=9, records=4)),
    }
    yield running
    for item in running.values():
        item.stop()


def _hub_config(tmp_path: Path, served: dict[str, RunningSandbox]) -> tuple[Path, str]:
    """A config for the sandboxes: won-to-project scheduled, the Jira token in a block."""
    targets = {name: (run.url, run.sandbox) for name, run in served.items()}
    path = write_sandbox_config(
        example_for("salesforce", "jira"), tmp_path, targets, env_prefix=PREFIX
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, section in data["handoffs"].items():
        section["schedule"] = (
            {"cron": SCHEDULE, "timezone": "Europe/Berlin"} if key == "won_to_project" else None
        )
    token_var = data["systems"]["pm"]["credentials"]["api_token"]["env"]
    data["systems"]["pm"]["credentials"]["api_token"] = {"prefect_secret": BLOCK}
    path = tmp_path / "e2e-hub.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path, token_var


def _save_block(api: str, value: str) -> None:
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from handoff_hub.flows._secrets import read_prefect_secret

    with temporary_settings(updates={PREFECT_API_URL: api}):
        Secret(value=value).save(BLOCK, overwrite=True)
        with pytest.raises(LookupError, match="'no-such-block' not found") as caught:
            read_prefect_secret("no-such-block")
        assert value not in str(caught.value)


def _wait_for_run(api: str, run_id: str, worker_log: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
        if run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
            return run
        time.sleep(1)
    pytest.fail(f"flow run {run_id} not finished after {timeout} s:\n{_tail(worker_log)}")


def _assert_the_schedule_made_runs(api: str, deployment_id: str, server_log: Path) -> None:
    """The server's scheduler turned the cron schedule into (far-off) scheduled runs."""
    query = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
    }
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api}/flow_runs/filter", json=query, timeout=10).json()
        if runs:
            return
        time.sleep(1)
    log = server_log.read_text(encoding="utf-8", errors="replace")
    cause = (
        "Prefect 3.8's scheduler cannot insert runs with SQLAlchemy 2.1 "
        "(InvalidRequestError: Can't evaluate bulk DML statement); pin SQLAlchemy<2.1"
        if "Can't evaluate bulk DML statement" in log
        else f"server log:\n{_tail(server_log)}"
    )
    pytest.fail(f"no scheduled runs for the deployment after 20 s: {cause}")


def test_deploy_then_a_process_worker_runs_won_to_project(
    tmp_path: Path, served: dict[str, RunningSandbox]
) -> None:
    config, token_var = _hub_config(tmp_path, served)
    token = os.environ[token_var]
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    base_env |= {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    server_env = base_env | {"PREFECT_HOME": str(tmp_path / "server-home")}
    worker_env = {k: v for k, v in base_env.items() if k != token_var} | {
        "PREFECT_HOME": str(tmp_path / "worker-home"),
        "PREFECT_API_URL": api,
        "PREFECT_WORKER_QUERY_SECONDS": "1",
    }
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    with ExitStack() as stack:
        server = stack.enter_context(
            _process(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                server_env,
                server_log,
            )
        )
        _wait_healthy(api, server, server_log, timeout=120)
        _save_block(api, token)

        result = CliRunner().invoke(
            app, ["deploy", "-c", str(config), "--work-pool", POOL, "--api-url", api, "--json"]
        )
        assert result.exit_code == 0, result.output
        created = json.loads(result.stdout)
        assert created["work_pool_created"] is True
        assert created["not_scheduled"] == [
            "risk-to-account-manager",
            "feedback-to-lead",
            "sync",
            "reconcile",
        ]
        full_name = f"{HANDOFF}/{config.stem}"
        assert list(created["deployment_ids"]) == [full_name]
        assert token not in result.stdout

        deployment = httpx.get(f"{api}/deployments/name/{full_name}", timeout=10).json()
        assert deployment["id"] == created["deployment_ids"][full_name]
        assert [s["schedule"]["cron"] for s in deployment["schedules"]] == [SCHEDULE]
        assert [s["schedule"]["timezone"] for s in deployment["schedules"]] == ["Europe/Berlin"]
        assert deployment["global_concurrency_limit"]["limit"] == 1
        assert deployment["work_pool_name"] == POOL and deployment["paused"] is False
        assert deployment["parameters"] == {"config_path": str(config.resolve())}
        pool = httpx.get(f"{api}/work_pools/{POOL}", timeout=10).json()
        assert pool["type"] == "process"

        stack.enter_context(
            _process(
                [PREFECT, "worker", "start", "--pool", POOL, "--type", "process"],
                worker_env,
                worker_log,
            )
        )
        response = httpx.post(
            f"{api}/deployments/{deployment['id']}/create_flow_run", json={}, timeout=10
        )
        assert response.status_code == 201, response.text
        run = _wait_for_run(api, response.json()["id"], worker_log, timeout=180)
        assert run["state"]["type"] == "COMPLETED", (
            f"{run['state']}\nworker:\n{_tail(worker_log, 80)}"
        )
        assert run["name"].startswith(f"{HANDOFF} · salesforce→jira · "), run["name"]
        assert token not in worker_log.read_text(encoding="utf-8", errors="replace")
        _assert_the_schedule_made_runs(api, deployment["id"], server_log)

    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        links = store.links(HANDOFF)
    finally:
        store.close()
    assert len(links) >= 2
    epics = set(served["jira"].sandbox.state.epics())
    assert {lk.target_key for lk in links} <= epics
