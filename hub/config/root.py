"""A whole hub config file, and where its state store is."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_hub.hub.config.base import StrictModel
from handoff_hub.hub.config.handoffs import HandoffsConfig, TemplateConfig
from handoff_hub.hub.config.systems import EnvSecret, SystemConfig
from handoff_hub.hub.config.webhooks import WebhooksConfig

__all__ = [
    "AlertsConfig",
    "HubConfig",
    "StoreConfig",
]


class StoreConfig(StrictModel):
    """Where the hub keeps links, cursors, runs, audit events and dead letters."""

    url: str = Field(
        default="sqlite:///.hub/state.db",
        description="SQLAlchemy URL; relative SQLite paths are relative to the config file",
    )
    shared_rate_limit: bool | None = Field(
        default=None,
        description="Pace every system's requests through a rate budget kept in the store, "
        "shared by all the hub's processes (workers running shards) so that together they "
        "stay under the vendor's limit; default: on with PostgreSQL, off with SQLite",
    )

    @property
    def shares_rate_limit(self) -> bool:
        """Whether the systems pace through the store's shared rate budgets."""
        if self.shared_rate_limit is not None:
            return self.shared_rate_limit
        return self.url.startswith("postgresql")


AlertKind = Literal["run_failed", "dead_letters", "discrepancies"]
ALERT_KINDS: tuple[AlertKind, ...] = ("run_failed", "dead_letters", "discrepancies")


class AlertsConfig(StrictModel):
    """Who hears of trouble: failed runs, dead letters a run made, discrepancies found."""

    urls: list[EnvSecret | str] = Field(
        default_factory=list,
        description="apprise URLs, or {env: VAR} for URLs that embed a token",
    )
    on: list[AlertKind] = Field(
        default_factory=lambda: list(ALERT_KINDS),
        description="What to alert on",
    )


class HubConfig(StrictModel):
    """A whole hub configuration file."""

    version: Literal[1] = 1
    store: StoreConfig = Field(default_factory=StoreConfig)
    systems: dict[str, SystemConfig]
    templates: dict[str, TemplateConfig] = Field(default_factory=dict)
    handoffs: HandoffsConfig = Field(default_factory=HandoffsConfig)
    webhooks: WebhooksConfig | None = None
    alerts: AlertsConfig | None = None
