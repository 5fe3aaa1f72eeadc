"""``hub deploy``: the hub config's schedules as Prefect deployments on a Prefect server.

Part of the CLI, the composition root: it loads ``flows.deploy`` (Prefect) by
name only when it creates deployments, so ``--print`` and every config error
answer without Prefect, and hub/ never imports flows/ at import time.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

import httpx
import typer

from handoff_hub.hub.cli.common import ConfigOption, admin_errors, fail, load
from handoff_hub.hub.cli.console import console, echo_json, print_rows
from handoff_hub.hub.cli.prefect_env import configure_prefect_env
from handoff_hub.hub.deploy_plan import (
    DEFAULT_IMAGE,
    DEFAULT_WORK_POOL,
    POOL_TYPES,
    DeployPlan,
    build_plan,
)
from handoff_hub.hub.errors import HubError

__all__ = ["deploy_command"]

if TYPE_CHECKING:
    PoolType = str
else:
    PoolType = Literal[POOL_TYPES]


def deploy_command(
    config: ConfigOption,
    print_only: Annotated[
        bool, typer.Option("--print", help="Show the deployments; create nothing, no server")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON instead of tables")] = False,
    work_pool: Annotated[
        str | None,
        typer.Option(
            "--work-pool",
            help=f"Work pool, created if missing (default: {DEFAULT_WORK_POOL}, "
            f"{DEFAULT_WORK_POOL}-docker for docker)",
        ),
    ] = None,
    pool_type: Annotated[
        PoolType,
        typer.Option(
            "--work-pool-type",
            help="process: a worker runs the flows from this installation; "
            "docker: a docker worker runs them in --image",
        ),
    ] = "process",
    image: Annotated[
        str, typer.Option("--image", help="Image of a docker pool's runs (see the Dockerfile)")
    ] = DEFAULT_IMAGE,
    name: Annotated[
        str | None, typer.Option("--name", help="Deployment name (default: the config's stem)")
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Prefect API, e.g. http://127.0.0.1:4200/api (default: PREFECT_API_URL)",
        ),
    ] = None,
) -> None:
    """Create or update a Prefect deployment per scheduled handoff (and reconcile).

    Each runs on its cron schedule (UTC unless it names a time zone), one run at
    a time (concurrency limit 1), with the config's absolute path as its
    parameter; credentials stay in the worker's environment or Prefect Secret blocks.
    """
    with admin_errors():
        loaded = load(config, check_env=False)
    try:
        pool = work_pool or DEFAULT_WORK_POOL + ("" if pool_type == "process" else f"-{pool_type}")
        plan = build_plan(loaded, work_pool=pool, name=name, pool_type=pool_type, image=image)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    if print_only:
        _show(plan, None, as_json=as_json)
        return
    url = _server(api_url)
    configure_prefect_env()
    from handoff_hub.flows.deploy import apply_plan

    with admin_errors():
        try:
            result = apply_plan(plan, url)
        except HubError:
            raise
        except Exception as exc:
            raise fail(f"creating the deployments failed: {exc}") from None
    _show(plan, result, as_json=as_json)


def _server(api_url: str | None) -> str:
    """The Prefect API URL, once its server answers; else exit 1."""
    url = (api_url or os.environ.get("PREFECT_API_URL") or "").rstrip("/")
    if not url:
        raise fail(
            "no Prefect server given: set PREFECT_API_URL or pass --api-url "
            "(e.g. http://127.0.0.1:4200/api after `prefect server start`)"
        )
    try:
        status = httpx.get(f"{url}/health", timeout=10.0).status_code
    except httpx.HTTPError as exc:
        raise fail(
            f"no Prefect server answers at {url} ({type(exc).__name__}); "
            "start one with `prefect server start` or check PREFECT_API_URL"
        ) from None
    # 401/403: a server that wants a key (Prefect Cloud); Prefect's client sends it.
    if status == 404 or status >= 500:
        hint = "" if url.endswith("/api") else f"; did you mean {url}/api?"
        raise fail(f"{url} is not a healthy Prefect API (HTTP {status} on /health){hint}")
    return url


def _show(plan: DeployPlan, result: Any, *, as_json: bool) -> None:
    if as_json:
        data = plan.as_dict()
        if result is not None:
            data |= {
                "deployment_ids": result.deployment_ids,
                "paused": result.paused,
                "work_pool_created": result.pool_created,
            }
        echo_json(data, indent=2)
        return
    ids: dict[str, str] = result.deployment_ids if result is not None else {}
    rows: list[tuple[Any, ...]] = []
    for spec in plan.specs:
        options = {k: v for k, v in spec.parameters.items() if k != "config_path"}
        extra = ", ".join(f"{k}={v}" for k, v in options.items())
        rows.append(
            (
                spec.full_name,
                f"{spec.cron} ({spec.timezone})",
                spec.flow_entrypoint,
                extra,
                ids.get(spec.full_name),
            )
        )
    for flow_name in plan.not_scheduled:
        rows.append((f"{flow_name}/{plan.name}", "not scheduled", "", "not deployed", None))
    columns: tuple[str, ...] = ("deployment", "schedule", "entry point", "options", "id")
    if result is None:
        rows, columns = [row[:-1] for row in rows], columns[:-1]
    title = "deployments (not created: --print)" if result is None else "deployments created"
    print_rows(title, columns, rows)
    console.print(f"config: {plan.config_path}", markup=False)
    console.print(
        f"source: {plan.source} · work pool: {plan.work_pool} ({plan.pool_type})", markup=False
    )
    if result is None:
        return
    if result.pool_created:
        console.print(f"created {plan.pool_type} work pool {plan.work_pool!r}", markup=False)
    for full_name in result.paused:
        console.print(f"paused {full_name}: the config no longer schedules it", markup=False)
    console.print(
        f"next: start a worker with the credentials' variables set: "
        f"prefect worker start --pool {plan.work_pool} --type {plan.pool_type}",
        markup=False,
    )
    if plan.specs:
        console.print(
            f"run one now: prefect deployment run '{plan.specs[0].full_name}'", markup=False
        )
