"""Typed settings and secrets of an Asana system.

The hub config's ``settings:`` map becomes an :class:`AsanaConfig`; the
credentials named under ``credentials:`` are resolved into
:class:`AsanaSecrets`: a personal access token (``auth_flow: pat``) or an
OAuth app's ``client_id``, ``client_secret`` and a user's ``refresh_token``
(``auth_flow: oauth``). Secrets are ``SecretStr`` values registered for
redaction. Every problem is reported at once as one :class:`~hub.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from handoff_hub.connectors.asana import settings
from handoff_hub.hub.http.wiring import read_secrets

if TYPE_CHECKING:
    from handoff_hub.hub.config.systems import SystemConfig

__all__ = [
    "AUTH_FLOW_SECRETS",
    "AsanaConfig",
    "AsanaSecrets",
    "AuthFlow",
    "credentials_hint",
    "load_config",
    "resolve_secrets",
]

AuthFlow = Literal["pat", "oauth"]
AUTH_FLOW_SECRETS: dict[str, tuple[str, ...]] = {
    "pat": ("access_token",),
    "oauth": ("client_id", "client_secret", "refresh_token"),
}
_GID = r"^\d{1,20}$"
_FIELD_REF = r"^\S.{0,99}$"


class AsanaConfig(BaseModel):
    """Connector settings (``systems.<name>.settings`` in the hub config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job_poll_seconds: float = Field(
        default=settings.JOB_POLL_SECONDS,
        ge=0,
        le=60,
        description="Pause between polls of a project-template instantiation job",
    )
    workspace_gid: str = Field(
        pattern=_GID, description="Workspace (or organization) gid", examples=["1201234567890123"]
    )
    team_gid: str | None = Field(
        default=None,
        examples=["1201234567890456"],
        pattern=_GID,
        description="Team of delivery projects (required in organizations); "
        "find_project lists this team's projects",
    )
    project_gid: str | None = Field(
        default=None,
        examples=["1201234567890789"],
        pattern=_GID,
        description="Project task reads default to; default: every project of the team",
    )
    auth_flow: AuthFlow = Field(
        default="pat", description="pat: personal access token; oauth: refresh-token grant"
    )
    budget_field: str = Field(
        default=settings.DEFAULT_FIELD_NAMES["budget"],
        pattern=_FIELD_REF,
        description="Number custom field holding the budget: its gid or name",
    )
    budget_currency_field: str = Field(
        default=settings.DEFAULT_FIELD_NAMES["budget_currency"],
        pattern=_FIELD_REF,
        description=(
            "Text custom field holding the budget's ISO currency code (Asana number"
            " fields carry none): its gid or name"
        ),
    )
    crm_id_field: str = Field(
        default=settings.DEFAULT_FIELD_NAMES["crm_id"],
        pattern=_FIELD_REF,
        description="Text custom field holding the CRM source id the hub stamps: gid or name",
    )
    health_field: str = Field(
        default=settings.DEFAULT_FIELD_NAMES["health"],
        pattern=_FIELD_REF,
        description="Enum custom field (Green/Amber/Red) read as project health: gid or name",
    )
    customer_field: str = Field(
        default=settings.DEFAULT_FIELD_NAMES["customer"],
        pattern=_FIELD_REF,
        description="Text custom field holding the customer's name: gid or name",
    )
    page_size: int = Field(
        default=settings.PAGE_SIZE_MAX,
        ge=1,
        le=settings.PAGE_SIZE_MAX,
        description="limit of list requests (Asana allows 1-100)",
    )
    listings_at_once: int = Field(
        default=settings.LISTINGS_AT_ONCE,
        ge=1,
        le=settings.LISTINGS_AT_ONCE_MAX,
        description=(
            "Project listings a read pages through at once (each request still within the"
            " rate limit; Asana allows 50 concurrent reads)"
        ),
    )
    search_changes: bool = Field(
        default=True,
        description=(
            "Read changed tasks through the workspace task search (one call; premium"
            " workspaces only: a 402 switches to listing project by project)"
        ),
    )
    search_overlap_seconds: float = Field(
        default=settings.SEARCH_OVERLAP_SECONDS,
        ge=0,
        le=3600,
        description=(
            "A read through search never moves its cursor past (start of the read - this):"
            " Asana indexes changes for search 10-60 s after they are made"
        ),
    )
    plan: Literal["free", "paid"] = Field(
        default="paid",
        description="Domain plan, which sets the default request budget (150 or 1,500 a minute)",
    )
    app_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="Web app root for record links; default: the system's base_url",
    )

    def field_refs(self) -> dict[str, str]:
        """Logical custom field name (``budget``, ``crm_id``...) -> configured gid or name."""
        return {
            "budget": self.budget_field,
            "budget_currency": self.budget_currency_field,
            "crm_id": self.crm_id_field,
            "health": self.health_field,
            "customer": self.customer_field,
        }


@dataclass(frozen=True)
class AsanaSecrets:
    """Credentials resolved from environment variables; never printed."""

    access_token: SecretStr | None = None
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None


def load_config(system: SystemConfig) -> AsanaConfig:
    """Validate ``system.settings``; every problem is reported in one ConfigError."""
    return system.parse_settings(AsanaConfig)


def resolve_secrets(system: SystemConfig, config: AsanaConfig) -> AsanaSecrets:
    """Read the credentials the configured ``auth_flow`` needs.

    Raises:
        ConfigError: listing every missing credential or unset variable at once.
    """
    return AsanaSecrets(**read_secrets(system, AUTH_FLOW_SECRETS[config.auth_flow]))


def credentials_hint(system: str, config: AsanaConfig) -> str:
    """Which settings an admin checks when Asana refuses the credentials."""
    names = ", ".join(
        f"systems.{system}.credentials.{n}" for n in AUTH_FLOW_SECRETS[config.auth_flow]
    )
    kind = "personal access token" if config.auth_flow == "pat" else "OAuth app + refresh token"
    return f"{names} ({kind})"
