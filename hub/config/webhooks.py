"""The ``webhooks:`` section of the hub config: which product deliveries ``hub serve`` takes."""

from __future__ import annotations

from pydantic import Field

from hub.config.base import StrictModel
from hub.config.systems import EnvSecret

__all__ = [
    "AsanaWebhookConfig",
    "HubSpotWebhookConfig",
    "JiraWebhookConfig",
    "WebhooksConfig",
]


class HubSpotWebhookConfig(StrictModel):
    """HubSpot app webhooks (signature v3) received by ``hub serve``."""

    system: str | None = Field(
        default=None, description="Key of the HubSpot system under systems: (default: the only one)"
    )
    client_secret: EnvSecret = Field(
        description="{env: VAR} holding the HubSpot app's client secret (signs every delivery)"
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL HubSpot calls, e.g. https://hub.example.com (behind a proxy); "
        "default: the scheme and host of the request",
    )
    portal_id: int | None = Field(
        default=None,
        description="Accept only this portal's events (default: the system's portal_id setting)",
    )


class JiraWebhookConfig(StrictModel):
    """Jira Cloud webhooks with a secret (X-Hub-Signature) received by ``hub serve``."""

    system: str | None = Field(
        default=None, description="Key of the Jira system under systems: (default: the only one)"
    )
    secret: EnvSecret = Field(description="{env: VAR} holding the webhook's secret")


class AsanaWebhookConfig(StrictModel):
    """Asana webhooks received by ``hub serve``, each at ``/webhooks/asana/<name>``."""

    system: str | None = Field(
        default=None, description="Key of the Asana system under systems: (default: the only one)"
    )
    names: list[str] = Field(
        min_length=1,
        description="Webhooks the admin registers; only these paths accept a handshake",
    )
    secrets_file: str = Field(
        default=".hub/asana-webhook-secrets.json",
        description="Where the handshake secrets are kept (relative to the config file)",
    )


class WebhooksConfig(StrictModel):
    """``hub serve``: the products' webhooks as real-time triggers of the handoffs."""

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
    hubspot: HubSpotWebhookConfig | None = None
    jira: JiraWebhookConfig | None = None
    asana: AsanaWebhookConfig | None = None
