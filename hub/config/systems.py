"""A connected product (``systems.<name>``): connector, URL, credentials, limits."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr, SecretStr

from handoff_hub.hub.config.base import StrictModel
from handoff_hub.hub.config.secrets import resolve_secret
from handoff_hub.hub.config.values import (
    settings_issues,
)
from handoff_hub.hub.config.yamlio import YamlDocument
from handoff_hub.hub.errors import ConfigError, Issue
from handoff_hub.hub.http.concurrent import DEFAULT_CONCURRENCY, MAX_CONCURRENCY

if TYPE_CHECKING:
    from handoff_hub.hub.http.shared_ratelimit import RateLedger

__all__ = [
    "DEFAULT_LOOKBACK_SECONDS",
    "EnvSecret",
    "PrefectSecret",
    "RateLimitConfig",
    "SystemConfig",
]


_SettingsT = TypeVar("_SettingsT", bound=BaseModel)


class EnvSecret(StrictModel):
    """A secret read from an environment variable at run time."""

    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Variable name")


class PrefectSecret(StrictModel):
    """A secret read from a Prefect Secret block when a flow runs (``hub run``, deployments)."""

    prefect_secret: str = Field(
        pattern=r"^[a-z0-9-]+$", description="Secret block name (lower-case letters, digits, -)"
    )


class RateLimitConfig(StrictModel):
    """Client-side request budget; defaults come from the connector's settings."""

    requests: int = Field(gt=0, description="Requests allowed per period")
    per_seconds: float = Field(gt=0, description="Length of the period in seconds")
    burst: int | None = Field(default=None, gt=0, description="Largest burst (default: requests)")


DEFAULT_LOOKBACK_SECONDS = 600
"""How far before its checkpoint an incremental read starts by default: ten minutes
covers the longest transactions Salesforce allows and the delay of search indexes."""


class SystemConfig(StrictModel):
    """One connected product."""

    connector: str = Field(description="Registered connector name, e.g. salesforce, jira")
    base_url: str = Field(description="API root, e.g. https://acme.my.salesforce.com")
    mapping: str = Field(description="Mapping YAML file, relative to the hub config")
    credentials: Mapping[str, EnvSecret | PrefectSecret] = Field(
        default_factory=dict,
        description="Setting name -> {env: VAR} or {prefect_secret: BLOCK} holding it",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Connector-specific settings (see its config model)"
    )
    rate_limit: RateLimitConfig | None = None
    rate_budget: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Name of the vendor budget this system's requests count against when "
        "store.shared_rate_limit is on (default: connector and base_url, so shards of one "
        "account share it); give two accounts at one base_url different names",
    )
    concurrency: int = Field(
        default=DEFAULT_CONCURRENCY,
        ge=1,
        le=MAX_CONCURRENCY,
        description="Requests a bulk write keeps in flight at once, so latency does not "
        "leave the rate limit unused; each still waits its turn under rate_limit",
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    lookback_seconds: int = Field(
        default=DEFAULT_LOOKBACK_SECONDS,
        ge=0,
        le=86_400,
        description="Each incremental read starts this long before its checkpoint, so a "
        "record committed late with an older modified time (a long transaction, a record "
        "shared with the integration user later) is still picked up; records already "
        "handled at the version read are skipped, so nothing is handled twice",
    )
    max_retries: int = Field(default=5, ge=0, le=20)
    retry_wait_seconds: float = Field(
        default=0.5,
        gt=0,
        le=60,
        description="First wait before retrying a transient failure; it doubles each time "
        "(capped at 60 s, with jitter); a product's Retry-After wins",
    )

    _name: str = PrivateAttr(default="")
    _source: YamlDocument | None = PrivateAttr(default=None)
    _rate_ledger: RateLedger | None = PrivateAttr(default=None)

    @property
    def name(self) -> str:
        """The key this system has under ``systems:`` in the hub config."""
        return self._name or self.connector

    def bind_name(self, name: str, source: YamlDocument | None = None) -> None:
        """Record the key this system has in the hub config, and the file it was read from."""
        self._name = name
        self._source = source

    @property
    def budget_name(self) -> str:
        """The shared rate budget this system draws from (see ``rate_budget``)."""
        return self.rate_budget or f"{self.connector} {self.base_url.rstrip('/')}"

    @property
    def rate_ledger(self) -> RateLedger | None:
        """Where this system's rate budget is shared with other processes (None: not shared)."""
        return self._rate_ledger

    def sharing_budget(self, ledger: RateLedger) -> SystemConfig:
        """A copy of this system that paces its requests through ``ledger``."""
        copy = self.model_copy()
        copy._rate_ledger = ledger
        return copy

    def parse_settings(self, model: type[_SettingsT]) -> _SettingsT:
        """Validate ``settings`` against a connector's model; every problem in one ConfigError.

        Raises:
            ConfigError: naming ``systems.<name>.settings.<field>`` for each problem, with
                the file and line when the config was read by :func:`load_config`.
        """
        source = self._source or YamlDocument(file="<config>", data=None)
        issues = settings_issues(source, ("systems", self.name, "settings"), self.settings, model)
        if issues:
            raise ConfigError(issues)
        return model.model_validate(self.settings)

    def secret(self, setting: str) -> SecretStr:
        """Resolve a credential; the error names system, setting and its source, never a value."""
        ref = self.credentials.get(setting)
        if ref is None:
            raise self._secret_error(setting, "is required by the connector but not configured")
        if isinstance(ref, PrefectSecret):
            try:
                found = resolve_secret("prefect_secret", ref.prefect_secret)
            except LookupError as exc:
                raise self._secret_error(setting, str(exc)) from None
            if not found:
                raise self._secret_error(
                    setting, f"Prefect Secret block {ref.prefect_secret!r} is empty"
                )
            return SecretStr(found)
        value = os.environ.get(ref.env)
        if not value:
            raise self._secret_error(setting, f"environment variable {ref.env} is not set")
        return SecretStr(value)

    def _secret_error(self, setting: str, message: str) -> ConfigError:
        return ConfigError(
            [Issue("<config>", None, f"systems.{self.name}.credentials.{setting}", message)]
        )

    def has_secret(self, setting: str) -> bool:
        """True when the credential is configured (whether or not its variable is set)."""
        return setting in self.credentials
