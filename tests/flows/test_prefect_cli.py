"""The Prefect CLI commands the docs send an admin to, against a real Prefect server.

With FastAPI 0.151-0.154 Prefect 3.8's server answers these with 422 (the CLI sends
explicit nulls in its filter bodies); the ``fastapi`` pin in pyproject.toml keeps
them working, and this test notices when a dependency update breaks them again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.prefect

PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "hub-cli-pool"
FLOW = "hub-cli-flow"
DEPLOYMENT = "hub-cli-deployment"
RUN = "hub-cli-run"


async def _populate() -> None:
    """A process pool, a deployment and one of its flow runs, so every list has a row."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    async with get_client() as client:
        await client.create_work_pool(WorkPoolCreate(name=POOL, type="process"), overwrite=True)
        flow_id = await client.create_flow_from_name(FLOW)
        deployment_id = await client.create_deployment(
            flow_id=flow_id, name=DEPLOYMENT, work_pool_name=POOL
        )
        await client.create_flow_run_from_deployment(deployment_id, name=RUN)


def _prefect(*args: str) -> str:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "250"}
    env["PREFECT_HOME"] = os.environ["PREFECT_HOME"]
    done = subprocess.run(
        [PREFECT, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    assert "Unprocessable" not in done.stdout + done.stderr  # fastapi >= 0.151 answers 422
    return done.stdout


@pytest.mark.usefixtures("prefect_harness")
def test_the_prefect_cli_lists_deployments_flow_runs_and_work_pools() -> None:
    asyncio.run(_populate())

    assert f"{FLOW}/{DEPLOYMENT}" in _prefect("deployment", "ls")
    assert RUN in _prefect("flow-run", "ls")
    assert POOL in _prefect("work-pool", "ls")
