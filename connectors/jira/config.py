"""Typed settings and secrets of a Jira Cloud system.

The hub config's ``settings:`` map becomes a :class:`JiraConfig`; the Atlassian
account e-mail and API token named under ``credentials:`` are resolved into
:class:`JiraSecrets` (the token a ``SecretStr``, registered for redaction).
Every problem is reported at once as one :class:`~hub.errors.ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from handoff_hub.connectors.jira import settings
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.http.redact import register_secret

if TYPE_CHECKING:
    from handoff_hub.hub.config.systems import SystemConfig

__all__ = [
    "JiraConfig",
    "JiraSecrets",
    "credentials_hint",
    "load_config",
    "resolve_secrets",
]

Mode = Literal["epic", "project"]


class JiraConfig(BaseModel):
    """Connector settings (``systems.<name>.settings`` in the hub config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project_key: str = Field(
        pattern=settings.PROJECT_KEY_PATTERN,
        examples=["DEL"],
        description="Project that holds one Epic per deal (epic mode) and that reads default to",
    )
    mode: Mode = Field(
        default="epic",
        description="epic: one Epic per deal in project_key; project: a Jira project per deal",
    )
    project_type_key: Literal["software", "business", "service_desk"] = Field(
        default=settings.PROJECT_TYPE_KEY, description="projectTypeKey of created projects"
    )
    project_template_key: str | None = Field(
        default=settings.PROJECT_TEMPLATE_KEY, description="projectTemplateKey of created projects"
    )
    project_key_prefix: str = Field(
        default=settings.PROJECT_KEY_PREFIX,
        pattern=r"^[A-Z][A-Z0-9]{0,3}$",
        description="Start of the keys of created projects (the rest is derived from the deal)",
    )
    lead_account_id: str | None = Field(
        default=None,
        description="Lead of created projects when the deal has no manager (default: the API user)",
    )
    epic_issue_type: str = Field(
        default=settings.EPIC_ISSUE_TYPE,
        min_length=1,
        max_length=60,
        description="Issue type name of epics",
    )
    task_issue_type: str = Field(
        default=settings.TASK_ISSUE_TYPE,
        min_length=1,
        max_length=60,
        description="Issue type name of template tasks",
    )
    subtask_issue_type: str = Field(
        default=settings.SUBTASK_ISSUE_TYPE,
        min_length=1,
        max_length=60,
        description="Issue type of nested template tasks (Sub-task in company-managed projects)",
    )
    verify_delay_seconds: float = Field(
        default=settings.VERIFY_DELAY_SECONDS,
        ge=0,
        le=60,
        description="After a create answered 5xx, or whose connection dropped or timed out, "
        "wait this long for Jira's search index before looking whether it went through",
    )
    page_size: int = Field(
        default=settings.SEARCH_PAGE_SIZE,
        ge=1,
        le=settings.SEARCH_PAGE_SIZE,
        description="Issues per search page",
    )
    username: str | None = Field(
        default=None,
        description="Atlassian account e-mail, when it is not given as the `email` credential",
    )
    time_zone: str | None = Field(
        default=None,
        examples=["Europe/Paris"],
        description="The API user's Jira time zone; default: read from /rest/api/3/myself",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


@dataclass(frozen=True)
class JiraSecrets:
    """Atlassian account e-mail and API token; the token never prints."""

    email: str
    api_token: SecretStr


def load_config(system: SystemConfig) -> JiraConfig:
    """Validate ``system.settings``; every problem is reported in one ConfigError."""
    return system.parse_settings(JiraConfig)


def resolve_secrets(system: SystemConfig, config: JiraConfig) -> JiraSecrets:
    """Read the e-mail (credential or ``username`` setting) and the API token.

    Raises:
        ConfigError: listing every missing credential or unset variable at once.
    """
    issues: list[Issue] = []
    email = config.username
    if email is None:
        try:
            email = system.secret("email").get_secret_value()
        except ConfigError as exc:
            issues.extend(exc.issues)
    token: SecretStr | None = None
    try:
        token = system.secret("api_token")
    except ConfigError as exc:
        issues.extend(exc.issues)
    if issues or email is None or token is None:
        raise ConfigError(issues)
    register_secret(token.get_secret_value())
    return JiraSecrets(email=email, api_token=token)


def credentials_hint(system: str, config: JiraConfig) -> str:
    """Which settings an admin checks when Jira refuses the credentials."""
    who = (
        f"systems.{system}.settings.username"
        if config.username
        else f"systems.{system}.credentials.email"
    )
    return (
        f"{who} and systems.{system}.credentials.api_token (Atlassian account e-mail + API token)"
    )
