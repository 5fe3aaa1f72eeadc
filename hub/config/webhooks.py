"""The ``webhooks:`` section of the hub config: which product deliveries ``hub serve`` takes.

Its own settings (interface, port, limits) are modelled here; every other key
names a connector whose product sends webhooks (a
:class:`hub.connector.WebhookSource`), and its section is checked against
that connector's own model, a :class:`ProductWebhookConfig`, as a system's
``settings:`` are against its connector's ``settings_model``
(:func:`hub.config.checks.webhook_section_issues`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from handoff_hub.hub.config.base import StrictModel

__all__ = [
    "ProductWebhookConfig",
    "WebhooksConfig",
]


class ProductWebhookConfig(StrictModel):
    """What every ``webhooks.<connector>:`` section has; a connector's model extends it."""

    system: str | None = Field(
        default=None,
        description="Key of the system under systems: the deliveries are about "
        "(default: the only system of this connector)",
    )


class WebhooksConfig(StrictModel):
    """``hub serve``: the products' webhooks as real-time triggers of the handoffs.

    Besides the settings below, one key per connector whose webhooks are
    received (``hubspot:``, ``jira:``, ``asana:``...), checked against that
    connector's model.
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, dict[str, Any]] = Field(init=False)

    host: str = Field(default="127.0.0.1", description="Interface to listen on")
    port: int = Field(default=8765, ge=1, le=65535)
    replay_window_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="Deliveries older than this are refused; seen ones are remembered this long",
    )
    queue_size: int = Field(
        default=1000, ge=1, description="Deliveries waiting for the worker; when full: 503"
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Longest a delivery's body may take to arrive; slower clients get 408 "
        "(HubSpot waits 5 s for an answer, Asana 10 s, then deliver again)",
    )
    head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Longest a request's line and headers may take before the connection "
        "is closed (a client that opens a connection and sends nothing)",
    )
    max_connections: int = Field(
        default=500,
        ge=1,
        description="Open connections past which a new request is answered 503, so that slow "
        "clients cannot use up the process's file descriptors",
    )

    def products(self) -> dict[str, dict[str, Any]]:
        """Each ``webhooks.<connector>:`` section, as written, by connector name."""
        return dict(self.__pydantic_extra__ or {})
