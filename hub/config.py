"""Hub configuration models: systems, templates, handoffs, store.

The hub config names each system's connector, base URL and mapping file, and
its credentials only by reference: an environment variable (``{env: VAR}``) or
a Prefect Secret block (``{prefect_secret: NAME}``, read through
:mod:`hub.secrets`); a secret never sits in the YAML. Secrets are resolved on
use into ``SecretStr`` so they never print.
:func:`load_config` checks a file and its mapping files and reports every problem at once,
values that would fail at run time included (:mod:`hub.config_values`) and templates
against the variables they see (:mod:`hub.config_templates`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError

from hub.config_templates import TEMPLATE_CONTEXTS, handoff_template_issues, template_text_issues
from hub.config_values import (
    notify_url_issues,
    schedule_issues,
    settings_issues,
    store_issues,
    system_url_issues,
)
from hub.errors import ConfigError, Issue
from hub.handoffs.catalogue import by_config_key
from hub.http.concurrent import DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from hub.mapping.loader import check_mapping, unified_path_problem
from hub.mapping.spec import MappingSpec
from hub.model import Health, Severity
from hub.schema import (
    did_you_mean,
    hub_config_schema,
    nearest_hint,
    pydantic_issues,
    validate_document,
)
from hub.secrets import resolve_secret
from hub.yamlio import NodePath, YamlDocument, load_yaml

__all__ = [
    "MAX_TEXT",
    "AsanaWebhookConfig",
    "EnvSecret",
    "FeedbackToLeadConfig",
    "HandoffsConfig",
    "HubConfig",
    "HubSpotWebhookConfig",
    "JiraWebhookConfig",
    "LoadedConfig",
    "NotifyConfig",
    "PrefectSecret",
    "RateLimitConfig",
    "ReconcileConfig",
    "RiskToAccountManagerConfig",
    "StoreConfig",
    "SyncConfig",
    "SyncFieldConfig",
    "SystemConfig",
    "TemplateConfig",
    "TemplateTaskConfig",
    "WebhooksConfig",
    "WonToProjectConfig",
    "load_config",
    "resolve_store_url",
]


_SettingsT = TypeVar("_SettingsT", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvSecret(_Strict):
    """A secret read from an environment variable at run time."""

    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Variable name")


class PrefectSecret(_Strict):
    """A secret read from a Prefect Secret block when a flow runs (``hub run``, deployments)."""

    prefect_secret: str = Field(
        pattern=r"^[a-z0-9-]+$", description="Secret block name (lower-case letters, digits, -)"
    )


class RateLimitConfig(_Strict):
    """Client-side request budget; defaults come from the connector's settings."""

    requests: int = Field(gt=0, description="Requests allowed per period")
    per_seconds: float = Field(gt=0, description="Length of the period in seconds")
    burst: int | None = Field(default=None, gt=0, description="Largest burst (default: requests)")


DEFAULT_LOOKBACK_SECONDS = 600
"""How far before its checkpoint an incremental read starts by default: ten minutes
covers the longest transactions Salesforce allows and the delay of search indexes."""


class SystemConfig(_Strict):
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

    @property
    def name(self) -> str:
        """The key this system has under ``systems:`` in the hub config."""
        return self._name or self.connector

    def bind_name(self, name: str, source: YamlDocument | None = None) -> None:
        """Record the key this system has in the hub config, and the file it was read from."""
        self._name = name
        self._source = source

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


MAX_TEXT = 10_000
"""Longest free text of a template setting (a task's description); templates have the
same limit, checked with their syntax (:data:`hub.mapping.templating.MAX_SOURCE`)."""


