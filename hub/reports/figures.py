"""What every report format shares: the detail columns, cell text and KPI labels."""

from __future__ import annotations

from typing import Any

from handoff_hub.hub.model import money_text
from handoff_hub.hub.reconcile.kpis import UNKNOWN_CURRENCY, KpiReport
from handoff_hub.hub.reconcile.model import Discrepancy

__all__ = ["COLUMNS", "COLUMN_TITLES", "cells", "kpi_figures"]

COLUMNS: tuple[str, ...] = (
    "kind",
    "name",
    "crm_ref",
    "pm_ref",
    "field",
    "crm_value",
    "pm_value",
    "fixable",
    "fix",
    "detail",
)

COLUMN_TITLES: dict[str, str] = {
    "kind": "Kind",
    "name": "Name",
    "crm_ref": "CRM",
    "pm_ref": "PM",
    "field": "Field",
    "crm_value": "CRM value",
    "pm_value": "PM value",
    "fixable": "Fixable",
    "fix": "Fix",
    "detail": "Detail",
}

_KPI_LABELS: dict[str, str] = {
    "window": "Window",
    "won_deals": "Won deals",
    "won_with_project": "Won deals with a project",
    "share_with_project": "Share of won deals with a project",
    "won_with_all_projects": "Won deals with every project their rules give",
    "days_to_project_p50": "Days from won to project (median)",
    "days_to_project_p90": "Days from won to project (90th percentile)",
    "projects": "Projects",
    "projects_per_deal": "Projects per won deal with a project",
    "projects_done": "Projects done",
    "projects_on_time": "Projects on time",
    "projects_late": "Projects late",
    "budget_by_currency": "Project budget by currency",
    "amount_by_currency": "Deal amount by currency",
    "projects_budget_differs": "Projects whose budget differs from the deal",
    "feedback_leads": "Leads from feedback",
}

_NOT_AVAILABLE = "n/a"


def cells(item: Discrepancy) -> list[str]:
    """The row of one discrepancy as text, in :data:`COLUMNS` order."""
    values: list[str] = []
    for column in COLUMNS:
        value = getattr(item, column)
        if isinstance(value, bool):
            values.append("yes" if value else "no")
        else:
            values.append("" if value is None else str(value))
    return values


def kpi_figures(kpis: KpiReport) -> list[tuple[str, str, str]]:
    """``(key, label, text)`` for every figure of :meth:`KpiReport.as_dict`, in its order."""
    return [
        (key, _KPI_LABELS.get(key, key.replace("_", " ").capitalize()), _kpi_text(key, value))
        for key, value in kpis.as_dict().items()
    ]


def _kpi_text(key: str, value: Any) -> str:
    if value is None:
        return _NOT_AVAILABLE
    if key == "window":
        return f"{value['start']} to {value['end']}"
    if key == "share_with_project":
        return f"{value * 100:.1f} %"
    if key.endswith("_by_currency") and isinstance(value, dict):
        sums = [money_text(v, None if k == UNKNOWN_CURRENCY else k) for k, v in value.items()]
        return ", ".join(sums) or _NOT_AVAILABLE
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or _NOT_AVAILABLE
    return str(value)
