"""Typed settings and secrets of a HubSpot system.

The hub config's ``settings:`` map becomes a :class:`HubSpotConfig`; the
credentials the auth flow needs are resolved into :class:`HubSpotSecrets`
(``SecretStr`` values, registered for redaction). Every problem is reported
at once as one :class:`~hub.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from handoff_hub.connectors.hubspot import settings
from handoff_hub.hub.http.wiring import read_secrets

if TYPE_CHECKING:
    from handoff_hub.hub.config.systems import SystemConfig

__all__ = ["AuthFlow", "HubSpotConfig", "HubSpotSecrets", "load_config", "resolve_secrets"]

AuthFlow = Literal["private_app", "oauth"]
LeadContactFallback = Literal["company_contact", "lifecycle_lead"]
_PROPERTY = r"^[a-z][a-z0-9_]*$"


class HubSpotConfig(BaseModel):
    """Connector settings (``systems.<name>.settings`` in the hub config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth_flow: AuthFlow = Field(
        default="private_app", description="private_app (access token) or oauth (refresh token)"
    )
    portal_id: int | None = Field(
        default=None,
        gt=0,
        examples=[12345678],
        description="HubSpot account id; default: read from account-info",
    )
    id_property: str = Field(
        default=settings.DEFAULT_ID_PROPERTY,
        pattern=_PROPERTY,
        description="Unique custom property the hub stamps on records it creates",
    )
    page_size: int = Field(
        default=settings.DEFAULT_PAGE_SIZE,
        ge=1,
        le=settings.SEARCH_PAGE_MAX,
        description="Default records per search page",
    )
    search_requests_per_second: float = Field(
        default=settings.DEFAULT_SEARCH_RATE,
        gt=0,
        description="Client-side limit of search calls (HubSpot allows 5 per second)",
    )
    search_window: int = Field(
        default=settings.SEARCH_WINDOW,
        ge=1,
        le=settings.SEARCH_WINDOW,
        description="Results one search can page through before it must restart",
    )
    search_lag_seconds: float = Field(
        default=settings.DEFAULT_SEARCH_LAG_SECONDS,
        ge=0,
        description="How far cursors stay behind now, for writes not yet in the search index",
    )
    token_url: str | None = Field(
        default=None, description="OAuth token endpoint; default: base_url + /oauth/v1/token"
    )
    app_url: str = Field(
        default=settings.DEFAULT_APP_URL, description="HubSpot web app, for record links"
    )
    lead_contact_fallback: LeadContactFallback = Field(
        default="company_contact",
        description=(
            "HubSpot refuses a lead without a contact. A lead hangs from the contact of its"
            " reporter's e-mail (found case-insensitively, else created and stamped), else from"
            " a contact of its company. With neither: company_contact creates a contact named"
            " for the company (associated with it); lifecycle_lead creates a contact in"
            " lifecycle stage lead standing for the lead itself (its name and company), the"
            " record mappings/hubspot-contact-leads.yaml makes for every lead. Either contact"
            " is stamped with the lead's source id, so a rerun finds it instead of creating"
            " another. To write every lead as such a contact and no Lead records at all"
            " (portals without the Leads object), use that mapping file instead."
        ),
    )


@dataclass(frozen=True)
class HubSpotSecrets:
    """Credentials resolved from environment variables; never printed."""

    access_token: SecretStr | None = None
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None


def load_config(system: SystemConfig) -> HubSpotConfig:
    """Validate ``system.settings``; every problem is reported in one ConfigError."""
    return system.parse_settings(HubSpotConfig)


def resolve_secrets(system: SystemConfig, config: HubSpotConfig) -> HubSpotSecrets:
    """Read the credentials the configured auth flow needs.

    Raises:
        ConfigError: listing every missing credential or unset variable at once.
    """
    return HubSpotSecrets(**read_secrets(system, settings.AUTH_FLOW_SECRETS[config.auth_flow]))


def auth_hint(system: str, config: HubSpotConfig) -> str:
    """Which settings an admin checks when HubSpot refuses the credentials."""
    names = " and ".join(settings.AUTH_FLOW_SECRETS[config.auth_flow])
    return f"systems.{system}.credentials ({names}) for auth_flow {config.auth_flow}"
