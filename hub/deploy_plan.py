"""What ``hub deploy`` registers on a Prefect server, as plain data (no Prefect here).

One deployment per enabled handoff (and ``handoffs.reconcile``) that has a
``schedule``: flow ``won-to-project``, deployment ``<config stem>``, so Prefect
shows it as ``won-to-project/<config stem>``. An enabled section without a
schedule is listed as not scheduled and not deployed; a disabled one is left
out. Parameters carry the config's absolute path and flow options only: a
worker reads the credentials itself, from its environment or Prefect Secret
blocks, when the run starts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from handoff_hub.hub.config.handoffs import ReconcileConfig, schedule_parts
from handoff_hub.hub.config.loading import LoadedConfig
from handoff_hub.hub.handoffs.catalogue import HANDOFFS, RECONCILE_FLOW, flow_module

__all__ = [
    "DEFAULT_IMAGE",
    "DEFAULT_WORK_POOL",
    "FLOWS",
    "POOL_TYPES",
    "DeployPlan",
    "DeploymentSpec",
    "FlowTarget",
    "build_plan",
    "docker_job_variables",
    "project_root",
]

DEFAULT_WORK_POOL = "handoff-hub"
POOL_TYPES = ("process", "docker")
"""process: a worker runs the flows from this installation; docker: from an image."""
DEFAULT_IMAGE = "handoff-hub:latest"
"""The image the Dockerfile builds (``docker build -t handoff-hub .``)."""

_BANNED = re.compile(r"[/%&<>]")


@dataclass(frozen=True)
class FlowTarget:
    """A deployable flow: its config key under ``handoffs:``, Prefect flow name, entry point."""

    config_key: str
    flow_name: str
    entrypoint: str

    @property
    def module_path(self) -> str:
        """The flow as Prefect imports it from the installed package (inside an image)."""
        module, function = flow_module(self.entrypoint)
        return f"{module}.{function}"


FLOWS: tuple[FlowTarget, ...] = (
    *(FlowTarget(k.config_key, k.name, k.flow) for k in HANDOFFS.values()),
    FlowTarget(*RECONCILE_FLOW),
)
"""Entry points are relative to :func:`project_root`, the deployments' source folder."""


@dataclass(frozen=True)
class DeploymentSpec:
    """One Prefect deployment, as ``hub deploy`` will create or update it."""

    name: str
    flow_name: str
    flow_entrypoint: str
    cron: str
    parameters: dict[str, Any]
    work_pool: str
    tags: list[str]
    description: str
    job_variables: dict[str, Any] = field(default_factory=dict)
    """What the work pool's job template takes (docker: image, volumes)."""
    timezone: str = "UTC"
    """The time zone the cron is read in."""
    concurrency_limit: int = 1
    """Runs of this deployment at a time: one per handoff and config (the hub's lease agrees)."""

    @property
    def full_name(self) -> str:
        """``<flow>/<deployment>``, as ``prefect deployment run`` takes it."""
        return f"{self.flow_name}/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the full name."""
        return {"full_name": self.full_name, **asdict(self)}


@dataclass(frozen=True)
class DeployPlan:
    """The deployments of one hub config, and the enabled flows left unscheduled."""

    name: str
    """Deployment name shared by every flow of this config."""
    config_path: Path
    source: Path
    work_pool: str
    specs: list[DeploymentSpec] = field(default_factory=list)
    not_scheduled: list[str] = field(default_factory=list)
    pool_type: str = "process"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "name": self.name,
            "config_path": str(self.config_path),
            "source": str(self.source),
            "work_pool": self.work_pool,
            "deployments": [spec.as_dict() for spec in self.specs],
            "not_scheduled": list(self.not_scheduled),
            "work_pool_type": self.pool_type,
        }


def project_root() -> Path:
    """The checkout holding ``flows/``: the source a process worker loads the flows from."""
    return Path(__file__).resolve().parent.parent


def build_plan(
    loaded: LoadedConfig,
    *,
    work_pool: str = DEFAULT_WORK_POOL,
    name: str | None = None,
    pool_type: str = "process",
    image: str = DEFAULT_IMAGE,
) -> DeployPlan:
    """The deployments for ``loaded``, named ``name`` (default: the config file's stem).

    On a ``docker`` pool the flows are imported from ``image`` by module path, and
    the config's folder and its mappings' folders are mounted at the same paths.

    Raises:
        ValueError: ``name`` has a character Prefect refuses in deployment names.
    """
    name = name or loaded.path.stem
    if _BANNED.search(name):
        raise ValueError(f"deployment name {name!r} may not contain / % & < >")
    config_path = str(loaded.path.resolve())
    plan = DeployPlan(name, loaded.path.resolve(), project_root(), work_pool, pool_type=pool_type)
    docker = pool_type == "docker"
    job_variables = docker_job_variables(loaded, image) if docker else {}
    for target in FLOWS:
        settings = getattr(loaded.config.handoffs, target.config_key)
        if settings is None or not settings.enabled:
            continue
        if not settings.schedule:
            plan.not_scheduled.append(target.flow_name)
            continue
        parameters: dict[str, Any] = {"config_path": config_path}
        if target.config_key == "reconcile":
            parameters |= _reconcile_parameters(loaded, settings)
        cron, timezone = schedule_parts(settings.schedule)
        plan.specs.append(
            DeploymentSpec(
                name=name,
                flow_name=target.flow_name,
                flow_entrypoint=target.module_path if docker else target.entrypoint,
                cron=cron,
                timezone=timezone,
                parameters=parameters,
                work_pool=work_pool,
                tags=["handoff-hub", name],
                description=f"{target.flow_name} of {config_path} (hub deploy)",
                job_variables=job_variables,
            )
        )
    return plan


def docker_job_variables(loaded: LoadedConfig, image: str) -> dict[str, Any]:
    """The image, and the folders a run reads and writes mounted where the config names them.

    The config's folder (its SQLite store and reports are relative to it) and each
    mapping's folder; a container sees them at the same absolute paths.
    """
    folders = {loaded.base_dir.resolve()}
    for system in loaded.config.systems.values():
        folders.add((loaded.base_dir / system.mapping).resolve().parent)
    outer = sorted(f for f in folders if not any(p in folders for p in f.parents))
    return {
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "volumes": [f"{folder}:{folder}" for folder in outer],
    }


def _reconcile_parameters(loaded: LoadedConfig, settings: ReconcileConfig) -> dict[str, Any]:
    report = settings.report_path
    return {
        "fix": settings.fix,
        "window_days": settings.window_days,
        "report_path": str((loaded.base_dir / report).resolve()) if report else None,
        "report_format": settings.report_format,
    }
