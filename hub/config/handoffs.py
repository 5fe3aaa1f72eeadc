"""The handoffs' sections of the hub config (``handoffs:``, ``templates:``), and reconcile's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from handoff_hub.hub.config.base import StrictModel
from handoff_hub.hub.config.systems import EnvSecret
from handoff_hub.hub.model import Health, Severity

StartFrom = Annotated[
    dt.date | Literal["now"],
    Field(
        description="Going live on an org with history: the first run reads the changes "
        "since this date (UTC), or since its own start with `now`, instead of every record "
        "ever changed; later runs go on from their checkpoint",
        examples=["2026-01-01", "now"],
    ),
]

Only = Annotated[
    dict[str, Any],
    Field(
        description="Act only on records whose unified fields hold these conditions: a value "
        "(equal), or comparisons: eq, not, in, not_in, >, >=, <, <=, exists, after, before "
        "(dates), within_days. Others are skipped with the condition they failed",
        examples=[{"close_date": {"after": "2026-01-01"}, "amount.amount": {">=": 10000}}],
    ),
]

__all__ = [
    "MAX_TEXT",
    "ActingHandoffSettings",
    "FeedbackToLeadConfig",
    "HandoffSettings",
    "HandoffsConfig",
    "ManagerConfig",
    "ManagerRule",
    "NotifyConfig",
    "Only",
    "ReconcileConfig",
    "RiskToAccountManagerConfig",
    "StartFrom",
    "SyncConfig",
    "SyncFieldConfig",
    "TemplateConfig",
    "TemplateRuleConfig",
    "TemplateTaskConfig",
    "WonToProjectConfig",
]


MAX_TEXT = 10_000
"""Longest free text of a template setting (a task's description); templates have the
same limit, checked with their syntax (:data:`hub.mapping.templating.MAX_SOURCE`)."""


class TemplateTaskConfig(StrictModel):
    """One work-breakdown item."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    parent: str | None = Field(default=None, max_length=255, description="Name of the parent task")
    due_offset_days: int | None = Field(default=None, ge=0, description="Days after start")


class TemplateConfig(StrictModel):
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
    starts: Literal["today", "close_date"] = Field(
        default="today",
        description="The project's start: the day it is made, or the deal's close date "
        "(today where the deal has none); tasks are due their offset after it",
    )
    start_offset_days: int = Field(
        default=0, ge=0, le=3650, description="Days added to that start (e.g. a kick-off week)"
    )
    tasks: list[TemplateTaskConfig] = Field(default_factory=list)


class NotifyConfig(StrictModel):
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
    digest: bool = Field(
        default=False,
        description=(
            "One message per run and channel (the run's counts, the first items with links,"
            " its failures) instead of one per record"
        ),
    )
    digest_items: int = Field(
        default=10, ge=1, le=100, description="How many records a digest lists by name"
    )


class Schedule(StrictModel):
    """A cron schedule read in a time zone (``schedule: {cron: ..., timezone: Europe/Berlin}``)."""

    cron: str = Field(description="Cron expression: minute hour day month weekday")
    timezone: str = Field(
        default="UTC", description="IANA time zone the cron is read in, e.g. Europe/Berlin"
    )


ScheduleSetting = str | Schedule
"""A schedule: a cron expression (UTC), or a cron with its time zone."""


def schedule_parts(schedule: ScheduleSetting) -> tuple[str, str]:
    """The cron expression and time zone of ``schedule`` (a plain string is UTC)."""
    if isinstance(schedule, str):
        return schedule, "UTC"
    return schedule.cron, schedule.timezone


class HandoffSettings(StrictModel):
    """What every handoff's section has: its systems, batch size, schedule and first read."""

    enabled: bool = True
    crm: str = Field(description="Key of the CRM system under systems:")
    pm: str = Field(description="Key of the project tool under systems:")
    batch_size: int = Field(default=50, ge=1, le=500)
    schedule: ScheduleSetting | None = Field(
        default=None,
        description="When hub deploy runs it: a cron expression (UTC), or {cron, timezone}",
    )
    start_from: StartFrom | None = None


class ActingHandoffSettings(HandoffSettings):
    """A handoff that acts on records one by one, which ``only:`` may narrow."""

    only: Only = Field(default_factory=dict)


class TemplateRuleConfig(StrictModel):
    """Deals meeting ``when`` get this template, or one project per template of a set."""

    when: Only = Field(
        default_factory=dict,
        description="Conditions on the deal's unified fields, as in only: (empty: every deal)",
    )
    template: str | None = Field(
        default=None, description="Key of the template under templates: (the deal's one project)"
    )
    templates: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Keys of templates under templates: one project each (e.g. implementation "
        "and training), each stamped with the deal and its template",
    )
    per_value: str | None = Field(
        default=None,
        description="A list-typed custom field of the deal (custom.delivery_sites): one project "
        "per value, from template: (or value_templates), named with {{ value }} and stamped "
        "with the deal and value:<value>. A deal whose field is empty does not match the rule",
        examples=["custom.delivery_sites"],
    )
    value_templates: dict[str, str] = Field(
        default_factory=dict,
        description="per_value: a value's own template (value -> key under templates:); "
        "values not listed get template:",
        examples=[{"Training Center": "training"}],
    )

    def chosen(self) -> list[str]:
        """The template keys this rule names."""
        keys = list(self.templates or []) if self.template is None else [self.template]
        return list(dict.fromkeys([*keys, *self.value_templates.values()]))


Email = Annotated[
    str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$", examples=["pm@acme.example"])
]


class ManagerRule(StrictModel):
    """Deals matching ``when`` get this manager, or one in turn from this pool."""

    when: Only = Field(description="Conditions on the deal's unified fields, as in only:")
    email: Email | None = None
    pool: list[Email] = Field(default_factory=list, description="Round-robin, in this order")

    @model_validator(mode="after")
    def _one_choice(self) -> ManagerRule:
        if (self.email is None) == (not self.pool):
            raise ValueError("a manager rule gives either email or pool (one of them)")
        return self


class ManagerConfig(StrictModel):
    """Who manages a new project; the first step that gives an address wins.

    1. ``field``: a unified deal field holding an e-mail (a CRM user field's
       ``.email``, an e-mail field); 2. ``rules``, first match; 3. the
       template's ``manager_email``; 4. ``pool``, round-robin; 5. the deal's
       owner. ``fallback`` takes over where none gives an address or the
       project tool has no user with it (a warning says so either way).
    """

    field: str | None = Field(
        default=None,
        description="Unified Opportunity field holding the manager's e-mail",
        examples=["owner.email", "custom.delivery_manager"],
    )
    rules: list[ManagerRule] = Field(default_factory=list)
    pool: list[Email] = Field(
        default_factory=list,
        description="Round-robin pool; its position is kept in the state store",
    )
    fallback: Email | None = Field(
        default=None, description="Where no step gives a manager the project tool knows"
    )


class WonToProjectConfig(ActingHandoffSettings):
    """won-to-project: a won opportunity becomes a delivery project (or several)."""

    template: str | None = Field(
        default=None,
        description="Key of the template under templates: for deals no template rule matches "
        "(without it such deals are skipped, with the reason)",
    )
    template_rules: list[TemplateRuleConfig] = Field(
        default_factory=list,
        description="The template(s) a deal gets, by conditions on it: the first rule that "
        "matches wins, else template:",
    )
    manager: ManagerConfig = Field(default_factory=ManagerConfig)
    write_back: bool = Field(default=True, description="Write the project id onto the deal")
    notify: NotifyConfig = Field(default_factory=NotifyConfig)


class FeedbackToLeadConfig(ActingHandoffSettings):
    """feedback-to-lead: customer feedback, a need or an upsell in delivery becomes a CRM lead."""

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


class RiskToAccountManagerConfig(ActingHandoffSettings):
    """risk-to-account-manager: delivery risks and bad project health reach the deal's owner."""

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
    integration_users: list[str] = Field(
        default_factory=list,
        description="E-mail addresses of integration (non-person) CRM users: an account they "
        "own gets its task assigned to the deal's owner instead",
        examples=[["integration@acme.example"]],
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


class SyncFieldConfig(StrictModel):
    """One pair of fields kept in step: a unified Opportunity field and a Project field."""

    crm: str = Field(description="Unified Opportunity field, e.g. delivery_due, account.name")
    pm: str = Field(description="Unified Project field, e.g. due, account.name")
    direction: Literal["crm_to_pm", "pm_to_crm", "both"] = Field(
        default="both", description="Which way changes flow"
    )


class SyncConfig(HandoffSettings):
    """sync: fields of linked deals and projects flow the configured way."""

    batch_size: int = Field(default=100, ge=1, le=500)
    conflict: Literal["crm-wins", "pm-wins", "newest-wins", "report"] = Field(
        default="report",
        description="Both sides changed a two-way field since the last sync: who wins "
        "(report: change nothing, record the conflict)",
    )
    fields: list[SyncFieldConfig] = Field(min_length=1)


class ReconcileConfig(StrictModel):
    """reconcile as a scheduled deployment (``hub deploy``); ``hub reconcile`` ignores it.

    Not a handoff, but configured beside them so that every schedule sits in one place.
    """

    enabled: bool = True
    schedule: ScheduleSetting | None = Field(
        default=None,
        description="When hub deploy runs it: a cron expression (UTC), or {cron, timezone}",
    )
    fix: bool = Field(default=False, description="Repair what the handoffs can (idempotent)")
    window_days: int = Field(default=90, ge=1, description="KPI window: the last N days")
    report_path: str | None = Field(
        default=None, description="Also write the full report here (relative to the config file)"
    )
    report_format: Literal["json", "csv", "md", "html"] = Field(
        default="html", description="Format of report_path"
    )


class HandoffsConfig(StrictModel):
    """The handoffs this hub runs."""

    won_to_project: WonToProjectConfig | None = None
    feedback_to_lead: FeedbackToLeadConfig | None = None
    risk_to_account_manager: RiskToAccountManagerConfig | None = None
    sync: SyncConfig | None = None
    reconcile: ReconcileConfig | None = None