class TemplateTaskConfig(_Strict):
    """One work-breakdown item."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    parent: str | None = Field(default=None, max_length=255, description="Name of the parent task")
    due_offset_days: int | None = Field(default=None, ge=0, description="Days after start")


class TemplateConfig(_Strict):
    """A delivery project template."""

    name: str = Field(
        description="Jinja2 template of the project name; sees `opportunity` and `account`"
    )
    product_template: str | None = Field(
        default=None,
        max_length=255,
        description="The PM product's own template id, where it has templates",
    )
    manager_email: str | None = Field(
        default=None, max_length=254, description="Project manager; default: the opportunity owner"
    )
    tasks: list[TemplateTaskConfig] = Field(default_factory=list)


class NotifyConfig(_Strict):
    """Where a handoff sends notifications (apprise URLs) and what it says."""

    urls: list[EnvSecret | str] = Field(
        default_factory=list,
        description="apprise URLs, or {env: VAR} for URLs that embed a token",
    )
    title: str | None = Field(
        default=None, description="Jinja2 template of the title; default: the handoff's own"
    )
    body: str | None = Field(
        default=None, description="Jinja2 template of the message; default: the handoff's own"
    )


class WonToProjectConfig(_Strict):
    """won-to-project: a won opportunity becomes a delivery project."""

    enabled: bool = True
    crm: str = Field(description="Key of the CRM system under systems:")
    pm: str = Field(description="Key of the project tool under systems:")
    template: str = Field(description="Key of the template under templates:")
    batch_size: int = Field(default=50, ge=1, le=500)
    schedule: str | None = Field(default=None, description="Cron expression for hub deploy")
    write_back: bool = Field(default=True, description="Write the project id onto the deal")
    notify: NotifyConfig = Field(default_factory=NotifyConfig)


class FeedbackToLeadConfig(_Strict):
    """feedback-to-lead: customer feedback, a need or an upsell in delivery becomes a CRM lead."""

    enabled: bool = True
    pm: str = Field(description="Key of the project tool under systems:")
    crm: str = Field(description="Key of the CRM system under systems:")
    batch_size: int = Field(default=50, ge=1, le=500)
    schedule: str | None = Field(default=None, description="Cron expression for hub deploy")
    lead_name: str = Field(
        default="{{ account.name or 'Customer' }} - {{ feedback.feedback_kind }}",
        description="Template of the lead's last name (CRMs require one)",
    )
    lead_source: str | None = Field(
        default="Customer Feedback",
        max_length=255,
        description="Lead source picklist value, if the CRM has one",
    )
    comment: str = Field(
        default="Handoff Hub: this {{ feedback.feedback_kind }} became CRM lead {{ lead_url }}",
        description="Template of the comment left on the PM item",
    )
    notify: NotifyConfig = Field(default_factory=NotifyConfig)


class RiskToAccountManagerConfig(_Strict):
    """risk-to-account-manager: delivery risks and bad project health reach the deal's owner."""

    enabled: bool = True
    pm: str = Field(description="Key of the project tool under systems:")
    crm: str = Field(description="Key of the CRM system under systems:")
    batch_size: int = Field(default=50, ge=1, le=500)
    schedule: str | None = Field(default=None, description="Cron expression for hub deploy")
    min_severity: Severity = Field(
        default=Severity.HIGH, description="Risk items of this severity or worse raise a task"
    )
    health_levels: list[Health] = Field(
        default_factory=lambda: [Health.AMBER, Health.RED],
        description="Project health that raises a task (needs a Project health rule)",
    )
    health_from: Literal["field", "overdue_tasks", "overdue_milestones"] = Field(
        default="field",
        description="field: the project's own health field; overdue_tasks or "
        "overdue_milestones: the share of its open tasks or milestones past their due date "
        "(every linked project, every run)",
    )
    overdue_amber: float = Field(default=0.2, gt=0, le=1, description="Share overdue: amber")
    overdue_red: float = Field(default=0.4, gt=0, le=1, description="Share overdue: red")
    write_health: bool = Field(
        default=True, description="Write the project's health onto the deal (delivery_health)"
    )
    assign_to: Literal["account_owner", "deal_owner"] = Field(
        default="account_owner",
        description="Who gets the task: the account's owner (the deal's owner where the "
        "account has none or is not mapped), or always the deal's owner",
    )
    due_in_days: int = Field(default=2, ge=0, le=60, description="Due date of the CRM task")
    risk_subject: str = Field(default="Delivery risk ({{ risk.severity }}): {{ risk.title }}")
    health_subject: str = Field(default="Delivery health {{ project.health }}: {{ project.name }}")
    notify: NotifyConfig = Field(default_factory=NotifyConfig)


