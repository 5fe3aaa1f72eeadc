"""Create or update the hub's deployments on a Prefect server (``hub deploy``).

On a process pool the flows are loaded from this installation
(``flow.from_source`` on a local folder), so a process worker on the same
machine, or one that sees the same path, runs them from there. On a docker pool
they are imported by module path from the image (the repository's Dockerfile).
Nothing is built or pushed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectNotFound
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.types.entrypoint import EntrypointType
from prefect.workers.utilities import get_default_base_job_template_for_infrastructure_type

from handoff_hub.hub.deploy_plan import FLOWS, DeploymentSpec, DeployPlan
from handoff_hub.hub.errors import HubError

__all__ = ["DeployResult", "apply_plan", "ensure_process_pool", "ensure_work_pool"]


@dataclass
class DeployResult:
    """What :func:`apply_plan` did on the server."""

    deployment_ids: dict[str, str] = field(default_factory=dict)
    """Full name (``flow/deployment``) -> deployment id."""
    pool_created: bool = False
    paused: list[str] = field(default_factory=list)
    """Deployments of this config whose flow the config no longer schedules."""


def apply_plan(plan: DeployPlan, api_url: str) -> DeployResult:
    """Create or update every deployment of ``plan`` on the server at ``api_url``.

    Creates the process work pool if it is missing. Deployments of the same
    config whose flow is no longer scheduled (schedule removed, section
    disabled) are paused, never deleted.

    Raises:
        HubError: The work pool exists with another type than process.
    """
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        return asyncio.run(_apply_plan(plan))


async def _apply_plan(plan: DeployPlan) -> DeployResult:
    result = DeployResult()
    async with get_client() as client:
        result.pool_created = await ensure_work_pool(client, plan.work_pool, plan.pool_type)
        for spec in plan.specs:
            result.deployment_ids[spec.full_name] = str(await _apply(plan, spec))
        result.paused = await _pause_unscheduled(client, plan)
    return result


async def ensure_process_pool(client: PrefectClient, name: str) -> bool:
    """Create work pool ``name`` of type ``process`` unless it exists; True if created."""
    return await ensure_work_pool(client, name, "process")


async def ensure_work_pool(client: PrefectClient, name: str, pool_type: str) -> bool:
    """Create work pool ``name`` of ``pool_type`` unless it exists; True if created.

    Raises:
        HubError: The pool exists with another type (its workers could not run
            these deployments), or Prefect has no job template for the type.
    """
    try:
        pool = await client.read_work_pool(name)
    except ObjectNotFound:
        template = await get_default_base_job_template_for_infrastructure_type(pool_type)
        if template is None:
            raise HubError(
                f"no job template for a {pool_type} work pool; create it yourself: "
                f"prefect work-pool create {name} --type {pool_type}"
            ) from None
        await client.create_work_pool(
            WorkPoolCreate(name=name, type=pool_type, base_job_template=template)
        )
        return True
    if pool.type != pool_type:
        raise HubError(
            f"work pool {name!r} is of type {pool.type!r}, not {pool_type}; "
            "choose another with --work-pool, or its type with --work-pool-type"
        )
    return False


async def _apply(plan: DeployPlan, spec: DeploymentSpec) -> UUID:
    if plan.pool_type == "process":
        loaded = await Flow.afrom_source(source=str(plan.source), entrypoint=spec.flow_entrypoint)
        entrypoint_type = EntrypointType.FILE_PATH
    else:
        loaded = load_flow_from_entrypoint(spec.flow_entrypoint)
        entrypoint_type = EntrypointType.MODULE_PATH
    deployment = await loaded.ato_deployment(
        name=spec.name,
        schedule=Cron(spec.cron, timezone=spec.timezone),
        concurrency_limit=spec.concurrency_limit,
        parameters=spec.parameters,
        tags=spec.tags,
        description=spec.description,
        work_pool_name=spec.work_pool,
        job_variables=spec.job_variables,
        entrypoint_type=entrypoint_type,
        paused=False,
    )
    return await deployment.aapply(work_pool_name=spec.work_pool)


async def _pause_unscheduled(client: PrefectClient, plan: DeployPlan) -> list[str]:
    scheduled = {spec.flow_name for spec in plan.specs}
    paused = []
    for target in FLOWS:
        if target.flow_name in scheduled:
            continue
        full_name = f"{target.flow_name}/{plan.name}"
        try:
            existing = await client.read_deployment_by_name(full_name)
        except ObjectNotFound:
            continue
        if not existing.paused:
            await client.pause_deployment(existing.id)
            paused.append(full_name)
    return paused
