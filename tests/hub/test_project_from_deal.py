"""The project takes its start and its scope from the deal, as the template says."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from handoff_hub.hub.config.handoffs import TemplateConfig, TemplateTaskConfig
from handoff_hub.hub.handoffs.won_to_project import build_project
from handoff_hub.hub.model import Money, Opportunity, Project, Stage

TODAY = dt.date(2026, 12, 7)


def _template(**changes: object) -> TemplateConfig:
    tasks = [TemplateTaskConfig(name="Kick-off", due_offset_days=5)]
    return TemplateConfig.model_validate(
        {"name": "{{ opportunity.name }}", "tasks": tasks, **changes}
    )


def _deal(**changes: object) -> Opportunity:
    values: dict[str, object] = {
        "name": "Pilot",
        "stage": Stage.WON,
        "close_date": dt.date(2027, 1, 11),
        "amount": Money(amount=Decimal("48000"), currency="EUR"),
        "description": "  Two sites, SSO with Okta, data export nightly.  ",
    }
    return Opportunity(**{**values, **changes})  # type: ignore[arg-type]


def _build(opp: Opportunity, template: TemplateConfig) -> Project:
    return build_project(
        opp, template, source_id="crm:1", template_key="t", today=TODAY, crm_url="https://crm/1"
    )


def test_the_project_starts_today_by_default() -> None:
    project = _build(_deal(), _template())
    assert project.start == TODAY and project.due == TODAY + dt.timedelta(days=5)


def test_a_template_may_start_at_the_close_date_plus_an_offset() -> None:
    project = _build(_deal(), _template(starts="close_date", start_offset_days=7))
    start = dt.date(2027, 1, 18)
    assert project.start == start and project.due == start + dt.timedelta(days=5)
    undated = _build(_deal(close_date=None), _template(starts="close_date"))
    assert undated.start == TODAY


def test_the_deal_s_scope_reaches_the_project() -> None:
    description = _build(_deal(), _template()).description or ""
    assert "Scope (from the deal):\nTwo sites, SSO with Okta, data export nightly." in description
    assert "Contract amount: EUR 48,000.00" in description
    bare = _build(_deal(description="   "), _template()).description or ""
    assert "Scope" not in bare
