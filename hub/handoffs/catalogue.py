"""Every handoff, once: its name, config key, the entities it needs, its builder and flow.

The CLI, the config checks, the runtime's org fit, replays and the deploy plan
all read this table, so a new handoff is one entry here (plus its module and
its flow). It imports nothing of the hub at load time: builders are named as
``module:Class`` and imported when a handoff is built, which lets the config
layer read the table without importing the handoffs built on top of it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handoff_hub.hub.errors import ConfigError, Issue

if TYPE_CHECKING:
    from handoff_hub.hub.config.loading import LoadedConfig
    from handoff_hub.hub.config.root import HubConfig
    from handoff_hub.hub.handoffs.base import PairHandoff
    from handoff_hub.hub.runtime import Runtime

__all__ = [
    "HANDOFFS",
    "RECONCILE_FLOW",
    "HandoffKind",
    "build_handoff",
    "by_config_key",
    "flow_module",
    "handoff_entities",
    "handoff_settings",
]


@dataclass(frozen=True)
class HandoffKind:
    """One handoff of the product."""

    name: str
    """Command, store and Prefect flow name (``won-to-project``)."""
    config_key: str
    """Its section under ``handoffs:`` (``won_to_project``)."""
    entities: Mapping[str, tuple[str, ...]]
    """Role (``crm``, ``pm``) -> the unified entities it reads or writes there."""
    source: tuple[str, str]
    """The role and entity whose changes it acts on (what ``only:`` tests)."""
    builder: str
    """``module:Class`` of its :class:`~hub.handoffs.base.PairHandoff`."""
    flow: str
    """Prefect entry point, relative to the project root (``flows/x.py:x``)."""

    @property
    def flow_module(self) -> tuple[str, str]:
        """The flow's module in the installed package and its function."""
        return flow_module(self.flow)

    def build(self, runtime: Runtime, settings: Any, **options: Any) -> PairHandoff[Any]:
        """The handoff for ``settings`` (its config section), e.g. ``run_id=``."""
        module, _, name = self.builder.partition(":")
        cls = getattr(importlib.import_module(module), name)
        handoff: PairHandoff[Any] = cls(runtime, settings, **options)
        return handoff


def flow_module(entrypoint: str) -> tuple[str, str]:
    """``flows/x.py:f`` -> ``("handoff_hub.flows.x", "f")``: where the installed package has it."""
    path, _, function = entrypoint.partition(":")
    return "handoff_hub." + path.removesuffix(".py").replace("/", "."), function


def _kind(
    name: str, entities: Mapping[str, tuple[str, ...]], source: tuple[str, str], cls: str
) -> HandoffKind:
    key = name.replace("-", "_")
    builder, flow = f"handoff_hub.hub.handoffs.{key}:{cls}", f"flows/{key}.py:{key}"
    return HandoffKind(name, key, entities, source, builder, flow)


HANDOFFS: dict[str, HandoffKind] = {
    kind.name: kind
    for kind in (
        _kind(
            "won-to-project",
            {"crm": ("Opportunity",), "pm": ("Project",)},
            ("crm", "Opportunity"),
            "WonToProject",
        ),
        _kind(
            "risk-to-account-manager",
            {"crm": ("Note", "Opportunity"), "pm": ("Risk", "Project")},
            ("pm", "Risk"),
            "RiskToAccountManager",
        ),
        _kind(
            "feedback-to-lead",
            {"crm": ("Lead", "Opportunity"), "pm": ("Feedback",)},
            ("pm", "Feedback"),
            "FeedbackToLead",
        ),
        _kind(
            "sync", {"crm": ("Opportunity",), "pm": ("Project",)}, ("crm", "Opportunity"), "Sync"
        ),
    )
}
"""By name, in the order a demo or a plan runs them."""

RECONCILE_FLOW = ("reconcile", "reconcile", "flows/reconcile.py:reconcile_flow")
"""Reconcile's config key, flow name and entry point: deployable, but not a handoff."""


def by_config_key(key: str) -> HandoffKind | None:
    """The handoff whose section under ``handoffs:`` is ``key``."""
    return next((k for k in HANDOFFS.values() if k.config_key == key), None)


def handoff_entities(config: HubConfig, system: str) -> set[str]:
    """The unified entities the enabled handoffs read or write on ``system``."""
    entities: set[str] = set()
    for kind in HANDOFFS.values():
        settings = getattr(config.handoffs, kind.config_key)
        if settings is None or not settings.enabled:
            continue
        for role, names in kind.entities.items():
            if getattr(settings, role) == system:
                entities.update(names)
    return entities


def handoff_settings(loaded: LoadedConfig, name: str) -> Any:
    """The enabled config section of handoff ``name``; a ConfigError names what is missing."""
    kind = HANDOFFS.get(name)
    if kind is None:
        known = ", ".join(HANDOFFS)
        raise ConfigError(
            [Issue(str(loaded.path), None, "handoff", f"unknown {name!r}; known: {known}")]
        )
    settings = getattr(loaded.config.handoffs, kind.config_key)
    if settings is None or not settings.enabled:
        raise ConfigError(
            [
                Issue(
                    str(loaded.path),
                    None,
                    f"handoffs.{kind.config_key}",
                    "is not configured or not enabled",
                )
            ]
        )
    return settings


def build_handoff(runtime: Runtime, name: str, **options: Any) -> PairHandoff[Any]:
    """The handoff ``name`` for the runtime's config."""
    settings = handoff_settings(runtime.loaded, name)
    return HANDOFFS[name].build(runtime, settings, **options)
