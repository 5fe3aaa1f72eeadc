"""Every handoff by its command name: where its config sits and how it is built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.config import LoadedConfig
from hub.errors import ConfigError, Issue
from hub.handoffs.feedback_to_lead import HANDOFF as FEEDBACK_TO_LEAD
from hub.handoffs.feedback_to_lead import FeedbackToLead
from hub.handoffs.risk_to_account_manager import HANDOFF as RISK_TO_ACCOUNT_MANAGER
from hub.handoffs.risk_to_account_manager import RiskToAccountManager
from hub.handoffs.runner import BatchHandoff
from hub.handoffs.sync import HANDOFF as SYNC
from hub.handoffs.sync import Sync
from hub.handoffs.won_to_project import HANDOFF as WON_TO_PROJECT
from hub.handoffs.won_to_project import WonToProject
from hub.runtime import Runtime

__all__ = ["HANDOFFS", "HandoffKind", "build_handoff", "handoff_settings"]


@dataclass(frozen=True)
class HandoffKind:
    """A handoff's command name, config key and constructor."""

    name: str
    config_key: str
    build: Callable[[Runtime, Any], BatchHandoff]


HANDOFFS: dict[str, HandoffKind] = {
    WON_TO_PROJECT: HandoffKind(WON_TO_PROJECT, "won_to_project", WonToProject),
    FEEDBACK_TO_LEAD: HandoffKind(FEEDBACK_TO_LEAD, "feedback_to_lead", FeedbackToLead),
    RISK_TO_ACCOUNT_MANAGER: HandoffKind(
        RISK_TO_ACCOUNT_MANAGER, "risk_to_account_manager", RiskToAccountManager
    ),
    SYNC: HandoffKind(SYNC, "sync", Sync),
}


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


def build_handoff(runtime: Runtime, name: str) -> BatchHandoff:
    """The handoff ``name`` for the runtime's config."""
    settings = handoff_settings(runtime.loaded, name)
    return HANDOFFS[name].build(runtime, settings)