class SyncFieldConfig(_Strict):
    """One pair of fields kept in step: a unified Opportunity field and a Project field."""

    crm: str = Field(description="Unified Opportunity field, e.g. delivery_due, account.name")
    pm: str = Field(description="Unified Project field, e.g. due, account.name")
    direction: Literal["crm_to_pm", "pm_to_crm", "both"] = Field(
        default="both", description="Which way changes flow"
    )


class SyncConfig(_Strict):
    """sync: fields of linked deals and projects flow the configured way."""

    enabled: bool = True
    crm: str = Field(description="Key of the CRM system under systems:")
    pm: str = Field(description="Key of the project tool under systems:")
    batch_size: int = Field(default=100, ge=1, le=500)
    schedule: str | None = Field(default=None, description="Cron expression for hub deploy")
    conflict: Literal["crm-wins", "pm-wins", "newest-wins", "report"] = Field(
        default="report",
        description="Both sides changed a two-way field since the last sync: who wins "
        "(report: change nothing, record the conflict)",
    )
    fields: list[SyncFieldConfig] = Field(min_length=1)


class ReconcileConfig(_Strict):
    """reconcile as a scheduled deployment (``hub deploy``); ``hub reconcile`` ignores it.

    Not a handoff, but configured beside them so that every schedule sits in one place.
    """

    enabled: bool = True
    schedule: str | None = Field(default=None, description="Cron expression for hub deploy")
    fix: bool = Field(default=False, description="Repair what the handoffs can (idempotent)")
    window_days: int = Field(default=90, ge=1, description="KPI window: the last N days")
    report_path: str | None = Field(
        default=None, description="Also write the full report here (relative to the config file)"
    )
    report_format: Literal["json", "csv", "md", "html"] = Field(
        default="html", description="Format of report_path"
    )


class HandoffsConfig(_Strict):
    """The handoffs this hub runs."""

    won_to_project: WonToProjectConfig | None = None
    feedback_to_lead: FeedbackToLeadConfig | None = None
    risk_to_account_manager: RiskToAccountManagerConfig | None = None
    sync: SyncConfig | None = None
    reconcile: ReconcileConfig | None = None


class StoreConfig(_Strict):
    """Where the hub keeps links, cursors, runs, audit events and dead letters."""

    url: str = Field(
        default="sqlite:///.hub/state.db",
        description="SQLAlchemy URL; relative SQLite paths are relative to the config file",
    )


class HubSpotWebhookConfig(_Strict):
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


class JiraWebhookConfig(_Strict):
    """Jira Cloud webhooks with a secret (X-Hub-Signature) received by ``hub serve``."""

    system: str | None = Field(
        default=None, description="Key of the Jira system under systems: (default: the only one)"
    )
    secret: EnvSecret = Field(description="{env: VAR} holding the webhook's secret")


class AsanaWebhookConfig(_Strict):
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


class WebhooksConfig(_Strict):
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


class HubConfig(_Strict):
    """A whole hub configuration file."""

    version: Literal[1] = 1
    store: StoreConfig = Field(default_factory=StoreConfig)
    systems: dict[str, SystemConfig]
    templates: dict[str, TemplateConfig] = Field(default_factory=dict)
    handoffs: HandoffsConfig = Field(default_factory=HandoffsConfig)
    webhooks: WebhooksConfig | None = None


