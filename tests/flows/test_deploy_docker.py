"""``hub deploy --work-pool-type docker`` on a real Prefect server (the test harness's).

What a docker worker needs from the deployment: a docker pool, the image, the
config's and mappings' folders mounted at their paths, and an entry point that
imports the flow from the installed package (no source folder to pull).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from handoff_hub.hub.cli.common import load
from handoff_hub.hub.cli.demo import example_for
from handoff_hub.hub.deploy_plan import build_plan

pytestmark = pytest.mark.prefect
EXAMPLE = example_for("salesforce", "jira")
POOL = "hub-docker-test"
IMAGE = "handoff-hub:test"


async def _read(full_name: str) -> tuple[Any, Any]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_deployment_by_name(full_name), await client.read_work_pool(POOL)


@pytest.mark.usefixtures("prefect_harness")
def test_a_docker_pool_gets_deployments_that_run_from_the_image() -> None:
    from prefect.flows import load_flow_from_entrypoint
    from prefect.settings import PREFECT_API_URL

    from handoff_hub.flows.deploy import apply_plan

    plan = build_plan(
        load(EXAMPLE, check_env=False), work_pool=POOL, pool_type="docker", image=IMAGE
    )
    result = apply_plan(plan, str(PREFECT_API_URL.value()))

    assert result.pool_created
    full_name = "won-to-project/salesforce-jira"
    deployment, pool = asyncio.run(_read(full_name))
    assert pool.type == "docker" and "image" in pool.base_job_template["variables"]["properties"]
    assert deployment.id == UUID(result.deployment_ids[full_name])
    assert deployment.entrypoint == "handoff_hub.flows.won_to_project.won_to_project"
    assert not deployment.pull_steps
    root = Path(__file__).resolve().parents[2]
    assert deployment.job_variables == {
        "image": IMAGE,
        "image_pull_policy": "IfNotPresent",
        "volumes": [
            f"{root / 'examples'}:{root / 'examples'}",
            f"{root / 'mappings'}:{root / 'mappings'}",
        ],
    }
    assert load_flow_from_entrypoint(deployment.entrypoint).name == "won-to-project"
