"""Typed settings and secrets of a Salesforce system.

The hub config's ``settings:`` map becomes a :class:`SalesforceConfig`; the
credentials named under ``credentials:`` are resolved into
:class:`SalesforceSecrets` (``SecretStr`` values, registered for redaction).
Every problem is reported at once as one :class:`~hub.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from handoff_hub.connectors.salesforce import settings
from handoff_hub.hub.http.wiring import read_secrets

if TYPE_CHECKING:
    from handoff_hub.hub.config.systems import SystemConfig

__all__ = ["AuthFlow", "SalesforceConfig", "SalesforceSecrets", "load_config", "resolve_secrets"]

AuthFlow = Literal["client_credentials", "jwt_bearer", "refresh_token"]
_IDENT = r"^[A-Za-z][A-Za-z0-9_]*$"


class SalesforceConfig(BaseModel):
    """Connector settings (``systems.<name>.settings`` in the hub config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_version: str = Field(
        default=settings.API_VERSION, pattern=r"^\d{2,3}\.0$", description="REST API version"
    )
    auth_flow: AuthFlow = Field(default="client_credentials", description="OAuth 2.0 grant")
    login_url: str | None = Field(
        default=None,
        examples=["https://login.salesforce.com", "https://test.salesforce.com"],
        description="Token endpoint host; default: the system's base_url",
    )
    username: str | None = Field(
        default=None, description="Integration user's username (JWT bearer ``sub``)"
    )
    jwt_audience: str | None = Field(
        default=None,
        description="JWT ``aud``; default: test.salesforce.com for sandbox orgs, else"
        " login.salesforce.com (an Experience Cloud site sets its URL here)",
    )
    external_id_field: str = Field(
        default=settings.DEFAULT_EXTERNAL_ID_FIELD,
        pattern=_IDENT,
        description="External-ID field the hub stamps on records it creates",
    )
    modified_field: str = Field(
        default=settings.DEFAULT_MODIFIED_FIELD,
        pattern=_IDENT,
        description="Field read_changes orders and filters by",
    )
    query_batch_size: int = Field(
        default=settings.QUERY_BATCH_SIZE_MAX,
        ge=settings.QUERY_BATCH_SIZE_MIN,
        le=settings.QUERY_BATCH_SIZE_MAX,
        description="Default Sforce-Query-Options batchSize",
    )

    @model_validator(mode="after")
    def _jwt_needs_username(self) -> SalesforceConfig:
        if self.auth_flow == "jwt_bearer" and not self.username:
            raise ValueError("username is required when auth_flow is jwt_bearer")
        return self


@dataclass(frozen=True)
class SalesforceSecrets:
    """Credentials resolved from environment variables; never printed."""

    client_id: SecretStr
    client_secret: SecretStr | None = None
    private_key: SecretStr | None = None
    refresh_token: SecretStr | None = None


def load_config(system: SystemConfig) -> SalesforceConfig:
    """Validate ``system.settings``; every problem is reported in one ConfigError."""
    return system.parse_settings(SalesforceConfig)


def resolve_secrets(system: SystemConfig, config: SalesforceConfig) -> SalesforceSecrets:
    """Read the credentials the configured auth flow needs.

    Raises:
        ConfigError: listing every missing credential or unset variable at once.
    """
    required = settings.AUTH_FLOW_SECRETS[config.auth_flow]
    optional = settings.OPTIONAL_FLOW_SECRETS.get(config.auth_flow, ())
    names = (*required, *(o for o in optional if system.has_secret(o)))
    return SalesforceSecrets(**read_secrets(system, names))