# Unified entities each handoff needs in the mapping of each of its systems.
_SQLITE_URL = re.compile(r"^(sqlite(?:\+\w+)?):///([^?]*)(\?.*)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_KEYS = ("secret", "token", "password")
_MAX_HINTED_TASKS = 1000


@dataclass(frozen=True)
class LoadedConfig:
    """A validated hub config with its mappings, bound to the system names."""

    config: HubConfig
    path: Path
    mappings: dict[str, MappingSpec]
    base_dir: Path


def load_config(
    path: str | Path,
    *,
    known_connectors: Collection[str] | None = None,
    check_env: bool = True,
) -> LoadedConfig:
    """Load a hub config and every mapping file it names, checking everything first.

    Order: YAML (with lines) -> JSON Schema -> pydantic; each ``mapping:`` file
    (relative to the config) the same way plus its semantic checks; then the
    cross-checks (handoff keys, connector names, templates, environment).

    Args:
        path: The hub config YAML.
        known_connectors: Registered connector names; ``None`` skips that check.
        check_env: Also require every credential's environment variable to be set.

    Returns:
        The config, its path, the mappings by system name and the config's folder.

    Raises:
        ConfigError: Listing every problem of every file at once.
    """
    doc = load_yaml(path)
    if (wrong_file := _not_a_hub_config(doc)) is not None:
        raise ConfigError([wrong_file])
    base_dir = Path(path).resolve().parent
    raw: dict[str, Any] = doc.data if isinstance(doc.data, dict) else {}
    invalid = validate_document(
        doc.data, hub_config_schema(), file=doc.file, lines=doc.lines, conceal=_secret_hint
    )
    mappings, issues = _load_mappings(doc, raw, base_dir, known_connectors)
    issues += _system_issues(doc, raw, known_connectors, check_env=check_env)
    issues += _handoff_issues(doc, raw, mappings, check_env=check_env)
    issues += _template_issues(doc, raw)
    issues += system_url_issues(doc, raw) + store_issues(doc, raw)
    issues += _connector_settings_issues(doc, raw, known_connectors)
    config = None if invalid else _parse(doc, issues)
    issues = [*doc.issues, *invalid, *issues]
    issues = sorted(dict.fromkeys(issues), key=lambda i: (i.file != doc.file, i.file, i.line or 0))
    if issues or config is None:
        raise ConfigError(issues)
    for name, system in config.systems.items():
        system.bind_name(name, doc)
    config.store.url = resolve_store_url(config.store.url, base_dir)
    return LoadedConfig(config, Path(path).resolve(), mappings, base_dir)


def resolve_store_url(url: str, base_dir: Path) -> str:
    """A relative SQLite path made relative to ``base_dir``; other URLs unchanged."""
    match = _SQLITE_URL.match(url)
    if match is None:
        return url
    scheme, database, query = match.group(1), match.group(2), match.group(3) or ""
    if not database or database.startswith((":memory:", "file:")) or Path(database).is_absolute():
        return url
    return f"{scheme}:///{(base_dir / database).as_posix()}{query}"


def _not_a_hub_config(doc: YamlDocument) -> Issue | None:
    """One issue for an empty file or a mapping file, instead of one per key it has."""
    if doc.data is None:
        return Issue(
            doc.file,
            1,
            "(document)",
            "the file is empty",
            "a hub config starts with version: 1 and systems:",
        )
    if isinstance(doc.data, dict) and "entities" in doc.data and "systems" not in doc.data:
        return Issue(
            doc.file,
            doc.line(("entities",)),
            "(document)",
            "this is a mapping file, not a hub config",
            "give the hub config whose systems.<name>.mapping names it",
        )
    return None


def _parse(doc: YamlDocument, issues: list[Issue]) -> HubConfig | None:
    try:
        return HubConfig.model_validate(doc.data)
    except ValidationError as exc:
        issues += pydantic_issues(exc, file=doc.file, lines=doc.lines)
        return None


def _at(doc: YamlDocument, path: NodePath, message: str, hint: str | None = None) -> Issue:
    return doc.issue(path, message, hint)


def _secret_hint(path: NodePath) -> str | None:
    """What to say instead of the value of a secret's reference: it may be the secret, pasted."""
    if any(str(p) == "credentials" or str(p).endswith(_SECRET_KEYS) for p in path):
        return "a secret is named by where it is kept, e.g. {env: VAR}; the value is not shown"
    return None


def _dicts(value: Any) -> dict[str, dict[str, Any]]:
    # The cross-checks run even on a document that failed the schema: take what fits.
    items = value.items() if isinstance(value, dict) else ()
    return {str(k): v for k, v in items if isinstance(v, dict)}


def _load_mappings(
    doc: YamlDocument, raw: dict[str, Any], base_dir: Path, known: Collection[str] | None
) -> tuple[dict[str, MappingSpec], list[Issue]]:
    mappings: dict[str, MappingSpec] = {}
    issues: list[Issue] = []
    loaded: dict[Path, MappingSpec | None] = {}
    for name, system in _dicts(raw.get("systems")).items():
        if not isinstance(mapping := system.get("mapping"), str):
            continue
        where: NodePath = ("systems", name, "mapping")
        file = (base_dir / mapping).resolve()
        if not file.is_file():
            issues.append(
                _at(
                    doc,
                    where,
                    f"mapping file {mapping!r} not found",
                    f"looked for {file}; paths are relative to the config file",
                )
            )
            continue
        if file not in loaded:
            loaded[file], found = check_mapping(file)
            issues += found
        if (spec := loaded[file]) is None:
            continue
        connector = system.get("connector", spec.system)
        # An unknown connector is reported once, as such, not again as a mismatch.
        if spec.system != connector and (known is None or connector in known):
            issues.append(
                _at(
                    doc,
                    where,
                    f"mapping is for {spec.system!r} but the connector is {system['connector']!r}",
                )
            )
        mappings[name] = spec.bind_name(name)
    return mappings, issues


def _system_issues(
    doc: YamlDocument, raw: dict[str, Any], known: Collection[str] | None, *, check_env: bool
) -> list[Issue]:
    issues: list[Issue] = []
    for name, system in _dicts(raw.get("systems")).items():
        connector = system.get("connector")
        if known is not None and isinstance(connector, str) and connector not in known:
            issues.append(
                _at(
                    doc,
                    ("systems", name, "connector"),
                    f"unknown connector {connector!r}; known connectors: "
                    f"{', '.join(sorted(known)) or 'none installed'}",
                    did_you_mean(connector, known),
                )
            )
        if not check_env:
            continue
        for setting, ref in _dicts(system.get("credentials")).items():
            env = ref.get("env")
            if isinstance(env, str) and _ENV_NAME.match(env) and not os.environ.get(env):
                issues.append(
                    _at(
                        doc,
                        ("systems", name, "credentials", setting),
                        f"environment variable {env} is not set",
                        f"export {env}=... before running the hub",
                    )
                )
    return issues


def _connector_settings_issues(
    doc: YamlDocument, raw: dict[str, Any], known: Collection[str] | None
) -> list[Issue]:
    """Each system's ``settings`` against its connector's ``settings_model``, where declared.

    The connector class is found through the registry (only with ``known``, the
    registered names): the hub never imports a connector package by name.
    """
    if known is None:
        return []
    from hub.registry import connector_class  # lazy: loads the connector's package

    issues: list[Issue] = []
    for name, system in _dicts(raw.get("systems")).items():
        connector, settings = system.get("connector"), system.get("settings", {})
        if not isinstance(connector, str) or connector not in known:
            continue
        try:
            model = getattr(connector_class(connector), "settings_model", None)
        except Exception as exc:  # a third party's package that does not import
            where = ("systems", name, "connector")
            issues.append(_at(doc, where, f"connector {connector!r} cannot be loaded: {exc}"))
            continue
        if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(settings, dict):
            issues += settings_issues(doc, ("systems", name, "settings"), settings, model)
    return issues


def _handoff_issues(
    doc: YamlDocument, raw: dict[str, Any], mappings: dict[str, MappingSpec], *, check_env: bool
) -> list[Issue]:
    issues: list[Issue] = []
    for handoff, settings in _dicts(raw.get("handoffs")).items():
        at: NodePath = ("handoffs", handoff)
        issues += _reference_issues(doc, at, settings, raw, mappings)
        issues += schedule_issues(doc, at, settings)
        issues += handoff_template_issues(doc, at, settings)
        notify = settings.get("notify")
        if isinstance(notify, dict):
            issues += notify_url_issues(
                doc, (*at, "notify"), notify.get("urls"), check_env=check_env
            )
        if handoff == "sync":
            issues += _sync_field_issues(doc, at, settings)
    return issues


def _sync_field_issues(doc: YamlDocument, at: NodePath, settings: dict[str, Any]) -> list[Issue]:
    fields = settings.get("fields")
    issues: list[Issue] = []
    for index, rule in enumerate(fields if isinstance(fields, list) else []):
        for role, entity in (("crm", "Opportunity"), ("pm", "Project")):
            path = rule.get(role) if isinstance(rule, dict) else None
            if isinstance(path, str) and (problem := unified_path_problem(entity, path)):
                issues.append(_at(doc, (*at, "fields", index, role), *problem))
    return issues


def _reference_issues(
    doc: YamlDocument,
    at: NodePath,
    settings: dict[str, Any],
    raw: dict[str, Any],
    mappings: dict[str, MappingSpec],
) -> list[Issue]:
    issues: list[Issue] = []
    for role, section in (("crm", "systems"), ("pm", "systems"), ("template", "templates")):
        key, known = settings.get(role), _dicts(raw.get(section))
        if isinstance(key, str) and key not in known:
            issues.append(
                _at(
                    doc,
                    (*at, role),
                    f"no {role if section == 'templates' else 'system'} {key!r} under {section}:",
                    nearest_hint(key, known),
                )
            )
        elif isinstance(key, str) and key in mappings and section == "systems":
            write_back = settings.get("write_back", True) is True
            issues += _entity_issues(doc, (*at, role), at[-1], role, mappings[key], write_back)
    return issues


def _entity_issues(
    doc: YamlDocument, at: NodePath, handoff: Any, role: str, spec: MappingSpec, write_back: bool
) -> list[Issue]:
    kind = by_config_key(str(handoff))
    needed = kind.entities.get(role, ()) if kind is not None else ()
    issues = [
        _at(doc, at, f"{handoff} needs entity {entity!r} in the {spec.system} mapping")
        for entity in needed
        if entity not in spec.entities
    ]
    opportunity = spec.entities.get("Opportunity")
    if (
        (handoff, role) == ("won_to_project", "crm")
        and write_back
        and opportunity is not None
        and "project_ref" not in opportunity.write_rules()
    ):
        issues.append(
            _at(
                doc,
                at,
                "write_back needs a project_ref rule that writes, in the "
                f"{spec.system} mapping (Opportunity)",
                "or set write_back: false",
            )
        )
    return issues


def _template_issues(doc: YamlDocument, raw: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    context = TEMPLATE_CONTEXTS["templates", "name"]
    for key, template in _dicts(raw.get("templates")).items():
        if isinstance(name := template.get("name"), str):
            issues += template_text_issues(doc, ("templates", key, "name"), name, context)
        if isinstance(tasks := template.get("tasks"), list):
            issues += _task_issues(doc, ("templates", key, "tasks"), tasks)
    return issues


def _task_issues(doc: YamlDocument, at: NodePath, tasks: list[Any]) -> list[Issue]:
    tasks = [t if isinstance(t, dict) else {} for t in tasks]
    names = {n for t in tasks if isinstance(n := t.get("name"), str)}
    seen: set[str] = set()
    issues: list[Issue] = []
    for index, task in enumerate(tasks):
        if isinstance(name := task.get("name"), str) and name in seen:
            issues.append(_at(doc, (*at, index, "name"), f"task {name!r} is listed twice"))
        if isinstance(name, str):
            seen.add(name)
        if isinstance(parent := task.get("parent"), str) and parent not in names:
            # A hint compares the name with every task: only for templates of a sane size.
            hint = nearest_hint(parent, names) if len(names) <= _MAX_HINTED_TASKS else None
            issues.append(
                _at(doc, (*at, index, "parent"), f"no task named {parent!r} in this template", hint)
            )
    return issues
